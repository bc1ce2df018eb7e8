//! Installed models, cloud providers (never their keys), settings, and the privacy ledger.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
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

/// One model a provider serves, with prices in USD per million tokens where known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProviderModel {
    pub id: String,
    #[serde(default)]
    pub input_per_mtok: Option<f64>,
    #[serde(default)]
    pub output_per_mtok: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct ProviderRecord {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    #[sqlx(json)]
    pub models: Vec<ProviderModel>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct Providers<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Providers<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    /// Creates or updates a provider; `id` is a short slug ("openrouter", "my-vllm").
    pub async fn save(&self, id: &str, name: &str, kind: &str, base_url: &str, models: &[ProviderModel], enabled: bool) -> Result<ProviderRecord> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(StoreError::Invalid(format!("provider id `{id}`: use letters, digits, '-', '_' or '.'")));
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO providers (id, name, kind, base_url, models, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind, base_url = excluded.base_url, \
             models = excluded.models, enabled = excluded.enabled, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(name)
        .bind(kind)
        .bind(base_url)
        .bind(Json(models))
        .bind(enabled)
        .bind(now)
        .bind(now)
        .execute(self.pool)
        .await?;
        self.get(id).await
    }

    pub async fn get(&self, id: &str) -> Result<ProviderRecord> {
        sqlx::query_as("SELECT * FROM providers WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "provider", id: id.to_string() })
    }

    pub async fn list(&self) -> Result<Vec<ProviderRecord>> {
        Ok(sqlx::query_as("SELECT * FROM providers ORDER BY name").fetch_all(self.pool).await?)
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM providers WHERE id = ?").bind(id).execute(self.pool).await?;
        Ok(())
    }
}

pub struct Settings<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Settings<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let raw: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(self.pool).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    pub async fn set<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(serde_json::to_string(value)?)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    pub async fn all(&self) -> Result<serde_json::Map<String, serde_json::Value>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings ORDER BY key").fetch_all(self.pool).await?;
        rows.into_iter().map(|(k, v)| Ok((k, serde_json::from_str(&v)?))).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct LedgerEntry {
    pub id: i64,
    pub at: i64,
    pub provider: String,
    pub model: String,
    pub endpoint: String,
    pub run_id: Option<i64>,
    pub bytes_sent: i64,
    pub bytes_received: i64,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NewLedgerEntry {
    pub at: i64,
    pub provider: String,
    pub model: String,
    pub endpoint: String,
    pub run_id: Option<i64>,
    pub bytes_sent: i64,
    pub bytes_received: i64,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, FromRow)]
pub struct LedgerTotals {
    pub requests: i64,
    pub bytes_sent: i64,
    pub bytes_received: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_usd: f64,
}

pub struct Ledger<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Ledger<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn record(&self, e: &NewLedgerEntry) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO ledger (at, provider, model, endpoint, run_id, bytes_sent, bytes_received, prompt_tokens, \
             completion_tokens, cost_usd, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(if e.at == 0 { now_ms() } else { e.at })
        .bind(&e.provider)
        .bind(&e.model)
        .bind(&e.endpoint)
        .bind(e.run_id)
        .bind(e.bytes_sent)
        .bind(e.bytes_received)
        .bind(e.prompt_tokens)
        .bind(e.completion_tokens)
        .bind(e.cost_usd)
        .bind(&e.status)
        .execute(self.pool)
        .await?
        .last_insert_rowid())
    }

    /// Completes an entry recorded when its request left: what came back, tokens, cost, final status.
    pub async fn complete(
        &self,
        id: i64,
        bytes_received: i64,
        prompt_tokens: Option<i64>,
        completion_tokens: Option<i64>,
        cost_usd: Option<f64>,
        status: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE ledger SET bytes_received = ?, prompt_tokens = ?, completion_tokens = ?, cost_usd = ?, status = ? WHERE id = ?",
        )
        .bind(bytes_received)
        .bind(prompt_tokens)
        .bind(completion_tokens)
        .bind(cost_usd)
        .bind(status)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Entries, newest first.
    pub async fn list(&self, limit: i64, offset: i64) -> Result<Vec<LedgerEntry>> {
        Ok(sqlx::query_as("SELECT * FROM ledger ORDER BY at DESC, id DESC LIMIT ? OFFSET ?")
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool)
            .await?)
    }

    pub async fn totals(&self, since: Option<i64>) -> Result<LedgerTotals> {
        Ok(sqlx::query_as(
            "SELECT count(*) AS requests, coalesce(sum(bytes_sent), 0) AS bytes_sent, coalesce(sum(bytes_received), 0) AS bytes_received, \
             coalesce(sum(prompt_tokens), 0) AS prompt_tokens, coalesce(sum(completion_tokens), 0) AS completion_tokens, \
             coalesce(sum(cost_usd), 0.0) AS cost_usd FROM ledger WHERE ?1 IS NULL OR at >= ?1",
        )
        .bind(since)
        .fetch_one(self.pool)
        .await?)
    }
}
