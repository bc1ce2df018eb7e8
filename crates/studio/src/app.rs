//! [`Studio`]: what a running Atelier holds — the library, the keychain, the network door, the
//! on-device model, the operations in flight — and the services both front ends call on it. The app's
//! commands and the CLI's subcommands are each one call here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_engine::Generation;
use atelier_fusion::budget::CostEstimate;
use atelier_fusion::config::{presets, PanelBuilder, ProviderConfig};
use atelier_fusion::events::EventSink as FusionSink;
use atelier_fusion::{OutboundClient, PriceBook};
use atelier_keys::SecretStore;
use atelier_store::Store;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::downloads::models_dir;
use crate::error::{Result, StudioError};
use crate::fusion::{FusionParams, FusionResult};
use crate::generation::{self, EventSink, GenerationSpec};
use crate::model_host::ModelHost;
use crate::privacy::OfflineSetting;
use crate::providers::{self, ProviderView};
use crate::writing::ActionInput;

/// Cancellable operations (generations, fusions, downloads) under the ids their front end gave them.
#[derive(Default)]
pub struct Operations(Mutex<HashMap<String, CancellationToken>>);

impl Operations {
    /// Registers an operation; it is forgotten when the returned guard drops.
    pub fn begin(&self, id: &str) -> Operation<'_> {
        let token = CancellationToken::new();
        lock(&self.0).insert(id.to_string(), token.clone());
        Operation { operations: self, id: id.to_string(), token }
    }

    /// Stops an operation; `false` if none runs under `id`.
    pub fn cancel(&self, id: &str) -> bool {
        lock(&self.0).get(id).map(CancellationToken::cancel).is_some()
    }
}

pub struct Operation<'a> {
    operations: &'a Operations,
    id: String,
    token: CancellationToken,
}

impl Operation<'_> {
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}

impl Drop for Operation<'_> {
    fn drop(&mut self) {
        lock(&self.operations.0).remove(&self.id);
    }
}

/// Providers in the library, and the built-in presets.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct ProvidersView {
    pub providers: Vec<ProviderView>,
    pub presets: Vec<ProviderConfig>,
}

#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct PrivacyStatus {
    pub offline: bool,
    /// Cloud models the user can send to right now (enabled providers with a key, or keyless).
    pub cloud_models: usize,
    pub cloud_providers: Vec<String>,
}

/// Settings a front end may change, each checked by [`crate::limits::setting`].
pub const SETTINGS: &[&str] = &["theme", "font_size", "device", "threads", "context_length", "kv_cache", "prepare_ahead", "fusion_panel", "autosave_ms", "first_run_done"];

pub struct Studio {
    /// The library; an error (shown to the user) if it could not be opened.
    pub library: std::result::Result<Store, String>,
    pub keys: Arc<dyn SecretStore>,
    pub client: OutboundClient,
    pub prices: Arc<PriceBook>,
    pub model: Arc<ModelHost>,
    pub operations: Operations,
    pub offline_setting: OfflineSetting,
    /// Paths the user chose in a dialog or dropped on the window: the only ones file commands accept.
    pub picked: crate::picked::PickedPaths,
    /// Imported manuscripts shown as previews, waiting for the writer to accept one.
    pub imports: crate::manuscript::PendingImports,
    /// Each project's bible names, found in the open scene as the writer types.
    pub mentions: crate::bible::MentionCache,
    /// Catalog models downloading in the background.
    pub downloads: crate::downloads::Downloads,
}

impl Studio {
    pub fn new(library: std::result::Result<Store, String>, keys: Arc<dyn SecretStore>, offline_setting: OfflineSetting) -> Self {
        let client = OutboundClient::new(Duration::from_secs(10));
        let client = match &library {
            Ok(store) => client.with_ledger(atelier_fusion::persist::StoreLedger::new(store.clone(), None)),
            Err(_) => client,
        };
        Self {
            library,
            keys,
            client,
            prices: Arc::new(PriceBook::default()),
            model: Arc::new(ModelHost::new()),
            operations: Operations::default(),
            offline_setting,
            picked: Default::default(),
            imports: Default::default(),
            mentions: Default::default(),
            downloads: Default::default(),
        }
    }

