//! Atelier's desktop shell: Tauri commands that wire the crates to the UI. Logic lives in the crates.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use atelier_engine::{
    CancelToken, ChatMessage, EngineError, GenerateRequest, Generation, LoadOptions, Model, ModelInfo, Prompt,
    SamplingParams,
};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

/// What the UI is told about the on-device model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelStatus {
    pub state: ModelState,
    pub info: Option<ModelInfo>,
    pub device: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModelState {
    Loading,
    Ready,
    Error,
}

/// An error as the UI receives it: a stable kind to branch on and a message for the user.
#[derive(Debug, Serialize)]
pub struct CommandError {
    kind: &'static str,
    message: String,
}

impl From<EngineError> for CommandError {
    fn from(err: EngineError) -> Self {
        let kind = match &err {
            EngineError::ModelNotFound { .. } | EngineError::NoDefaultModel { .. } => "model_missing",
            EngineError::ContextOverflow { .. } => "context_overflow",
            EngineError::EmptyPrompt => "empty_prompt",
            EngineError::InvalidSampling(_) => "invalid_settings",
            EngineError::InsufficientMemory { .. } => "out_of_memory",
            _ => "engine",
        };
        Self { kind, message: err.to_string() }
    }
}

impl CommandError {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
}

/// Streamed to the UI while a reply is generated.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum GenerationEvent {
    Started { prompt_tokens: usize },
    Text { text: String, completion_tokens: usize, tokens_per_second: f64, time_to_first_token_ms: f64 },
    Finished(Generation),
}

#[derive(Debug, Clone, Deserialize)]
pub struct GenerateParams {
    pub prompt: String,
    pub system: Option<String>,
    pub max_tokens: Option<usize>,
    pub temperature: Option<f32>,
    pub seed: Option<u64>,
}

impl GenerateParams {
    fn into_request(self) -> GenerateRequest {
        let mut messages = Vec::new();
        if let Some(system) = self.system.filter(|s| !s.trim().is_empty()) {
            messages.push(ChatMessage::system(system));
        }
        messages.push(ChatMessage::user(self.prompt));
        let defaults = SamplingParams::default();
        GenerateRequest {
            prompt: Prompt::Chat(messages),
            max_tokens: self.max_tokens.unwrap_or(512),
            sampling: SamplingParams {
                temperature: self.temperature.unwrap_or(defaults.temperature),
                seed: self.seed.unwrap_or_else(rand_seed),
                ..defaults
            },
            stop: Vec::new(),
        }
    }
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(42)
}

/// The on-device model, loaded once in the background and shared by every request (one at a time).
pub struct ModelHost {
    status: Mutex<ModelStatus>,
    status_changed: Condvar,
    model: Mutex<Option<Model>>,
    watchers: Mutex<Vec<Channel<ModelStatus>>>,
    running: Mutex<HashMap<String, CancelToken>>,
}

impl ModelHost {
    fn new() -> Self {
        Self {
            status: Mutex::new(ModelStatus { state: ModelState::Loading, info: None, device: None, error: None }),
            status_changed: Condvar::new(),
            model: Mutex::new(None),
            watchers: Mutex::new(Vec::new()),
            running: Mutex::new(HashMap::new()),
        }
    }

    fn status(&self) -> ModelStatus {
        self.status.lock().unwrap().clone()
    }

    fn set_status(&self, status: ModelStatus) {
        *self.status.lock().unwrap() = status.clone();
        self.status_changed.notify_all();
        // A watcher whose window has gone fails to send; forget it.
        self.watchers.lock().unwrap().retain(|w| w.send(status.clone()).is_ok());
    }

    /// Loads the model on the calling thread and publishes the outcome.
    fn load(&self, path: Result<PathBuf, EngineError>, options: &LoadOptions) {
        let loaded = path.and_then(|p| Model::load(p, options));
        match loaded {
            Ok(model) => {
                let status = ModelStatus {
                    state: ModelState::Ready,
                    info: Some(model.info().clone()),
                    device: Some(model.device_name().to_string()),
                    error: None,
                };
                *self.model.lock().unwrap() = Some(model);
                self.set_status(status);
            }
            Err(err) => self.set_status(ModelStatus {
                state: ModelState::Error,
                info: None,
                device: None,
                error: Some(err.to_string()),
            }),
        }
    }

    /// Blocks until loading has ended; an error if it failed.
    fn wait_until_loaded(&self) -> Result<(), CommandError> {
        let mut status = self.status.lock().unwrap();
        while status.state == ModelState::Loading {
            status = self.status_changed.wait(status).unwrap();
        }
        match status.state {
            ModelState::Ready => Ok(()),
            _ => Err(CommandError::new("model_missing", status.error.clone().unwrap_or_default())),
        }
    }

