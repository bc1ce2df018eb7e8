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
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    Document,
    Message,
    Run,
    RunOutput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SearchHit {
    /// document, message, run or run_output.
    #[cfg_attr(feature = "specta", specta(type = SearchKind))]
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

/// Each searchable kind: its FTS table, the bm25 weights of its columns, and how a hit is titled, dated and
/// opened. Matches `f` are joined to their source row `x`.
struct Source {
    kind: &'static str,
    fts: &'static str,
    bm25_weights: &'static str,
    from: &'static str,
    open_id: &'static str,
    title: &'static str,
    at: &'static str,
    filter: &'static str,
}

const SOURCES: [Source; 4] = [
    Source {
        kind: "document",
        fts: "documents_fts",
        bm25_weights: ", 5.0, 1.0",
        from: "JOIN documents x ON x.id = f.id",
        open_id: "x.id",
        title: "x.title",
        at: "x.updated_at",
        filter: "AND x.deleted_at IS NULL",
    },
    Source {
        kind: "message",
        fts: "messages_fts",
        bm25_weights: "",
        from: "JOIN messages x ON x.id = f.id JOIN conversations c ON c.id = x.conversation_id",
        open_id: "x.conversation_id",
        title: "c.title",
        at: "x.created_at",
        filter: "",
    },
    Source {
        kind: "run",
        fts: "runs_fts",
        bm25_weights: "",
        from: "JOIN runs x ON x.id = f.id",
        open_id: "x.id",
        title: "substr(x.prompt, 1, 80)",
        at: "x.started_at",
        filter: "",
    },
    Source {
        kind: "run_output",
        fts: "run_members_fts",
        bm25_weights: "",
        from: "JOIN run_members x ON x.id = f.id JOIN runs r ON r.id = x.run_id",
        open_id: "x.run_id",
        title: "x.model || ' — ' || substr(r.prompt, 1, 60)",
        at: "r.started_at",
        filter: "",
    },
];

/// How many of the newest matches of each kind are ranked by relevance. Every match of a rarer word is
/// ranked; for a word found in most of a large library, the best among the newest this many are shown,
/// which keeps a search of 100,000 messages interactive.
const RANK_WINDOW: i64 = 2000;

pub(crate) async fn search(pool: &SqlitePool, input: &str, limit: i64, offset: i64) -> Result<Vec<SearchHit>> {
    let Some(query) = fts_query(input) else { return Ok(Vec::new()) };
    // Ranking first, without snippets: snippet() is costly, and a common word matches most of a large
    // library. bm25 is computed for the newest RANK_WINDOW matches of each kind only (FTS5 walks rowids
    // newest first and stops), and each kind keeps its best `limit + offset` before they are merged.
    let branches: Vec<String> = SOURCES
        .iter()
        .map(|s| {
            format!(
                "SELECT * FROM (SELECT '{kind}' AS kind, f.id AS id, {open_id} AS open_id, {title} AS title, '' AS snippet, {at} AS at, f.rank AS rank \
                 FROM (SELECT rowid AS id, bm25({fts}{weights}) AS rank FROM {fts} WHERE {fts} MATCH ?1 ORDER BY rowid DESC LIMIT ?5) f \
                 {from} WHERE 1 {filter} ORDER BY rank, at DESC, id DESC LIMIT ?4)",
                kind = s.kind,
                fts = s.fts,
                open_id = s.open_id,
                title = s.title,
                at = s.at,
                weights = s.bm25_weights,
                from = s.from,
                filter = s.filter,
            )
        })
        .collect();
    let sql = format!("SELECT * FROM ({}) ORDER BY rank, at DESC, kind, id DESC LIMIT ?2 OFFSET ?3", branches.join(" UNION ALL "));
    let mut hits: Vec<SearchHit> = sqlx::query_as(&sql).bind(&query).bind(limit).bind(offset).bind(limit + offset).bind(RANK_WINDOW).fetch_all(pool).await?;
    // Then a snippet for each hit shown.
    for hit in &mut hits {
        let Some(source) = SOURCES.iter().find(|s| s.kind == hit.kind) else { continue };
        let sql = format!(
            "SELECT snippet({fts}, -1, '{s}', '{e}', '…', 16) FROM {fts} WHERE {fts} MATCH ?1 AND rowid = ?2",
            fts = source.fts,
            s = HIGHLIGHT_START,
            e = HIGHLIGHT_END
        );
        hit.snippet = sqlx::query_scalar(&sql).bind(&query).bind(hit.id).fetch_optional(pool).await?.unwrap_or_default();
    }
    Ok(hits)
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