    /// Opens the user's library and keychain as the app does at start-up: offline mode as saved (on
    /// when the library cannot be read), documents past their undo window purged.
    pub async fn open(library: std::result::Result<Store, String>, keys: Arc<dyn SecretStore>) -> Self {
        let library_path = atelier_store::default_path().unwrap_or_else(|_| std::env::temp_dir().join("atelier").join("library.sqlite3"));
        let studio = Self::new(library, keys, OfflineSetting::beside(&library_path));
        studio.client.set_offline(studio.offline_setting.load(studio.library.as_ref().ok()).await);
        if let Ok(store) = &studio.library {
            let _ = crate::trash::purge(store, crate::trash::UNDO_WINDOW).await;
        }
        studio
    }

    pub fn store(&self) -> Result<&Store> {
        self.library.as_ref().map_err(|e| StudioError::LibraryUnavailable(e.clone()))
    }

    /// Loads the start-up model on this (blocking) thread; a broken one shows as the model's error.
    /// Keys filed by earlier versions under the bare provider id move to their preset's origin.
    pub fn load_startup_model(&self, runtime: &tokio::runtime::Handle) -> Vec<String> {
        let store = self.library.as_ref().ok();
        let path = runtime.block_on(crate::models::startup_model(store));
        let options = runtime.block_on(crate::models::load_options(store));
        let _ = self.model.load(path, &options);
        providers::migrate_unscoped_keys(self.keys.as_ref())
    }

    // --- generations -------------------------------------------------------------------------------

    /// A writing action on the loaded model, recorded in History.
    pub async fn write(&self, id: &str, input: &ActionInput, document_id: Option<i64>, seed: Option<u64>, on_event: EventSink) -> Result<Generation> {
        let sampling = generation::sampling(None, seed)?;
        let operation = self.operations.begin(id);
        generation::write(&self.model, self.library.as_ref().ok(), input, sampling, document_id, operation.token(), on_event).await
    }

    /// A chat turn about the open scene, in context, recorded in History.
    pub async fn chat(&self, id: &str, params: &generation::ChatParams, on_event: EventSink) -> Result<Generation> {
        let operation = self.operations.begin(id);
        generation::chat(&self.model, self.library.as_ref().ok(), params, operation.token(), on_event).await
    }

    /// What the model will read for a writing action or chat turn, item by item.
    pub async fn preview_context(&self, target: &generation::ContextFor) -> Result<crate::context::ContextView> {
        generation::preview(&self.model, self.library.as_ref().ok(), target).await
    }

    /// Computes the run the writer is setting up (a selection's action, a chat question as typed) into
    /// the model's cache in the background, unless the writer turned that off (`prepare_ahead`); what
    /// it did, or `None` where it did nothing.
    pub async fn prepare_context(&self, target: &generation::ContextFor) -> Result<Option<atelier_engine::Prepared>> {
        let store = self.library.as_ref().ok();
        if let Some(store) = store {
            if store.settings().get::<bool>("prepare_ahead").await? == Some(false) {
                return Ok(None);
            }
        }
        crate::prepare::prepare(&self.model, store, target).await
    }

    /// What a fusion's members will read (the on-device ones everything, cloud ones what may leave).
    pub async fn preview_fusion_context(&self, params: &FusionParams) -> Result<Option<crate::context::ContextView>> {
        Ok(crate::fusion::context(&self.model, self.library.as_ref().ok(), params).await?.view)
    }

    // --- the story bible ---------------------------------------------------------------------------

    /// The names of the project's bible in `text`, for the editor to underline.
    pub async fn find_mentions(&self, project_id: i64, text: &str) -> Result<Vec<crate::bible::mentions::Mention>> {
        crate::bible::find_mentions(&self.mentions, self.store()?, project_id, text).await
    }

    /// The scenes of the project that name an entry.
    pub async fn entry_scenes(&self, project_id: i64, entry_id: i64) -> Result<Vec<crate::bible::SceneMention>> {
        crate::bible::entry_scenes(&self.mentions, self.store()?, project_id, entry_id).await
    }

