//! Commands for cloud providers, keys, fusion runs, privacy and settings.

use std::sync::Arc;

use atelier_fusion::budget::CostEstimate;
use atelier_fusion::events::FusionEvent;
use atelier_keys::SecretString;
use atelier_store::{LedgerEntry, LedgerTotals, NewPick, Pick, ProviderRecord};
use atelier_studio::fusion::{FusionParams, FusionResult};
use atelier_studio::panel_choice::PanelChoice;
use atelier_studio::providers::{self, ProviderInput};
use atelier_studio::taste::{self, Leaderboard};
use atelier_studio::{PrivacyStatus, ProvidersView};
use tauri::ipc::Channel;
use tauri::State;

use crate::state::{AppState, CmdResult};

#[tauri::command]
#[specta::specta]
pub async fn list_providers(state: State<'_, AppState>) -> CmdResult<ProvidersView> {
    Ok(state.providers().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_provider(state: State<'_, AppState>, provider: ProviderInput) -> CmdResult<ProviderRecord> {
    Ok(providers::save(state.store()?, &provider).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_provider(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(providers::delete(state.store()?, state.keys.as_ref(), &id).await?)
}

/// Stores a key in the OS keychain for the provider's current address. The key never comes back.
#[tauri::command]
#[specta::specta]
pub async fn set_key(state: State<'_, AppState>, provider: String, key: String) -> CmdResult<bool> {
    providers::set_key(state.store().ok(), state.keys.as_ref(), &provider, SecretString::from(key)).await?;
    Ok(true)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_key(state: State<'_, AppState>, provider: String) -> CmdResult<bool> {
    Ok(providers::delete_key(state.store().ok(), state.keys.as_ref(), &provider).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn key_status(state: State<'_, AppState>, provider: String) -> CmdResult<bool> {
    Ok(providers::has_key(state.store().ok(), state.keys.as_ref(), &provider).await?)
}

/// Sends a one-line request to check a provider's URL, key and model.
#[tauri::command]
#[specta::specta]
pub async fn test_provider(state: State<'_, AppState>, provider: String, model: String) -> CmdResult<String> {
    Ok(state.test_provider(&provider, &model).await?)
}

/// Refreshes prices from the provider's model list (OpenRouter publishes them).
#[tauri::command]
#[specta::specta]
pub async fn fetch_prices(state: State<'_, AppState>, provider: String) -> CmdResult<usize> {
    Ok(state.fetch_prices(&provider).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn estimate_fusion(state: State<'_, AppState>, params: FusionParams) -> CmdResult<CostEstimate> {
    Ok(state.estimate_fusion(&params).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn run_fusion(state: State<'_, AppState>, id: String, params: FusionParams, on_event: Channel<FusionEvent>) -> CmdResult<FusionResult> {
    Ok(state.fuse(&id, &params, Arc::new(move |event| drop(on_event.send(event)))).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn privacy_status(state: State<'_, AppState>) -> CmdResult<PrivacyStatus> {
    Ok(state.privacy_status().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_offline(state: State<'_, AppState>, offline: bool) -> CmdResult<PrivacyStatus> {
    Ok(state.set_offline(offline).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn ledger(state: State<'_, AppState>, limit: Option<i64>, offset: Option<i64>) -> CmdResult<Vec<LedgerEntry>> {
    Ok(state.store()?.ledger().list(limit.unwrap_or(100), offset.unwrap_or(0)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn ledger_totals(state: State<'_, AppState>, since: Option<i64>) -> CmdResult<LedgerTotals> {
    Ok(state.store()?.ledger().totals(since).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> CmdResult<serde_json::Map<String, serde_json::Value>> {
    Ok(state.store()?.settings().all().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_setting(state: State<'_, AppState>, key: String, value: serde_json::Value) -> CmdResult<()> {
    Ok(state.set_setting(&key, &value).await?)
}

/// The panel the writer last set up (the Fusion page and the Assist panel's "Ask the panel").
#[tauri::command]
#[specta::specta]
pub async fn panel_choice(state: State<'_, AppState>) -> CmdResult<PanelChoice> {
    Ok(state.panel_choice().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_panel_choice(state: State<'_, AppState>, choice: PanelChoice) -> CmdResult<()> {
    Ok(state.save_panel_choice(&choice).await?)
}

/// Keeps the writer's blind pick between two answers.
#[tauri::command]
#[specta::specta]
pub async fn record_pick(state: State<'_, AppState>, pick: NewPick) -> CmdResult<Pick> {
    Ok(taste::record(state.store()?, &pick).await?)
}

/// Models and settings ranked by the writer's picks in a project (`None`: outside any project).
#[tauri::command]
#[specta::specta]
pub async fn taste_leaderboard(state: State<'_, AppState>, project_id: Option<i64>) -> CmdResult<Leaderboard> {
    Ok(taste::leaderboard(state.store()?, project_id).await?)
}
