//! Fusion runs as both front ends start them: typed parameters become a `FusionRequest` (seats from
//! the panel builder, the judge, the mode, the limits), the run is recorded before any model sees the
//! prompt, and every event is kept in History as it streams.

use std::sync::Arc;

use atelier_fusion::budget::CostEstimate;
use atelier_fusion::config::{MemberConfig, PanelBuilder};
use atelier_fusion::events::EventSink;
use atelier_fusion::local::LocalProvider;
use atelier_fusion::modes::{run, FusionOutcome, FusionRequest, ModeKind};
use atelier_fusion::panel::MemberSpec;
use atelier_fusion::persist::{RunRecorder, StoreLedger};
use atelier_fusion::provider::ChatMessage;
use atelier_store::{NewRun, RunFinish, RunKind, Store};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bible::MentionCache;
use crate::context::{ContextItem, ContextView, Planned, Request, Sources};
use crate::error::{Result, StudioError};
use crate::model_host::ModelHost;

/// Who judges an offline self-fusion: the on-device model, cool and impartial.
pub const SELF_FUSION_JUDGE: (f32, &str) = (0.2, "an impartial editor");

/// A fusion as the writer set it up.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[derive(specta::Type)]
pub struct FusionParams {
    pub prompt: String,
    #[serde(default)]
    pub document_id: Option<i64>,
    /// The passage the prompt is about (cloud members get it even when the project keeps its context
    /// on the device).
    #[serde(default)]
    pub selection: String,
    /// Context items the writer took out of this run.
    #[serde(default)]
    pub dropped: Vec<String>,
    /// `local`, `local@TEMPERATURE` or `provider:model`, 1 to [`atelier_fusion::MAX_PANEL`].
    #[serde(default)]
    pub members: Vec<String>,
    /// Default: the first member (or, for self-fusion, the on-device model as an impartial editor).
    #[serde(default)]
    pub judge: Option<String>,
    #[serde(default)]
    pub mode: ModeKind,
    #[serde(default)]
    pub rounds: Option<usize>,
    #[serde(default)]
    pub budget_usd: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<usize>,
    /// Offline self-fusion: this many samples of the on-device model.
    #[serde(default)]
    pub self_fusion: Option<usize>,
    /// The self-fusion samples' voices and temperatures, used in turn (empty: the four defaults).
    #[serde(default)]
    pub personas: Vec<atelier_fusion::config::Persona>,
    /// Seeds the judge's anonymising shuffle.
    #[serde(default)]
    pub seed: Option<u64>,
    /// A writing action run through the panel ("Ask the panel" in the Assist panel): with no prompt,
    /// the action's own instruction is the prompt, as the on-device run words it.
    #[serde(default)]
    pub action: Option<crate::writing::WritingAction>,
    #[serde(default)]
    pub tone: Option<crate::writing::Tone>,
}

impl FusionParams {
    /// These parameters with the prompt the panel answers: the writer's, else the action's instruction.
    pub fn resolved(&self) -> FusionParams {
        match self.action {
            Some(action) if self.prompt.trim().is_empty() => {
                let resolved = crate::writing::ResolvedAction {
                    action,
                    tone: self.tone,
                    instruction: None,
                    text: String::new(),
                    truncated: false,
                    selection: self.selection.clone(),
                    max_tokens: 0,
                };
                FusionParams { prompt: resolved.instruction_text(), ..self.clone() }
            }
            _ => self.clone(),
        }
    }
}

/// A finished fusion and where the library keeps it.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct FusionResult {
    pub run_id: Option<i64>,
    #[serde(flatten)]
    pub outcome: FusionOutcome,
    /// For Rewrite, Shorten and Expand of a selection (and Continue at the cursor), the fused answer as
    /// suggestions against the passage: the editor shows them to accept or reject one by one.
    pub suggestions: Vec<atelier_manuscript::Suggestion>,
}

/// The on-device model reads the scene's context (bible, synopses, text) before the prompt; cloud
/// members read it too only where the project allows, else the prompt and the selection alone.
pub struct FusionContext {
    pub planned: Option<Planned>,
    pub view: Option<ContextView>,
    /// The project's style guide and the rubric of the writer's picks, for the judge.
    pub criteria: Option<String>,
    /// Whether the project lets its context (the style guide among it) leave the device.
    pub cloud_context: bool,
}

impl FusionContext {
    fn none() -> Self {
        Self { planned: None, view: None, criteria: None, cloud_context: false }
    }
}

