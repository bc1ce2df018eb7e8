//! The on-device model as a provider: one loaded model shared by every request, which queue in arrival
//! order (tokio's mutex is fair) and run off the async runtime.

use std::sync::Arc;

use atelier_engine::{CancelToken, Chunk, EngineError, GenerateRequest, Generation, Model, Prepared, Prompt, SamplingParams};
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::error::MemberError;
use crate::provider::{ChatEvent, ChatMessage, ChatRequest, Provider, Role, Usage};

/// The loaded on-device model, shared by the app, the CLI and fusion panels.
pub struct LocalEngine {
    model: Arc<Mutex<Model>>,
    name: String,
    /// Panel members of this model take turns here, so a queued one shows as queued and its
    /// first-token timeout starts only when its turn comes.
    turns: Arc<tokio::sync::Semaphore>,
    /// Prompt and decode tokens per second of the last generation that measured both.
    speed: std::sync::Mutex<Option<(f64, f64)>>,
    /// The latest preparation's stop: any request (or a newer preparation) fires it, so a guess made
    /// in the background never keeps a request waiting longer than one layer of it.
    preparing: std::sync::Mutex<Option<CancelToken>>,
}

impl LocalEngine {
    pub fn new(model: Model) -> Self {
        let name = model.info().name.clone();
        Self { model: Arc::new(Mutex::new(model)), name, turns: Arc::new(tokio::sync::Semaphore::new(1)), speed: Default::default(), preparing: Default::default() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model's measured speed (prompt, decode tokens per second), once a generation has shown it.
    pub fn measured_speed(&self) -> Option<(f64, f64)> {
        *self.speed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The model, waiting for requests ahead in the queue.
    pub fn model(&self) -> &Arc<Mutex<Model>> {
        &self.model
    }

    /// Stops a preparation before its next layer: a request is coming.
    fn preempt(&self) {
        if let Some(preparing) = self.preparing.lock().unwrap_or_else(|p| p.into_inner()).take() {
            preparing.cancel();
        }
    }

    /// Computes `prompt` into the model's cache ahead of its request (see [`Model::prepare`]), after the
    /// requests ahead of it. Any request that arrives meanwhile, or a newer preparation, stops it before
    /// its next layer; the steps it finished by then stay computed.
    pub async fn prepare(&self, prompt: Prompt) -> Result<Prepared, EngineError> {
        let stop = CancelToken::new();
        if let Some(older) = self.preparing.lock().unwrap_or_else(|p| p.into_inner()).replace(stop.clone()) {
            older.cancel();
        }
        let mut guard = Arc::clone(&self.model).lock_owned().await;
        tokio::task::spawn_blocking(move || guard.prepare(&prompt, &stop))
            .await
            .map_err(|e| EngineError::Device(format!("the model task failed: {e}")))?
    }

    /// Runs `work` with the model on a blocking thread, after the requests ahead of it (a preparation
    /// in progress stops for it).
    pub async fn with_model<T: Send + 'static>(&self, work: impl FnOnce(&mut Model) -> T + Send + 'static) -> Result<T, EngineError> {
        self.preempt();
        self.in_turn(work).await
    }

    /// As [`Self::with_model`], but background work of its own (saving the context): it waits for a
    /// preparation to finish instead of stopping it.
    pub async fn in_turn<T: Send + 'static>(&self, work: impl FnOnce(&mut Model) -> T + Send + 'static) -> Result<T, EngineError> {
        let mut guard = Arc::clone(&self.model).lock_owned().await;
        tokio::task::spawn_blocking(move || work(&mut guard))
            .await
            .map_err(|e| EngineError::Device(format!("the model task failed: {e}")))
    }

    /// The one way anything runs the on-device model: waits its turn in the queue (giving up if
    /// cancelled meanwhile), generates on a blocking thread, and stops at the next token once `cancel`
    /// fires. `on_chunk` receives the text as it streams. A cancelled request returns what it had.
    pub async fn generate_stream(
        &self,
        request: GenerateRequest,
        cancel: CancellationToken,
        mut on_chunk: impl FnMut(Chunk<'_>) + Send + 'static,
    ) -> Result<Generation, EngineError> {
        let cancelled = || Generation {
            text: String::new(),
            prompt_tokens: 0,
            completion_tokens: 0,
            stop_reason: atelier_engine::StopReason::Cancelled,
            timings: Default::default(),
        };
        self.preempt();
        let guard = tokio::select! {
            guard = Arc::clone(&self.model).lock_owned() => guard,
            _ = cancel.cancelled() => return Ok(cancelled()),
        };
        let stop = CancelToken::new();
        let watcher = {
            let (cancel, stop) = (cancel.clone(), stop.clone());
            tokio::spawn(async move {
                cancel.cancelled().await;
                stop.cancel();
            })
        };
        // The blocking thread carries the caller's span, so the engine's spans nest under the action's.
        let span = tracing::Span::current();
        let result = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut model = guard;
            model.generate(&request, &stop, &mut on_chunk)
        })
        .await;
        watcher.abort();
        let result = result.unwrap_or_else(|e| Err(EngineError::Device(format!("the generation task failed: {e}"))));
        if let Ok(generation) = &result {
            let t = &generation.timings;
            // A cached prompt's speed says nothing of a fresh one: only prompts computed at length count.
            if t.prompt_tokens_processed >= 32 && t.prompt_tokens_per_second > 0.0 && t.decode_tokens_per_second > 0.0 {
                *self.speed.lock().unwrap_or_else(|p| p.into_inner()) = Some((t.prompt_tokens_per_second, t.decode_tokens_per_second));
            }
        }
        result
    }
}

