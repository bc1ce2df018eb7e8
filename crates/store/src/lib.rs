//! Atelier's library in one SQLite file (sqlx): documents and their revisions, conversations, generation
//! and fusion runs with every member's output, models, providers (never keys), settings and the privacy
//! ledger; full-text search, export, import and online backup.
//!
//! The file runs in WAL mode with `synchronous=NORMAL`: a committed write survives the process being
//! killed at any point (the test suite kills a writer with SIGKILL); after a power cut the last
//! transactions before it may be rolled back, never corrupted.

mod bible;
mod binder;
mod conversations;
mod documents;
mod export;
mod ledger;
mod models;
mod picks;
mod projects;
mod providers;
mod runs;
mod search;
mod settings;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tracing::Instrument;

pub use bible::{Bible, BibleEntry, EntryField, EntryKind, EntryPatch, NewEntry, MAX_ENTRIES};
pub use binder::{subtree, subtree_scenes, Binder, BinderNode, NewNode, NodeKind, NodePatch, SceneStatus, SceneText, MAX_NODES};
pub use conversations::{Conversation, Conversations, Message};
pub use documents::{Document, DocumentSummary, Documents, Revision, MAX_REVISIONS, REVISION_INTERVAL_MS};
pub use export::{ExportFormat, ExportTarget, LibraryBundle};
pub use ledger::{Ledger, LedgerEntry, LedgerTotals, NewLedgerEntry};
pub use models::{ModelRecord, Models};
pub use picks::{NewPick, Pick, PickOutcome, Picks, MAX_PICKS, MAX_PICK_TEXT};
pub use projects::{DayProgress, NewProject, Project, ProjectKind, ProjectPatch, ProjectSummary, ProjectTree, Projects, DEFAULT_PROJECT_TITLE};
pub use providers::{ProviderModel, ProviderRecord, Providers};
pub use runs::{MemberFinish, MemberRole, NewMember, NewRun, Run, RunFilter, RunFinish, RunKind, RunMember, RunStatus, RunWithMembers, Runs};
pub use search::{SearchHit, SearchKind, HIGHLIGHT_END, HIGHLIGHT_START};
pub use settings::Settings;

/// The environment variable that points Atelier at another library file (tests, portable installs).
pub const DB_ENV: &str = "ATELIER_DB";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the library at {}: {source}", path.display())]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("cannot upgrade the library's schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the disk is full: the last change was not saved; free some space and try again")]
    DiskFull,
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("library error: {0}")]
    Database(sqlx::Error),
    #[error("malformed data: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            // SQLITE_FULL (13) and its extended codes.
            if db.code().is_some_and(|c| c == "13" || c.parse::<i32>().is_ok_and(|n| n & 0xff == 13)) {
                return Self::DiskFull;
            }
        }
        Self::Database(err)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The `deleted_at` of a new trashing: now, but later than any stamp already given, so each delete
/// has a stamp of its own even two in one millisecond, and undoing one never brings back another's.
/// One `?`: the current time.
const TRASH_STAMP: &str = "max(?, coalesce((SELECT max(deleted_at) FROM binder), 0) + 1, \
     coalesce((SELECT max(deleted_at) FROM documents), 0) + 1, coalesce((SELECT max(deleted_at) FROM projects), 0) + 1)";

/// A stamp for a delete made in `tx` (see [`TRASH_STAMP`]).
pub(crate) async fn trash_stamp(tx: &mut sqlx::SqliteConnection) -> Result<i64> {
    Ok(sqlx::query_scalar(&format!("SELECT {TRASH_STAMP}")).bind(now_ms()).fetch_one(tx).await?)
}

