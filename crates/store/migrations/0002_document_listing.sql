-- The document list shows each document's word count and opening words. Deriving them from every body
-- on each listing is slow in a large library, so they are stored on write and the list reads an index
-- only. NULL means "not yet derived" (documents written before this migration): derived when listed.
ALTER TABLE documents ADD COLUMN word_count INTEGER;
ALTER TABLE documents ADD COLUMN preview TEXT;
CREATE INDEX documents_listing ON documents(deleted_at, updated_at DESC, id DESC, title, word_count, preview);
