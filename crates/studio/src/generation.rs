//! On-device generations as both front ends run them: a writing action or a free prompt becomes a
//! [`GenerationSpec`], which is recorded, run on the shared model, streamed and finished in History.
//! A re-run reads the spec back and runs it again: same text, same sampling, same seed.

use std::sync::Arc;

use atelier_engine::{ChatMessage, GenerateRequest, Generation, Prompt, ResponseFormat, SamplingParams};
use atelier_fusion::local::LocalEngine;
use atelier_store::Store;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bible::MentionCache;
use crate::context::{self, ContextItem, ContextView, Sources};
use crate::error::{Result, StudioError};
use crate::model_host::ModelHost;
use crate::recorder::GenerationRecorder;
use crate::writing::{self, ActionInput, ResolvedAction};

/// Everything a generation needs to run, and to run again the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationSpec {
    /// The writing action it came from, with exactly the text it read; `None` for chat and free prompts.
    #[serde(default)]
    pub action: Option<ResolvedAction>,
    /// What History lists for a spec without an action ("chat", "generate").
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub system: Option<String>,
    /// Earlier chat turns, oldest first.
    #[serde(default)]
    pub history: Vec<ChatMessage>,
    pub prompt: String,
    /// Feed `prompt` to the model as is, without the chat template.
    #[serde(default)]
    pub raw: bool,
    pub max_tokens: usize,
    pub sampling: SamplingParams,
    #[serde(default)]
    pub stop: Vec<String>,
    /// What the model read, item by item, as the Context panel listed it before the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<ContextItem>,
    /// The shape the reply must have (the continuity checker's list), kept so a re-run is constrained too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
}

impl GenerationSpec {
    /// A free prompt (chat turn, `atelier generate`).
    pub fn prompt(prompt: impl Into<String>, max_tokens: usize, sampling: SamplingParams) -> Self {
        Self {
            action: None,
            kind: None,
            system: None,
            history: Vec::new(),
            prompt: prompt.into(),
            raw: false,
            max_tokens,
            sampling,
            stop: Vec::new(),
            context: Vec::new(),
            response_format: None,
        }
    }

    /// A resolved writing action under the studio's system prompt.
    pub fn action(action: ResolvedAction, sampling: SamplingParams) -> Self {
        Self {
            prompt: action.prompt(),
            max_tokens: action.max_tokens,
            system: Some(writing::SYSTEM_PROMPT.to_string()),
            action: Some(action),
            ..Self::prompt("", 0, sampling)
        }
    }

    /// The same spec under `system`, recording the context items it was assembled from.
    pub fn with_context(self, system: String, context: Vec<ContextItem>) -> Self {
        Self { system: Some(system), context, ..self }
    }

    /// How History lists it: "continue", "rewrite:vivid", "chat".
    pub fn label(&self) -> String {
        match (&self.action, &self.kind) {
            (Some(action), _) => action.label(),
            (None, Some(kind)) => kind.clone(),
            (None, None) => "generate".into(),
        }
    }

    pub fn request(&self) -> GenerateRequest {
        let prompt = if self.raw {
            Prompt::Raw(self.prompt.clone())
        } else {
            let mut messages = Vec::with_capacity(self.history.len() + 2);
            if let Some(system) = self.system.as_deref().filter(|s| !s.trim().is_empty()) {
                messages.push(ChatMessage::system(system));
            }
            messages.extend(self.history.iter().cloned());
            // The recorded text itself, not the action's prompt built again: a re-run reads what the
            // first run read even if a later version words its actions differently.
            messages.push(ChatMessage::user(self.prompt.clone()));
            Prompt::Chat(messages)
        };
        GenerateRequest {
            prompt,
            max_tokens: self.max_tokens,
            sampling: self.sampling.clone(),
            stop: self.stop.clone(),
            response_format: self.response_format.clone(),
        }
    }
}

/// Sampling for a run: the defaults with the caller's temperature, and a seed drawn here when none is
/// given — recorded with the run either way.
pub fn sampling(temperature: Option<f32>, seed: Option<u64>) -> Result<SamplingParams> {
    let defaults = SamplingParams::default();
    let temperature = temperature.map(crate::limits::temperature).transpose()?.unwrap_or(defaults.temperature);
    // 53 bits: the seed survives JavaScript numbers and SQLite integers exactly, so History shows the
    // seed that a re-run uses.
    Ok(SamplingParams { temperature, seed: seed.unwrap_or_else(|| rand::random::<u64>() >> 11), ..defaults })
}