    /// Checks a scene against the bible and earlier synopses, on the on-device model or a panel.
    pub async fn check_continuity(
        &self,
        id: &str,
        params: &crate::continuity::ContinuityParams,
        on_generation: EventSink,
        on_fusion: FusionSink,
    ) -> Result<crate::continuity::ContinuityReport> {
        let builder = if params.members.is_empty() { None } else { Some(self.panel_builder().await?) };
        let operation = self.operations.begin(id);
        crate::continuity::check(&self.model, self.store()?, builder.as_ref(), params, operation.token(), on_generation, on_fusion).await
    }

    // --- the manuscript ----------------------------------------------------------------------------

    /// Exports a project, or one part or chapter of it, to a file the user chose.
    pub async fn export_project(&self, project_id: i64, node: Option<i64>, format: atelier_manuscript::Format, path: &std::path::Path) -> Result<u64> {
        crate::manuscript::export_to_file(self.store()?, project_id, node, format, path).await
    }

    /// Reads a file the user picked or dropped into a preview of the project it would become.
    pub async fn preview_import(&self, path: &str) -> Result<crate::manuscript::ImportPreview> {
        let path = self.dropped_path(path).await?;
        crate::manuscript::preview_import(&self.imports, &path).await
    }

    /// Creates the project a preview showed.
    pub async fn accept_import(&self, token: &str, title: Option<&str>, kind: Option<atelier_store::ProjectKind>) -> Result<atelier_store::Project> {
        crate::manuscript::accept_import(self.store()?, &self.imports, token, title, kind).await
    }

    /// A revision beside the scene's text now, paragraph by paragraph (words marked where a paragraph
    /// changed).
    pub async fn revision_diff(&self, revision_id: i64) -> Result<Vec<atelier_manuscript::DiffRow>> {
        let store = self.store()?;
        let revision = store.documents().revision(revision_id).await?;
        let current = store.documents().get(revision.document_id).await?;
        Ok(tokio::task::spawn_blocking(move || atelier_manuscript::side_by_side(&revision.body, &current.body))
            .await
            .map_err(|e| StudioError::Internal(e.to_string()))?)
    }

    /// A free prompt or chat turn, recorded in History.
    pub async fn generate(&self, id: &str, spec: GenerationSpec, document_id: Option<i64>, on_event: EventSink) -> Result<Generation> {
        let operation = self.operations.begin(id);
        generation::generate(&self.model, self.library.as_ref().ok(), spec, document_id, operation.token(), on_event).await
    }

    /// Runs a recorded generation again: same inputs, sampling and seed.
    pub async fn rerun(&self, id: &str, run_id: i64, on_event: EventSink) -> Result<Generation> {
        let operation = self.operations.begin(id);
        generation::rerun(&self.model, self.store()?, run_id, operation.token(), on_event).await
    }

    // --- fusion ------------------------------------------------------------------------------------

    /// Seats from the presets and the library's providers, with the user's prices.
    pub async fn panel_builder(&self) -> Result<PanelBuilder> {
        providers::panel_builder(self.store()?, Arc::clone(&self.keys), self.client.clone(), self.model.engine_now(), Arc::clone(&self.prices)).await
    }

    pub async fn estimate_fusion(&self, params: &FusionParams) -> Result<CostEstimate> {
        crate::fusion::estimate(&self.model, self.library.as_ref().ok(), &self.panel_builder().await?, params).await
    }

    pub async fn fuse(&self, id: &str, params: &FusionParams, on_event: FusionSink) -> Result<FusionResult> {
        let builder = self.panel_builder().await?;
        let operation = self.operations.begin(id);
        crate::fusion::fuse(&self.model, Some(self.store()?), &builder, params, operation.token(), on_event).await
    }

    // --- providers and privacy ---------------------------------------------------------------------

    pub async fn providers(&self) -> Result<ProvidersView> {
        Ok(ProvidersView { providers: providers::list(self.store()?, self.keys.as_ref()).await?, presets: presets() })
    }

    pub async fn test_provider(&self, provider: &str, model: &str) -> Result<String> {
        providers::test(&self.panel_builder().await?, provider, model).await
    }

    pub async fn fetch_prices(&self, provider: &str) -> Result<usize> {
        providers::fetch_prices(self.store()?, Arc::clone(&self.keys), self.client.clone(), &self.prices, provider).await
    }

