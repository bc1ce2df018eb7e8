//! The writer's blind picks between two answers to the same request, per project: what the leaderboard
//! ranks models and settings by, and what the judge's rubric is distilled from.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result, StoreError};

/// The longest answer kept with a pick (the rubric reads its style, not a whole chapter).
pub const MAX_PICK_TEXT: usize = 16 * 1024;
/// The most picks one project keeps; the oldest go first.
pub const MAX_PICKS: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PickOutcome {
    Left,
    Right,
    Tie,
}

impl PickOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Right => "right",
            Self::Tie => "tie",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "left" => Self::Left,
            "right" => Self::Right,
            _ => Self::Tie,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Pick {
    pub id: i64,
    pub project_id: Option<i64>,
    pub run_id: Option<i64>,
    /// The contestants: a model and its setting as one name.
    pub left_name: String,
    pub right_name: String,
    pub outcome: PickOutcome,
    pub left_text: String,
    pub right_text: String,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// A pick as it is made.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewPick {
    pub project_id: Option<i64>,
    pub run_id: Option<i64>,
    pub left_name: String,
    pub right_name: String,
    pub outcome: PickOutcome,
    pub left_text: String,
    pub right_text: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(FromRow)]
struct PickRow {
    id: i64,
    project_id: Option<i64>,
    run_id: Option<i64>,
    left_name: String,
    right_name: String,
    outcome: String,
    left_text: String,
    right_text: String,
    reason: Option<String>,
    created_at: i64,
}

impl From<PickRow> for Pick {
    fn from(r: PickRow) -> Self {
        Self {
            id: r.id,
            project_id: r.project_id,
            run_id: r.run_id,
            left_name: r.left_name,
            right_name: r.right_name,
            outcome: PickOutcome::parse(&r.outcome),
            left_text: r.left_text,
            right_text: r.right_text,
            reason: r.reason,
            created_at: r.created_at,
        }
    }
}

pub struct Picks<'a> {
    pool: &'a SqlitePool,
}

fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl<'a> Picks<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn add(&self, pick: &NewPick) -> Result<Pick> {
        let (left, right) = (pick.left_name.trim(), pick.right_name.trim());
        if left.is_empty() || right.is_empty() || left.len() > 200 || right.len() > 200 {
            return Err(StoreError::Invalid("a pick names both answers' models, in at most 200 characters each".into()));
        }
        if left == right {
            return Err(StoreError::Invalid("a pick compares two different models or settings".into()));
        }
        let reason = pick.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(|r| clip(r, 500));
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO picks (project_id, run_id, left_name, right_name, outcome, left_text, right_text, reason, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(pick.project_id)
        .bind(pick.run_id)
        .bind(left)
        .bind(right)
        .bind(pick.outcome.as_str())
        .bind(clip(&pick.left_text, MAX_PICK_TEXT))
        .bind(clip(&pick.right_text, MAX_PICK_TEXT))
        .bind(reason)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM picks WHERE project_id IS ? AND id NOT IN \
             (SELECT id FROM picks WHERE project_id IS ? ORDER BY id DESC LIMIT ?)",
        )
        .bind(pick.project_id)
        .bind(pick.project_id)
        .bind(MAX_PICKS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get(id).await
    }

    pub async fn get(&self, id: i64) -> Result<Pick> {
        let row: Option<PickRow> = sqlx::query_as("SELECT * FROM picks WHERE id = ?").bind(id).fetch_optional(self.pool).await?;
        row.map(Pick::from).ok_or_else(|| StoreError::NotFound { what: "pick", id: id.to_string() })
    }

    /// A project's picks (`None`: those made outside any project), oldest first.
    pub async fn list(&self, project_id: Option<i64>) -> Result<Vec<Pick>> {
        let rows: Vec<PickRow> =
            sqlx::query_as("SELECT * FROM picks WHERE project_id IS ? ORDER BY id").bind(project_id).fetch_all(self.pool).await?;
        Ok(rows.into_iter().map(Pick::from).collect())
    }

    pub async fn delete(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM picks WHERE id = ?").bind(id).execute(self.pool).await?;
        Ok(())
    }
}