/// A writing action as a front end asks for it.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct WriteParams {
    #[serde(flatten)]
    pub input: ActionInput,
    #[serde(default)]
    pub document_id: Option<i64>,
    /// Drawn (and recorded) when not given.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A free prompt or a chat turn as a front end asks for it.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct GenerateParams {
    pub prompt: String,
    #[serde(default)]
    pub system: Option<String>,
    /// Earlier turns of a chat, oldest first (user/assistant alternating).
    #[serde(default)]
    pub history: Vec<ChatMessage>,
    #[serde(default)]
    pub document_id: Option<i64>,
    /// What History lists it as ("chat").
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub max_tokens: Option<usize>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub seed: Option<u64>,
}

impl GenerateParams {
    pub fn spec(self) -> Result<GenerationSpec> {
        let sampling = sampling(self.temperature, self.seed)?;
        Ok(GenerationSpec {
            kind: self.action,
            system: self.system,
            history: self.history,
            ..GenerationSpec::prompt(self.prompt, self.max_tokens.unwrap_or(512), sampling)
        })
    }
}

/// What a front end is told while a generation runs.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum GenerationEvent {
    /// Recorded (when a library is open) and waiting for the model.
    Started { run_id: Option<i64> },
    /// A piece of the answer, with the progress so far: `cached_tokens` of the `prompt_tokens` came from
    /// the model's cache (the panel's cache hit).
    Text { text: String, completion_tokens: usize, tokens_per_second: f64, time_to_first_token_ms: f64, prompt_tokens: usize, cached_tokens: usize },
    Finished(Generation),
}

pub type EventSink = Arc<dyn Fn(GenerationEvent) + Send + Sync>;

/// Runs a writing action on the loaded model: assembles its context (the scene's bible entries,
/// earlier synopses and text, counted with the model's tokenizer), then records and runs it like any
/// generation.
pub async fn write(
    host: &ModelHost,
    store: Option<&Store>,
    input: &ActionInput,
    sampling: SamplingParams,
    document_id: Option<i64>,
    cancel: CancellationToken,
    on_event: EventSink,
) -> Result<Generation> {
    let spec = write_spec(host, store, input, sampling, document_id).await?;
    generate(host, store, spec, document_id, cancel, on_event).await
}

/// A writing action as it will run: its context assembled, under the studio's system prompt.
pub(crate) async fn write_spec(host: &ModelHost, store: Option<&Store>, input: &ActionInput, sampling: SamplingParams, document_id: Option<i64>) -> Result<GenerationSpec> {
    let (resolved, system, items, _) = plan_write(host, store, input, document_id).await?;
    Ok(GenerationSpec::action(resolved, sampling).with_context(system, items))
}

/// A writing action's context as the model will read it.
async fn plan_write(host: &ModelHost, store: Option<&Store>, input: &ActionInput, document_id: Option<i64>) -> Result<(ResolvedAction, String, Vec<ContextItem>, usize)> {
    // On a scene, the earlier scenes of its chapter come before the text before the cursor.
    let (input, sources) = match store {
        Some(store) => (
            crate::manuscript::with_scene_context(store, document_id, input).await?,
            Sources::of_document(store, &MentionCache::default(), document_id).await?,
        ),
        None => (input.clone(), Sources::default()),
    };
    let engine = host.engine().await?;
    context::with_tokenizer(&engine, move |context_length, count| {
        let (resolved, system, items) = context::plan_action(&input, &sources, context_length, count)?;
        Ok((resolved, system, items, context_length))
    })
    .await
}

/// A chat turn about the open scene, as a front end asks for it: the question, earlier turns, and the
/// selection if the writer wants it read. The scene's text is read from the library.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct ChatParams {
    pub question: String,
    /// Earlier turns, oldest first.
    #[serde(default)]
    pub history: Vec<ChatMessage>,
    #[serde(default)]
    pub selection: String,
    #[serde(default)]
    pub document_id: Option<i64>,
    #[serde(default)]
    pub dropped: Vec<String>,
    #[serde(default)]
    pub seed: Option<u64>,
}

