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
CREATE TABLE "attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"attempt_number" integer NOT NULL,
	"response_status_code" integer,
	"response_body" text DEFAULT '' NOT NULL,
	"response_duration_ms" integer NOT NULL,
	"error_code" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"event_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" text DEFAULT 'enabled' NOT NULL,
	"disabled_reason" text,
	"secret" text NOT NULL,
	"previous_secret" text,
	"previous_secret_expires_at" timestamp with time zone,
	"failing_since" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "endpoints_status_check" CHECK ("endpoints"."status" in ('enabled', 'disabled')),
	CONSTRAINT "endpoints_disabled_reason_check" CHECK (("endpoints"."status" = 'enabled' and "endpoints"."disabled_reason" is null) or ("endpoints"."status" = 'disabled' and "endpoints"."disabled_reason" in ('manual', 'gone', 'failing')))
);
--> statement-breakpoint
CREATE TABLE "event_bodies" (
	"event_id" text PRIMARY KEY NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"lease_expires_at" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"last_response_status_code" integer,
	"last_error_code" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "messages_status_check" CHECK ("messages"."status" in ('pending', 'inflight', 'succeeded', 'failed', 'cancelled')),
	CONSTRAINT "messages_pending_due_check" CHECK ("messages"."status" <> 'pending' or "messages"."next_attempt_at" is not null),
	CONSTRAINT "messages_inflight_lease_check" CHECK ("messages"."status" <> 'inflight' or "messages"."lease_expires_at" is not null)
);
--> statement-breakpoint
ALTER TABLE "access_tokens" ADD CONSTRAINT "access_tokens_client_id_api_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."api_clients"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "domains" ADD CONSTRAINT "domains_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "portal_links" ADD CONSTRAINT "portal_links_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "portal_sessions" ADD CONSTRAINT "portal_sessions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "portal_sessions" ADD CONSTRAINT "portal_sessions_link_id_portal_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "public"."portal_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_bodies" ADD CONSTRAINT "event_bodies_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_event_id_event_bodies_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."event_bodies"("event_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_endpoint_id_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
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
CREATE INDEX "portal_sessions_expires_at_idx" ON "portal_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "attempts_message_id_attempt_number_idx" ON "attempts" USING btree ("message_id","attempt_number");--> statement-breakpoint
CREATE INDEX "attempts_endpoint_id_id_idx" ON "attempts" USING btree ("endpoint_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_event_id_endpoint_id_key" ON "messages" USING btree ("event_id","endpoint_id");--> statement-breakpoint
CREATE INDEX "messages_due_idx" ON "messages" USING btree ("next_attempt_at") WHERE "messages"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "messages_lease_idx" ON "messages" USING btree ("lease_expires_at") WHERE "messages"."status" = 'inflight';--> statement-breakpoint
CREATE INDEX "messages_endpoint_id_created_at_idx" ON "messages" USING btree ("endpoint_id","created_at");