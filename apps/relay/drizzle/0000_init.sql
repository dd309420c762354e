CREATE TABLE "access_tokens" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_clients" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "domains" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"domain" text NOT NULL,
	"domain_unicode" text NOT NULL,
	"domain_type" text NOT NULL,
	"verification_status" text NOT NULL,
	"verification_method" text NOT NULL,
	"txt_record_key" text,
	"txt_record_secret" text,
	"verification_expires_at" timestamp with time zone,
	"next_check_at" timestamp with time zone,
	"last_checked_at" timestamp with time zone,
	"last_check_result" jsonb,
	"check_count" integer DEFAULT 0 NOT NULL,
	"failure_reason" text,
	"check_lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "domains_domain_type_check" CHECK ("domains"."domain_type" in ('ORGANIZATION_DOMAIN', 'ALLOWED_EMAIL_DOMAIN')),
	CONSTRAINT "domains_verification_status_check" CHECK ("domains"."verification_status" in ('PENDING', 'VERIFIED', 'FAILED', 'AUTO_VERIFIED')),
	CONSTRAINT "domains_verification_method_check" CHECK ("domains"."verification_method" in ('DNS', 'ADMIN', 'NOT_APPLICABLE')),
	CONSTRAINT "domains_dns_record_check" CHECK ("domains"."verification_method" <> 'DNS' or ("domains"."txt_record_key" is not null and "domains"."txt_record_secret" is not null))
);
--> statement-breakpoint
CREATE TABLE "environment" (
	"id" text PRIMARY KEY NOT NULL,
	"singleton" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "environment_singleton_unique" UNIQUE("singleton"),
	CONSTRAINT "environment_singleton_check" CHECK ("environment"."singleton")
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" text PRIMARY KEY NOT NULL,
	"sequence" bigserial NOT NULL,
	"type" text NOT NULL,
	"organization_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "events_sequence_key" UNIQUE("sequence")
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" text PRIMARY KEY NOT NULL,
	"display_name" text NOT NULL,
	"external_id" text,
	"domain_verification_enabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organizations_external_id_key" UNIQUE("external_id")
);
--> statement-breakpoint
CREATE TABLE "portal_links" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"token_hash" text NOT NULL,
	"mode" text DEFAULT 'page' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_by_client_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "portal_links_token_hash_key" UNIQUE("token_hash"),
	CONSTRAINT "portal_links_mode_check" CHECK ("portal_links"."mode" in ('page', 'embed'))
);
--> statement-breakpoint
CREATE TABLE "portal_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"link_id" text NOT NULL,
	"token_hash" text NOT NULL,
	"flash" jsonb,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "portal_sessions_token_hash_key" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "access_tokens" ADD CONSTRAINT "access_tokens_client_id_api_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."api_clients"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "domains" ADD CONSTRAINT "domains_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "portal_links" ADD CONSTRAINT "portal_links_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "portal_sessions" ADD CONSTRAINT "portal_sessions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "portal_sessions" ADD CONSTRAINT "portal_sessions_link_id_portal_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "public"."portal_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "access_tokens_expires_at_idx" ON "access_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "domains_organization_id_domain_key" ON "domains" USING btree ("organization_id","domain");--> statement-breakpoint
CREATE UNIQUE INDEX "domains_verified_organization_domain_key" ON "domains" USING btree ("domain") WHERE "domains"."domain_type" = 'ORGANIZATION_DOMAIN' and "domains"."verification_status" = 'VERIFIED';--> statement-breakpoint
CREATE INDEX "domains_due_check_idx" ON "domains" USING btree ("next_check_at") WHERE "domains"."verification_status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "domains_domain_idx" ON "domains" USING btree ("domain");--> statement-breakpoint
CREATE INDEX "domains_organization_id_id_idx" ON "domains" USING btree ("organization_id","id");--> statement-breakpoint
CREATE INDEX "events_occurred_at_idx" ON "events" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "events_type_sequence_idx" ON "events" USING btree ("type","sequence");--> statement-breakpoint
CREATE INDEX "events_organization_id_sequence_idx" ON "events" USING btree ("organization_id","sequence");--> statement-breakpoint
CREATE INDEX "portal_links_organization_id_idx" ON "portal_links" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "portal_links_expires_at_idx" ON "portal_links" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "portal_sessions_organization_id_idx" ON "portal_sessions" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "portal_sessions_link_id_idx" ON "portal_sessions" USING btree ("link_id");--> statement-breakpoint
CREATE INDEX "portal_sessions_expires_at_idx" ON "portal_sessions" USING btree ("expires_at");