/// The chat's persona, before the story bible.
/// What a chat question is prefixed with; the system prompt is the writing actions' own, so a question
/// about the scene reuses the scene's cached computation.
pub const CHAT_GUIDANCE: &str = "Answer the writer's question about their manuscript concretely and briefly.";

const CHAT_ANSWER_TOKENS: usize = 500;
/// Earlier turns a chat sends at most.
const CHAT_TURNS: usize = 8;

async fn plan_chat(host: &ModelHost, store: Option<&Store>, params: &ChatParams) -> Result<(context::Planned, Sources, usize)> {
    if params.question.trim().is_empty() {
        return Err(StudioError::Invalid("Write a question first.".into()));
    }
    let (text, sources) = match (store, params.document_id) {
        (Some(store), Some(id)) => (store.documents().get(id).await?.body, Sources::of_document(store, &MentionCache::default(), Some(id)).await?),
        _ => (String::new(), Sources::default()),
    };
    let engine = host.engine().await?;
    let params = params.clone();
    context::with_tokenizer(&engine, move |context_length, count| {
        let turns = &params.history[params.history.len().saturating_sub(CHAT_TURNS)..];
        let instruction = format!("{CHAT_GUIDANCE}\n\n{}", params.question.trim());
        let request = context::Request {
            system: writing::SYSTEM_PROMPT,
            instruction: &instruction,
            selection_heading: "The writer selected this passage:",
            selection: &params.selection,
            text: &text,
            text_budget: 1536,
            answer_tokens: CHAT_ANSWER_TOKENS,
            reserved: turns.iter().map(|m| count(&m.content)).sum(),
            dropped: &params.dropped,
        };
        let planned = context::plan(&request, &sources, context_length, count)?;
        Ok((planned, sources, context_length))
    })
    .await
}

/// A chat turn on the loaded model, in context, recorded in History.
pub async fn chat(host: &ModelHost, store: Option<&Store>, params: &ChatParams, cancel: CancellationToken, on_event: EventSink) -> Result<Generation> {
    let spec = chat_spec(host, store, params).await?;
    generate(host, store, spec, params.document_id, cancel, on_event).await
}

/// A chat turn as it will run: the scene's context, the earlier turns, the question.
pub(crate) async fn chat_spec(host: &ModelHost, store: Option<&Store>, params: &ChatParams) -> Result<GenerationSpec> {
    let (planned, _, _) = plan_chat(host, store, params).await?;
    let turns = params.history[params.history.len().saturating_sub(CHAT_TURNS)..].to_vec();
    Ok(GenerationSpec {
        kind: Some("chat".into()),
        history: turns,
        ..GenerationSpec::prompt(planned.prompt, CHAT_ANSWER_TOKENS, sampling(None, params.seed)?)
    }
    .with_context(planned.system, planned.items))
}

/// The project of the scene whose text is `document_id`, and its cloud switch.
async fn scene_project(store: &Store, document_id: Option<i64>) -> Result<(Option<i64>, bool)> {
    let Some(id) = document_id else { return Ok((None, false)) };
    match store.binder().scene_of_document(id).await? {
        Some(scene) => Ok((Some(scene.project_id), store.projects().get(scene.project_id).await?.cloud_context)),
        None => Ok((None, false)),
    }
}

/// What a preview of the context is for.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum ContextFor {
    Write(WriteParams),
    Chat(ChatParams),
}

/// What the model will read for a run, item by item with token counts: the Context panel, before it.
pub async fn preview(host: &ModelHost, store: Option<&Store>, target: &ContextFor) -> Result<ContextView> {
    match target {
        ContextFor::Write(params) => {
            let (resolved, _, items, context_length) = plan_write(host, store, &params.input, params.document_id).await?;
            let (project_id, cloud_context) = match store {
                Some(store) => scene_project(store, params.document_id).await?,
                None => (None, false),
            };
            let sources = Sources { project_id, cloud_context, ..Sources::default() };
            Ok(context::view(items, &sources, context_length, resolved.max_tokens))
        }
        ContextFor::Chat(params) => {
            let (planned, sources, context_length) = plan_chat(host, store, params).await?;
            Ok(planned.view(&sources, context_length, CHAT_ANSWER_TOKENS))
        }
    }
}

