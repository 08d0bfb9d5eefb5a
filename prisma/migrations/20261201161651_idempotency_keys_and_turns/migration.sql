ALTER TABLE "block_revisions" ADD COLUMN     "idempotency_key" TEXT;

ALTER TABLE "calls" ADD COLUMN     "turns" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "passages" ADD COLUMN     "idempotency_key" TEXT;

CREATE UNIQUE INDEX "block_revisions_household_id_idempotency_key_key" ON "block_revisions"("household_id", "idempotency_key");

CREATE UNIQUE INDEX "passages_household_id_idempotency_key_key" ON "passages"("household_id", "idempotency_key");