const FUSION_TEXT_BUDGET: usize = 1536;

/// The fusion's context: planned when the run is about a scene of a project, with the on-device
/// model's tokenizer (or, with none loaded, an estimate).
pub async fn context(host: &ModelHost, store: Option<&Store>, params: &FusionParams) -> Result<FusionContext> {
    let params = &params.resolved();
    let (Some(store), Some(document_id)) = (store, params.document_id) else {
        return Ok(FusionContext::none());
    };
    let sources = Sources::of_document(store, &MentionCache::default(), Some(document_id)).await?;
    let Some(project_id) = sources.project_id else {
        return Ok(FusionContext::none());
    };
    let criteria = crate::taste::judge_criteria(store, project_id).await?;
    let cloud_context = sources.cloud_context;
    let text = store.documents().get(document_id).await?.body;
    let (planned, view) = match host.engine_now() {
        Some(engine) => {
            let params = params.clone();
            crate::context::with_tokenizer(&engine, move |context_length, count| plan(&params, &text, &sources, context_length, count)).await?
        }
        None => plan(params, &text, &sources, ESTIMATED_CONTEXT, &atelier_fusion::budget::estimate_tokens)?,
    };
    Ok(FusionContext { planned: Some(planned), view: Some(view), criteria, cloud_context })
}

/// The context length assumed when no on-device model is loaded to ask.
const ESTIMATED_CONTEXT: usize = 8192;

fn plan(params: &FusionParams, text: &str, sources: &Sources, context_length: usize, count: &dyn Fn(&str) -> usize) -> Result<(Planned, ContextView)> {
    let max_tokens = params.max_tokens.unwrap_or(512);
    // The scene's text before the passage (the passage is in it, autosaved before the run).
    let text_before = match params.selection.trim() {
        "" => text,
        selection => text.find(selection).map(|at| &text[..at]).unwrap_or(text),
    };
    let request = Request {
        system: crate::writing::SYSTEM_PROMPT,
        instruction: &params.prompt,
        selection_heading: crate::writing::SELECTION_HEADING,
        selection: &params.selection,
        text: text_before,
        text_budget: FUSION_TEXT_BUDGET,
        answer_tokens: max_tokens,
        reserved: 0,
        dropped: &params.dropped,
    };
    let planned = crate::context::plan(&request, sources, context_length, count)?;
    let view = planned.view(sources, context_length, max_tokens);
    Ok((planned, view))
}

/// The request `params` describe, with seats from `builder` (the on-device model is waited for when a
/// seat needs it).
pub async fn request(host: &ModelHost, store: Option<&Store>, builder: &PanelBuilder, params: &FusionParams) -> Result<FusionRequest> {
    let params = &params.resolved();
    let context = context(host, store, params).await?;
    request_in(host, builder, params, context).await
}

async fn request_in(host: &ModelHost, builder: &PanelBuilder, params: &FusionParams, context: FusionContext) -> Result<FusionRequest> {
    let rounds = crate::limits::rounds(params.rounds.unwrap_or(1))?;
    let max_tokens = crate::limits::max_tokens(params.max_tokens.unwrap_or(512))?;
    let budget = params.budget_usd.map(crate::limits::budget_usd).transpose()?;
    let mode = params.mode.with_rounds(rounds);
    let mut builder = builder.clone();
    let (members, judge) = match params.self_fusion {
        Some(n) => {
            let engine = host.engine().await?;
            builder.local = Some(Arc::clone(&engine));
            let (temperature, persona) = SELF_FUSION_JUDGE;
            let default_judge = MemberSpec::new(Arc::new(LocalProvider::persona(engine, temperature, Some(persona))));
            let judge = match &params.judge {
                Some(j) => builder.seat(&MemberConfig::parse(j)?)?,
                None => default_judge,
            };
            if params.personas.len() > atelier_fusion::MAX_PANEL {
                return Err(StudioError::Invalid(format!("At most {} personas.", atelier_fusion::MAX_PANEL)));
            }
            (builder.self_fusion_panel_with(n, &params.personas)?, judge)
        }
        None => {
            if params.members.is_empty() {
                return Err(StudioError::Invalid("Choose at least one panel member.".into()));
            }
            if params.members.iter().chain(params.judge.iter()).any(|m| m.starts_with("local")) {
                // The on-device member needs the model loaded.
                builder.local = Some(host.engine().await?);
            }
            let members = params.members.iter().map(|m| builder.seat(&MemberConfig::parse(m)?)).collect::<Result<Vec<_>, _>>()?;
            let judge = match &params.judge {
                Some(j) => builder.seat(&MemberConfig::parse(j)?)?,
                None => members[0].clone(),
            };
            (members, judge)
        }
    };
    let (messages, cloud_messages) = match context.planned {
        Some(planned) => (
            vec![ChatMessage::system(planned.system), ChatMessage::user(planned.prompt)],
            Some(vec![ChatMessage::system(planned.cloud_system), ChatMessage::user(planned.cloud_prompt)]),
        ),
        None => {
            let prompt = match params.selection.trim() {
                "" => params.prompt.clone(),
                selection => format!("{}\n\nThe passage:\n\n{selection}", params.prompt.trim()),
            };
            (vec![ChatMessage::user(prompt)], None)
        }
    };
    let mut request = FusionRequest::new(messages, members, judge, mode);
    request.cloud_messages = cloud_messages;
    request.criteria = context.criteria;
    request.criteria_may_leave = context.cloud_context;
    request.budget_usd = budget.filter(|b| *b > 0.0);
    request.max_tokens = max_tokens;
    if let Some(seed) = params.seed {
        request.seed = seed;
    }
    Ok(request)
}