/// Stamps a live row of `table` as trashed (restorable); `false` if there was none.
pub(crate) async fn trash_row(pool: &SqlitePool, table: &'static str, id: i64) -> Result<bool> {
    let changed = sqlx::query(&format!("UPDATE {table} SET deleted_at = {TRASH_STAMP} WHERE id = ? AND deleted_at IS NULL"))
        .bind(now_ms())
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(changed > 0)
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The library file: `ATELIER_DB` if set, else `library.sqlite3` in the platform's data folder
/// (e.g. `~/.local/share/atelier` on Linux).
pub fn default_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(DB_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let dirs = directories::ProjectDirs::from("app", "atelier", "atelier")
        .ok_or_else(|| StoreError::Invalid("no home directory to keep the library in".into()))?;
    Ok(dirs.data_dir().join("library.sqlite3"))
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the library at `path` and brings its schema up to date.
    #[tracing::instrument(level = "info", skip_all, fields(path = %path.as_ref().display()))]
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io { path: parent.to_path_buf(), source })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|source| StoreError::Open { path: path.clone(), source })?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open { path: path.clone(), source })?;
        backup_before_migrating(&pool, &path).await?;
        MIGRATOR.run(&pool).instrument(tracing::info_span!("migrate")).await?;
        let store = Self { pool, path };
        // Runs that were streaming when the app last stopped (a crash, a kill) keep what arrived.
        store.runs().mark_interrupted().await?;
        // Documents written by a version before projects, or through the document API, get a place in
        // the binder: nothing is out of the writer's sight.
        store.projects().adopt_loose_documents().await?;
        Ok(store)
    }

    /// Opens the library at [`default_path`].
    pub async fn open_default() -> Result<Self> {
        Self::open(default_path()?).await
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn documents(&self) -> Documents<'_> {
        Documents::new(&self.pool)
    }

    pub fn bible(&self) -> Bible<'_> {
        Bible::new(&self.pool)
    }

    pub fn projects(&self) -> Projects<'_> {
        Projects::new(&self.pool)
    }

    pub fn binder(&self) -> Binder<'_> {
        Binder::new(&self.pool)
    }

    pub fn conversations(&self) -> Conversations<'_> {
        Conversations::new(&self.pool)
    }

    pub fn runs(&self) -> Runs<'_> {
        Runs::new(&self.pool)
    }

    pub fn models(&self) -> Models<'_> {
        Models::new(&self.pool)
    }

    pub fn picks(&self) -> Picks<'_> {
        Picks::new(&self.pool)
    }

    pub fn providers(&self) -> Providers<'_> {
        Providers::new(&self.pool)
    }

    pub fn settings(&self) -> Settings<'_> {
        Settings::new(&self.pool)
    }

    pub fn ledger(&self) -> Ledger<'_> {
        Ledger::new(&self.pool)
    }

    /// Full-text search over documents, messages, prompts and every model output. Results carry
    /// [`HIGHLIGHT_START`]/[`HIGHLIGHT_END`] around matches.
    pub async fn search(&self, query: &str, limit: i64, offset: i64) -> Result<Vec<SearchHit>> {
        search::search(&self.pool, query, limit, offset).await
    }

    /// A consistent copy of the whole library, taken while it is in use (`VACUUM INTO`).
    #[tracing::instrument(level = "info", skip_all, fields(destination = %destination.as_ref().display()))]
    pub async fn backup(&self, destination: impl AsRef<Path>) -> Result<()> {
        let destination = destination.as_ref();
        if destination.exists() {
            return Err(StoreError::Invalid(format!("{} already exists", destination.display())));
        }
        sqlx::query("VACUUM INTO ?").bind(destination.to_string_lossy().as_ref()).execute(&self.pool).await?;
        Ok(())
    }

    /// Checks the file's integrity (`PRAGMA integrity_check`); `Ok(())` when it is sound.
    ///
    /// The check runs on a connection of its own, opened for it. On a pooled connection SQLite's FTS5
    /// check (3.46) reads the index structure that connection cached when it last used the table, without
    /// asking whether another connection has written since, and reports a sound index as "malformed
    /// inverted index for FTS5 table …" (crates/store/tests/import_regressions.rs).
    pub async fn check_integrity(&self) -> Result<()> {
        use sqlx::{ConnectOptions, Connection};
        let options = SqliteConnectOptions::new().filename(&self.path).busy_timeout(Duration::from_secs(10));
        let mut conn = options.connect().await.map_err(|source| StoreError::Open { path: self.path.clone(), source })?;
        let result: std::result::Result<Vec<String>, _> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await;
        let _ = conn.close().await;
        let result = result?;
        if result.len() == 1 && result[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!("integrity check failed: {}", result.join("; "))))
        }
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// A write transaction that takes the write lock up front: a deferred one that reads first could not
/// upgrade while another connection writes, and SQLite answers that with SQLITE_BUSY at once instead of
/// waiting out `busy_timeout`.
pub(crate) async fn write_tx(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Before a schema change, a copy of the library as it was: `library.sqlite3.before-v3.bak`. A migration
/// that fails half-way, or a newer schema the writer regrets, then loses nothing.
#[tracing::instrument(level = "info", skip_all)]
async fn backup_before_migrating(pool: &SqlitePool, path: &Path) -> Result<Option<PathBuf>> {
    let applied: Option<i64> = match sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success = 1").fetch_one(pool).await {
        Ok(version) => version,
        // No migrations table: a new, empty library has nothing to keep.
        Err(_) => return Ok(None),
    };
    let Some(applied) = applied else { return Ok(None) };
    let Some(target) = MIGRATOR.iter().map(|m| m.version).max().filter(|latest| *latest > applied) else { return Ok(None) };
    let name = format!("{}.before-v{target}.bak", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "library".into()));
    let backup = path.with_file_name(name);
    if backup.exists() {
        // A backup from an earlier attempt at the same migration is the older, safer copy.
        return Ok(Some(backup));
    }
    sqlx::query("VACUUM INTO ?").bind(backup.to_string_lossy().as_ref()).execute(pool).await?;
    tracing::info!(from = applied, to = target, backup = %backup.display(), "library backed up before its schema is upgraded");
    Ok(Some(backup))
}

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
