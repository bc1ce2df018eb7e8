//! The story bible: a project's characters, places, objects, lore and style guides, each with a name,
//! aliases, a description and the writer's own fields. Global entries (no project) are in every
//! project's bible. Deleting stamps an entry, so Undo brings it back.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{FromRow, SqlitePool};

use crate::{now_ms, Result, StoreError};

/// Most entries one bible may hold (a project's plus the global ones).
pub const MAX_ENTRIES: usize = 10_000;
/// Longest name or alias, in characters.
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ALIASES: usize = 64;
pub const MAX_FIELDS: usize = 64;
/// Longest description or field value, in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[sqlx(rename_all = "snake_case")]
pub enum EntryKind {
    Character,
    Place,
    Object,
    Lore,
    StyleGuide,
}

impl EntryKind {
    pub const ALL: [EntryKind; 5] = [Self::Character, Self::Place, Self::Object, Self::Lore, Self::StyleGuide];

    pub fn name(self) -> &'static str {
        match self {
            Self::Character => "character",
            Self::Place => "place",
            Self::Object => "object",
            Self::Lore => "lore",
            Self::StyleGuide => "style_guide",
        }
    }

    /// Accepts the stored names and a few spellings people type ("style", "style guide").
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        match name.as_str() {
            "style" => Some(Self::StyleGuide),
            "location" => Some(Self::Place),
            "item" => Some(Self::Object),
            _ => Self::ALL.into_iter().find(|k| k.name() == name),
        }
    }

    /// How a reader names it: "style guide".
    pub fn label(self) -> &'static str {
        match self {
            Self::StyleGuide => "style guide",
            other => other.name(),
        }
    }
}

