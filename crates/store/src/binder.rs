//! The binder: a project's tree of parts → chapters → scenes, with moves, reorders and deletes that
//! can be undone. A scene's text is a document (`documents.rs`), saved on its own.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, Sqlite, SqlitePool, Transaction};

use crate::documents::{preview, word_count, Document};
use crate::{now_ms, projects, Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[sqlx(rename_all = "snake_case")]
pub enum NodeKind {
    Part,
    Chapter,
    Scene,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[sqlx(rename_all = "snake_case")]
pub enum SceneStatus {
    Idea,
    Draft,
    Revised,
    Final,
}

impl NodeKind {
    /// Parts hold chapters and scenes, chapters hold scenes; a scene holds nothing. Kinds only nest
    /// downwards, which also makes a cycle impossible.
    pub fn may_hold(self, child: NodeKind) -> bool {
        self < child
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BinderNode {
    pub id: i64,
    pub project_id: i64,
    pub parent_id: Option<i64>,
    pub kind: NodeKind,
    pub position: i64,
    pub title: String,
    pub synopsis: String,
    pub pov: String,
    pub status: SceneStatus,
    pub target_words: Option<i64>,
    /// The scene's text; `None` for parts and chapters.
    pub document_id: Option<i64>,
    /// A scene's words; a part's or chapter's is the sum of the scenes under it.
    pub words: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewNode {
    pub project_id: i64,
    pub parent_id: Option<i64>,
    pub kind: NodeKind,
    pub title: String,
    /// Where among its siblings; `None` puts it last.
    #[serde(default)]
    pub index: Option<i64>,
    /// A scene's opening text (imports).
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub synopsis: Option<String>,
}

/// Changes to a node; `None` leaves a field as it is (`target_words: Some(None)` clears the target).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct NodePatch {
    pub title: Option<String>,
    pub synopsis: Option<String>,
    pub pov: Option<String>,
    pub status: Option<SceneStatus>,
    #[serde(with = "double_option")]
    #[cfg_attr(feature = "specta", specta(type = Option<Option<i64>>))]
    pub target_words: Option<Option<i64>>,
}

/// A scene of a chapter shown as one scrolling text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SceneText {
    pub node: BinderNode,
    pub document: Document,
}

/// Serde for `Option<Option<T>>`: a missing field is `None`, `null` is `Some(None)`.
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &Option<Option<T>>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            None => serializer.serialize_none(),
            Some(inner) => inner.serialize(serializer),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// The most rows a project's binder may hold: far past any book, short of a library that cannot open.
pub const MAX_NODES: i64 = 20_000;
const MAX_TITLE_CHARS: usize = 500;
const MAX_FIELD_CHARS: usize = 20_000;

pub struct Binder<'a> {
    pool: &'a SqlitePool,
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound { what: "binder item", id: id.to_string() }
}

fn bounded(what: &str, text: &str, max: usize) -> Result<String> {
    if text.chars().count() > max {
        return Err(StoreError::Invalid(format!("the {what} is longer than {max} characters")));
    }
    Ok(text.to_string())
}

const NODE_COLUMNS: &str = "b.id, b.project_id, b.parent_id, b.kind, b.position, coalesce(d.title, b.title) AS title, b.synopsis, b.pov, \
    b.status, b.target_words, b.document_id, coalesce(d.word_count, 0) AS words";

/// Every live node of a project, parents before children and siblings in order, with each part's and
/// chapter's words summed from its scenes.
pub(crate) async fn nodes(pool: &SqlitePool, project_id: i64) -> Result<Vec<BinderNode>> {
    backfill_word_counts(pool, project_id).await?;
    let rows: Vec<BinderNode> = sqlx::query_as(&format!(
        "SELECT {NODE_COLUMNS} FROM binder b LEFT JOIN documents d ON d.id = b.document_id \
         WHERE b.project_id = ? AND b.deleted_at IS NULL AND d.deleted_at IS NULL ORDER BY b.parent_id, b.position"
    ))
    .bind(project_id)
    .fetch_all(pool)
    .await?;
    Ok(depth_first(rows))
}

/// Orders nodes parents first, each parent's children after it in position order, and fills in the
/// words of parts and chapters. Nodes whose parent is gone (never in a sound library) are dropped.
fn depth_first(rows: Vec<BinderNode>) -> Vec<BinderNode> {
    use std::collections::HashMap;
    let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
    for (index, node) in rows.iter().enumerate() {
        children.entry(node.parent_id).or_default().push(index);
    }
    for list in children.values_mut() {
        list.sort_by_key(|&i| (rows[i].position, rows[i].id));
    }
    fn words_under(index: usize, rows: &[BinderNode], children: &HashMap<Option<i64>, Vec<usize>>, totals: &mut [i64]) -> i64 {
        let own = if rows[index].kind == NodeKind::Scene { rows[index].words } else { 0 };
        let below: i64 = children.get(&Some(rows[index].id)).map(|c| c.iter().map(|&i| words_under(i, rows, children, totals)).sum()).unwrap_or(0);
        totals[index] = own + below;
        totals[index]
    }
    let mut totals = vec![0; rows.len()];
    let roots = children.get(&None).cloned().unwrap_or_default();
    for &root in &roots {
        words_under(root, &rows, &children, &mut totals);
    }
    let mut order = Vec::with_capacity(rows.len());
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(index) = stack.pop() {
        order.push(index);
        if let Some(kids) = children.get(&Some(rows[index].id)) {
            stack.extend(kids.iter().rev());
        }
    }
    let mut slots: Vec<Option<BinderNode>> = rows.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| {
            let mut node = slots[i].take()?;
            node.words = totals[i];
            Some(node)
        })
        .collect()
}

/// Scenes whose documents predate stored word counts (schema v1) get them, once.
async fn backfill_word_counts(pool: &SqlitePool, project_id: i64) -> Result<()> {
    let missing: Vec<(i64, String)> = sqlx::query_as(
        "SELECT d.id, d.body FROM binder b JOIN documents d ON d.id = b.document_id WHERE b.project_id = ? AND d.word_count IS NULL",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await?;
    for (id, body) in missing {
        sqlx::query("UPDATE documents SET word_count = ?, preview = ? WHERE id = ?").bind(word_count(&body)).bind(preview(&body)).bind(id).execute(pool).await?;
    }
    Ok(())
}

/// The next free position among a parent's children.
pub(crate) async fn next_position(tx: &mut Transaction<'static, Sqlite>, project_id: i64, parent_id: Option<i64>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT coalesce(max(position) + 1, 0) FROM binder WHERE project_id = ? AND parent_id IS ? AND deleted_at IS NULL")
        .bind(project_id)
        .bind(parent_id)
        .fetch_one(&mut **tx)
        .await?)
}

/// The live siblings under `parent_id`, in order.
async fn siblings(tx: &mut Transaction<'static, Sqlite>, project_id: i64, parent_id: Option<i64>) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM binder WHERE project_id = ? AND parent_id IS ? AND deleted_at IS NULL ORDER BY position, id")
        .bind(project_id)
        .bind(parent_id)
        .fetch_all(&mut **tx)
        .await?)
}

