ALTER TABLE "calls" ADD COLUMN     "turn_lease_until" TIMESTAMPTZ(3);
