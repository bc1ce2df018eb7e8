//! Installed models: the GGUF files the user imported or downloaded, and which one is the default.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelRecord {
    pub id: i64,
    pub path: String,
    pub name: String,
    pub architecture: String,
    pub quantization: String,
    pub size_bytes: i64,
    pub parameters: i64,
    pub sha256: Option<String>,
    pub source_url: Option<String>,
    pub is_default: bool,
    pub added_at: i64,
}

pub struct Models<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Models<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    /// Adds (or refreshes, by path) a model the user imported or downloaded.
    #[allow(clippy::too_many_arguments)]
    pub async fn upsert(
        &self,
        path: &str,
        name: &str,
        architecture: &str,
        quantization: &str,
        size_bytes: i64,
        parameters: i64,
        sha256: Option<&str>,
        source_url: Option<&str>,
    ) -> Result<ModelRecord> {
        sqlx::query(
            "INSERT INTO models (path, name, architecture, quantization, size_bytes, parameters, sha256, source_url, added_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET name = excluded.name, \
             architecture = excluded.architecture, quantization = excluded.quantization, size_bytes = excluded.size_bytes, \
             parameters = excluded.parameters, sha256 = coalesce(excluded.sha256, sha256), \
             source_url = coalesce(excluded.source_url, source_url)",
        )
        .bind(path)
        .bind(name)
        .bind(architecture)
        .bind(quantization)
        .bind(size_bytes)
        .bind(parameters)
        .bind(sha256)
        .bind(source_url)
        .bind(now_ms())
        .execute(self.pool)
        .await?;
        self.by_path(path).await?.ok_or_else(|| StoreError::NotFound { what: "model", id: path.to_string() })
    }

    pub async fn by_path(&self, path: &str) -> Result<Option<ModelRecord>> {
        Ok(sqlx::query_as("SELECT * FROM models WHERE path = ?").bind(path).fetch_optional(self.pool).await?)
    }

    pub async fn list(&self) -> Result<Vec<ModelRecord>> {
        Ok(sqlx::query_as("SELECT * FROM models ORDER BY is_default DESC, name").fetch_all(self.pool).await?)
    }

    pub async fn default_model(&self) -> Result<Option<ModelRecord>> {
        Ok(sqlx::query_as("SELECT * FROM models WHERE is_default = 1").fetch_optional(self.pool).await?)
    }

    pub async fn set_default(&self, id: i64) -> Result<()> {
        let mut tx = crate::write_tx(self.pool).await?;
        sqlx::query("UPDATE models SET is_default = 0 WHERE is_default = 1").execute(&mut *tx).await?;
        let changed = sqlx::query("UPDATE models SET is_default = 1 WHERE id = ?").bind(id).execute(&mut *tx).await?.rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound { what: "model", id: id.to_string() });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets a model (the caller deletes the file if the user asked to).
    pub async fn remove(&self, id: i64) -> Result<Option<ModelRecord>> {
        let record: Option<ModelRecord> = sqlx::query_as("SELECT * FROM models WHERE id = ?").bind(id).fetch_optional(self.pool).await?;
        sqlx::query("DELETE FROM models WHERE id = ?").bind(id).execute(self.pool).await?;
        Ok(record)
    }
}
