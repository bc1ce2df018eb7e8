//! Catalog downloads that run in the background while the writer works: one task per model, progress
//! pushed to every watcher (the status bar), pausable, remembered in the library so a restart resumes
//! them from their `.part`, and the model made the default (and loaded) once it is verified.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use atelier_fusion::OutboundClient;
use atelier_store::{ModelRecord, Store};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::catalog::{Catalog, CatalogEntry};
use crate::download::{download, Download, DownloadProgress, Verification};
use crate::error::{Result, StudioError};
use crate::model_host::ModelHost;

/// The library setting that remembers unfinished catalog downloads.
const PENDING_KEY: &str = "catalog_downloads";
/// The library setting with the last measured download speed (bytes per second), for time estimates.
pub const SPEED_KEY: &str = "download_bytes_per_second";
/// Where a mirror of Hugging Face may be named (a company mirror, or a test's loopback server).
pub const MIRROR_ENV: &str = "ATELIER_MODEL_MIRROR";
const HUB: &str = "https://huggingface.co";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum DownloadStatus {
    Receiving,
    Verifying,
    Paused,
    Failed,
    Done,
}

/// One catalog download, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[derive(specta::Type)]
pub struct DownloadState {
    pub entry_id: String,
    /// "Ministral 3 3B Instruct 2512 · Q4_K_M".
    pub name: String,
    pub status: DownloadStatus,
    pub downloaded: u64,
    pub total: Option<u64>,
    pub bytes_per_second: Option<f64>,
    pub eta_seconds: Option<f64>,
    /// Why it stopped (failed, paused by offline mode), or how it was checked (done).
    pub message: Option<String>,
    pub model_id: Option<i64>,
    /// Becomes the default model (and is loaded) when verified.
    pub make_default: bool,
}

/// A download the library remembers across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    entry_id: String,
    make_default: bool,
    /// Paused by the writer: not resumed on start-up.
    paused: bool,
}

type Watcher = Box<dyn Fn(&[DownloadState]) -> bool + Send + Sync>;

#[derive(Default)]
struct Inner {
    states: Mutex<Vec<DownloadState>>,
    running: Mutex<HashMap<String, CancellationToken>>,
    watchers: Mutex<Vec<Watcher>>,
    /// Serialises the read-modify-write of the library's list of unfinished downloads.
    pending: tokio::sync::Mutex<()>,
}

/// The catalog downloads of this run of the app.
#[derive(Clone, Default)]
pub struct Downloads(Arc<Inner>);

/// What a catalog download needs from the studio.
#[derive(Clone)]
pub struct DownloadContext {
    pub client: OutboundClient,
    pub store: Store,
    pub host: Arc<ModelHost>,
    pub dir: PathBuf,
    /// A mirror of Hugging Face to fetch from instead (see [`mirror_from_env`]).
    pub mirror: Option<String>,
}

impl Downloads {
    pub fn states(&self) -> Vec<DownloadState> {
        lock(&self.0.states).clone()
    }

    /// Calls `watcher` with every change (and now); a watcher returning `false` is dropped.
    pub fn watch(&self, watcher: Watcher) {
        if watcher(&self.states()) {
            lock(&self.0.watchers).push(watcher);
        }
    }

    fn publish(&self, state: DownloadState) {
        let states = {
            let mut states = lock(&self.0.states);
            match states.iter_mut().find(|s| s.entry_id == state.entry_id) {
                Some(slot) => *slot = state,
                None => states.push(state),
            }
            states.clone()
        };
        lock(&self.0.watchers).retain(|w| w(&states));
    }

    async fn remember(&self, store: &Store, entry: Pending) {
        let _guard = self.0.pending.lock().await;
        let mut all = pending(store).await;
        all.retain(|p| p.entry_id != entry.entry_id);
        all.push(entry);
        let _ = store.settings().set(PENDING_KEY, &all).await;
    }

    async fn forget(&self, store: &Store, entry_id: &str) {
        let _guard = self.0.pending.lock().await;
        let mut all = pending(store).await;
        all.retain(|p| p.entry_id != entry_id);
        let _ = store.settings().set(PENDING_KEY, &all).await;
    }

