ALTER TABLE "calls" ADD COLUMN     "consolidation_plan" JSONB;