    pub async fn privacy_status(&self) -> Result<PrivacyStatus> {
        let offline = self.client.is_offline();
        let (cloud_models, cloud_providers) = providers::usable_cloud(self.store()?, self.keys.as_ref()).await?;
        Ok(PrivacyStatus { offline, cloud_models: if offline { 0 } else { cloud_models }, cloud_providers })
    }

    pub async fn set_offline(&self, offline: bool) -> Result<PrivacyStatus> {
        self.client.set_offline(offline);
        self.offline_setting.save(self.library.as_ref().ok(), offline).await?;
        self.privacy_status().await
    }

    /// The panel the writer last set up (the default one before any).
    pub async fn panel_choice(&self) -> Result<crate::panel_choice::PanelChoice> {
        let stored = self.store()?.settings().get::<serde_json::Value>(crate::panel_choice::SETTING).await?;
        Ok(crate::panel_choice::PanelChoice::from_setting(stored))
    }

    pub async fn save_panel_choice(&self, choice: &crate::panel_choice::PanelChoice) -> Result<()> {
        choice.check()?;
        Ok(self.store()?.settings().set(crate::panel_choice::SETTING, choice).await?)
    }

    pub async fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        if !SETTINGS.contains(&key) {
            return Err(StudioError::Invalid(format!("unknown setting `{key}`")));
        }
        crate::limits::setting(key, value)?;
        Ok(self.store()?.settings().set(key, value).await?)
    }

    // --- the model library -------------------------------------------------------------------------

    /// A GGUF the user picked or dropped, checked and added to the library.
    pub async fn import_model(&self, path: &std::path::Path) -> Result<atelier_store::ModelRecord> {
        crate::register(self.store()?, path, None, None).await
    }

    /// A path the window saw dropped (its drop event may arrive a moment after the webview's copy).
    pub async fn dropped_path(&self, path: &str) -> Result<PathBuf> {
        for _ in 0..20 {
            if let Ok(path) = self.picked.check(path) {
                return Ok(path);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.picked.check(path)
    }

    /// Downloads a GGUF into the models folder (resume, checks before the file is moved into place);
    /// cancelling pauses, keeping the partial file.
    pub async fn download_model(
        &self,
        id: &str,
        url: String,
        sha256: Option<String>,
        on_progress: impl FnMut(crate::DownloadProgress),
    ) -> Result<atelier_store::ModelRecord> {
        let request = crate::Download::new(url, models_dir()?).sha256(sha256);
        let operation = self.operations.begin(id);
        crate::download(&self.client, self.store()?, &request, &operation.token(), on_progress).await
    }

    // --- the model catalog -------------------------------------------------------------------------

    /// The catalog judged for this machine, with what is installed and the last measured download speed.
    pub async fn catalog(&self) -> Result<crate::catalog::CatalogView> {
        crate::catalog::current(self.store()?, &models_dir()?).await
    }

    fn download_context(&self) -> Result<crate::downloads::DownloadContext> {
        Ok(crate::downloads::DownloadContext { client: self.client.clone(), store: self.store()?.clone(), host: Arc::clone(&self.model), dir: models_dir()?, mirror: crate::downloads::mirror_from_env() })
    }

    /// Starts downloading a catalog model in the background; with `make_default` it becomes the default
    /// model, and is loaded, once verified.
    pub async fn start_catalog_download(&self, entry_id: &str, make_default: bool) -> Result<crate::downloads::DownloadState> {
        if self.client.is_offline() {
            return Err(StudioError::Offline);
        }
        self.downloads.start(self.download_context()?, entry_id, make_default).await
    }

    /// Pauses a catalog download; what arrived is kept for a resume.
    pub async fn pause_catalog_download(&self, entry_id: &str) -> Result<bool> {
        Ok(self.downloads.pause(self.store()?, entry_id).await)
    }

    /// Resumes the catalog downloads an earlier run left unfinished (the app calls this at start-up).
    pub async fn resume_downloads(&self) {
        if let Ok(ctx) = self.download_context() {
            self.downloads.resume_pending(ctx).await;
        }
    }
}


/// A poisoned lock only means another thread panicked while holding it; the map is still whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
