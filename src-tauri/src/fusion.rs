//! Commands for cloud providers, keys, fusion runs, privacy and settings.

use std::sync::Arc;

use atelier_fusion::budget::CostEstimate;
use atelier_fusion::config::{presets, requires_key, MemberConfig, PanelBuilder, ProviderConfig};
use atelier_fusion::events::FusionEvent;
use atelier_fusion::local::LocalProvider;
use atelier_fusion::modes::{run, FusionOutcome, FusionRequest, Mode};
use atelier_fusion::panel::MemberSpec;
use atelier_fusion::persist::{RunRecorder, StoreLedger};
use atelier_fusion::provider::{ChatEvent, ChatMessage, ChatRequest};
use atelier_keys::SecretString;
use atelier_store::{LedgerEntry, LedgerTotals, NewRun, ProviderRecord, RunFinish, RunKind};
use atelier_studio::providers::{self, ProviderInput, ProviderView};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;

use crate::state::{AppState, CmdResult, CommandError};

/// Providers in the library, or the built-in presets the user has not added yet.
#[derive(Debug, Clone, Serialize)]
pub struct ProvidersView {
    pub providers: Vec<ProviderView>,
    pub presets: Vec<ProviderConfig>,
}

#[tauri::command]
pub async fn list_providers(state: State<'_, AppState>) -> CmdResult<ProvidersView> {
    Ok(ProvidersView { providers: providers::list(state.store()?, state.keys.as_ref()).await?, presets: presets() })
}

#[tauri::command]
pub async fn save_provider(state: State<'_, AppState>, provider: ProviderInput) -> CmdResult<ProviderRecord> {
    Ok(providers::save(state.store()?, &provider).await?)
}

#[tauri::command]
pub async fn delete_provider(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(providers::delete(state.store()?, state.keys.as_ref(), &id).await?)
}

/// Stores a key in the OS keychain for the provider's current address. The key never comes back.
#[tauri::command]
pub async fn set_key(state: State<'_, AppState>, provider: String, key: String) -> CmdResult<bool> {
    providers::set_key(state.store().ok(), state.keys.as_ref(), &provider, SecretString::from(key)).await?;
    Ok(true)
}

#[tauri::command]
pub async fn delete_key(state: State<'_, AppState>, provider: String) -> CmdResult<bool> {
    Ok(providers::delete_key(state.store().ok(), state.keys.as_ref(), &provider).await?)
}

#[tauri::command]
pub async fn key_status(state: State<'_, AppState>, provider: String) -> CmdResult<bool> {
    Ok(providers::has_key(state.store().ok(), state.keys.as_ref(), &provider).await?)
}

/// Builds panel seats from member strings with the user's providers and prices.
async fn builder(state: &AppState, client: atelier_fusion::OutboundClient) -> CmdResult<PanelBuilder> {
    Ok(providers::panel_builder(state.store()?, Arc::clone(&state.keys), client, state.model.engine_now(), Arc::clone(&state.prices)).await?)
}

/// Sends a one-line request to check a provider's URL, key and model.
#[tauri::command]
pub async fn test_provider(state: State<'_, AppState>, provider: String, model: String) -> CmdResult<String> {
    let builder = builder(&state, state.client.clone()).await?;
    let seat = builder.seat(&MemberConfig { provider, model: Some(model) })?;
    let request = ChatRequest { messages: vec![ChatMessage::user("Reply with the word: ready")], max_tokens: 8, temperature: 0.0, top_p: None, seed: None };
    let mut stream = seat.provider.stream_chat(request, CancellationToken::new());
    let mut text = String::new();
    let timeout = tokio::time::sleep(std::time::Duration::from_secs(30));
    tokio::pin!(timeout);
    loop {
        tokio::select! {
            item = stream.next() => match item {
                Some(Ok(ChatEvent::Delta(t))) => text.push_str(&t),
                Some(Ok(ChatEvent::Done)) | None => break,
                Some(Ok(ChatEvent::Usage(_))) => {}
                Some(Err(e)) => return Err(CommandError::new(e.kind(), e.to_string())),
            },
            _ = &mut timeout => return Err(CommandError::new("timeout", "no answer within 30 s")),
        }
    }
    Ok(text.trim().to_string())
}

