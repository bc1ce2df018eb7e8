//! Commands for the on-device model: status, generation, the model list, import and download.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use atelier_engine::{
    CancelToken, ChatMessage, DeviceChoice, GenerateRequest, Generation, LoadOptions, Prompt, SamplingParams, StopReason,
};
use atelier_store::{MemberFinish, MemberRole, ModelRecord, NewMember, NewRun, RunFinish, RunKind, RunStatus};
use atelier_studio::{Download, DownloadProgress, StudioError};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use crate::state::{AppState, CmdResult, CommandError, ModelStatus};

/// Load settings the user chose (Settings → Models), with defaults.
pub async fn load_options(state: &AppState) -> LoadOptions {
    let mut options = LoadOptions::default();
    if let Ok(store) = state.store() {
        let settings = store.settings();
        if let Ok(Some(device)) = settings.get::<String>("device").await {
            options.device = device.parse().unwrap_or_default();
        }
        // Bounded again here: a library written by an older version (or by hand) may hold anything.
        options.threads = settings.get::<usize>("threads").await.ok().flatten().and_then(|t| atelier_studio::limits::threads(t).ok());
        options.context_length = settings.get::<usize>("context_length").await.ok().flatten().and_then(|c| atelier_studio::limits::context_length(c).ok());
    }
    options
}

/// The model to load at start-up: ATELIER_MODEL, else the library's default, else the embedded one.
pub async fn startup_model(state: &AppState) -> Result<PathBuf, atelier_engine::EngineError> {
    if let Some(path) = std::env::var_os("ATELIER_MODEL").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    if let Ok(store) = state.store() {
        if let Ok(Some(record)) = store.models().default_model().await {
            if Path::new(&record.path).is_file() {
                return Ok(PathBuf::from(record.path));
            }
        }
        // First run: the embedded model becomes the library's default.
        if let Ok(path) = atelier_engine::find_default_model() {
            if let Ok(record) = register(store, &path, None).await {
                if store.models().default_model().await.ok().flatten().is_none() {
                    let _ = store.models().set_default(record.id).await;
                }
            }
            return Ok(path);
        }
    }
    atelier_engine::find_default_model()
}

/// Validates a GGUF and records it in the library.
async fn register(store: &atelier_store::Store, path: &Path, source_url: Option<&str>) -> CmdResult<ModelRecord> {
    atelier_studio::register(store, path, source_url, None).await.map_err(studio_error)
}

fn studio_error(err: StudioError) -> CommandError {
    CommandError::new(err.kind(), err.to_string())
}

#[tauri::command]
pub fn watch_model_status(state: State<'_, AppState>, on_status: Channel<ModelStatus>) {
    // A watcher whose window has gone fails to send and is forgotten.
    state.model.watch(Box::new(move |status| on_status.send(status.clone()).is_ok()));
}

/// Streamed while a reply is generated.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum GenerationEvent {
    Started { run_id: Option<i64>, prompt_tokens: usize },
    Text { text: String, completion_tokens: usize, tokens_per_second: f64, time_to_first_token_ms: f64 },
    Finished(Generation),
}

#[derive(Debug, Clone, Deserialize)]
pub struct GenerateParams {
    pub prompt: String,
    pub system: Option<String>,
    /// Earlier turns of a chat, oldest first (user/assistant alternating).
    #[serde(default)]
    pub history: Vec<ChatMessage>,
    pub document_id: Option<i64>,
    /// "continue", "rewrite", "chat"…: kept in the history.
    pub action: Option<String>,
    pub max_tokens: Option<usize>,
    pub temperature: Option<f32>,
    pub seed: Option<u64>,
}

#[tauri::command]
pub async fn generate(
    state: State<'_, AppState>,
    id: String,
    params: GenerateParams,
    on_event: Channel<GenerationEvent>,
) -> CmdResult<Generation> {
    if params.prompt.trim().is_empty() {
        return Err(CommandError::new("empty_prompt", "Write something for the model to answer."));
    }
    let cancel = state.begin(&id);
    let result = generate_inner(&state, params, &on_event, cancel).await;
    state.end(&id);
    result
}

