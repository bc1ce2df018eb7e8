//! One search box over the whole library (FTS5): documents, chat messages, run prompts and final texts,
//! and every model's output.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqlitePool};

use crate::Result;

/// Marks around matched words in snippets. Private-use characters, so the UI can highlight by splitting
/// the text rather than trusting it as HTML.
pub const HIGHLIGHT_START: &str = "\u{E000}";
pub const HIGHLIGHT_END: &str = "\u{E001}";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    Document,
    Message,
    Run,
    RunOutput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct SearchHit {
    /// document, message, run or run_output.
    pub kind: String,
    /// The document, message, run or run member.
    pub id: i64,
    /// What to open: the conversation of a message, the run of an output; `id` itself otherwise.
    pub open_id: i64,
    pub title: String,
    pub snippet: String,
    pub at: i64,
    /// bm25: lower is better.
    pub rank: f64,
}

/// The user's words as an FTS5 query: each word quoted (so `"`, `AND`, `-` … are plain text), all
/// required, the last one also matching as a prefix while the user types.
pub(crate) fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect();
    if words.is_empty() {
        return None;
    }
    let mut query = words.join(" ");
    query.push('*');
    Some(query)
}

pub(crate) async fn search(pool: &SqlitePool, input: &str, limit: i64, offset: i64) -> Result<Vec<SearchHit>> {
    let Some(query) = fts_query(input) else { return Ok(Vec::new()) };
    let sql = format!(
        "SELECT * FROM ( \
           SELECT 'document' AS kind, d.id AS id, d.id AS open_id, d.title AS title, \
                  snippet(documents_fts, -1, '{s}', '{e}', '…', 16) AS snippet, d.updated_at AS at, \
                  bm25(documents_fts, 5.0, 1.0) AS rank \
             FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid \
            WHERE documents_fts MATCH ?1 AND d.deleted_at IS NULL \
           UNION ALL \
           SELECT 'message', m.id, m.conversation_id, c.title, snippet(messages_fts, 0, '{s}', '{e}', '…', 16), \
                  m.created_at, bm25(messages_fts) \
             FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN conversations c ON c.id = m.conversation_id \
            WHERE messages_fts MATCH ?1 \
           UNION ALL \
           SELECT 'run', r.id, r.id, substr(r.prompt, 1, 80), snippet(runs_fts, -1, '{s}', '{e}', '…', 16), \
                  r.started_at, bm25(runs_fts) \
             FROM runs_fts JOIN runs r ON r.id = runs_fts.rowid WHERE runs_fts MATCH ?1 \
           UNION ALL \
           SELECT 'run_output', rm.id, rm.run_id, rm.model || ' — ' || substr(r.prompt, 1, 60), \
                  snippet(run_members_fts, 0, '{s}', '{e}', '…', 16), r.started_at, bm25(run_members_fts) \
             FROM run_members_fts JOIN run_members rm ON rm.id = run_members_fts.rowid JOIN runs r ON r.id = rm.run_id \
            WHERE run_members_fts MATCH ?1 \
         ) ORDER BY rank, at DESC LIMIT ?2 OFFSET ?3",
        s = HIGHLIGHT_START,
        e = HIGHLIGHT_END
    );
    Ok(sqlx::query_as(&sql).bind(query).bind(limit).bind(offset).fetch_all(pool).await?)
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn user_input_becomes_a_safe_query() {
        assert_eq!(fts_query("lighthouse keeper").unwrap(), "\"lighthouse\" \"keeper\"*");
        assert_eq!(fts_query("\"AND\" OR (-x").unwrap(), "\"AND\" \"OR\" \"x\"*");
        assert_eq!(fts_query("naïve café").unwrap(), "\"naïve\" \"café\"*");
        assert!(fts_query("  --  ").is_none());
    }
}
