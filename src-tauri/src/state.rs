//! What the app holds while it runs: the library, the keychain, the network door, the on-device model,
//! and the runs in flight.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_engine::{EngineError, LoadOptions, Model, ModelInfo};
use atelier_fusion::client::OutboundClient;
use atelier_fusion::local::LocalEngine;
use atelier_fusion::PriceBook;
use atelier_keys::{KeyringStore, SecretStore};
use atelier_store::{Store, StoreError};
use serde::Serialize;
use tauri::ipc::Channel;
use tokio_util::sync::CancellationToken;

/// An error as the UI receives it: a stable kind to branch on and a message for the user.
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub kind: &'static str,
    pub message: String,
}

impl CommandError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
}

impl From<EngineError> for CommandError {
    fn from(err: EngineError) -> Self {
        let kind = match &err {
            EngineError::ModelNotFound { .. } | EngineError::NoDefaultModel { .. } => "model_missing",
            EngineError::NotGguf { .. } | EngineError::Corrupt { .. } => "model_invalid",
            EngineError::UnsupportedArchitecture { .. } | EngineError::UnsupportedTensorType { .. } => "model_unsupported",
            EngineError::ContextOverflow { .. } => "context_overflow",
            EngineError::EmptyPrompt => "empty_prompt",
            EngineError::InvalidSampling(_) => "invalid_settings",
            EngineError::InsufficientMemory { .. } => "out_of_memory",
            _ => "engine",
        };
        Self { kind, message: err.to_string() }
    }
}

impl From<StoreError> for CommandError {
    fn from(err: StoreError) -> Self {
        let kind = match &err {
            StoreError::NotFound { .. } => "not_found",
            StoreError::DiskFull => "disk_full",
            StoreError::Invalid(_) => "invalid",
            _ => "library",
        };
        Self { kind, message: err.to_string() }
    }
}

impl From<atelier_keys::KeysError> for CommandError {
    fn from(err: atelier_keys::KeysError) -> Self {
        let kind = match &err {
            atelier_keys::KeysError::Unavailable { .. } => "keychain_unavailable",
            atelier_keys::KeysError::Locked(_) => "keychain_locked",
            _ => "keychain",
        };
        Self { kind, message: err.to_string() }
    }
}

impl From<atelier_fusion::FusionError> for CommandError {
    fn from(err: atelier_fusion::FusionError) -> Self {
        let kind = match &err {
            atelier_fusion::FusionError::OverBudget { .. } => "over_budget",
            atelier_fusion::FusionError::Config(_) | atelier_fusion::FusionError::PanelSize(_) => "invalid",
            _ => "fusion",
        };
        Self { kind, message: err.to_string() }
    }
}

pub type CmdResult<T> = Result<T, CommandError>;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModelState {
    Loading,
    Ready,
    Error,
}

/// What the UI is told about the on-device model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelStatus {
    pub state: ModelState,
    pub info: Option<ModelInfo>,
    pub device: Option<String>,
    pub backend: Option<String>,
    pub error: Option<String>,
    pub load_ms: Option<f64>,
}

/// The on-device model: loaded in the background, swapped when the user picks another, shared by chat,
/// generation and fusion (requests queue fairly on the engine).
pub struct ModelHost {
    status: Mutex<ModelStatus>,
    ready: tokio::sync::watch::Sender<bool>,
    engine: Mutex<Option<Arc<LocalEngine>>>,
    watchers: Mutex<Vec<Channel<ModelStatus>>>,
}

impl ModelHost {
    pub fn new() -> Self {
        Self {
            status: Mutex::new(ModelStatus { state: ModelState::Loading, info: None, device: None, backend: None, error: None, load_ms: None }),
            ready: tokio::sync::watch::channel(false).0,
            engine: Mutex::new(None),
            watchers: Mutex::new(Vec::new()),
        }
    }

    pub fn status(&self) -> ModelStatus {
        self.status.lock().unwrap().clone()
    }

    pub fn watch(&self, channel: Channel<ModelStatus>) {
        let _ = channel.send(self.status());
        self.watchers.lock().unwrap().push(channel);
    }

    fn publish(&self, status: ModelStatus) {
        *self.status.lock().unwrap() = status.clone();
        // A watcher whose window has gone fails to send; forget it.
        self.watchers.lock().unwrap().retain(|w| w.send(status.clone()).is_ok());
        // send_replace, not send: send drops the value when nobody is waiting yet (as at start-up).
        self.ready.send_replace(status.state != ModelState::Loading);
    }

