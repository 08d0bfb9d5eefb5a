ALTER TABLE "calls" ADD COLUMN     "consolidation_lease_until" TIMESTAMPTZ(3);
