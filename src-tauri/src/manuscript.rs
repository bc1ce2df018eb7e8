//! Commands over projects: the binder, scene details, progress, export, import and scene history.

use atelier_manuscript::{DiffRow, Format, SourceAnswer, Suggestion};
use atelier_store::{BinderNode, DayProgress, NewNode, NewProject, NodePatch, Project, ProjectKind, ProjectPatch, ProjectSummary, ProjectTree, SceneText};
use atelier_studio::manuscript::ImportPreview;
use tauri::{AppHandle, State};

use crate::dialogs;
use crate::state::{AppState, CmdResult};

#[tauri::command]
#[specta::specta]
pub async fn list_projects(state: State<'_, AppState>) -> CmdResult<Vec<ProjectSummary>> {
    Ok(state.store()?.projects().list().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_project(state: State<'_, AppState>, project: NewProject) -> CmdResult<Project> {
    Ok(state.store()?.projects().create(&project).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn update_project(state: State<'_, AppState>, id: i64, patch: ProjectPatch) -> CmdResult<Project> {
    Ok(state.store()?.projects().update(id, &patch).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_project(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    Ok(state.store()?.projects().delete(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_project(state: State<'_, AppState>, id: i64) -> CmdResult<Project> {
    Ok(state.store()?.projects().restore(id).await?)
}

/// The project and its binder, without scene text.
#[tauri::command]
#[specta::specta]
pub async fn project_tree(state: State<'_, AppState>, id: i64) -> CmdResult<ProjectTree> {
    Ok(state.store()?.projects().tree(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn project_progress(state: State<'_, AppState>, id: i64, days: Option<i64>) -> CmdResult<Vec<DayProgress>> {
    Ok(state.store()?.projects().progress(id, days.unwrap_or(30)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn add_node(state: State<'_, AppState>, node: NewNode) -> CmdResult<BinderNode> {
    Ok(state.store()?.binder().add(&node).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn update_node(state: State<'_, AppState>, id: i64, patch: NodePatch) -> CmdResult<BinderNode> {
    Ok(state.store()?.binder().update(id, &patch).await?)
}

/// Moves (or reorders) a binder item: under `parent_id` (`null`: the top level) at `index`.
#[tauri::command]
#[specta::specta]
pub async fn move_node(state: State<'_, AppState>, id: i64, parent_id: Option<i64>, index: i64) -> CmdResult<BinderNode> {
    Ok(state.store()?.binder().move_to(id, parent_id, index).await?)
}

/// Moves a binder item and what is under it to the trash, restorable for the undo window.
#[tauri::command]
#[specta::specta]
pub async fn delete_node(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    Ok(atelier_studio::trash::delete_node(state.store()?, id, atelier_studio::trash::UNDO_WINDOW).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_node(state: State<'_, AppState>, id: i64) -> CmdResult<BinderNode> {
    Ok(state.store()?.binder().restore(id).await?)
}

/// The scenes under a chapter (or part), with their text: the chapter shown as one scrolling text.
#[tauri::command]
#[specta::specta]
pub async fn chapter_scenes(state: State<'_, AppState>, id: i64) -> CmdResult<Vec<SceneText>> {
    Ok(state.store()?.binder().scenes_under(id).await?)
}

/// Exports the project (or the part or chapter `node_id`) to a file picked in a save dialog opened
/// here; `None` if the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn export_project(app: AppHandle, state: State<'_, AppState>, project_id: i64, node_id: Option<i64>, format: Format) -> CmdResult<Option<String>> {
    let store = state.store()?;
    let title = match node_id {
        Some(node) => store.binder().get(node).await?.title,
        None => store.projects().get(project_id).await?.title,
    };
    let name = atelier_studio::manuscript::suggested_name(&title, format);
    let Some(path) = dialogs::save(&app, &name, (&format.to_string(), &[format.extension()])).await else { return Ok(None) };
    state.export_project(project_id, node_id, format, &path).await?;
    Ok(Some(path.to_string_lossy().into_owned()))
}

/// Reads a manuscript into a preview: a file dropped on the window, or — without a path — one picked in
/// a dialog opened here (`None` if the user cancels).
#[tauri::command]
#[specta::specta]
pub async fn import_manuscript(app: AppHandle, state: State<'_, AppState>, path: Option<String>) -> CmdResult<Option<ImportPreview>> {
    let path = match path {
        Some(path) => path,
        None => match dialogs::open(&app, ("Manuscripts", &["docx", "md", "markdown", "txt", "fountain"])).await {
            Some(path) => path.to_string_lossy().into_owned(),
            None => return Ok(None),
        },
    };
    Ok(Some(state.preview_import(&path).await?))
}

/// Creates the project an import preview showed.
#[tauri::command]
#[specta::specta]
pub async fn accept_import(state: State<'_, AppState>, token: String, title: Option<String>, kind: Option<ProjectKind>) -> CmdResult<Project> {
    Ok(state.accept_import(&token, title.as_deref(), kind).await?)
}

/// A revision beside the scene's text now.
#[tauri::command]
#[specta::specta]
pub async fn revision_diff(state: State<'_, AppState>, revision_id: i64) -> CmdResult<Vec<DiffRow>> {
    Ok(state.revision_diff(revision_id).await?)
}

/// A revised passage as suggestions against the original, each credited to the answers it came from.
#[tauri::command]
#[specta::specta]
pub fn suggest_changes(original: String, revised: String, answers: Vec<SourceAnswer>) -> Vec<Suggestion> {
    atelier_manuscript::suggestions(&original, &revised, &answers)
}
