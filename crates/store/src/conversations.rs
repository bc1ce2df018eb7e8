//! Chats about a document: conversations and their messages.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Conversation {
    pub id: i64,
    pub document_id: Option<i64>,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub role: String,
    pub content: String,
    pub run_id: Option<i64>,
    pub created_at: i64,
}

pub struct Conversations<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Conversations<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn create(&self, document_id: Option<i64>, title: &str) -> Result<Conversation> {
        let now = now_ms();
        let id = sqlx::query("INSERT INTO conversations (document_id, title, created_at, updated_at) VALUES (?, ?, ?, ?)")
            .bind(document_id)
            .bind(title)
            .bind(now)
            .bind(now)
            .execute(self.pool)
            .await?
            .last_insert_rowid();
        Ok(Conversation { id, document_id, title: title.to_string(), created_at: now, updated_at: now })
    }

    pub async fn get(&self, id: i64) -> Result<Conversation> {
        sqlx::query_as("SELECT id, document_id, title, created_at, updated_at FROM conversations WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "conversation", id: id.to_string() })
    }

    /// Conversations of one document (or all when `None`), most recent first.
    pub async fn list(&self, document_id: Option<i64>) -> Result<Vec<Conversation>> {
        Ok(sqlx::query_as(
            "SELECT id, document_id, title, created_at, updated_at FROM conversations \
             WHERE ?1 IS NULL OR document_id = ?1 ORDER BY updated_at DESC, id DESC",
        )
        .bind(document_id)
        .fetch_all(self.pool)
        .await?)
    }

    /// Appends a message; `role` is system, user or assistant.
    pub async fn add_message(&self, conversation_id: i64, role: &str, content: &str, run_id: Option<i64>) -> Result<Message> {
        if !matches!(role, "system" | "user" | "assistant") {
            return Err(StoreError::Invalid(format!("unknown role `{role}`")));
        }
        let now = now_ms();
        let mut tx = crate::write_tx(self.pool).await?;
        let id = sqlx::query("INSERT INTO messages (conversation_id, role, content, run_id, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(conversation_id)
            .bind(role)
            .bind(content)
            .bind(run_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    StoreError::NotFound { what: "conversation", id: conversation_id.to_string() }
                }
                _ => e.into(),
            })?
            .last_insert_rowid();
        sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ?").bind(now).bind(conversation_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Message { id, conversation_id, role: role.to_string(), content: content.to_string(), run_id, created_at: now })
    }

    pub async fn messages(&self, conversation_id: i64) -> Result<Vec<Message>> {
        Ok(sqlx::query_as(
            "SELECT id, conversation_id, role, content, run_id, created_at FROM messages WHERE conversation_id = ? ORDER BY id",
        )
        .bind(conversation_id)
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn delete(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM conversations WHERE id = ?").bind(id).execute(self.pool).await?;
        Ok(())
    }
}