async fn renumber(tx: &mut Transaction<'static, Sqlite>, ids: &[i64]) -> Result<()> {
    for (position, id) in ids.iter().enumerate() {
        sqlx::query("UPDATE binder SET position = ? WHERE id = ? AND position IS NOT ?").bind(position as i64).bind(id).bind(position as i64).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Checks that `parent_id` (in `project_id`, live) may hold a `kind`.
async fn check_parent(tx: &mut Transaction<'static, Sqlite>, project_id: i64, parent_id: Option<i64>, kind: NodeKind) -> Result<()> {
    let Some(parent) = parent_id else { return Ok(()) };
    let row: Option<(i64, NodeKind)> = sqlx::query_as("SELECT project_id, kind FROM binder WHERE id = ? AND deleted_at IS NULL").bind(parent).fetch_optional(&mut **tx).await?;
    let (parent_project, parent_kind) = row.ok_or_else(|| not_found(parent))?;
    if parent_project != project_id {
        return Err(StoreError::Invalid("an item can only move within its own project".into()));
    }
    if !parent_kind.may_hold(kind) {
        return Err(StoreError::Invalid(format!("a {} cannot hold a {}", label(parent_kind), label(kind))));
    }
    Ok(())
}

fn label(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Part => "part",
        NodeKind::Chapter => "chapter",
        NodeKind::Scene => "scene",
    }
}

impl<'a> Binder<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn get(&self, id: i64) -> Result<BinderNode> {
        let mut node: BinderNode = sqlx::query_as(&format!(
            "SELECT {NODE_COLUMNS} FROM binder b LEFT JOIN documents d ON d.id = b.document_id WHERE b.id = ? AND b.deleted_at IS NULL AND d.deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?
        .ok_or_else(|| not_found(id))?;
        if node.kind != NodeKind::Scene {
            node.words = sqlx::query_scalar(
                "WITH RECURSIVE under(id) AS (SELECT ? UNION ALL SELECT b.id FROM binder b JOIN under u ON b.parent_id = u.id WHERE b.deleted_at IS NULL) \
                 SELECT coalesce(sum(d.word_count), 0) FROM under u JOIN binder b ON b.id = u.id JOIN documents d ON d.id = b.document_id",
            )
            .bind(id)
            .fetch_one(self.pool)
            .await?;
        }
        Ok(node)
    }

    /// The scene whose text is this document, if it is one.
    pub async fn scene_of_document(&self, document_id: i64) -> Result<Option<BinderNode>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM binder WHERE document_id = ? AND deleted_at IS NULL").bind(document_id).fetch_optional(self.pool).await?;
        match id {
            Some(id) => Ok(Some(self.get(id).await?)),
            None => Ok(None),
        }
    }

    /// Adds a part, chapter or scene (a scene gets a document of its own).
    #[tracing::instrument(level = "debug", skip_all, fields(project = new.project_id, id = tracing::field::Empty))]
    pub async fn add(&self, new: &NewNode) -> Result<BinderNode> {
        let title = bounded("title", new.title.trim(), MAX_TITLE_CHARS)?;
        let synopsis = bounded("synopsis", new.synopsis.as_deref().unwrap_or(""), MAX_FIELD_CHARS)?;
        let mut tx = crate::write_tx(self.pool).await?;
        let live: Option<i64> = sqlx::query_scalar("SELECT id FROM projects WHERE id = ? AND deleted_at IS NULL").bind(new.project_id).fetch_optional(&mut *tx).await?;
        live.ok_or_else(|| projects::not_found(new.project_id))?;
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM binder WHERE project_id = ?").bind(new.project_id).fetch_one(&mut *tx).await?;
        if count >= MAX_NODES {
            return Err(StoreError::Invalid(format!("a project holds at most {MAX_NODES} parts, chapters and scenes")));
        }
        check_parent(&mut tx, new.project_id, new.parent_id, new.kind).await?;
        let document_id = if new.kind == NodeKind::Scene {
            let now = now_ms();
            let body = new.text.as_deref().unwrap_or("");
            let title = if title.is_empty() { "Untitled scene" } else { title.as_str() };
            Some(crate::documents::insert(&mut tx, title, body, now, now).await?)
        } else {
            None
        };
        let end = next_position(&mut tx, new.project_id, new.parent_id).await?;
        let id = sqlx::query("INSERT INTO binder (project_id, parent_id, kind, position, title, synopsis, document_id) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(new.project_id)
            .bind(new.parent_id)
            .bind(new.kind)
            .bind(end)
            .bind(if document_id.is_some() { "" } else { title.as_str() })
            .bind(&synopsis)
            .bind(document_id)
            .execute(&mut *tx)
            .await?
            .last_insert_rowid();
        if let Some(index) = new.index.filter(|&i| i < end) {
            let mut order = siblings(&mut tx, new.project_id, new.parent_id).await?;
            order.retain(|&n| n != id);
            order.insert(index.max(0) as usize, id);
            renumber(&mut tx, &order).await?;
        }
        touch(&mut tx, new.project_id).await?;
        tx.commit().await?;
        tracing::Span::current().record("id", id);
        self.get(id).await
    }

    /// Renames a node or changes a scene's synopsis, point of view, status or target.
    pub async fn update(&self, id: i64, patch: &NodePatch) -> Result<BinderNode> {
        let node = self.get(id).await?;
        let mut tx = crate::write_tx(self.pool).await?;
        if let Some(title) = &patch.title {
            let title = bounded("title", title.trim(), MAX_TITLE_CHARS)?;
            match node.document_id {
                // A scene's title is its document's, so search and revisions keep it.
                Some(document) => {
                    sqlx::query("UPDATE documents SET title = ?, updated_at = ? WHERE id = ?").bind(if title.is_empty() { "Untitled scene" } else { &title }).bind(now_ms()).bind(document).execute(&mut *tx).await?;
                }
                None => {
                    sqlx::query("UPDATE binder SET title = ? WHERE id = ?").bind(&title).bind(id).execute(&mut *tx).await?;
                }
            }
        }
        if let Some(synopsis) = &patch.synopsis {
            sqlx::query("UPDATE binder SET synopsis = ? WHERE id = ?").bind(bounded("synopsis", synopsis, MAX_FIELD_CHARS)?).bind(id).execute(&mut *tx).await?;
        }
        if let Some(pov) = &patch.pov {
            sqlx::query("UPDATE binder SET pov = ? WHERE id = ?").bind(bounded("point of view", pov.trim(), MAX_TITLE_CHARS)?).bind(id).execute(&mut *tx).await?;
        }
        if let Some(status) = patch.status {
            sqlx::query("UPDATE binder SET status = ? WHERE id = ?").bind(status).bind(id).execute(&mut *tx).await?;
        }
        if let Some(target) = patch.target_words {
            if target.is_some_and(|t| !(1..=10_000_000).contains(&t)) {
                return Err(StoreError::Invalid("a word target must be between 1 and 10,000,000".into()));
            }
            sqlx::query("UPDATE binder SET target_words = ? WHERE id = ?").bind(target).bind(id).execute(&mut *tx).await?;
        }
        touch(&mut tx, node.project_id).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Moves a node under `parent_id` (`None`: the project's top level) at `index` among its new
    /// siblings; reordering is a move under the same parent.
    #[tracing::instrument(level = "debug", skip_all, fields(id = id))]
    pub async fn move_to(&self, id: i64, parent_id: Option<i64>, index: i64) -> Result<BinderNode> {
        let mut tx = crate::write_tx(self.pool).await?;
        let row: Option<(i64, Option<i64>, NodeKind)> =
            sqlx::query_as("SELECT project_id, parent_id, kind FROM binder WHERE id = ? AND deleted_at IS NULL").bind(id).fetch_optional(&mut *tx).await?;
        let (project_id, old_parent, kind) = row.ok_or_else(|| not_found(id))?;
        check_parent(&mut tx, project_id, parent_id, kind).await?;
        let mut old_siblings = siblings(&mut tx, project_id, old_parent).await?;
        old_siblings.retain(|&n| n != id);
        if old_parent != parent_id {
            renumber(&mut tx, &old_siblings).await?;
            sqlx::query("UPDATE binder SET parent_id = ? WHERE id = ?").bind(parent_id).bind(id).execute(&mut *tx).await?;
        }
        let mut order = if old_parent == parent_id { old_siblings } else { siblings(&mut tx, project_id, parent_id).await?.into_iter().filter(|&n| n != id).collect() };
        order.insert((index.max(0) as usize).min(order.len()), id);
        renumber(&mut tx, &order).await?;
        touch(&mut tx, project_id).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Moves a node and everything under it to the trash (scenes' text leaves search); returns the
    /// stamp [`Binder::restore`] takes to undo exactly this delete.
    #[tracing::instrument(level = "debug", skip_all, fields(id = id))]
    pub async fn delete(&self, id: i64) -> Result<i64> {
        let mut tx = crate::write_tx(self.pool).await?;
        let row: Option<(i64, Option<i64>)> = sqlx::query_as("SELECT project_id, parent_id FROM binder WHERE id = ? AND deleted_at IS NULL").bind(id).fetch_optional(&mut *tx).await?;
        let (project_id, parent_id) = row.ok_or_else(|| not_found(id))?;
        let stamp = crate::trash_stamp(&mut tx).await?;
        sqlx::query(
            "WITH RECURSIVE under(id) AS (SELECT ? UNION ALL SELECT b.id FROM binder b JOIN under u ON b.parent_id = u.id WHERE b.deleted_at IS NULL) \
             UPDATE documents SET deleted_at = ? WHERE deleted_at IS NULL AND id IN (SELECT b.document_id FROM binder b JOIN under u ON b.id = u.id)",
        )
        .bind(id)
        .bind(stamp)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "WITH RECURSIVE under(id) AS (SELECT ? UNION ALL SELECT b.id FROM binder b JOIN under u ON b.parent_id = u.id WHERE b.deleted_at IS NULL) \
             UPDATE binder SET deleted_at = ? WHERE id IN (SELECT id FROM under)",
        )
        .bind(id)
        .bind(stamp)
        .execute(&mut *tx)
        .await?;
        let rest = siblings(&mut tx, project_id, parent_id).await?;
        renumber(&mut tx, &rest).await?;
        touch(&mut tx, project_id).await?;
        tx.commit().await?;
        Ok(stamp)
    }

    /// Undoes [`Binder::delete`]: the node comes back where it was (or last, if its parent is gone too,
    /// at the top level), with everything deleted with it.
    pub async fn restore(&self, id: i64) -> Result<BinderNode> {
        let mut tx = crate::write_tx(self.pool).await?;
        let row: Option<(i64, Option<i64>, i64, Option<i64>)> =
            sqlx::query_as("SELECT project_id, parent_id, position, deleted_at FROM binder WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?;
        let (project_id, mut parent_id, position, stamp) = row.ok_or_else(|| not_found(id))?;
        let Some(stamp) = stamp else {
            tx.rollback().await?;
            return self.get(id).await;
        };
        sqlx::query(
            "WITH RECURSIVE under(id) AS (SELECT ? UNION ALL SELECT b.id FROM binder b JOIN under u ON b.parent_id = u.id WHERE b.deleted_at = ?) \
             UPDATE documents SET deleted_at = NULL WHERE deleted_at = ? AND id IN (SELECT b.document_id FROM binder b JOIN under u ON b.id = u.id)",
        )
        .bind(id)
        .bind(stamp)
        .bind(stamp)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "WITH RECURSIVE under(id) AS (SELECT ? UNION ALL SELECT b.id FROM binder b JOIN under u ON b.parent_id = u.id WHERE b.deleted_at = ?) \
             UPDATE binder SET deleted_at = NULL WHERE id IN (SELECT id FROM under)",
        )
        .bind(id)
        .bind(stamp)
        .execute(&mut *tx)
        .await?;
        if let Some(parent) = parent_id {
            let parent_live: bool = sqlx::query_scalar("SELECT deleted_at IS NULL FROM binder WHERE id = ?").bind(parent).fetch_optional(&mut *tx).await?.unwrap_or(false);
            if !parent_live {
                parent_id = None;
                sqlx::query("UPDATE binder SET parent_id = NULL WHERE id = ?").bind(id).execute(&mut *tx).await?;
            }
        }
        let mut order = siblings(&mut tx, project_id, parent_id).await?;
        order.retain(|&n| n != id);
        order.insert((position.max(0) as usize).min(order.len()), id);
        renumber(&mut tx, &order).await?;
        touch(&mut tx, project_id).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// The scenes under a node (a chapter, a part, or the scene itself), in reading order, with their
    /// text: the chapter view, and the preceding text a writing action reads.
    pub async fn scenes_under(&self, id: i64) -> Result<Vec<SceneText>> {
        let node = self.get(id).await?;
        let tree = nodes(self.pool, node.project_id).await?;
        let ids = subtree_scenes(&tree, id);
        let mut scenes = Vec::with_capacity(ids.len());
        for scene in ids {
            let document = crate::documents::Documents::new(self.pool).get(scene.document_id.unwrap_or_default()).await?;
            scenes.push(SceneText { node: scene.clone(), document });
        }
        Ok(scenes)
    }

    /// Every live scene's text in a project, keyed by document id: export reads a whole book at once.
    pub async fn scene_bodies(&self, project_id: i64) -> Result<std::collections::HashMap<i64, String>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT d.id, d.body FROM binder b JOIN documents d ON d.id = b.document_id \
             WHERE b.project_id = ? AND b.deleted_at IS NULL AND d.deleted_at IS NULL",
        )
        .bind(project_id)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Deletes binder rows trashed before the undo window for good (their scenes' documents go with
    /// the documents' own purge).
    pub async fn purge_deleted(&self, older_than_ms: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM binder WHERE deleted_at IS NOT NULL AND deleted_at <= ?").bind(now_ms() - older_than_ms).execute(self.pool).await?.rows_affected())
    }
}

/// The node `id` and everything under it, from a tree in depth-first order (as [`nodes`] returns it):
/// a subtree there is contiguous, ending at the first node whose parent is outside it. Empty when `id`
/// is not in `tree`.
pub fn subtree(tree: &[BinderNode], id: i64) -> &[BinderNode] {
    let Some(start) = tree.iter().position(|n| n.id == id) else { return &[] };
    let mut inside = std::collections::HashSet::from([id]);
    let len = 1 + tree[start + 1..]
        .iter()
        .take_while(|n| {
            let under = n.parent_id.is_some_and(|p| inside.contains(&p));
            if under {
                inside.insert(n.id);
            }
            under
        })
        .count();
    &tree[start..start + len]
}

/// The scenes at or under `id` in `tree` (depth-first order), in reading order.
pub fn subtree_scenes(tree: &[BinderNode], id: i64) -> Vec<&BinderNode> {
    subtree(tree, id).iter().filter(|n| n.kind == NodeKind::Scene).collect()
}

async fn touch(tx: &mut Transaction<'static, Sqlite>, project_id: i64) -> Result<()> {
    sqlx::query("UPDATE projects SET updated_at = ? WHERE id = ?").bind(now_ms()).bind(project_id).execute(&mut **tx).await?;
    Ok(())
}
