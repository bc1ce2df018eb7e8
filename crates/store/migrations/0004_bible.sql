-- The story bible: what the model reads about a book's characters, places, objects, lore and style.
-- An entry with no project is global: every project's bible holds it.
CREATE TABLE bible_entries (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('character', 'place', 'object', 'lore', 'style_guide')),
    name        TEXT    NOT NULL,
    -- JSON array of strings: other names the text uses for it.
    aliases     TEXT    NOT NULL DEFAULT '[]',
    description TEXT    NOT NULL DEFAULT '',
    -- JSON array of {"name", "value"}: the writer's own fields (eye colour, age, first seen…).
    fields      TEXT    NOT NULL DEFAULT '[]',
    -- Always in the model's context, mentioned or not.
    pinned      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX bible_entries_project ON bible_entries(project_id, deleted_at);

-- Whether bible entries and manuscript text beyond the selection may go to cloud members (off: only
-- the selection and the instruction leave the device).
ALTER TABLE projects ADD COLUMN cloud_context INTEGER NOT NULL DEFAULT 0;

-- The context items a request to a cloud model carried (JSON array of labels).
ALTER TABLE ledger ADD COLUMN items TEXT NOT NULL DEFAULT '[]';