/// One of the writer's own fields on an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EntryField {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BibleEntry {
    pub id: i64,
    /// `None`: a global entry, in every project's bible.
    pub project_id: Option<i64>,
    pub kind: EntryKind,
    pub name: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub fields: Vec<EntryField>,
    /// Always in the model's context.
    pub pinned: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl BibleEntry {
    /// The name, then the aliases: every name the text may use for it.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

#[derive(FromRow)]
struct EntryRow {
    id: i64,
    project_id: Option<i64>,
    kind: EntryKind,
    name: String,
    aliases: Json<Vec<String>>,
    description: String,
    fields: Json<Vec<EntryField>>,
    pinned: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<EntryRow> for BibleEntry {
    fn from(r: EntryRow) -> Self {
        Self {
            id: r.id,
            project_id: r.project_id,
            kind: r.kind,
            name: r.name,
            aliases: r.aliases.0,
            description: r.description,
            fields: r.fields.0,
            pinned: r.pinned,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewEntry {
    /// `None`: a global entry.
    pub project_id: Option<i64>,
    pub kind: EntryKind,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub fields: Vec<EntryField>,
    #[serde(default)]
    pub pinned: bool,
}

/// Changes to an entry; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct EntryPatch {
    pub kind: Option<EntryKind>,
    pub name: Option<String>,
    pub aliases: Option<Vec<String>>,
    pub description: Option<String>,
    pub fields: Option<Vec<EntryField>>,
    pub pinned: Option<bool>,
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound { what: "bible entry", id: id.to_string() }
}

fn check_name(what: &str, name: &str) -> Result<String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(StoreError::Invalid(format!("{what} cannot be empty")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Invalid(format!("{what} is longer than {MAX_NAME_CHARS} characters")));
    }
    Ok(name)
}

fn check_text(what: &str, text: &str) -> Result<String> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(StoreError::Invalid(format!("{what} is longer than {MAX_TEXT_CHARS} characters")));
    }
    Ok(text.trim().to_string())
}

/// Aliases trimmed, blanks and repeats (of the name too, ignoring case) dropped.
fn check_aliases(name: &str, aliases: &[String]) -> Result<Vec<String>> {
    if aliases.len() > MAX_ALIASES {
        return Err(StoreError::Invalid(format!("an entry has at most {MAX_ALIASES} aliases")));
    }
    let mut seen = vec![name.to_lowercase()];
    let mut kept = Vec::new();
    for alias in aliases.iter().filter(|a| !a.trim().is_empty()) {
        let alias = check_name("an alias", alias)?;
        if !seen.contains(&alias.to_lowercase()) {
            seen.push(alias.to_lowercase());
            kept.push(alias);
        }
    }
    Ok(kept)
}

fn check_fields(fields: &[EntryField]) -> Result<Vec<EntryField>> {
    if fields.len() > MAX_FIELDS {
        return Err(StoreError::Invalid(format!("an entry has at most {MAX_FIELDS} fields")));
    }
    fields
        .iter()
        .filter(|f| !f.name.trim().is_empty() || !f.value.trim().is_empty())
        .map(|f| Ok(EntryField { name: check_name("a field's name", &f.name)?, value: check_text("a field's value", &f.value)? }))
        .collect()
}

const COLUMNS: &str = "id, project_id, kind, name, aliases, description, fields, pinned, created_at, updated_at";

pub struct Bible<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Bible<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    /// The project's bible: its own entries and the global ones, style guides first, then by kind and name.
    pub async fn list(&self, project_id: i64) -> Result<Vec<BibleEntry>> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM bible_entries WHERE (project_id = ? OR project_id IS NULL) AND deleted_at IS NULL \
             ORDER BY kind <> 'style_guide', kind, name COLLATE NOCASE, id LIMIT {MAX_ENTRIES}"
        ))
        .bind(project_id)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// How many entries the project's bible holds, global ones included.
    pub async fn count(&self, project_id: i64) -> Result<usize> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM bible_entries WHERE (project_id = ? OR project_id IS NULL) AND deleted_at IS NULL")
            .bind(project_id)
            .fetch_one(self.pool)
            .await?;
        Ok(n as usize)
    }

    pub async fn get(&self, id: i64) -> Result<BibleEntry> {
        let row: Option<EntryRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM bible_entries WHERE id = ? AND deleted_at IS NULL"))
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        row.map(Into::into).ok_or_else(|| not_found(id))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = tracing::field::Empty))]
    pub async fn create(&self, new: &NewEntry) -> Result<BibleEntry> {
        let name = check_name("an entry's name", &new.name)?;
        let aliases = check_aliases(&name, &new.aliases)?;
        let description = check_text("a description", &new.description)?;
        let fields = check_fields(&new.fields)?;
        if let Some(project) = new.project_id {
            crate::Projects::new(self.pool).get(project).await?;
            if self.count(project).await? >= MAX_ENTRIES {
                return Err(StoreError::Invalid(format!("a bible holds at most {MAX_ENTRIES} entries")));
            }
        }
        let now = now_ms();
        let id = sqlx::query(
            "INSERT INTO bible_entries (project_id, kind, name, aliases, description, fields, pinned, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(new.project_id)
        .bind(new.kind)
        .bind(&name)
        .bind(Json(&aliases))
        .bind(&description)
        .bind(Json(&fields))
        .bind(new.pinned)
        .bind(now)
        .bind(now)
        .execute(self.pool)
        .await?
        .last_insert_rowid();
        tracing::Span::current().record("id", id);
        self.get(id).await
    }

    pub async fn update(&self, id: i64, patch: &EntryPatch) -> Result<BibleEntry> {
        let current = self.get(id).await?;
        let name = match &patch.name {
            Some(name) => check_name("an entry's name", name)?,
            None => current.name,
        };
        let aliases = check_aliases(&name, patch.aliases.as_deref().unwrap_or(&current.aliases))?;
        let description = match &patch.description {
            Some(text) => check_text("a description", text)?,
            None => current.description,
        };
        let fields = match &patch.fields {
            Some(fields) => check_fields(fields)?,
            None => current.fields,
        };
        sqlx::query("UPDATE bible_entries SET kind = ?, name = ?, aliases = ?, description = ?, fields = ?, pinned = ?, updated_at = ? WHERE id = ?")
            .bind(patch.kind.unwrap_or(current.kind))
            .bind(&name)
            .bind(Json(&aliases))
            .bind(&description)
            .bind(Json(&fields))
            .bind(patch.pinned.unwrap_or(current.pinned))
            .bind(now_ms())
            .bind(id)
            .execute(self.pool)
            .await?;
        self.get(id).await
    }

    /// Moves an entry to the trash; [`Bible::restore`] brings it back.
    pub async fn delete(&self, id: i64) -> Result<()> {
        if !crate::trash_row(self.pool, "bible_entries", id).await? {
            return Err(not_found(id));
        }
        Ok(())
    }

    pub async fn restore(&self, id: i64) -> Result<BibleEntry> {
        sqlx::query("UPDATE bible_entries SET deleted_at = NULL WHERE id = ?").bind(id).execute(self.pool).await?;
        self.get(id).await
    }

    /// A value that changes with every change to the project's bible (its own entries or global ones,
    /// deletions included): what a cached index of its names is checked against.
    pub async fn revision(&self, project_id: i64) -> Result<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT count(*), coalesce(sum(updated_at), 0) + coalesce(sum(deleted_at), 0) + coalesce(sum(id), 0) FROM bible_entries \
             WHERE project_id = ? OR project_id IS NULL",
        )
        .bind(project_id)
        .fetch_one(self.pool)
        .await?)
    }
}
