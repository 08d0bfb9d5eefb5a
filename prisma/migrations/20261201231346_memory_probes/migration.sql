CREATE TYPE "probe_kind" AS ENUM ('answer', 'retrieval');

DROP INDEX "memory_probes_household_id_idx";

ALTER TABLE "memory_probes" DROP COLUMN "expected",
ADD COLUMN     "expected_all" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "expected_any" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "expected_fact" TEXT,
ADD COLUMN     "expected_passage_id" UUID,
ADD COLUMN     "failure_streak" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "interval_minutes" INTEGER NOT NULL DEFAULT 1440,
ADD COLUMN     "kind" "probe_kind" NOT NULL DEFAULT 'answer',
ADD COLUMN     "member_id" UUID,
ADD COLUMN     "next_run_at" TIMESTAMPTZ(3) NOT NULL,
ADD COLUMN     "updated_at" TIMESTAMPTZ(3) NOT NULL;

ALTER TABLE "probe_runs" ADD COLUMN     "detail" TEXT,
ADD COLUMN     "latency_ms" INTEGER NOT NULL,
ADD COLUMN     "scheduled" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "tools_used" TEXT[] DEFAULT ARRAY[]::TEXT[];

CREATE INDEX "memory_probes_household_id_created_at_idx" ON "memory_probes"("household_id", "created_at");

CREATE INDEX "memory_probes_next_run_at_idx" ON "memory_probes"("next_run_at");

ALTER TABLE "memory_probes" ADD CONSTRAINT "memory_probes_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "members"("id") ON DELETE CASCADE ON UPDATE CASCADE;