/// Refreshes prices from the provider's model list (OpenRouter publishes them).
#[tauri::command]
pub async fn fetch_prices(state: State<'_, AppState>, provider: String) -> CmdResult<usize> {
    let store = state.store()?;
    let record = store.providers().get(&provider).await?;
    let mut p = atelier_fusion::openai::OpenAiProvider::new(&record.id, &record.base_url, "-", state.client.clone(), Arc::clone(&state.keys))?;
    if !requires_key(&record.base_url) {
        p = p.without_key();
    }
    let prices = p.fetch_prices().await?;
    for (model, price) in &prices {
        state.prices.set_fetched(&record.id, model, *price);
    }
    Ok(prices.len())
}

#[derive(Debug, Clone, Deserialize)]
pub struct FusionParams {
    pub prompt: String,
    pub document_id: Option<i64>,
    #[serde(default)]
    pub members: Vec<String>,
    pub judge: Option<String>,
    pub mode: String,
    pub rounds: Option<usize>,
    pub budget_usd: Option<f64>,
    pub max_tokens: Option<usize>,
    /// Offline self-fusion: this many samples of the on-device model.
    pub self_fusion: Option<usize>,
    pub seed: Option<u64>,
}

async fn request(state: &AppState, params: &FusionParams, client: atelier_fusion::OutboundClient) -> CmdResult<FusionRequest> {
    let rounds = atelier_studio::limits::rounds(params.rounds.unwrap_or(1))?;
    let max_tokens = atelier_studio::limits::max_tokens(params.max_tokens.unwrap_or(512))?;
    let budget = params.budget_usd.map(atelier_studio::limits::budget_usd).transpose()?;
    let mode = Mode::parse(&params.mode, rounds).ok_or_else(|| CommandError::new("invalid", format!("unknown mode `{}`", params.mode)))?;
    let builder = builder(state, client).await?;
    let (members, judge) = match params.self_fusion {
        Some(n) => {
            let engine = state.model.engine().await?;
            let judge = MemberSpec::new(Arc::new(LocalProvider::persona(engine, 0.2, Some("an impartial editor"))));
            (builder.self_fusion_panel(n)?, judge)
        }
        None => {
            if params.members.is_empty() {
                return Err(CommandError::new("invalid", "Choose at least one panel member."));
            }
            if params.members.iter().any(|m| m.starts_with("local")) {
                // The on-device member needs the model loaded.
                state.model.engine().await?;
            }
            let members = params.members.iter().map(|m| builder.seat(&MemberConfig::parse(m)?)).collect::<Result<Vec<_>, _>>()?;
            let judge = match &params.judge {
                Some(j) => builder.seat(&MemberConfig::parse(j)?)?,
                None => members[0].clone(),
            };
            (members, judge)
        }
    };
    let mut request = FusionRequest::new(vec![ChatMessage::user(&params.prompt)], members, judge, mode);
    request.budget_usd = budget.filter(|b| *b > 0.0);
    request.max_tokens = max_tokens;
    if let Some(seed) = params.seed {
        request.seed = seed;
    }
    Ok(request)
}

#[tauri::command]
pub async fn estimate_fusion(state: State<'_, AppState>, params: FusionParams) -> CmdResult<CostEstimate> {
    Ok(request(&state, &params, state.client.clone()).await?.estimate())
}

/// A finished fusion and where the library keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct FusionResult {
    pub run_id: i64,
    #[serde(flatten)]
    pub outcome: FusionOutcome,
}

