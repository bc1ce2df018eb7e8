//! File dialogs opened from Rust: the paths they return are the only paths file commands act on (the
//! webview never hands the backend a path of its own choosing).

use std::path::PathBuf;

use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;

use crate::state::AppState;

/// A save dialog; `None` when the user cancels.
pub async fn save(app: &AppHandle, file_name: &str, filter: (&str, &[&str])) -> Option<PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_file_name(file_name).add_filter(filter.0, filter.1).save_file(move |path| {
        let _ = tx.send(path.and_then(|p| p.into_path().ok()));
    });
    remember(app, rx.await.ok().flatten())
}

/// An open dialog for one file; `None` when the user cancels.
pub async fn open(app: &AppHandle, filter: (&str, &[&str])) -> Option<PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().add_filter(filter.0, filter.1).pick_file(move |path| {
        let _ = tx.send(path.and_then(|p| p.into_path().ok()));
    });
    remember(app, rx.await.ok().flatten())
}

fn remember(app: &AppHandle, path: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(path) = &path {
        app.state::<AppState>().picked.allow(path);
    }
    path
}
