//! Projects: what a writer works on (a novel, a screenplay…), its word goal and its per-day progress.
//! The binder (parts, chapters, scenes) is in `binder.rs`.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqliteConnection, SqlitePool};

use crate::binder::{self, BinderNode};
use crate::{now_ms, Result, StoreError};

/// The project a library's loose documents go to when no project exists yet.
pub const DEFAULT_PROJECT_TITLE: &str = "My writing";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[sqlx(rename_all = "snake_case")]
pub enum ProjectKind {
    Novel,
    Screenplay,
    ShortFiction,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Project {
    pub id: i64,
    pub title: String,
    pub kind: ProjectKind,
    pub author: String,
    pub word_goal: Option<i64>,
    /// Bible entries and manuscript text beyond the selection may go to cloud models (off by default:
    /// they get only the selection and the instruction).
    pub cloud_context: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A project in the project list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProjectSummary {
    pub id: i64,
    pub title: String,
    pub kind: ProjectKind,
    pub words: i64,
    pub scenes: i64,
    pub word_goal: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewProject {
    pub title: String,
    pub kind: ProjectKind,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub word_goal: Option<i64>,
}

/// Changes to a project; `None` leaves a field as it is (`word_goal: Some(None)` clears the goal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ProjectPatch {
    pub title: Option<String>,
    pub kind: Option<ProjectKind>,
    pub author: Option<String>,
    #[serde(with = "binder::double_option")]
    #[cfg_attr(feature = "specta", specta(type = Option<Option<i64>>))]
    pub word_goal: Option<Option<i64>>,
    pub cloud_context: Option<bool>,
}

/// A project and its whole binder, parents before children, siblings in order: what opening a project
/// reads. No scene text: that is read when a scene is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProjectTree {
    pub project: Project,
    pub nodes: Vec<BinderNode>,
    pub words: i64,
}

/// One day of a project's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayProgress {
    /// Local date, `YYYY-MM-DD`.
    pub day: String,
    /// The project's words after the day's last change.
    pub words: i64,
    /// Words added that day (negative when more was cut than written).
    pub written: i64,
}

pub struct Projects<'a> {
    pool: &'a SqlitePool,
}

pub(crate) fn not_found(id: i64) -> StoreError {
    StoreError::NotFound { what: "project", id: id.to_string() }
}

fn check_title(title: &str) -> Result<&str> {
    let title = title.trim();
    if title.is_empty() {
        return Err(StoreError::Invalid("a project needs a title".into()));
    }
    Ok(title)
}

fn check_goal(goal: Option<i64>) -> Result<Option<i64>> {
    match goal {
        Some(words) if !(1..=100_000_000).contains(&words) => Err(StoreError::Invalid(format!("a word goal of {words} is out of range"))),
        other => Ok(other),
    }
}

const PROJECT_COLUMNS: &str = "id, title, kind, author, word_goal, cloud_context, created_at, updated_at";

