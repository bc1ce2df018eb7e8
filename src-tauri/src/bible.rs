//! Commands over the story bible, the names it finds in a scene, the context a run will read, the
//! chat in context and the continuity check.

use std::sync::Arc;

use atelier_engine::{Generation, Prepared};
use atelier_fusion::events::FusionEvent;
use atelier_store::{BibleEntry, EntryKind, EntryPatch, NewEntry};
use atelier_studio::bible::mentions::Mention;
use atelier_studio::bible::SceneMention;
use atelier_studio::context::ContextView;
use atelier_studio::continuity::{ContinuityParams, ContinuityReport};
use atelier_studio::fusion::FusionParams;
use atelier_studio::generation::{ChatParams, ContextFor};
use atelier_studio::GenerationEvent;
use tauri::ipc::Channel;
use tauri::State;

use crate::engine::sink;
use crate::state::{AppState, CmdResult};

#[tauri::command]
#[specta::specta]
pub async fn list_bible(state: State<'_, AppState>, project_id: i64) -> CmdResult<Vec<BibleEntry>> {
    Ok(state.store()?.bible().list(project_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_bible_entry(state: State<'_, AppState>, entry: NewEntry) -> CmdResult<BibleEntry> {
    Ok(state.store()?.bible().create(&entry).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn update_bible_entry(state: State<'_, AppState>, id: i64, patch: EntryPatch) -> CmdResult<BibleEntry> {
    Ok(state.store()?.bible().update(id, &patch).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_bible_entry(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    Ok(state.store()?.bible().delete(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_bible_entry(state: State<'_, AppState>, id: i64) -> CmdResult<BibleEntry> {
    Ok(state.store()?.bible().restore(id).await?)
}

/// A new entry's form filled from the selected text.
#[tauri::command]
#[specta::specta]
pub fn draft_bible_entry(project_id: i64, selection: String, kind: Option<EntryKind>) -> NewEntry {
    atelier_studio::bible::draft_from_selection(project_id, &selection, kind)
}

#[tauri::command]
#[specta::specta]
pub async fn find_mentions(state: State<'_, AppState>, project_id: i64, text: String) -> CmdResult<Vec<Mention>> {
    Ok(state.find_mentions(project_id, &text).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn entry_scenes(state: State<'_, AppState>, project_id: i64, entry_id: i64) -> CmdResult<Vec<SceneMention>> {
    Ok(state.entry_scenes(project_id, entry_id).await?)
}

/// What the model will read for a writing action or a chat turn, item by item.
#[tauri::command]
#[specta::specta]
pub async fn preview_context(state: State<'_, AppState>, target: ContextFor) -> CmdResult<ContextView> {
    Ok(state.preview_context(&target).await?)
}

/// Computes the run the writer is setting up into the model's cache in the background, so pressing
/// its button computes only what changed; `null` where nothing was done.
#[tauri::command]
#[specta::specta]
pub async fn prepare_context(state: State<'_, AppState>, target: ContextFor) -> CmdResult<Option<Prepared>> {
    Ok(state.prepare_context(&target).await?)
}

/// What a fusion's members will read; `null` for a run that is not about a scene.
#[tauri::command]
#[specta::specta]
pub async fn preview_fusion_context(state: State<'_, AppState>, params: FusionParams) -> CmdResult<Option<ContextView>> {
    Ok(state.preview_fusion_context(&params).await?)
}

/// A chat turn about the open scene, in context.
#[tauri::command]
#[specta::specta]
pub async fn chat(state: State<'_, AppState>, id: String, params: ChatParams, on_event: Channel<GenerationEvent>) -> CmdResult<Generation> {
    Ok(state.chat(&id, &params, sink(on_event)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn check_continuity(
    state: State<'_, AppState>,
    id: String,
    params: ContinuityParams,
    on_event: Channel<GenerationEvent>,
    on_fusion: Channel<FusionEvent>,
) -> CmdResult<ContinuityReport> {
    Ok(state.check_continuity(&id, &params, sink(on_event), Arc::new(move |event| drop(on_fusion.send(event)))).await?)
}