/// One persona of the on-device model (its own temperature and system prompt), so a panel can hold
/// several samples of it for offline self-fusion.
#[derive(Clone)]
pub struct LocalProvider {
    engine: Arc<LocalEngine>,
    label: String,
    temperature: Option<f32>,
    persona: Option<String>,
}

impl LocalProvider {
    pub fn new(engine: Arc<LocalEngine>) -> Self {
        let label = engine.name().to_string();
        Self { engine, label, temperature: None, persona: None }
    }

    /// A sample of the model with its own temperature and (optional) system persona.
    pub fn persona(engine: Arc<LocalEngine>, temperature: f32, persona: Option<&str>) -> Self {
        let label = match persona {
            Some(p) => format!("{} ({p}, t={temperature})", engine.name()),
            None => format!("{} (t={temperature})", engine.name()),
        };
        Self { engine, label, temperature: Some(temperature), persona: persona.map(str::to_string) }
    }
}

fn to_engine_messages(request: &ChatRequest, persona: Option<&str>) -> Vec<ChatMessage> {
    let mut messages: Vec<ChatMessage> = Vec::new();
    if let Some(persona) = persona {
        messages.push(ChatMessage::system(format!("You are {persona}.")));
    }
    for m in &request.messages {
        // Small chat templates accept one system message: fold a second one into it.
        if m.role == Role::System {
            if let Some(first) = messages.first_mut().filter(|f| f.role == Role::System) {
                first.content.push_str("\n\n");
                first.content.push_str(&m.content);
                continue;
            }
        }
        messages.push(m.clone());
    }
    messages
}

impl Provider for LocalProvider {
    fn id(&self) -> &str {
        "local"
    }

    fn model(&self) -> &str {
        &self.label
    }

    fn is_cloud(&self) -> bool {
        false
    }

    fn gate(&self) -> Option<Arc<tokio::sync::Semaphore>> {
        Some(Arc::clone(&self.engine.turns))
    }

    fn stream_chat(&self, request: ChatRequest, cancel: CancellationToken) -> BoxStream<'static, Result<ChatEvent, MemberError>> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let messages = to_engine_messages(&request, self.persona.as_deref());
        let temperature = self.temperature.unwrap_or(request.temperature);
        let engine_request = GenerateRequest {
            prompt: Prompt::Chat(messages),
            max_tokens: request.max_tokens,
            sampling: SamplingParams {
                temperature,
                top_p: request.top_p.unwrap_or(0.95),
                seed: request.seed.unwrap_or(0),
                ..SamplingParams::default()
            },
            stop: Vec::new(),
            response_format: request.response_format.clone(),
        };
        let engine = Arc::clone(&self.engine);
        tokio::spawn(async move {
            let sender = tx.clone();
            let result = engine
                .generate_stream(engine_request, cancel, move |chunk| {
                    let _ = sender.send(Ok(ChatEvent::Delta(chunk.text.to_string())));
                })
                .await;
            match result {
                Ok(generation) if generation.stop_reason == atelier_engine::StopReason::Cancelled => {
                    let _ = tx.send(Err(MemberError::Cancelled));
                }
                Ok(generation) => {
                    let _ = tx.send(Ok(ChatEvent::Usage(Usage {
                        prompt_tokens: generation.prompt_tokens,
                        completion_tokens: generation.completion_tokens,
                        cost_usd: Some(0.0),
                    })));
                    let _ = tx.send(Ok(ChatEvent::Done));
                }
                Err(e) => {
                    let _ = tx.send(Err(MemberError::Local(e.to_string())));
                }
            }
        });
        tokio_stream_from(rx)
    }
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Result<ChatEvent, MemberError>>,
) -> BoxStream<'static, Result<ChatEvent, MemberError>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}