    fn state_of(&self, entry_id: &str) -> Option<DownloadState> {
        lock(&self.0.states).iter().find(|s| s.entry_id == entry_id).cloned()
    }

    /// Starts (or resumes) downloading catalog entry `entry_id` in the background.
    pub async fn start(&self, ctx: DownloadContext, entry_id: &str, make_default: bool) -> Result<DownloadState> {
        let entry = Catalog::builtin().get(entry_id)?.clone();
        // An OpenVINO folder is many files: it is not fetched as one (the error says how to get it).
        entry.file_name()?;
        let token = {
            let mut running = lock(&self.0.running);
            if running.contains_key(entry_id) {
                return self.state_of(entry_id).ok_or_else(|| StudioError::Internal("a running download has no state".into()));
            }
            let token = CancellationToken::new();
            running.insert(entry_id.to_string(), token.clone());
            token
        };
        self.remember(&ctx.store, Pending { entry_id: entry_id.to_string(), make_default, paused: false }).await;
        let first = initial_state(&entry, &ctx.dir, make_default, DownloadStatus::Receiving, None);
        self.publish(first.clone());
        let this = self.clone();
        tokio::spawn(async move {
            let result = this.run(&ctx, &entry, make_default, &token).await;
            lock(&this.0.running).remove(&entry.id);
            this.finish(&ctx, &entry, make_default, result).await;
        });
        Ok(first)
    }

    /// Pauses a running download (what arrived stays for a resume); `false` if none runs.
    pub async fn pause(&self, store: &Store, entry_id: &str) -> bool {
        let token = lock(&self.0.running).get(entry_id).cloned();
        if let Some(pending) = pending(store).await.into_iter().find(|p| p.entry_id == entry_id) {
            self.remember(store, Pending { paused: true, ..pending }).await;
        }
        token.map(|t| t.cancel()).is_some()
    }

    /// At start-up: shows every unfinished download, and resumes those the writer did not pause (unless
    /// offline mode is on).
    pub async fn resume_pending(&self, ctx: DownloadContext) {
        for pending in pending(&ctx.store).await {
            let Ok(entry) = Catalog::builtin().get(&pending.entry_id) else {
                self.forget(&ctx.store, &pending.entry_id).await;
                continue;
            };
            if pending.paused || ctx.client.is_offline() {
                let message = (!pending.paused).then(|| StudioError::Offline.to_string());
                self.publish(initial_state(entry, &ctx.dir, pending.make_default, DownloadStatus::Paused, message));
            } else {
                let _ = self.start(ctx.clone(), &pending.entry_id, pending.make_default).await;
            }
        }
    }

    async fn run(&self, ctx: &DownloadContext, entry: &CatalogEntry, make_default: bool, token: &CancellationToken) -> Result<(ModelRecord, Verification)> {
        let mut state = initial_state(entry, &ctx.dir, make_default, DownloadStatus::Receiving, None);
        let this = self.clone();
        let (record, check) = fetch(&ctx.client, &ctx.store, entry, &ctx.dir, ctx.mirror.as_deref(), token, |progress| {
            match progress {
                DownloadProgress::Receiving { downloaded, total, bytes_per_second, eta_seconds } => {
                    state = DownloadState { downloaded, total, bytes_per_second: Some(bytes_per_second), eta_seconds, ..state.clone() };
                }
                DownloadProgress::Verifying => state.status = DownloadStatus::Verifying,
                DownloadProgress::Verified { .. } => {}
            }
            this.publish(state.clone());
        })
        .await?;
        if let Some(speed) = self.state_of(&entry.id).and_then(|s| s.bytes_per_second).filter(|s| *s > 0.0) {
            let _ = ctx.store.settings().set(SPEED_KEY, &speed).await;
        }
        if make_default {
            ctx.store.models().set_default(record.id).await?;
            crate::models::load(&ctx.store, &ctx.host, record.id).await?;
        }
        Ok((record, check))
    }

