//! Commands over the library: documents and revisions, chats, history, search, export, backup.

use atelier_store::{
    Conversation, Document, DocumentSummary, Message, Revision, Run, RunFilter, RunWithMembers, SearchHit,
};
use tauri::{AppHandle, State};

use crate::dialogs;
use crate::state::{AppState, CmdResult};

#[tauri::command]
#[specta::specta]
pub async fn list_documents(state: State<'_, AppState>) -> CmdResult<Vec<DocumentSummary>> {
    Ok(state.store()?.documents().list().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_document(state: State<'_, AppState>, title: String, body: Option<String>) -> CmdResult<Document> {
    Ok(state.store()?.documents().create(&title, body.as_deref().unwrap_or("")).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_document(state: State<'_, AppState>, id: i64) -> CmdResult<Document> {
    Ok(state.store()?.documents().get(id).await?)
}

/// Autosave (and explicit saves: `reason` "manual").
#[tauri::command]
#[specta::specta]
pub async fn save_document(state: State<'_, AppState>, id: i64, title: String, body: String, reason: Option<String>) -> CmdResult<Document> {
    Ok(state.store()?.documents().save(id, &title, &body, reason.as_deref().unwrap_or("autosave")).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_document(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    Ok(atelier_studio::trash::delete(state.store()?, id, atelier_studio::trash::UNDO_WINDOW).await?)
}

/// Undo of a delete.
#[tauri::command]
#[specta::specta]
pub async fn restore_document(state: State<'_, AppState>, id: i64) -> CmdResult<Document> {
    Ok(state.store()?.documents().restore(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_revisions(state: State<'_, AppState>, document_id: i64) -> CmdResult<Vec<Revision>> {
    Ok(state.store()?.documents().revisions(document_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_revision(state: State<'_, AppState>, revision_id: i64) -> CmdResult<Document> {
    Ok(state.store()?.documents().restore_revision(revision_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_conversations(state: State<'_, AppState>, document_id: Option<i64>) -> CmdResult<Vec<Conversation>> {
    Ok(state.store()?.conversations().list(document_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_conversation(state: State<'_, AppState>, document_id: Option<i64>, title: String) -> CmdResult<Conversation> {
    Ok(state.store()?.conversations().create(document_id, &title).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_messages(state: State<'_, AppState>, conversation_id: i64) -> CmdResult<Vec<Message>> {
    Ok(state.store()?.conversations().messages(conversation_id).await?)
}

/// Saves a chat message (the user's, before the model is asked; the reply, once it is complete).
#[tauri::command]
#[specta::specta]
pub async fn add_message(state: State<'_, AppState>, conversation_id: i64, role: String, content: String, run_id: Option<i64>) -> CmdResult<Message> {
    Ok(state.store()?.conversations().add_message(conversation_id, &role, &content, run_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_runs(state: State<'_, AppState>, filter: Option<RunFilter>, limit: Option<i64>, offset: Option<i64>) -> CmdResult<Vec<Run>> {
    Ok(state.store()?.runs().list(&filter.unwrap_or_default(), limit.unwrap_or(50), offset.unwrap_or(0)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_run(state: State<'_, AppState>, id: i64) -> CmdResult<RunWithMembers> {
    Ok(state.store()?.runs().get(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_run(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    Ok(state.store()?.runs().delete(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn search(state: State<'_, AppState>, query: String, limit: Option<i64>, offset: Option<i64>) -> CmdResult<Vec<SearchHit>> {
    Ok(state.store()?.search(&query, limit.unwrap_or(30), offset.unwrap_or(0)).await?)
}

/// The text of an export (`what`: run, document, conversation; `format`: md, json).
#[tauri::command]
#[specta::specta]
pub async fn export_text(state: State<'_, AppState>, what: String, id: i64, format: String) -> CmdResult<String> {
    Ok(atelier_studio::export::text(state.store()?, &what, id, &format).await?)
}

/// Writes an export to a file the user picks in a save dialog opened here; `None` if they cancel.
#[tauri::command]
#[specta::specta]
pub async fn export_to_file(app: AppHandle, state: State<'_, AppState>, what: String, id: i64, format: String) -> CmdResult<Option<String>> {
    let (name, kind) = atelier_studio::export::suggested_name(&what, id, &format)?;
    let Some(path) = dialogs::save(&app, &name, (kind.label(), &[kind.extension()])).await else { return Ok(None) };
    atelier_studio::export::to_file(state.store()?, &what, id, &format, &path).await?;
    Ok(Some(path.to_string_lossy().into_owned()))
}

/// A consistent copy of the whole library, taken while the app runs, to a file picked in a dialog.
#[tauri::command]
#[specta::specta]
pub async fn backup_library(app: AppHandle, state: State<'_, AppState>) -> CmdResult<Option<String>> {
    let Some(path) = dialogs::save(&app, "atelier-library-backup.sqlite3", ("SQLite library", &["sqlite3"])).await else { return Ok(None) };
    state.store()?.backup(&path).await?;
    Ok(Some(path.to_string_lossy().into_owned()))
}
