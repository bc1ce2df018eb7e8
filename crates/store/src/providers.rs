//! Cloud providers: base URL, kind and model list with prices. Never their keys (those live in the OS keychain).

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result, StoreError};

/// One model a provider serves, with prices in USD per million tokens where known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderModel {
    pub id: String,
    #[serde(default)]
    pub input_per_mtok: Option<f64>,
    #[serde(default)]
    pub output_per_mtok: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderRecord {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    #[sqlx(json)]
    pub models: Vec<ProviderModel>,
    pub enabled: bool,
    /// Requests the endpoint serves at once; `None`: one on this computer, no limit elsewhere.
    #[serde(default)]
    pub max_concurrent: Option<i64>,
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

    /// Sets how many requests the provider's endpoint serves at once (1–64, or `None` for the default).
    pub async fn set_max_concurrent(&self, id: &str, limit: Option<i64>) -> Result<ProviderRecord> {
        if let Some(n) = limit {
            if !(1..=64).contains(&n) {
                return Err(StoreError::Invalid(format!("{n} requests at once: choose 1 to 64")));
            }
        }
        let done = sqlx::query("UPDATE providers SET max_concurrent = ?, updated_at = ? WHERE id = ?")
            .bind(limit)
            .bind(now_ms())
            .bind(id)
            .execute(self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "provider", id: id.to_string() });
        }
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