/// What the run would cost, before it starts.
pub async fn estimate(host: &ModelHost, store: Option<&Store>, builder: &PanelBuilder, params: &FusionParams) -> Result<CostEstimate> {
    let request = request(host, store, builder, params).await?;
    let mut estimate = request.estimate();
    let speed = host.engine_now().and_then(|engine| engine.measured_speed());
    estimate.on_device_seconds = speed.and_then(|speed| request.on_device_seconds(speed));
    Ok(estimate)
}

/// Records the run (when a library is given), builds the panel with a client whose ledger entries name
/// the run, runs it and keeps every event in History. `on_event` sees each event after it is stored.
pub async fn fuse(
    host: &ModelHost,
    store: Option<&Store>,
    builder: &PanelBuilder,
    params: &FusionParams,
    cancel: CancellationToken,
    on_event: EventSink,
) -> Result<FusionResult> {
    let params = &params.resolved();
    if params.prompt.trim().is_empty() {
        return Err(StudioError::Invalid("Write a prompt for the panel.".into()));
    }
    let context = context(host, store, params).await?;
    let items = context.view.as_ref().map(|v| v.items.clone()).unwrap_or_default();
    // The prompt, and every item of context, is in the library before any model sees it.
    let run_id = match store {
        Some(store) => Some(store.runs().start(RunKind::Fusion, &new_run(params, &items)).await?),
        None => None,
    };
    let mut builder = builder.clone();
    let mut ledger = None;
    if let (Some(store), Some(run_id)) = (store, run_id) {
        let run_ledger = StoreLedger::with_items(store.clone(), Some(run_id), cloud_items(params, &items));
        builder.client = builder.client.clone().with_ledger(run_ledger.clone());
        ledger = Some(run_ledger);
    }
    let request = match request_in(host, &builder, params, context).await {
        Ok(request) => request,
        Err(e) => {
            if let (Some(store), Some(run_id)) = (store, run_id) {
                store.runs().finish(run_id, &RunFinish::failed(e.to_string())).await?;
            }
            return Err(e);
        }
    };
    let span = tracing::info_span!("fusion", run_id, mode = request.mode.name(), members = request.members.len());
    let recorder = match (store, run_id) {
        (Some(store), Some(run_id)) => Some(RunRecorder::start(store.clone(), run_id, seat_names(&request))),
        _ => None,
    };
    let sink = match &recorder {
        Some(recorder) => recorder.sink(on_event),
        None => on_event,
    };
    let result = run(request, cancel, sink).instrument(span).await;
    if let Some(recorder) = recorder {
        recorder.finish(result.as_ref().map_err(ToString::to_string)).await?;
    }
    if let Some(ledger) = ledger {
        ledger.flush().await;
    }
    let outcome = result?;
    let suggestions = revision_suggestions(params, &outcome);
    Ok(FusionResult { run_id, outcome, suggestions })
}

/// `(provider, model)` of each member, then the judge's.
pub fn seat_names(request: &FusionRequest) -> Vec<(String, String)> {
    request.members.iter().chain(std::iter::once(&request.judge)).map(|m| (m.provider.id().to_string(), m.provider.model().to_string())).collect()
}

