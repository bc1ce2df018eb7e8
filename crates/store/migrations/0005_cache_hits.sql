-- Prompt tokens an on-device member took from the model's cache instead of computing (NULL: not known,
-- or a cloud member).
ALTER TABLE run_members ADD COLUMN cached_tokens INTEGER;