async fn generate_inner(
    state: &AppState,
    params: GenerateParams,
    on_event: &Channel<GenerationEvent>,
    cancel: tokio_util::sync::CancellationToken,
) -> CmdResult<Generation> {
    let max_tokens = atelier_studio::limits::max_tokens(params.max_tokens.unwrap_or(512))?;
    let temperature = params.temperature.map(atelier_studio::limits::temperature).transpose()?;
    // The user's text is in the library before the model sees it.
    let store = state.store.as_ref().ok();
    let mut run = None;
    if let Some(store) = store {
        let run_id = store
            .runs()
            .start(RunKind::Generate, &NewRun { document_id: params.document_id, action: params.action.clone(), prompt: params.prompt.clone(), ..Default::default() })
            .await?;
        run = Some(run_id);
    }
    let engine = match state.model.engine().await.map_err(CommandError::from) {
        Ok(engine) => engine,
        Err(e) => {
            if let (Some(store), Some(run_id)) = (store, run) {
                store.runs().finish(run_id, &RunFinish::failed(e.message.clone())).await?;
            }
            return Err(e);
        }
    };
    let member = match (store, run) {
        (Some(store), Some(run_id)) => Some(
            store
                .runs()
                .add_member(run_id, &NewMember { position: 0, label: "A".into(), role: MemberRole::Member, round: 0, provider: "local".into(), model: engine.name().to_string() })
                .await?,
        ),
        _ => None,
    };
    let mut messages = Vec::new();
    if let Some(system) = params.system.filter(|s| !s.trim().is_empty()) {
        messages.push(ChatMessage::system(system));
    }
    messages.extend(params.history);
    messages.push(ChatMessage::user(params.prompt));
    let defaults = SamplingParams::default();
    let request = GenerateRequest {
        prompt: Prompt::Chat(messages),
        max_tokens,
        sampling: SamplingParams {
            temperature: temperature.unwrap_or(defaults.temperature),
            seed: params.seed.unwrap_or_else(rand::random),
            ..defaults
        },
        stop: Vec::new(),
    };

    let model = Arc::clone(engine.model());
    let guard = model.lock_owned().await;
    let stop = CancelToken::new();
    let watcher = {
        let (cancel, stop) = (cancel.clone(), stop.clone());
        tokio::spawn(async move {
            cancel.cancelled().await;
            stop.cancel();
        })
    };
    let channel = on_event.clone();
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        let mut model = guard;
        let prompt_tokens = model.prompt_tokens(&request.prompt).map(|t| t.len()).unwrap_or(0);
        let _ = channel.send(GenerationEvent::Started { run_id: run, prompt_tokens });
        model.generate(&request, &stop, &mut |chunk| {
            let _ = channel.send(GenerationEvent::Text {
                text: chunk.text.to_string(),
                completion_tokens: chunk.completion_tokens,
                tokens_per_second: chunk.tokens_per_second,
                time_to_first_token_ms: chunk.time_to_first_token_ms,
            });
        })
    })
    .await
    .map_err(|e| CommandError::new("internal", format!("generation task failed: {e}")))?;
    watcher.abort();

    if let (Some(store), Some(run_id), Some(member)) = (store, run, member) {
        match &result {
            Ok(g) => {
                let status = if g.stop_reason == StopReason::Cancelled { RunStatus::Cancelled } else { RunStatus::Completed };
                let (p, c) = (g.prompt_tokens as i64, g.completion_tokens as i64);
                store.runs().append_output(member, &g.text).await?;
                let finish = MemberFinish {
                    prompt_tokens: Some(p),
                    completion_tokens: Some(c),
                    cost_usd: Some(0.0),
                    latency_ms: Some(started.elapsed().as_millis() as i64),
                    first_token_ms: Some(g.timings.time_to_first_token_ms as i64),
                    ..MemberFinish::new(status)
                };
                store.runs().finish_member(member, &finish).await?;
                store.runs().finish(run_id, &RunFinish { final_text: Some(g.text.clone()), prompt_tokens: p, completion_tokens: c, ..RunFinish::new(status) }).await?;
            }
            Err(e) => {
                let message = e.to_string();
                store.runs().finish_member(member, &MemberFinish::failed(message.clone())).await?;
                store.runs().finish(run_id, &RunFinish::failed(message)).await?;
            }
        }
    }
    let generation = result?;
    let _ = on_event.send(GenerationEvent::Finished(generation.clone()));
    Ok(generation)
}

#[tauri::command]
pub fn cancel(state: State<'_, AppState>, id: String) -> bool {
    state.cancel(&id)
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    #[serde(flatten)]
    pub record: ModelRecord,
    pub loaded: bool,
    pub missing: bool,
}

#[tauri::command]
pub async fn list_models(state: State<'_, AppState>) -> CmdResult<Vec<ModelEntry>> {
    let loaded = state.model.status().info.map(|i| i.path.to_string_lossy().into_owned());
    Ok(state
        .store()?
        .models()
        .list()
        .await?
        .into_iter()
        .map(|record| ModelEntry { loaded: loaded.as_deref() == Some(record.path.as_str()), missing: !Path::new(&record.path).is_file(), record })
        .collect())
}