    /// Loads `path` on the calling (blocking) thread; the previous model keeps serving until it is ready.
    pub fn load(&self, path: Result<PathBuf, EngineError>, options: &LoadOptions) -> Result<(), EngineError> {
        self.publish(ModelStatus { state: ModelState::Loading, ..self.status() });
        match path.and_then(|p| Model::load(p, options)) {
            Ok(model) => {
                let status = ModelStatus {
                    state: ModelState::Ready,
                    info: Some(model.info().clone()),
                    device: Some(model.device_name().to_string()),
                    backend: Some(model.backend_name().to_string()),
                    error: None,
                    load_ms: Some(model.load_duration().as_secs_f64() * 1000.0),
                };
                log::info!("model {} ready on {} in {:.0} ms", model.info().name, model.device_name(), status.load_ms.unwrap_or_default());
                *self.engine.lock().unwrap() = Some(Arc::new(LocalEngine::new(model)));
                self.publish(status);
                Ok(())
            }
            Err(err) => {
                log::warn!("the model could not be loaded: {err}");
                let keep = self.engine.lock().unwrap().is_some();
                let status = if keep {
                    // The model that was running keeps running; the error is shown.
                    ModelStatus { state: ModelState::Ready, error: Some(err.to_string()), ..self.status() }
                } else {
                    ModelStatus { state: ModelState::Error, info: None, device: None, backend: None, error: Some(err.to_string()), load_ms: None }
                };
                self.publish(status);
                Err(err)
            }
        }
    }

    /// The engine, waiting while the first model loads.
    pub async fn engine(&self) -> CmdResult<Arc<LocalEngine>> {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
        self.engine
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| CommandError::new("model_missing", self.status().error.unwrap_or_else(|| "no model is loaded".into())))
    }

    pub fn engine_now(&self) -> Option<Arc<LocalEngine>> {
        self.engine.lock().unwrap().clone()
    }
}

pub struct AppState {
    /// The library; an error (shown in the UI) if it could not be opened.
    pub store: Result<Store, String>,
    pub keys: Arc<dyn SecretStore>,
    pub client: OutboundClient,
    pub prices: Arc<PriceBook>,
    pub model: Arc<ModelHost>,
    pub running: Mutex<HashMap<String, CancellationToken>>,
}

impl AppState {
    pub fn new(store: Result<Store, String>) -> Self {
        let client = OutboundClient::new(Duration::from_secs(10));
        let client = match &store {
            Ok(store) => client.with_ledger(atelier_fusion::persist::StoreLedger::new(store.clone(), None)),
            Err(_) => client,
        };
        Self {
            store,
            keys: Arc::new(KeyringStore::default()),
            client,
            prices: Arc::new(PriceBook::default()),
            model: Arc::new(ModelHost::new()),
            running: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> CmdResult<&Store> {
        self.store.as_ref().map_err(|e| CommandError::new("library_unavailable", e.clone()))
    }

    /// Registers a cancellable operation under the UI's id.
    pub fn begin(&self, id: &str) -> CancellationToken {
        let token = CancellationToken::new();
        self.running.lock().unwrap().insert(id.to_string(), token.clone());
        token
    }

    pub fn end(&self, id: &str) {
        self.running.lock().unwrap().remove(id);
    }

    pub fn cancel(&self, id: &str) -> bool {
        match self.running.lock().unwrap().get(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_model_loaded_before_anyone_waits_is_served() {
        let host = ModelHost::new();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        atelier_engine::synthetic::SyntheticSpec::tiny_llama().write(&path).unwrap();
        host.load(Ok(path), &LoadOptions::default()).unwrap();
        let engine = tokio::time::timeout(Duration::from_secs(5), host.engine()).await.expect("engine() waited on a loaded model");
        assert!(engine.is_ok());
    }

    #[tokio::test]
    async fn a_failed_first_load_answers_with_its_error() {
        let host = ModelHost::new();
        let missing = std::path::PathBuf::from("/nonexistent/model.gguf");
        assert!(host.load(Err(EngineError::ModelNotFound { path: missing }), &LoadOptions::default()).is_err());
        let answer = tokio::time::timeout(Duration::from_secs(5), host.engine()).await.expect("engine() hung after a failed load");
        let Err(error) = answer else { panic!("a failed load served an engine") };
        assert!(error.message.contains("/nonexistent/model.gguf"), "{}", error.message);
    }
}
