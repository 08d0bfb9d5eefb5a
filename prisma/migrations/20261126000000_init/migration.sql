-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "vector";

-- CreateEnum
CREATE TYPE "member_role" AS ENUM ('member', 'caregiver', 'guardian');

-- CreateEnum
CREATE TYPE "revision_source" AS ENUM ('agent_tool', 'consolidation', 'admin', 'rollback', 'system');

-- CreateEnum
CREATE TYPE "call_status" AS ENUM ('ringing', 'in_progress', 'completed', 'failed');

-- CreateEnum
CREATE TYPE "call_channel" AS ENUM ('voice', 'text');

-- CreateEnum
CREATE TYPE "message_role" AS ENUM ('system', 'user', 'assistant', 'tool');

-- CreateEnum
CREATE TYPE "severity" AS ENUM ('low', 'medium', 'high', 'critical');

-- CreateEnum
CREATE TYPE "escalation_status" AS ENUM ('open', 'acknowledged', 'resolved', 'exhausted');

-- CreateEnum
CREATE TYPE "page_channel" AS ENUM ('sms', 'voice', 'webhook');

-- CreateEnum
CREATE TYPE "page_status" AS ENUM ('queued', 'sent', 'delivered', 'failed', 'acknowledged');

-- CreateEnum
CREATE TYPE "delivery_status" AS ENUM ('pending', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "organizations" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "organizations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "scopes" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "phone_lines" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID,
    "number" TEXT NOT NULL,
    "label" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "phone_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "households" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "locale" TEXT NOT NULL DEFAULT 'en-US',
    "agent_settings" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "households_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "members" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "relationship" TEXT,
    "phone" TEXT,
    "pin_hash" TEXT,
    "role" "member_role" NOT NULL DEFAULT 'member',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "members_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "memory_blocks" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "member_id" UUID,
    "owner_key" TEXT NOT NULL DEFAULT '',
    "label" TEXT NOT NULL,
    "value" TEXT NOT NULL DEFAULT '',
    "description" TEXT NOT NULL DEFAULT '',
    "char_limit" INTEGER NOT NULL DEFAULT 2000,
    "read_only" BOOLEAN NOT NULL DEFAULT false,
    "private" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "memory_blocks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "block_revisions" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "block_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "value" TEXT NOT NULL,
    "source" "revision_source" NOT NULL,
    "source_detail" TEXT,
    "call_id" UUID,
    "member_id" UUID,
    "actor" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "block_revisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "calls" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "member_id" UUID,
    "channel" "call_channel" NOT NULL DEFAULT 'voice',
    "twilio_call_sid" TEXT,
    "stream_sid" TEXT,
    "from_number" TEXT,
    "to_number" TEXT,
    "caller_verified" BOOLEAN NOT NULL DEFAULT false,
    "status" "call_status" NOT NULL DEFAULT 'ringing',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),
    "summary" TEXT,
    "consolidated_at" TIMESTAMPTZ(3),

    CONSTRAINT "calls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "member_id" UUID,
    "call_id" UUID,
    "role" "message_role" NOT NULL,
    "content" TEXT NOT NULL,
    "tool_name" TEXT,
    "tool_args" JSONB,
    "tool_call_id" TEXT,
    "search_vector" tsvector,
    "embedding" vector(512),
    "embedding_model" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "passages" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "member_id" UUID,
    "text" TEXT NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "embedding" vector(512),
    "embedding_model" TEXT NOT NULL,
    "source_call_id" UUID,
    "valid_from" TIMESTAMPTZ(3),
    "invalid_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "passages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "memory_probes" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "question" TEXT NOT NULL,
    "expected" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "memory_probes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "probe_runs" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "probe_id" UUID NOT NULL,
    "passed" BOOLEAN NOT NULL,
    "answer" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "probe_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "on_call_staff" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID,
    "name" TEXT NOT NULL,
    "phone" TEXT,
    "email" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "on_call_staff_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "escalation_policies" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID,
    "name" TEXT NOT NULL,
    "levels" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "escalation_policies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "escalations" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "call_id" UUID,
    "policy_id" UUID,
    "severity" "severity" NOT NULL,
    "reason" TEXT NOT NULL,
    "summary" TEXT,
    "status" "escalation_status" NOT NULL DEFAULT 'open',
    "level" INTEGER NOT NULL DEFAULT 0,
    "ack_code" TEXT NOT NULL,
    "acknowledged_by" TEXT,
    "acknowledged_at" TIMESTAMPTZ(3),
    "resolved_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "escalations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pages" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "escalation_id" UUID NOT NULL,
    "staff_id" UUID,
    "level" INTEGER NOT NULL,
    "channel" "page_channel" NOT NULL,
    "status" "page_status" NOT NULL DEFAULT 'queued',
    "provider_sid" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "secret_encrypted" TEXT NOT NULL,
    "event_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "delivery_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE INDEX "api_keys_organization_id_created_at_idx" ON "api_keys"("organization_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "phone_lines_number_key" ON "phone_lines"("number");

-- CreateIndex
CREATE INDEX "phone_lines_organization_id_created_at_idx" ON "phone_lines"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "phone_lines_household_id_idx" ON "phone_lines"("household_id");

-- CreateIndex
CREATE INDEX "households_organization_id_created_at_idx" ON "households"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "members_household_id_created_at_idx" ON "members"("household_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "members_organization_id_phone_key" ON "members"("organization_id", "phone");

-- CreateIndex
CREATE INDEX "memory_blocks_member_id_idx" ON "memory_blocks"("member_id");

-- CreateIndex
CREATE UNIQUE INDEX "memory_blocks_household_id_owner_key_label_key" ON "memory_blocks"("household_id", "owner_key", "label");

-- CreateIndex
CREATE INDEX "block_revisions_household_id_created_at_idx" ON "block_revisions"("household_id", "created_at");

-- CreateIndex
CREATE INDEX "block_revisions_call_id_idx" ON "block_revisions"("call_id");

-- CreateIndex
CREATE UNIQUE INDEX "block_revisions_block_id_version_key" ON "block_revisions"("block_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "calls_twilio_call_sid_key" ON "calls"("twilio_call_sid");

-- CreateIndex
CREATE INDEX "calls_household_id_started_at_idx" ON "calls"("household_id", "started_at");

-- CreateIndex
CREATE INDEX "calls_organization_id_started_at_idx" ON "calls"("organization_id", "started_at");

-- CreateIndex
CREATE INDEX "calls_member_id_started_at_idx" ON "calls"("member_id", "started_at");

-- CreateIndex
CREATE INDEX "messages_household_id_member_id_created_at_idx" ON "messages"("household_id", "member_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_call_id_created_at_idx" ON "messages"("call_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_search_vector_idx" ON "messages" USING GIN ("search_vector");

-- CreateIndex
CREATE INDEX "passages_household_id_created_at_idx" ON "passages"("household_id", "created_at");

-- CreateIndex
CREATE INDEX "passages_tags_idx" ON "passages" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "memory_probes_household_id_idx" ON "memory_probes"("household_id");

-- CreateIndex
CREATE INDEX "probe_runs_probe_id_created_at_idx" ON "probe_runs"("probe_id", "created_at");

-- CreateIndex
CREATE INDEX "probe_runs_household_id_created_at_idx" ON "probe_runs"("household_id", "created_at");

-- CreateIndex
CREATE INDEX "on_call_staff_organization_id_created_at_idx" ON "on_call_staff"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "on_call_staff_household_id_idx" ON "on_call_staff"("household_id");

-- CreateIndex
CREATE INDEX "escalation_policies_organization_id_idx" ON "escalation_policies"("organization_id");

-- CreateIndex
CREATE INDEX "escalation_policies_household_id_idx" ON "escalation_policies"("household_id");

-- CreateIndex
CREATE INDEX "escalations_household_id_created_at_idx" ON "escalations"("household_id", "created_at");

-- CreateIndex
CREATE INDEX "escalations_organization_id_status_created_at_idx" ON "escalations"("organization_id", "status", "created_at");

-- CreateIndex
CREATE INDEX "pages_escalation_id_level_idx" ON "pages"("escalation_id", "level");

-- CreateIndex
CREATE INDEX "pages_provider_sid_idx" ON "pages"("provider_sid");

-- CreateIndex
CREATE INDEX "webhook_endpoints_organization_id_idx" ON "webhook_endpoints"("organization_id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpoint_id_created_at_idx" ON "webhook_deliveries"("endpoint_id", "created_at");

-- CreateIndex
CREATE INDEX "audit_events_organization_id_created_at_idx" ON "audit_events"("organization_id", "created_at");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "phone_lines" ADD CONSTRAINT "phone_lines_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "phone_lines" ADD CONSTRAINT "phone_lines_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "households" ADD CONSTRAINT "households_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "members" ADD CONSTRAINT "members_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "members" ADD CONSTRAINT "members_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memory_blocks" ADD CONSTRAINT "memory_blocks_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memory_blocks" ADD CONSTRAINT "memory_blocks_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memory_blocks" ADD CONSTRAINT "memory_blocks_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "members"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "block_revisions" ADD CONSTRAINT "block_revisions_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "block_revisions" ADD CONSTRAINT "block_revisions_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "block_revisions" ADD CONSTRAINT "block_revisions_block_id_fkey" FOREIGN KEY ("block_id") REFERENCES "memory_blocks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "block_revisions" ADD CONSTRAINT "block_revisions_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "block_revisions" ADD CONSTRAINT "block_revisions_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "members"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "calls" ADD CONSTRAINT "calls_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "calls" ADD CONSTRAINT "calls_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "calls" ADD CONSTRAINT "calls_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "members"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "members"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "passages" ADD CONSTRAINT "passages_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "passages" ADD CONSTRAINT "passages_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "passages" ADD CONSTRAINT "passages_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "members"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "passages" ADD CONSTRAINT "passages_source_call_id_fkey" FOREIGN KEY ("source_call_id") REFERENCES "calls"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memory_probes" ADD CONSTRAINT "memory_probes_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "memory_probes" ADD CONSTRAINT "memory_probes_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "probe_runs" ADD CONSTRAINT "probe_runs_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "probe_runs" ADD CONSTRAINT "probe_runs_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "probe_runs" ADD CONSTRAINT "probe_runs_probe_id_fkey" FOREIGN KEY ("probe_id") REFERENCES "memory_probes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "on_call_staff" ADD CONSTRAINT "on_call_staff_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "on_call_staff" ADD CONSTRAINT "on_call_staff_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "escalation_policies" ADD CONSTRAINT "escalation_policies_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "escalation_policies" ADD CONSTRAINT "escalation_policies_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_call_id_fkey" FOREIGN KEY ("call_id") REFERENCES "calls"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "escalation_policies"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pages" ADD CONSTRAINT "pages_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pages" ADD CONSTRAINT "pages_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pages" ADD CONSTRAINT "pages_escalation_id_fkey" FOREIGN KEY ("escalation_id") REFERENCES "escalations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pages" ADD CONSTRAINT "pages_staff_id_fkey" FOREIGN KEY ("staff_id") REFERENCES "on_call_staff"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: what schema.prisma cannot express.

-- Archival and recall vectors are searched by cosine distance through HNSW.
CREATE INDEX "passages_embedding_hnsw_idx" ON "passages" USING hnsw ("embedding" vector_cosine_ops);
CREATE INDEX "messages_embedding_hnsw_idx" ON "messages" USING hnsw ("embedding" vector_cosine_ops);

-- Recall full-text search: every writer gets search_vector, whoever inserts the row.
CREATE FUNCTION "messages_search_vector_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."search_vector" := to_tsvector('english', coalesce(NEW."content", ''));
  RETURN NEW;
END
$$;
CREATE TRIGGER "messages_search_vector_trigger"
  BEFORE INSERT OR UPDATE OF "content" ON "messages"
  FOR EACH ROW EXECUTE FUNCTION "messages_search_vector_update"();