    fn generate(&self, id: &str, params: GenerateParams, on_event: &Channel<GenerationEvent>) -> Result<Generation, CommandError> {
        let cancel = CancelToken::new();
        self.running.lock().unwrap().insert(id.to_string(), cancel.clone());
        let result = self.generate_registered(params, &cancel, on_event);
        self.running.lock().unwrap().remove(id);
        result
    }

    fn generate_registered(
        &self,
        params: GenerateParams,
        cancel: &CancelToken,
        on_event: &Channel<GenerationEvent>,
    ) -> Result<Generation, CommandError> {
        if params.prompt.trim().is_empty() {
            return Err(CommandError::new("empty_prompt", "Write something for the model to answer."));
        }
        self.wait_until_loaded()?;
        let request = params.into_request();
        let mut slot = self.model.lock().unwrap();
        let model = slot.as_mut().ok_or_else(|| CommandError::new("model_missing", "the model is not loaded"))?;
        let prompt_tokens = model.prompt_tokens(&request.prompt)?.len();
        let _ = on_event.send(GenerationEvent::Started { prompt_tokens });
        let generation = model.generate(&request, cancel, &mut |chunk| {
            let _ = on_event.send(GenerationEvent::Text {
                text: chunk.text.to_string(),
                completion_tokens: chunk.completion_tokens,
                tokens_per_second: chunk.tokens_per_second,
                time_to_first_token_ms: chunk.time_to_first_token_ms,
            });
        })?;
        let _ = on_event.send(GenerationEvent::Finished(generation.clone()));
        Ok(generation)
    }

    fn cancel(&self, id: &str) -> bool {
        match self.running.lock().unwrap().get(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}

#[tauri::command]
fn watch_model_status(host: State<'_, Arc<ModelHost>>, on_status: Channel<ModelStatus>) -> Result<(), CommandError> {
    on_status.send(host.status()).map_err(|e| CommandError::new("ipc", e.to_string()))?;
    host.watchers.lock().unwrap().push(on_status);
    Ok(())
}

#[tauri::command]
async fn generate(
    host: State<'_, Arc<ModelHost>>,
    id: String,
    params: GenerateParams,
    on_event: Channel<GenerationEvent>,
) -> Result<Generation, CommandError> {
    let host = Arc::clone(&host);
    // Inference blocks for seconds: keep it off the async runtime and the UI thread.
    tauri::async_runtime::spawn_blocking(move || host.generate(&id, params, &on_event))
        .await
        .map_err(|e| CommandError::new("internal", format!("generation task failed: {e}")))?
}

#[tauri::command]
fn cancel(host: State<'_, Arc<ModelHost>>, id: String) {
    host.cancel(&id);
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let host = Arc::new(ModelHost::new());
    let loader = Arc::clone(&host);
    std::thread::Builder::new()
        .name("model-loader".into())
        .spawn(move || {
            let path = std::env::var_os("ATELIER_MODEL")
                .map(|p| Ok(PathBuf::from(p)))
                .unwrap_or_else(atelier_engine::find_default_model);
            loader.load(path, &LoadOptions::default());
        })
        .expect("cannot start the model loader thread");

    tauri::Builder::default()
        .manage(host)
        .invoke_handler(tauri::generate_handler![watch_model_status, generate, cancel])
        .run(tauri::generate_context!())
        .expect("error while running Atelier");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_model_is_reported_and_generation_says_why() {
        let host = ModelHost::new();
        host.load(Err(EngineError::ModelNotFound { path: "/nope.gguf".into() }), &LoadOptions::default());
        let status = host.status();
        assert_eq!(status.state, ModelState::Error);
        assert!(status.error.unwrap().contains("/nope.gguf"));
        let err = host.wait_until_loaded().unwrap_err();
        assert_eq!(err.kind, "model_missing");
    }

    #[test]
    fn cancel_reaches_the_running_generation_only() {
        let host = ModelHost::new();
        let token = CancelToken::new();
        host.running.lock().unwrap().insert("a".into(), token.clone());
        assert!(!host.cancel("b"));
        assert!(!token.is_cancelled());
        assert!(host.cancel("a"));
        assert!(token.is_cancelled());
    }

    #[test]
    fn engine_errors_keep_their_message_and_get_a_kind() {
        let err: CommandError = EngineError::ContextOverflow { prompt_tokens: 9000, context_length: 4096 }.into();
        assert_eq!(err.kind, "context_overflow");
        assert!(err.message.contains("9000"));
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["kind"], "context_overflow");
    }
}
