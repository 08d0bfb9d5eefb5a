ALTER TABLE "block_revisions" ALTER COLUMN "household_id" DROP NOT NULL;

ALTER TABLE "memory_blocks" ALTER COLUMN "household_id" DROP NOT NULL;

CREATE TABLE "block_attachments" (
    "block_id" UUID NOT NULL,
    "household_id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "block_attachments_pkey" PRIMARY KEY ("block_id","household_id")
);

CREATE INDEX "block_attachments_household_id_idx" ON "block_attachments"("household_id");

CREATE UNIQUE INDEX "block_revisions_block_id_idempotency_key_key" ON "block_revisions"("block_id", "idempotency_key");

CREATE INDEX "memory_blocks_organization_id_created_at_idx" ON "memory_blocks"("organization_id", "created_at");

ALTER TABLE "block_attachments" ADD CONSTRAINT "block_attachments_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "block_attachments" ADD CONSTRAINT "block_attachments_household_id_fkey" FOREIGN KEY ("household_id") REFERENCES "households"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "block_attachments" ADD CONSTRAINT "block_attachments_block_id_fkey" FOREIGN KEY ("block_id") REFERENCES "memory_blocks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