    async fn finish(&self, ctx: &DownloadContext, entry: &CatalogEntry, make_default: bool, result: Result<(ModelRecord, Verification)>) {
        let last = self.state_of(&entry.id).unwrap_or_else(|| initial_state(entry, &ctx.dir, make_default, DownloadStatus::Receiving, None));
        let state = match result {
            Ok((record, check)) => {
                self.forget(&ctx.store, &entry.id).await;
                DownloadState { status: DownloadStatus::Done, message: Some(check.describe()), model_id: Some(record.id), eta_seconds: None, ..last }
            }
            Err(e @ (StudioError::Paused | StudioError::Offline)) => {
                DownloadState { status: DownloadStatus::Paused, message: Some(e.to_string()), eta_seconds: None, bytes_per_second: None, ..last }
            }
            Err(e) => {
                // Shown so the writer sees why. A broken connection is tried again at the next start;
                // a bad file, a refused address or a full disk is not, until the writer retries.
                if !matches!(e, StudioError::Network(_) | StudioError::Timeout(_)) {
                    self.forget(&ctx.store, &entry.id).await;
                }
                DownloadState { status: DownloadStatus::Failed, message: Some(e.to_string()), eta_seconds: None, bytes_per_second: None, ..last }
            }
        };
        self.publish(state);
    }
}

/// Where downloaded models go.
pub fn models_dir() -> Result<PathBuf> {
    atelier_engine::default_model::user_models_dir().ok_or_else(|| StudioError::Invalid("no folder to keep models in".into()))
}

/// The mirror `ATELIER_MODEL_MIRROR` names, if any: a company's copy of Hugging Face, say.
pub fn mirror_from_env() -> Option<String> {
    std::env::var(MIRROR_ENV).ok().map(|m| m.trim().trim_end_matches('/').to_string()).filter(|m| !m.is_empty())
}

/// The address a catalog entry is fetched from: its own, or the same path on `mirror`. The download's
/// rules still apply there (plain http only with the catalog's sha256).
pub fn source_url(entry: &CatalogEntry, mirror: Option<&str>) -> String {
    match (mirror, entry.url.strip_prefix(HUB)) {
        (Some(mirror), Some(path)) => format!("{}{path}", mirror.trim_end_matches('/')),
        _ => entry.url.clone(),
    }
}

/// Downloads catalog entry `entry` into `dir` and registers it (no default, no load): the CLI's
/// `models get` and the background task both come here.
pub async fn fetch(
    client: &OutboundClient,
    store: &Store,
    entry: &CatalogEntry,
    dir: &Path,
    mirror: Option<&str>,
    cancel: &CancellationToken,
    mut on_progress: impl FnMut(DownloadProgress),
) -> Result<(ModelRecord, Verification)> {
    entry.file_name()?;
    let request = Download::new(source_url(entry, mirror), dir).sha256(entry.sha256.clone());
    let mut check = None;
    let mut record = download(client, store, &request, cancel, |progress| {
        if let DownloadProgress::Verified { check: c } = &progress {
            check = Some(c.clone());
        }
        on_progress(progress);
    })
    .await?;
    // The library names the catalog's address (not a mirror's), so the catalog knows it is installed.
    if record.source_url.as_deref() != Some(entry.url.as_str()) {
        record = crate::download::register(store, Path::new(&record.path), Some(&entry.url), record.sha256.as_deref()).await?;
    }
    let check = check.ok_or_else(|| StudioError::Internal("a finished download reported no check".into()))?;
    Ok((record, check))
}

fn initial_state(entry: &CatalogEntry, dir: &Path, make_default: bool, status: DownloadStatus, message: Option<String>) -> DownloadState {
    let downloaded = entry.file_name().ok().and_then(|name| std::fs::metadata(dir.join(format!("{name}.part"))).ok()).map(|m| m.len()).unwrap_or(0);
    DownloadState {
        entry_id: entry.id.clone(),
        name: format!("{} · {}", entry.name, entry.quantization),
        status,
        downloaded,
        total: Some(entry.size_bytes),
        bytes_per_second: None,
        eta_seconds: None,
        message,
        model_id: None,
        make_default,
    }
}

async fn pending(store: &Store) -> Vec<Pending> {
    store.settings().get::<Vec<Pending>>(PENDING_KEY).await.ok().flatten().unwrap_or_default()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