/// What a cloud member's request carries, as the ledger names it.
pub fn cloud_items(params: &FusionParams, items: &[ContextItem]) -> Vec<String> {
    if items.is_empty() {
        let mut labels = vec!["Prompt".to_string()];
        if !params.selection.trim().is_empty() {
            labels.push("Selection".into());
        }
        return labels;
    }
    crate::context::cloud_labels(items)
}

/// A fusion as History keeps it: the parameters (which a re-run sets up again) and the context items.
#[derive(Serialize)]
struct RecordedFusion<'a> {
    #[serde(flatten)]
    params: &'a FusionParams,
    #[serde(skip_serializing_if = "<[ContextItem]>::is_empty")]
    context: &'a [ContextItem],
}

fn new_run(params: &FusionParams, context: &[ContextItem]) -> NewRun {
    NewRun {
        document_id: params.document_id,
        action: Some("fusion".into()),
        prompt: params.prompt.clone(),
        mode: Some(params.mode.with_rounds(params.rounds.unwrap_or(1)).name().to_string()),
        judge: params.judge.clone(),
        seed: params.seed.map(|s| s as i64),
        settings: serde_json::to_value(RecordedFusion { params, context }).ok(),
    }
}

/// The passage a writing action revises: the selection for Rewrite, Shorten and Expand, nothing (an
/// insertion at the cursor) for Continue; `None` for actions whose answer is no revision.
fn revised_passage(params: &FusionParams) -> Option<&str> {
    use crate::writing::WritingAction::{Continue, Expand, Rewrite, Shorten};
    match params.action? {
        Rewrite | Shorten | Expand if !params.selection.trim().is_empty() => Some(params.selection.as_str()),
        Continue => Some(""),
        _ => None,
    }
}

fn revision_suggestions(params: &FusionParams, outcome: &FusionOutcome) -> Vec<atelier_manuscript::Suggestion> {
    revised_passage(params).map(|original| suggestions(original, outcome)).unwrap_or_default()
}

/// A member as a suggestion credits it: its label and model (the judge saw only the label).
fn member_name(index: usize, provider: &str, model: &str) -> String {
    format!("{} · {provider}:{model}", atelier_fusion::judge::label(index))
}

/// The fused answer of `outcome` as suggestions against `original` (the passage it revised), each
/// credited to the members whose answers hold its words, or whose unique insight (in the judge's
/// verdict, its labels de-anonymised) it carries. The last round's answer of each member counts (a
/// debate's revision). The whitespace around the passage stays as it is.
pub fn suggestions(original: &str, outcome: &FusionOutcome) -> Vec<atelier_manuscript::Suggestion> {
    let Some(fused) = outcome.final_text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else { return Vec::new() };
    let mut answers: Vec<atelier_manuscript::SourceAnswer> = Vec::new();
    for member in outcome.members.iter().filter(|m| m.succeeded()) {
        let name = member_name(member.index, &member.provider, &member.model);
        match answers.iter_mut().find(|a| a.name == name) {
            Some(answer) => answer.text = member.text.clone(),
            None => answers.push(atelier_manuscript::SourceAnswer { name, text: member.text.clone() }),
        }
    }
    let core = original.trim();
    let lead: usize = original[..original.len() - original.trim_start().len()].encode_utf16().count();
    let mut hunks = atelier_manuscript::suggestions(core, fused, &answers);
    let insights: Vec<atelier_manuscript::SourceAnswer> = outcome
        .verdict
        .iter()
        .flat_map(|v| &v.unique_insights)
        .filter_map(|insight| {
            let member = outcome.members.iter().find(|m| atelier_fusion::judge::label(m.index) == insight.response)?;
            Some(atelier_manuscript::SourceAnswer { name: member_name(member.index, &member.provider, &member.model), text: insight.insight.clone() })
        })
        .collect();
    atelier_manuscript::credit_notes(&mut hunks, &insights);
    // An answer cut off at its token limit stops mid-sentence: its missing end is no reason to delete the
    // passage's.
    let core_len = core.encode_utf16().count();
    let finished = fused.ends_with(|c: char| matches!(c, '.' | '!' | '?' | '…' | '"' | '\'' | '”' | '’' | ')' | ']' | '*' | '_'));
    if !finished && hunks.last().is_some_and(|h| h.to == core_len && h.insert.trim().is_empty()) {
        hunks.pop();
    }
    for hunk in &mut hunks {
        hunk.from += lead;
        hunk.to += lead;
    }
    hunks
}