/// Records `spec`, then runs it on the loaded model (waiting while the first model loads).
pub async fn generate(
    host: &ModelHost,
    store: Option<&Store>,
    spec: GenerationSpec,
    document_id: Option<i64>,
    cancel: CancellationToken,
    on_event: EventSink,
) -> Result<Generation> {
    if spec.prompt.trim().is_empty() {
        return Err(StudioError::Invalid("Write something for the model to answer.".into()));
    }
    crate::limits::max_tokens(spec.max_tokens)?;
    // The request is in the library before the model sees it; a model that never comes is recorded too.
    let recorder = match store {
        Some(store) => Some(GenerationRecorder::start(store, &spec, document_id).await?),
        None => None,
    };
    let engine = match host.engine().await {
        Ok(engine) => engine,
        Err(e) => {
            if let Some(recorder) = recorder {
                recorder.finish(Err(e.to_string())).await?;
            }
            return Err(e);
        }
    };
    execute(&engine, recorder, spec, cancel, on_event).await
}

/// Runs the generation a History entry recorded, again: the same action on the same text with the
/// same sampling and seed — on the model loaded now. The re-run is a run of its own.
pub async fn rerun(host: &ModelHost, store: &Store, run_id: i64, cancel: CancellationToken, on_event: EventSink) -> Result<Generation> {
    let recorded = store.runs().get(run_id).await?.run;
    let spec = recorded_spec(&recorded)?;
    generate(host, Some(store), spec, recorded.document_id, cancel, on_event).await
}

/// The spec a run was recorded with.
pub fn recorded_spec(run: &atelier_store::Run) -> Result<GenerationSpec> {
    if run.kind != "generate" {
        return Err(StudioError::Invalid("Only on-device generations can be re-run here; open a fusion run in Fusion.".into()));
    }
    let settings = run.settings.as_deref().ok_or_else(|| {
        StudioError::Invalid("This run was recorded by an earlier version without its settings; it cannot be re-run exactly.".into())
    })?;
    serde_json::from_str(settings).map_err(|e| StudioError::Invalid(format!("This run's recorded settings cannot be read ({e}).")))
}

async fn execute(
    engine: &Arc<LocalEngine>,
    mut recorder: Option<GenerationRecorder>,
    spec: GenerationSpec,
    cancel: CancellationToken,
    on_event: EventSink,
) -> Result<Generation> {
    if let Some(recorder) = recorder.as_mut() {
        recorder.seat(engine.name()).await?;
    }
    on_event(GenerationEvent::Started { run_id: recorder.as_ref().map(GenerationRecorder::run_id) });
    crate::saved_contexts::run_started();
    let span = tracing::info_span!("generation", action = %spec.label(), max_tokens = spec.max_tokens, seed = spec.sampling.seed);
    let sink = Arc::clone(&on_event);
    let result = engine
        .generate_stream(spec.request(), cancel, move |chunk| {
            sink(GenerationEvent::Text {
                text: chunk.text.to_string(),
                completion_tokens: chunk.completion_tokens,
                tokens_per_second: chunk.tokens_per_second,
                time_to_first_token_ms: chunk.time_to_first_token_ms,
                prompt_tokens: chunk.prompt_tokens,
                cached_tokens: chunk.cached_tokens,
            })
        })
        .instrument(span)
        .await;
    crate::saved_contexts::save_when_idle(Arc::clone(engine));
    if let Some(recorder) = recorder {
        recorder.finish(result.as_ref().map_err(ToString::to_string)).await?;
    }
    let generation = result?;
    on_event(GenerationEvent::Finished(generation.clone()));
    Ok(generation)
}

#[cfg(test)]
mod tests {
    #[test]
    fn drawn_seeds_fit_a_javascript_number_and_a_given_seed_is_kept() {
        for _ in 0..1000 {
            assert!(super::sampling(None, None).unwrap().seed < 1 << 53);
        }
        assert_eq!(super::sampling(None, Some(u64::MAX)).unwrap().seed, u64::MAX);
    }
}