#[tauri::command]
pub async fn run_fusion(state: State<'_, AppState>, id: String, params: FusionParams, on_event: Channel<FusionEvent>) -> CmdResult<FusionResult> {
    let store = state.store()?.clone();
    // The prompt is in the library before any model sees it.
    let run_id = store
        .runs()
        .start(
            RunKind::Fusion,
            &NewRun {
                document_id: params.document_id,
                action: Some("fusion".into()),
                prompt: params.prompt.clone(),
                mode: Some(params.mode.clone()),
                judge: params.judge.clone(),
                seed: params.seed.map(|s| s as i64),
                settings: Some(serde_json::json!({
                    "members": params.members, "budget_usd": params.budget_usd, "rounds": params.rounds,
                    "max_tokens": params.max_tokens, "self_fusion": params.self_fusion,
                })),
            },
        )
        .await?;
    let client = state.client.clone().with_ledger(StoreLedger::new(store.clone(), Some(run_id)));
    let request = match request(&state, &params, client).await {
        Ok(r) => r,
        Err(e) => {
            store.runs().finish(run_id, &RunFinish::failed(e.message.clone())).await?;
            return Err(e);
        }
    };
    let mut names: Vec<(String, String)> = request.members.iter().map(|m| (m.provider.id().to_string(), m.provider.model().to_string())).collect();
    names.push((request.judge.provider.id().to_string(), request.judge.provider.model().to_string()));
    let recorder = RunRecorder::start(store.clone(), run_id, names);
    let channel = on_event.clone();
    let sink = recorder.sink(Arc::new(move |event| {
        let _ = channel.send(event);
    }));
    let cancel = state.begin(&id);
    let result = run(request, cancel, sink).await;
    state.end(&id);
    recorder.finish(result.as_ref().map_err(|e| e.to_string())).await?;
    Ok(FusionResult { run_id, outcome: result? })
}

#[derive(Debug, Clone, Serialize)]
pub struct PrivacyStatus {
    pub offline: bool,
    /// Cloud models the user can send to right now (enabled providers with a key, or keyless).
    pub cloud_models: usize,
    pub cloud_providers: Vec<String>,
}

#[tauri::command]
pub async fn privacy_status(state: State<'_, AppState>) -> CmdResult<PrivacyStatus> {
    let offline = state.client.is_offline();
    let (cloud_models, cloud_providers) = providers::usable_cloud(state.store()?, state.keys.as_ref()).await?;
    Ok(PrivacyStatus { offline, cloud_models: if offline { 0 } else { cloud_models }, cloud_providers })
}

#[tauri::command]
pub async fn set_offline(state: State<'_, AppState>, offline: bool) -> CmdResult<PrivacyStatus> {
    state.client.set_offline(offline);
    state.offline_setting.save(state.store().ok(), offline).await?;
    privacy_status(state).await
}

#[tauri::command]
pub async fn ledger(state: State<'_, AppState>, limit: Option<i64>, offset: Option<i64>) -> CmdResult<Vec<LedgerEntry>> {
    Ok(state.store()?.ledger().list(limit.unwrap_or(100), offset.unwrap_or(0)).await?)
}

#[tauri::command]
pub async fn ledger_totals(state: State<'_, AppState>, since: Option<i64>) -> CmdResult<LedgerTotals> {
    Ok(state.store()?.ledger().totals(since).await?)
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CmdResult<serde_json::Map<String, serde_json::Value>> {
    Ok(state.store()?.settings().all().await?)
}

const SETTINGS: &[&str] = &["theme", "font_size", "device", "threads", "context_length", "fusion_panel", "autosave_ms", "first_run_done"];

#[tauri::command]
pub async fn set_setting(state: State<'_, AppState>, key: String, value: serde_json::Value) -> CmdResult<()> {
    if !SETTINGS.contains(&key.as_str()) {
        return Err(CommandError::new("invalid", format!("unknown setting `{key}`")));
    }
    atelier_studio::limits::setting(&key, &value)?;
    Ok(state.store()?.settings().set(&key, &value).await?)
}
