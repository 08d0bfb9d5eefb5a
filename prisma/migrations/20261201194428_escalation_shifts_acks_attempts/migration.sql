-- Escalation groundwork: on-call shifts (who is on call when), every acknowledgement of an
-- escalation (the first wins), the responder's instructions and outcome, page idempotency keys
-- and Twilio error codes, and one row per webhook delivery attempt. No page rows exist before this.

CREATE TYPE "ack_channel" AS ENUM ('link', 'admin', 'sms', 'voice');

ALTER TABLE "escalations" ADD COLUMN     "instructions" TEXT,
ADD COLUMN     "outcome" TEXT;

ALTER TABLE "on_call_staff" ADD COLUMN     "timezone" TEXT NOT NULL DEFAULT 'UTC',
ADD COLUMN     "webhook_url" TEXT;

ALTER TABLE "pages" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "error_code" INTEGER,
ADD COLUMN     "idempotency_key" TEXT NOT NULL;

CREATE TABLE "on_call_shifts" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID,
    "staff_id" UUID NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "on_call_shifts_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "escalation_acks" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "escalation_id" UUID NOT NULL,
    "via" "ack_channel" NOT NULL,
    "by" TEXT NOT NULL,
    "first" BOOLEAN NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "escalation_acks_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "webhook_attempts" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "status_code" INTEGER,
    "latency_ms" INTEGER NOT NULL,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "on_call_shifts_organization_id_starts_at_ends_at_idx" ON "on_call_shifts"("organization_id", "starts_at", "ends_at");

CREATE INDEX "on_call_shifts_staff_id_starts_at_idx" ON "on_call_shifts"("staff_id", "starts_at");

CREATE INDEX "escalation_acks_escalation_id_created_at_idx" ON "escalation_acks"("escalation_id", "created_at");

CREATE INDEX "webhook_attempts_delivery_id_created_at_idx" ON "webhook_attempts"("delivery_id", "created_at");

CREATE UNIQUE INDEX "pages_idempotency_key_key" ON "pages"("idempotency_key");

ALTER TABLE "on_call_shifts" ADD CONSTRAINT "on_call_shifts_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "on_call_shifts" ADD CONSTRAINT "on_call_shifts_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "on_call_shifts" ADD CONSTRAINT "on_call_shifts_staff_id_fkey" FOREIGN KEY ("staff_id") REFERENCES "on_call_staff"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "escalation_acks" ADD CONSTRAINT "escalation_acks_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "escalation_acks" ADD CONSTRAINT "escalation_acks_escalation_id_fkey" FOREIGN KEY ("escalation_id") REFERENCES "escalations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;
