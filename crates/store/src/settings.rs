//! Settings: one JSON value per key.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::Result;

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
