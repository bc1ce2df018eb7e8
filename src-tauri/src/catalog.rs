//! Commands for the model catalog: what fits this machine, and downloads that run in the background.

use atelier_studio::catalog::CatalogView;
use atelier_studio::downloads::DownloadState;
use tauri::ipc::Channel;
use tauri::State;

use crate::state::{AppState, CmdResult};

/// The catalog judged for this machine (memory, disk, GPUs, NPU), with what is installed.
#[tauri::command]
#[specta::specta]
pub async fn model_catalog(state: State<'_, AppState>) -> CmdResult<CatalogView> {
    Ok(state.catalog().await?)
}

/// Starts (or resumes) a catalog download in the background; progress goes to `watch_downloads`.
#[tauri::command]
#[specta::specta]
pub async fn start_catalog_download(state: State<'_, AppState>, entry_id: String, make_default: bool) -> CmdResult<DownloadState> {
    Ok(state.start_catalog_download(&entry_id, make_default).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn pause_catalog_download(state: State<'_, AppState>, entry_id: String) -> CmdResult<bool> {
    Ok(state.pause_catalog_download(&entry_id).await?)
}

#[tauri::command]
#[specta::specta]
pub fn watch_downloads(state: State<'_, AppState>, on_change: Channel<Vec<DownloadState>>) {
    // A watcher whose window has gone fails to send and is forgotten.
    state.downloads.watch(Box::new(move |states| on_change.send(states.to_vec()).is_ok()));
}
