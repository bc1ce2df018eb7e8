//! Generation and fusion runs, persisted as they stream: every member's output, usage and error, the
//! judge's verdict and the final text.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Generate,
    Fusion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Completed,
    Failed,
    Cancelled,
    /// The app stopped (crash, kill, power cut) while the run streamed; what arrived is kept.
    Interrupted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Member,
    Judge,
}

impl RunKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Generate => "generate",
            Self::Fusion => "fusion",
        }
    }
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }
}

impl MemberRole {
    fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Judge => "judge",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Run {
    pub id: i64,
    #[cfg_attr(feature = "specta", specta(type = RunKind))]
    pub kind: String,
    pub document_id: Option<i64>,
    /// The project and binder scene the run was made in, when its document is a scene.
    pub project_id: Option<i64>,
    pub scene_id: Option<i64>,
    pub action: Option<String>,
    pub prompt: String,
    pub mode: Option<String>,
    pub judge: Option<String>,
    pub seed: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = RunStatus))]
    pub status: String,
    pub final_text: Option<String>,
    /// The judge's analysis as JSON text.
    pub analysis: Option<String>,
    pub error: Option<String>,
    pub settings: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_usd: f64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunMember {
    pub id: i64,
    pub run_id: i64,
    pub position: i64,
    pub label: String,
    #[cfg_attr(feature = "specta", specta(type = MemberRole))]
    pub role: String,
    pub round: i64,
    pub provider: String,
    pub model: String,
    pub output: String,
    #[cfg_attr(feature = "specta", specta(type = RunStatus))]
    pub status: String,
    pub error: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub latency_ms: Option<i64>,
    pub first_token_ms: Option<i64>,
    /// Prompt tokens the on-device model reused from its cache rather than computed.
    pub cached_tokens: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunWithMembers {
    #[serde(flatten)]
    pub run: Run,
    pub members: Vec<RunMember>,
}

#[derive(Debug, Clone, Default)]
pub struct NewRun {
    pub document_id: Option<i64>,
    pub action: Option<String>,
    pub prompt: String,
    pub mode: Option<String>,
    pub judge: Option<String>,
    pub seed: Option<i64>,
    pub settings: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub position: i64,
    pub label: String,
    pub role: MemberRole,
    pub round: i64,
    pub provider: String,
    pub model: String,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFinish {
    pub status: RunStatus,
    pub final_text: Option<String>,
    pub analysis: Option<serde_json::Value>,
    pub error: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_usd: f64,
}

impl RunFinish {
    /// A run that ended with `status` and nothing else to record yet.
    pub fn new(status: RunStatus) -> Self {
        Self { status, final_text: None, analysis: None, error: None, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0.0 }
    }

    /// A run that failed with this message.
    pub fn failed(error: impl Into<String>) -> Self {
        Self { error: Some(error.into()), ..Self::new(RunStatus::Failed) }
    }
}

/// How one member (or the judge) of a run ended; `None` is "not known", kept as NULL.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberFinish {
    pub status: RunStatus,
    pub error: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub latency_ms: Option<i64>,
    pub first_token_ms: Option<i64>,
    pub cached_tokens: Option<i64>,
}

impl MemberFinish {
    /// A member that ended with `status` and nothing else to record yet.
    pub fn new(status: RunStatus) -> Self {
        Self { status, error: None, prompt_tokens: None, completion_tokens: None, cost_usd: None, latency_ms: None, first_token_ms: None, cached_tokens: None }
    }

    /// A member that failed with this message.
    pub fn failed(error: impl Into<String>) -> Self {
        Self { error: Some(error.into()), ..Self::new(RunStatus::Failed) }
    }
}

/// Filters for listing runs; `None` fields do not filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct RunFilter {
    pub document_id: Option<i64>,
    pub kind: Option<String>,
    pub mode: Option<String>,
    /// A provider or model name any member used.
    pub model: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

const RUN_COLUMNS: &str = "id, kind, document_id, project_id, scene_id, action, prompt, mode, judge, seed, status, final_text, analysis, error, \
    settings, prompt_tokens, completion_tokens, cost_usd, started_at, finished_at";
const MEMBER_COLUMNS: &str = "id, run_id, position, label, role, round, provider, model, output, status, error, \
    prompt_tokens, completion_tokens, cost_usd, latency_ms, first_token_ms, cached_tokens";

pub struct Runs<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Runs<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    /// Records a run before any model is called, so the prompt is never lost.
    #[tracing::instrument(level = "debug", skip_all, fields(kind = kind.as_str(), run_id = tracing::field::Empty))]
    pub async fn start(&self, kind: RunKind, new: &NewRun) -> Result<i64> {
        let settings = new.settings.as_ref().map(serde_json::to_string).transpose()?;
        let run_id = sqlx::query(
            // A run on a scene names its project and scene, whichever front end started it.
            "INSERT INTO runs (kind, document_id, project_id, scene_id, action, prompt, mode, judge, seed, status, settings, started_at) \
             VALUES (?1, ?2, (SELECT project_id FROM binder WHERE document_id = ?2), (SELECT id FROM binder WHERE document_id = ?2), \
                     ?3, ?4, ?5, ?6, ?7, 'running', ?8, ?9)",
        )
        .bind(kind.as_str())
        .bind(new.document_id)
        .bind(&new.action)
        .bind(&new.prompt)
        .bind(&new.mode)
        .bind(&new.judge)
        .bind(new.seed)
        .bind(settings)
        .bind(now_ms())
        .execute(self.pool)
        .await?
        .last_insert_rowid();
        tracing::Span::current().record("run_id", run_id);
        Ok(run_id)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(run_id = run_id, position = member.position, round = member.round, member_id = tracing::field::Empty))]
    pub async fn add_member(&self, run_id: i64, member: &NewMember) -> Result<i64> {
        let member_id = sqlx::query(
            "INSERT INTO run_members (run_id, position, label, role, round, provider, model, status) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'running')",
        )
        .bind(run_id)
        .bind(member.position)
        .bind(&member.label)
        .bind(member.role.as_str())
        .bind(member.round)
        .bind(&member.provider)
        .bind(&member.model)
        .execute(self.pool)
        .await?
        .last_insert_rowid();
        tracing::Span::current().record("member_id", member_id);
        Ok(member_id)
    }

    /// Appends streamed text to a member's output (callers batch deltas, e.g. every few hundred ms).
    pub async fn append_output(&self, member_id: i64, text: &str) -> Result<()> {
        sqlx::query("UPDATE run_members SET output = output || ? WHERE id = ?").bind(text).bind(member_id).execute(self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(member_id = member_id, status = finish.status.as_str()))]
    pub async fn finish_member(&self, member_id: i64, finish: &MemberFinish) -> Result<()> {
        sqlx::query(
            "UPDATE run_members SET status = ?, error = ?, prompt_tokens = ?, completion_tokens = ?, cost_usd = ?, \
             latency_ms = ?, first_token_ms = ?, cached_tokens = ? WHERE id = ?",
        )
        .bind(finish.status.as_str())
        .bind(&finish.error)
        .bind(finish.prompt_tokens)
        .bind(finish.completion_tokens)
        .bind(finish.cost_usd)
        .bind(finish.latency_ms)
        .bind(finish.first_token_ms)
        .bind(finish.cached_tokens)
        .bind(member_id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(run_id = run_id, status = finish.status.as_str()))]
    pub async fn finish(&self, run_id: i64, finish: &RunFinish) -> Result<()> {
        let analysis = finish.analysis.as_ref().map(serde_json::to_string).transpose()?;
        sqlx::query(
            "UPDATE runs SET status = ?, final_text = ?, analysis = ?, error = ?, prompt_tokens = ?, completion_tokens = ?, \
             cost_usd = ?, finished_at = ? WHERE id = ?",
        )
        .bind(finish.status.as_str())
        .bind(&finish.final_text)
        .bind(analysis)
        .bind(&finish.error)
        .bind(finish.prompt_tokens)
        .bind(finish.completion_tokens)
        .bind(finish.cost_usd)
        .bind(now_ms())
        .bind(run_id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn get(&self, run_id: i64) -> Result<RunWithMembers> {
        let run: Run = sqlx::query_as(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?"))
            .bind(run_id)
            .fetch_optional(self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "run", id: run_id.to_string() })?;
        let members = sqlx::query_as(&format!(
            "SELECT {MEMBER_COLUMNS} FROM run_members WHERE run_id = ? ORDER BY role = 'judge', round, position, id"
        ))
        .bind(run_id)
        .fetch_all(self.pool)
        .await?;
        Ok(RunWithMembers { run, members })
    }

    /// Runs, newest first.
    pub async fn list(&self, filter: &RunFilter, limit: i64, offset: i64) -> Result<Vec<Run>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE (?1 IS NULL OR document_id = ?1) AND (?2 IS NULL OR kind = ?2) \
             AND (?3 IS NULL OR mode = ?3) AND (?4 IS NULL OR started_at >= ?4) AND (?5 IS NULL OR started_at <= ?5) \
             AND (?6 IS NULL OR judge = ?6 OR EXISTS (SELECT 1 FROM run_members m WHERE m.run_id = runs.id \
                  AND (m.model = ?6 OR m.provider = ?6))) \
             ORDER BY started_at DESC, id DESC LIMIT ?7 OFFSET ?8"
        ))
        .bind(filter.document_id)
        .bind(&filter.kind)
        .bind(&filter.mode)
        .bind(filter.since)
        .bind(filter.until)
        .bind(&filter.model)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn delete(&self, run_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM runs WHERE id = ?").bind(run_id).execute(self.pool).await?;
        Ok(())
    }

    /// Marks runs (and members) left `running` by a previous process as interrupted.
    pub async fn mark_interrupted(&self) -> Result<u64> {
        let now = now_ms();
        sqlx::query("UPDATE run_members SET status = 'interrupted' WHERE status = 'running'").execute(self.pool).await?;
        Ok(sqlx::query("UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'")
            .bind(now)
            .execute(self.pool)
            .await?
            .rows_affected())
    }
}

