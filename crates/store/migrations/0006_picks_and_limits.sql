-- How many requests a provider's endpoint serves at once (NULL: one on this computer, no limit elsewhere).
ALTER TABLE providers ADD COLUMN max_concurrent INTEGER;

-- The writer's blind picks between two answers to the same request. A contestant is a model and its
-- setting as one name ("local:SmolLM2 (t=0.8)", "fused:merge", "openrouter:mistral-small").
CREATE TABLE picks (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    left_name TEXT NOT NULL,
    right_name TEXT NOT NULL,
    -- 'left', 'right' or 'tie'.
    outcome TEXT NOT NULL CHECK (outcome IN ('left', 'right', 'tie')),
    -- The two answers as the writer read them (what the judge's rubric is distilled from).
    left_text TEXT NOT NULL,
    right_text TEXT NOT NULL,
    -- What the writer said of the winner, if anything.
    reason TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX picks_by_project ON picks(project_id, created_at);
