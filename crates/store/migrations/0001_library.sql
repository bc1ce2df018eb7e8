-- Atelier's library. Times are Unix milliseconds. Keys are never stored here (see atelier-keys).

CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- Soft delete, so "delete" can be undone; purged later.
    deleted_at  INTEGER
);
CREATE INDEX documents_updated ON documents(updated_at DESC);

CREATE TABLE revisions (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT 'autosave',
    created_at  INTEGER NOT NULL
);
CREATE INDEX revisions_document ON revisions(document_id, created_at DESC);

CREATE TABLE runs (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('generate', 'fusion')),
    document_id       INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    action            TEXT,
    prompt            TEXT    NOT NULL,
    mode              TEXT,
    judge             TEXT,
    seed              INTEGER,
    status            TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'interrupted')),
    final_text        TEXT,
    analysis          TEXT,   -- the judge's verdict, JSON
    error             TEXT,
    settings          TEXT,   -- panel, sampling, budget: JSON
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd          REAL    NOT NULL DEFAULT 0,
    started_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
CREATE INDEX runs_started ON runs(started_at DESC);
CREATE INDEX runs_document ON runs(document_id);

CREATE TABLE run_members (
    id                INTEGER PRIMARY KEY,
    run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    label             TEXT    NOT NULL,   -- the anonymous name the judge saw: A, B, C…
    role              TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'judge')),
    round             INTEGER NOT NULL DEFAULT 0,
    provider          TEXT    NOT NULL,
    model             TEXT    NOT NULL,
    output            TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'interrupted')),
    error             TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    cost_usd          REAL,
    latency_ms        INTEGER,
    first_token_ms    INTEGER
);
CREATE INDEX run_members_run ON run_members(run_id, round, position);

CREATE TABLE conversations (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    title       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX conversations_document ON conversations(document_id, updated_at DESC);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT    NOT NULL,
    run_id          INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);

CREATE TABLE models (
    id           INTEGER PRIMARY KEY,
    path         TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    architecture TEXT    NOT NULL,
    quantization TEXT    NOT NULL,
    size_bytes   INTEGER NOT NULL,
    parameters   INTEGER NOT NULL DEFAULT 0,
    sha256       TEXT,
    source_url   TEXT,
    is_default   INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    added_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX models_one_default ON models(is_default) WHERE is_default = 1;

-- OpenAI-compatible endpoints. No key column, by design: keys live in the OS keychain.
CREATE TABLE providers (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL DEFAULT 'openai_compatible',
    base_url   TEXT    NOT NULL,
    models     TEXT    NOT NULL DEFAULT '[]',   -- JSON: [{id, input_per_mtok, output_per_mtok}]
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL   -- JSON
);

-- What left the device: one row per outbound request.
CREATE TABLE ledger (
    id                INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    provider          TEXT    NOT NULL,
    model             TEXT    NOT NULL,
    endpoint          TEXT    NOT NULL,
    run_id            INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    bytes_sent        INTEGER NOT NULL,
    bytes_received    INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    cost_usd          REAL,
    status            TEXT    NOT NULL
);
CREATE INDEX ledger_at ON ledger(at DESC);

-- Full-text search over the user's words, kept in step by triggers (external-content FTS5 tables).
CREATE VIRTUAL TABLE documents_fts USING fts5(title, body, content='documents', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER documents_ai AFTER INSERT ON documents WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO documents_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER documents_ad AFTER DELETE ON documents WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO documents_fts(documents_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER documents_au AFTER UPDATE OF title, body, deleted_at ON documents BEGIN
    INSERT INTO documents_fts(documents_fts, rowid, title, body)
        SELECT 'delete', old.id, old.title, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO documents_fts(rowid, title, body)
        SELECT new.id, new.title, new.body WHERE new.deleted_at IS NULL;
END;

CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;

CREATE VIRTUAL TABLE runs_fts USING fts5(prompt, final_text, content='runs', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER runs_ai AFTER INSERT ON runs BEGIN
    INSERT INTO runs_fts(rowid, prompt, final_text) VALUES (new.id, new.prompt, coalesce(new.final_text, ''));
END;
CREATE TRIGGER runs_ad AFTER DELETE ON runs BEGIN
    INSERT INTO runs_fts(runs_fts, rowid, prompt, final_text) VALUES ('delete', old.id, old.prompt, coalesce(old.final_text, ''));
END;
CREATE TRIGGER runs_au AFTER UPDATE OF prompt, final_text ON runs BEGIN
    INSERT INTO runs_fts(runs_fts, rowid, prompt, final_text) VALUES ('delete', old.id, old.prompt, coalesce(old.final_text, ''));
    INSERT INTO runs_fts(rowid, prompt, final_text) VALUES (new.id, new.prompt, coalesce(new.final_text, ''));
END;

CREATE VIRTUAL TABLE run_members_fts USING fts5(output, content='run_members', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER run_members_ai AFTER INSERT ON run_members BEGIN
    INSERT INTO run_members_fts(rowid, output) VALUES (new.id, new.output);
END;
CREATE TRIGGER run_members_ad AFTER DELETE ON run_members BEGIN
    INSERT INTO run_members_fts(run_members_fts, rowid, output) VALUES ('delete', old.id, old.output);
END;
CREATE TRIGGER run_members_au AFTER UPDATE OF output ON run_members BEGIN
    INSERT INTO run_members_fts(run_members_fts, rowid, output) VALUES ('delete', old.id, old.output);
    INSERT INTO run_members_fts(rowid, output) VALUES (new.id, new.output);
END;
