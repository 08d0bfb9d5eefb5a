ALTER TYPE "page_status" ADD VALUE 'cancelled';

ALTER TABLE "escalations" ADD COLUMN     "level_started_at" TIMESTAMPTZ(3),
ADD COLUMN     "round" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "on_call_staff" ADD COLUMN     "webhook_secret_encrypted" TEXT;
