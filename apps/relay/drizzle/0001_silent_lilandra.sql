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
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_bodies" ADD CONSTRAINT "event_bodies_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_event_id_event_bodies_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."event_bodies"("event_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_endpoint_id_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attempts_message_id_attempt_number_idx" ON "attempts" USING btree ("message_id","attempt_number");--> statement-breakpoint
CREATE INDEX "attempts_endpoint_id_id_idx" ON "attempts" USING btree ("endpoint_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_event_id_endpoint_id_key" ON "messages" USING btree ("event_id","endpoint_id");--> statement-breakpoint
CREATE INDEX "messages_due_idx" ON "messages" USING btree ("next_attempt_at") WHERE "messages"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "messages_lease_idx" ON "messages" USING btree ("lease_expires_at") WHERE "messages"."status" = 'inflight';--> statement-breakpoint
CREATE INDEX "messages_endpoint_id_created_at_idx" ON "messages" USING btree ("endpoint_id","created_at");