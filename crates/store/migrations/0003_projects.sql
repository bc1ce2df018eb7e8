-- Projects: a book (or screenplay, story, campaign) as a binder of parts → chapters → scenes. A scene's
-- text is a document (so autosave, revisions, search and trash work on it unchanged); parts and
-- chapters are binder rows only.
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    kind        TEXT    NOT NULL DEFAULT 'novel' CHECK (kind IN ('novel', 'screenplay', 'short_fiction', 'other')),
    author      TEXT    NOT NULL DEFAULT '',
    word_goal   INTEGER CHECK (word_goal IS NULL OR word_goal > 0),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);

CREATE TABLE binder (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    parent_id    INTEGER REFERENCES binder(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('part', 'chapter', 'scene')),
    -- Dense 0..n among siblings, renumbered on every move.
    position     INTEGER NOT NULL,
    -- Parts' and chapters' titles; a scene's title is its document's.
    title        TEXT    NOT NULL DEFAULT '',
    synopsis     TEXT    NOT NULL DEFAULT '',
    pov          TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('idea', 'draft', 'revised', 'final')),
    target_words INTEGER CHECK (target_words IS NULL OR target_words > 0),
    document_id  INTEGER UNIQUE REFERENCES documents(id) ON DELETE CASCADE,
    -- Rows deleted together share one stamp, so Undo brings back exactly that subtree.
    deleted_at   INTEGER,
    CHECK ((kind = 'scene') = (document_id IS NOT NULL))
);
CREATE INDEX binder_children ON binder(project_id, parent_id, position);

-- Words per project per local day: `start_words` when the day's first change was saved, `words` after
-- its latest. What was written that day is the difference.
CREATE TABLE word_progress (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    day         TEXT    NOT NULL,
    start_words INTEGER NOT NULL,
    words       INTEGER NOT NULL,
    PRIMARY KEY (project_id, day)
) WITHOUT ROWID;

-- A run names the project and scene it was made in (NULL for free prompts).
ALTER TABLE runs ADD COLUMN project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN scene_id INTEGER REFERENCES binder(id) ON DELETE SET NULL;

-- Every document written before projects existed becomes a scene of one default project, oldest first,
-- trashed ones included (still trashed, so their Undo keeps working).
INSERT INTO projects (id, title, kind, author, created_at, updated_at)
    SELECT 1, 'My writing', 'other', '', min(created_at), max(updated_at) FROM documents HAVING count(*) > 0;
INSERT INTO binder (project_id, parent_id, kind, position, document_id, deleted_at)
    SELECT 1, NULL, 'scene', row_number() OVER (ORDER BY created_at, id) - 1, id, deleted_at FROM documents;
UPDATE runs SET project_id = 1, scene_id = (SELECT b.id FROM binder b WHERE b.document_id = runs.document_id)
    WHERE document_id IS NOT NULL;