/// Adds a GGUF from disk after checking it is one Atelier can run.
#[tauri::command]
pub async fn import_model(app: tauri::AppHandle, state: State<'_, AppState>, path: Option<String>) -> CmdResult<Option<ModelRecord>> {
    let path = match path {
        // A drop: the window saw it before the webview asked (or is about to: the two race).
        Some(path) => picked_soon(&state, &path).await?,
        None => match crate::dialogs::open(&app, ("GGUF model", &["gguf"])).await {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    Ok(Some(register(state.store()?, &path, None).await?))
}

/// A dropped path, once the window's drop event has recorded it (it may arrive a moment after the
/// webview's own copy of the event).
async fn picked_soon(state: &AppState, path: &str) -> CmdResult<PathBuf> {
    for _ in 0..20 {
        if let Ok(path) = state.picked.check(path) {
            return Ok(path);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    Ok(state.picked.check(path)?)
}

#[tauri::command]
pub async fn set_default_model(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    Ok(state.store()?.models().set_default(id).await?)
}

/// Switches the on-device model (loading happens off the UI thread; status updates follow).
#[tauri::command]
pub async fn load_model(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    let store = state.store()?;
    let record = store.models().list().await?.into_iter().find(|m| m.id == id).ok_or_else(|| CommandError::new("not_found", "no such model"))?;
    let options = load_options(&state).await;
    let host = Arc::clone(&state.model);
    tokio::task::spawn_blocking(move || host.load(Ok(PathBuf::from(record.path)), &options))
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))??;
    Ok(())
}

/// Forgets a model; with `delete_file` also removes the file (never the loaded one).
#[tauri::command]
pub async fn delete_model(state: State<'_, AppState>, id: i64, delete_file: bool) -> CmdResult<()> {
    let store = state.store()?;
    let loaded = state.model.status().info.map(|i| i.path.to_string_lossy().into_owned());
    let record = store.models().list().await?.into_iter().find(|m| m.id == id).ok_or_else(|| CommandError::new("not_found", "no such model"))?;
    if loaded.as_deref() == Some(record.path.as_str()) {
        return Err(CommandError::new("in_use", "This model is in use; load another model first."));
    }
    store.models().remove(id).await?;
    if delete_file {
        tokio::fs::remove_file(&record.path).await.map_err(|e| CommandError::new("io", format!("cannot delete {}: {e}", record.path)))?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceOptions {
    pub devices: Vec<DeviceOption>,
    pub cpu_threads: usize,
    pub cpu_kernels: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceOption {
    pub id: String,
    pub label: String,
    pub available: bool,
    pub note: Option<String>,
}

#[tauri::command]
pub fn device_options() -> DeviceOptions {
    let probe = |choice: DeviceChoice| choice.resolve().err().map(|e| e.to_string());
    let option = |id: &str, label: &str, choice: DeviceChoice| {
        let note = probe(choice);
        DeviceOption { id: id.into(), label: label.into(), available: note.is_none(), note }
    };
    DeviceOptions {
        devices: vec![
            option("auto", "Automatic", DeviceChoice::Auto),
            option("cpu", "CPU", DeviceChoice::Cpu),
            option("cuda", "NVIDIA GPU (CUDA)", DeviceChoice::Cuda),
            option("metal", "Apple GPU (Metal)", DeviceChoice::Metal),
            option("npu", "NPU", DeviceChoice::Npu),
        ],
        cpu_threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        cpu_kernels: atelier_engine::cpu::kernels().level.name().to_string(),
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum DownloadEvent {
    Progress { downloaded: u64, total: Option<u64>, bytes_per_second: f64, eta_seconds: Option<f64> },
    Verifying,
    Done(ModelRecord),
}

/// Downloads a GGUF into the models folder (atelier_studio::download: resume, checks before the file
/// is moved into place, never overwriting a model); cancelling pauses (the partial file stays).
#[tauri::command]
pub async fn download_model(
    state: State<'_, AppState>,
    id: String,
    url: String,
    sha256: Option<String>,
    on_event: Channel<DownloadEvent>,
) -> CmdResult<ModelRecord> {
    let cancel = state.begin(&id);
    let result = download(&state, url, sha256, &on_event, &cancel).await;
    state.end(&id);
    result
}

async fn download(
    state: &AppState,
    url: String,
    sha256: Option<String>,
    on_event: &Channel<DownloadEvent>,
    cancel: &tokio_util::sync::CancellationToken,
) -> CmdResult<ModelRecord> {
    let store = state.store()?;
    let dir = atelier_engine::default_model::user_models_dir().ok_or_else(|| CommandError::new("io", "no folder to keep models in"))?;
    let request = Download::new(url, dir).sha256(sha256);
    let record = atelier_studio::download(&state.client, store, &request, cancel, |progress| {
        let _ = on_event.send(match progress {
            DownloadProgress::Receiving { downloaded, total, bytes_per_second, eta_seconds } => {
                DownloadEvent::Progress { downloaded, total, bytes_per_second, eta_seconds }
            }
            DownloadProgress::Verifying => DownloadEvent::Verifying,
        });
    })
    .await
    .map_err(studio_error)?;
    let _ = on_event.send(DownloadEvent::Done(record.clone()));
    Ok(record)
}