impl<'a> Projects<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = tracing::field::Empty))]
    pub async fn create(&self, new: &NewProject) -> Result<Project> {
        let title = check_title(&new.title)?;
        let goal = check_goal(new.word_goal)?;
        let now = now_ms();
        let id = sqlx::query("INSERT INTO projects (title, kind, author, word_goal, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(title)
            .bind(new.kind)
            .bind(new.author.trim())
            .bind(goal)
            .bind(now)
            .bind(now)
            .execute(self.pool)
            .await?
            .last_insert_rowid();
        tracing::Span::current().record("id", id);
        self.get(id).await
    }

    pub async fn get(&self, id: i64) -> Result<Project> {
        sqlx::query_as(&format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ? AND deleted_at IS NULL"))
            .bind(id)
            .fetch_optional(self.pool)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Every live project, most recently changed first.
    pub async fn list(&self) -> Result<Vec<ProjectSummary>> {
        Ok(sqlx::query_as(
            "SELECT p.id, p.title, p.kind, p.word_goal, \
                    max(p.updated_at, coalesce(max(d.updated_at), 0)) AS updated_at, \
                    coalesce(sum(d.word_count), 0) AS words, count(d.id) AS scenes \
             FROM projects p \
             LEFT JOIN binder b ON b.project_id = p.id AND b.kind = 'scene' AND b.deleted_at IS NULL \
             LEFT JOIN documents d ON d.id = b.document_id AND d.deleted_at IS NULL \
             WHERE p.deleted_at IS NULL GROUP BY p.id ORDER BY updated_at DESC, p.id DESC",
        )
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn update(&self, id: i64, patch: &ProjectPatch) -> Result<Project> {
        let current = self.get(id).await?;
        let title = match &patch.title {
            Some(title) => check_title(title)?.to_string(),
            None => current.title,
        };
        let goal = check_goal(patch.word_goal.unwrap_or(current.word_goal))?;
        sqlx::query("UPDATE projects SET title = ?, kind = ?, author = ?, word_goal = ?, cloud_context = ?, updated_at = ? WHERE id = ?")
            .bind(title)
            .bind(patch.kind.unwrap_or(current.kind))
            .bind(patch.author.as_deref().map(str::trim).unwrap_or(&current.author))
            .bind(goal)
            .bind(patch.cloud_context.unwrap_or(current.cloud_context))
            .bind(now_ms())
            .bind(id)
            .execute(self.pool)
            .await?;
        self.get(id).await
    }

    /// Moves a project (and every scene in it) to the trash; [`Projects::restore`] brings it back.
    pub async fn delete(&self, id: i64) -> Result<()> {
        let mut tx = crate::write_tx(self.pool).await?;
        let stamp = crate::trash_stamp(&mut tx).await?;
        let changed = sqlx::query("UPDATE projects SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL")
            .bind(stamp)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(not_found(id));
        }
        // The scenes leave search with it; binder rows stay as they are, so a restore is exact.
        sqlx::query(
            "UPDATE documents SET deleted_at = ? WHERE deleted_at IS NULL AND id IN \
             (SELECT document_id FROM binder WHERE project_id = ? AND deleted_at IS NULL AND document_id IS NOT NULL)",
        )
        .bind(stamp)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn restore(&self, id: i64) -> Result<Project> {
        let mut tx = crate::write_tx(self.pool).await?;
        let stamp: Option<i64> = sqlx::query_scalar("SELECT deleted_at FROM projects WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?.flatten();
        if let Some(stamp) = stamp {
            sqlx::query(
                "UPDATE documents SET deleted_at = NULL WHERE deleted_at = ? AND id IN \
                 (SELECT document_id FROM binder WHERE project_id = ? AND deleted_at IS NULL AND document_id IS NOT NULL)",
            )
            .bind(stamp)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE projects SET deleted_at = NULL WHERE id = ?").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.get(id).await
    }

    /// The project with its binder (no scene text). Scenes saved before word counts were stored get
    /// theirs now.
    #[tracing::instrument(level = "debug", skip_all, fields(id = id))]
    pub async fn tree(&self, id: i64) -> Result<ProjectTree> {
        let project = self.get(id).await?;
        let nodes = binder::nodes(self.pool, id).await?;
        let words = nodes.iter().filter(|n| n.document_id.is_some()).map(|n| n.words).sum();
        Ok(ProjectTree { project, nodes, words })
    }

    /// The last `days` days that saw writing, oldest first.
    pub async fn progress(&self, id: i64, days: i64) -> Result<Vec<DayProgress>> {
        self.get(id).await?;
        let mut rows: Vec<DayProgress> = sqlx::query_as(
            "SELECT day, words, words - start_words AS written FROM word_progress WHERE project_id = ? \
             ORDER BY day DESC LIMIT ?",
        )
        .bind(id)
        .bind(days.clamp(1, 3660))
        .fetch_all(self.pool)
        .await?;
        rows.reverse();
        Ok(rows)
    }

    /// Puts every live document that is in no project into the first project (creating the default one
    /// if there is none): documents written by an older version, or imported from a library bundle.
    pub async fn adopt_loose_documents(&self) -> Result<u64> {
        let mut tx = crate::write_tx(self.pool).await?;
        let loose: Vec<i64> = sqlx::query_scalar(
            "SELECT d.id FROM documents d WHERE d.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM binder b WHERE b.document_id = d.id) \
             ORDER BY d.created_at, d.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        if loose.is_empty() {
            return Ok(0);
        }
        let project = match sqlx::query_scalar::<_, i64>("SELECT id FROM projects WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?
        {
            Some(id) => id,
            None => {
                let now = now_ms();
                sqlx::query("INSERT INTO projects (title, kind, created_at, updated_at) VALUES (?, 'other', ?, ?)")
                    .bind(DEFAULT_PROJECT_TITLE)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .last_insert_rowid()
            }
        };
        for document in &loose {
            let position = binder::next_position(&mut tx, project, None).await?;
            sqlx::query("INSERT INTO binder (project_id, parent_id, kind, position, document_id) VALUES (?, NULL, 'scene', ?, ?)")
                .bind(project)
                .bind(position)
                .bind(document)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(loose.len() as u64)
    }
}

/// After a scene's text changed from `old_words` to `new_words`: today's row of its project's progress.
pub(crate) async fn record_progress(conn: &mut SqliteConnection, document_id: i64, old_words: i64, new_words: i64) -> Result<()> {
    let Some(project): Option<i64> =
        sqlx::query_scalar("SELECT project_id FROM binder WHERE document_id = ? AND deleted_at IS NULL").bind(document_id).fetch_optional(&mut *conn).await?
    else {
        return Ok(());
    };
    let total: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(d.word_count), 0) FROM binder b JOIN documents d ON d.id = b.document_id \
         WHERE b.project_id = ? AND b.deleted_at IS NULL AND d.deleted_at IS NULL",
    )
    .bind(project)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO word_progress (project_id, day, start_words, words) VALUES (?, date('now', 'localtime'), ?, ?) \
         ON CONFLICT (project_id, day) DO UPDATE SET words = excluded.words",
    )
    .bind(project)
    .bind(total - new_words + old_words)
    .bind(total)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE projects SET updated_at = ? WHERE id = ?").bind(now_ms()).bind(project).execute(&mut *conn).await?;
    Ok(())
}
