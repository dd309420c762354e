CREATE TABLE "organization_domains" (
	"id" text PRIMARY KEY NOT NULL,
	"domain" text NOT NULL,
	"organization_id" text NOT NULL,
	"domain_type" text NOT NULL,
	"verification_status" text NOT NULL,
	"verification_method" text NOT NULL,
	"routable" boolean NOT NULL,
	"deleted" boolean NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"last_event_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processed_messages" (
	"message_id" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "organization_domains_routable_domain_idx" ON "organization_domains" USING btree ("domain") WHERE "organization_domains"."routable";--> statement-breakpoint
CREATE INDEX "organization_domains_organization_idx" ON "organization_domains" USING btree ("organization_id","domain");