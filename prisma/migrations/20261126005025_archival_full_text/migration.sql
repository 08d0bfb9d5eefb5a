ALTER TABLE "passages" ADD COLUMN     "search_vector" tsvector;

CREATE INDEX "passages_search_vector_idx" ON "passages" USING GIN ("search_vector");

-- Hand-written: archival passages get the same full-text vector as recall messages, kept by a
-- trigger so every writer gets it; archival search fuses it with vector similarity.
CREATE FUNCTION "passages_search_vector_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."search_vector" := to_tsvector('english', coalesce(NEW."text", ''));
  RETURN NEW;
END
$$;
CREATE TRIGGER "passages_search_vector_trigger"
  BEFORE INSERT OR UPDATE OF "text" ON "passages"
  FOR EACH ROW EXECUTE FUNCTION "passages_search_vector_update"();
UPDATE "passages" SET "search_vector" = to_tsvector('english', coalesce("text", ''));
