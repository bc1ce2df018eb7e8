//! Documents, autosave and revisions.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result, StoreError};

/// At most this many revisions are kept per document; older ones are pruned.
pub const MAX_REVISIONS: i64 = 100;
/// Autosaves closer together than this update the latest revision instead of adding one.
pub const REVISION_INTERVAL_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Document {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DocumentSummary {
    pub id: i64,
    pub title: String,
    pub updated_at: i64,
    pub words: i64,
    /// The opening of the text, for the document list.
    pub preview: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Revision {
    pub id: i64,
    pub document_id: i64,
    pub title: String,
    pub body: String,
    pub reason: String,
    pub created_at: i64,
}

/// Inserts a live document with its listing columns derived, on any connection (a transaction's too).
pub(crate) async fn insert(conn: &mut sqlx::SqliteConnection, title: &str, body: &str, created_at: i64, updated_at: i64) -> Result<i64> {
    Ok(sqlx::query("INSERT INTO documents (title, body, word_count, preview, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(title)
        .bind(body)
        .bind(word_count(body))
        .bind(preview(body))
        .bind(created_at)
        .bind(updated_at)
        .execute(conn)
        .await?
        .last_insert_rowid())
}

pub struct Documents<'a> {
    pool: &'a SqlitePool,
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound { what: "document", id: id.to_string() }
}

pub(crate) fn word_count(text: &str) -> i64 {
    text.split_whitespace().count() as i64
}

/// The opening words shown in the document list.
pub(crate) fn preview(text: &str) -> String {
    text.chars().take(160).collect()
}

impl<'a> Documents<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bytes = body.len(), id = tracing::field::Empty))]
    pub async fn create(&self, title: &str, body: &str) -> Result<Document> {
        let now = now_ms();
        let id = insert(&mut *self.pool.acquire().await?, title, body, now, now).await?;
        tracing::Span::current().record("id", id);
        Ok(Document { id, title: title.to_string(), body: body.to_string(), created_at: now, updated_at: now })
    }

    pub async fn get(&self, id: i64) -> Result<Document> {
        sqlx::query_as("SELECT id, title, body, created_at, updated_at FROM documents WHERE id = ? AND deleted_at IS NULL")
            .bind(id)
            .fetch_optional(self.pool)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Every live document, most recently edited first.
    pub async fn list(&self) -> Result<Vec<DocumentSummary>> {
        // Served from the documents_listing index, as one JSON row: a row per document through sqlx costs
        // more than the query itself in a library of thousands. A body is read only where nothing was
        // derived yet (documents written before migration 0002).
        let json: String = sqlx::query_scalar(
            "SELECT coalesce(json_group_array(json_array(id, title, updated_at, word_count, preview)), '[]') FROM \
             (SELECT id, title, updated_at, word_count, preview FROM documents WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC)",
        )
        .fetch_one(self.pool)
        .await?;
        let rows: Vec<(i64, String, i64, Option<i64>, Option<String>)> =
            serde_json::from_str(&json).map_err(|e| StoreError::Invalid(format!("document list: {e}")))?;
        let mut list = Vec::with_capacity(rows.len());
        for (id, title, updated_at, words, opening) in rows {
            let (words, opening) = match (words, opening) {
                (Some(words), Some(opening)) => (words, opening),
                _ => {
                    let body: String = sqlx::query_scalar("SELECT body FROM documents WHERE id = ?").bind(id).fetch_one(self.pool).await?;
                    (word_count(&body), preview(&body))
                }
            };
            list.push(DocumentSummary { id, title, updated_at, words, preview: opening });
        }
        Ok(list)
    }

    /// Saves the text (autosave and explicit saves alike) and keeps the revision history: a new revision
    /// when the last one is older than [`REVISION_INTERVAL_MS`] (or `reason` is not "autosave"), else the
    /// latest revision follows the text. Unchanged text writes nothing.
    // Never the title or text: the manuscript stays out of the log.
    #[tracing::instrument(level = "debug", skip_all, fields(id = id, bytes = body.len(), reason = reason))]
    pub async fn save(&self, id: i64, title: &str, body: &str, reason: &str) -> Result<Document> {
        let now = now_ms();
        let mut tx = crate::write_tx(self.pool).await?;
        let current: Option<(String, String, i64)> =
            sqlx::query_as("SELECT title, body, created_at FROM documents WHERE id = ? AND deleted_at IS NULL")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let (old_title, old_body, created_at) = current.ok_or_else(|| not_found(id))?;
        if old_title == title && old_body == body && reason == "autosave" {
            tx.rollback().await?;
            return self.get(id).await;
        }
        sqlx::query("UPDATE documents SET title = ?, body = ?, word_count = ?, preview = ?, updated_at = ? WHERE id = ?")
            .bind(title)
            .bind(body)
            .bind(word_count(body))
            .bind(preview(body))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        crate::projects::record_progress(&mut tx, id, word_count(&old_body), word_count(body)).await?;
        let latest: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, created_at FROM revisions WHERE document_id = ? ORDER BY created_at DESC, id DESC LIMIT 1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        match latest {
            Some((revision, at)) if reason == "autosave" && now - at < REVISION_INTERVAL_MS => {
                sqlx::query("UPDATE revisions SET title = ?, body = ? WHERE id = ?")
                    .bind(title)
                    .bind(body)
                    .bind(revision)
                    .execute(&mut *tx)
                    .await?;
            }
            _ => {
                sqlx::query("INSERT INTO revisions (document_id, title, body, reason, created_at) VALUES (?, ?, ?, ?, ?)")
                    .bind(id)
                    .bind(title)
                    .bind(body)
                    .bind(reason)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "DELETE FROM revisions WHERE document_id = ?1 AND id NOT IN \
                     (SELECT id FROM revisions WHERE document_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2)",
                )
                .bind(id)
                .bind(MAX_REVISIONS)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Document { id, title: title.to_string(), body: body.to_string(), created_at, updated_at: now })
    }

    pub async fn rename(&self, id: i64, title: &str) -> Result<Document> {
        let doc = self.get(id).await?;
        self.save(id, title, &doc.body, "rename").await
    }

    /// Moves a document to the trash (search forgets it); [`Documents::restore`] brings it back.
    #[tracing::instrument(level = "debug", skip_all, fields(id = id))]
    pub async fn delete(&self, id: i64) -> Result<()> {
        if !crate::trash_row(self.pool, "documents", id).await? {
            return Err(not_found(id));
        }
        Ok(())
    }

    pub async fn restore(&self, id: i64) -> Result<Document> {
        sqlx::query("UPDATE documents SET deleted_at = NULL WHERE id = ?").bind(id).execute(self.pool).await?;
        self.get(id).await
    }

    /// Deletes trashed documents for good (with their revisions).
    pub async fn purge_deleted(&self, older_than_ms: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM documents WHERE deleted_at IS NOT NULL AND deleted_at <= ?")
            .bind(now_ms() - older_than_ms)
            .execute(self.pool)
            .await?
            .rows_affected())
    }

    /// Revisions, newest first.
    pub async fn revisions(&self, id: i64) -> Result<Vec<Revision>> {
        Ok(sqlx::query_as(
            "SELECT id, document_id, title, body, reason, created_at FROM revisions WHERE document_id = ? \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(id)
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn revision(&self, revision_id: i64) -> Result<Revision> {
        sqlx::query_as("SELECT id, document_id, title, body, reason, created_at FROM revisions WHERE id = ?")
            .bind(revision_id)
            .fetch_optional(self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "revision", id: revision_id.to_string() })
    }

    /// Makes an old revision the current text (recorded as a revision of its own).
    pub async fn restore_revision(&self, revision_id: i64) -> Result<Document> {
        let revision = self.revision(revision_id).await?;
        self.save(revision.document_id, &revision.title, &revision.body, "restore").await
    }
}
