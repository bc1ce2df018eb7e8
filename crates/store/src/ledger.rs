//! The privacy ledger: every request that left the device, to whom, how many bytes and tokens, at what cost.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
    /// The context items the request carried ("Selection", "Instruction", "Mara Vell (character)");
    /// bundles from before the story bible have none.
    #[sqlx(json)]
    #[serde(default)]
    pub items: Vec<String>,
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
    #[serde(default)]
    pub items: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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

    #[tracing::instrument(level = "debug", skip_all, fields(run_id = e.run_id, bytes_sent = e.bytes_sent, id = tracing::field::Empty))]
    pub async fn record(&self, e: &NewLedgerEntry) -> Result<i64> {
        let id = sqlx::query(
            "INSERT INTO ledger (at, provider, model, endpoint, run_id, bytes_sent, bytes_received, prompt_tokens, \
             completion_tokens, cost_usd, status, items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        .bind(sqlx::types::Json(&e.items))
        .execute(self.pool)
        .await?
        .last_insert_rowid();
        tracing::Span::current().record("id", id);
        Ok(id)
    }

    /// Completes an entry recorded when its request left: what came back, tokens, cost, final status.
    #[tracing::instrument(level = "debug", skip_all, fields(id = id, bytes_received = bytes_received))]
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
