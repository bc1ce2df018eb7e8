//! Commands for the on-device model: status, writing actions and generations, the model library.

use std::sync::Arc;

use atelier_engine::Generation;
use atelier_store::ModelRecord;
use atelier_studio::models::{DeviceOptions, ModelEntry};
use atelier_studio::generation::{GenerateParams, WriteParams};
use atelier_studio::{DownloadProgress, GenerationEvent, ModelStatus};
use tauri::ipc::Channel;
use tauri::State;

use crate::state::{AppState, CmdResult};

#[tauri::command]
#[specta::specta]
pub fn watch_model_status(state: State<'_, AppState>, on_status: Channel<ModelStatus>) {
    // A watcher whose window has gone fails to send and is forgotten.
    state.model.watch(Box::new(move |status| on_status.send(status.clone()).is_ok()));
}

/// A generation's events, sent to the UI's channel.
pub(crate) fn sink(channel: Channel<GenerationEvent>) -> atelier_studio::generation::EventSink {
    Arc::new(move |event| {
        let _ = channel.send(event);
    })
}

/// A writing action (Continue, Rewrite…) on the writer's text; the reply streams to `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn write(state: State<'_, AppState>, id: String, params: WriteParams, on_event: Channel<GenerationEvent>) -> CmdResult<Generation> {
    Ok(state.write(&id, &params.input, params.document_id, params.seed, sink(on_event)).await?)
}

/// A free prompt or a chat turn.
#[tauri::command]
#[specta::specta]
pub async fn generate(state: State<'_, AppState>, id: String, params: GenerateParams, on_event: Channel<GenerationEvent>) -> CmdResult<Generation> {
    let document_id = params.document_id;
    Ok(state.generate(&id, params.spec()?, document_id, sink(on_event)).await?)
}

/// History's Re-run: the recorded generation again, same inputs and seed.
#[tauri::command]
#[specta::specta]
pub async fn rerun(state: State<'_, AppState>, id: String, run_id: i64, on_event: Channel<GenerationEvent>) -> CmdResult<Generation> {
    Ok(state.rerun(&id, run_id, sink(on_event)).await?)
}

#[tauri::command]
#[specta::specta]
pub fn cancel(state: State<'_, AppState>, id: String) -> bool {
    state.operations.cancel(&id)
}

#[tauri::command]
#[specta::specta]
pub async fn list_models(state: State<'_, AppState>) -> CmdResult<Vec<ModelEntry>> {
    Ok(atelier_studio::models::list(state.store()?, &state.model).await?)
}

/// Adds a GGUF or an OpenVINO folder: one dropped on the window, or — without a path — one picked in a
/// dialog opened here (a folder by its openvino_model.xml).
#[tauri::command]
#[specta::specta]
pub async fn import_model(app: tauri::AppHandle, state: State<'_, AppState>, path: Option<String>) -> CmdResult<Option<ModelRecord>> {
    let path = match path {
        Some(path) => state.dropped_path(&path).await?,
        None => match crate::dialogs::open(&app, ("Model (GGUF file, or an OpenVINO folder's openvino_model.xml)", &["gguf", "xml"])).await {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    Ok(Some(state.import_model(&path).await?))
}

#[tauri::command]
#[specta::specta]
pub async fn set_default_model(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    Ok(state.store()?.models().set_default(id).await?)
}

/// Switches the on-device model (loading happens off the UI thread; status updates follow).
#[tauri::command]
#[specta::specta]
pub async fn load_model(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    Ok(atelier_studio::models::load(state.store()?, &state.model, id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_model(state: State<'_, AppState>, id: i64, delete_file: bool) -> CmdResult<()> {
    Ok(atelier_studio::models::delete(state.store()?, &state.model, &atelier_studio::downloads::models_dir()?, id, delete_file).await?)
}

#[tauri::command]
#[specta::specta]
pub fn device_options() -> DeviceOptions {
    atelier_studio::models::device_options()
}

#[tauri::command]
#[specta::specta]
pub async fn download_model(
    state: State<'_, AppState>,
    id: String,
    url: String,
    sha256: Option<String>,
    on_event: Channel<DownloadProgress>,
) -> CmdResult<ModelRecord> {
    Ok(state.download_model(&id, url, sha256, |progress| drop(on_event.send(progress))).await?)
}
