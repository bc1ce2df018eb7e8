//! What the app holds while it runs: the library, the keychain, the network door, the on-device model,
//! and the runs in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_engine::EngineError;
use atelier_fusion::client::OutboundClient;
use atelier_fusion::PriceBook;
use atelier_keys::{KeyringStore, SecretStore};
use atelier_store::{Store, StoreError};
pub use atelier_studio::{ModelHost, ModelState, ModelStatus};
use serde::Serialize;
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

impl From<atelier_studio::StudioError> for CommandError {
    fn from(err: atelier_studio::StudioError) -> Self {
        Self { kind: err.kind(), message: err.to_string() }
    }
}

impl From<atelier_fusion::MemberError> for CommandError {
    fn from(err: atelier_fusion::MemberError) -> Self {
        Self { kind: err.kind(), message: err.to_string() }
    }
}

pub type CmdResult<T> = Result<T, CommandError>;

pub struct AppState {
    /// The library; an error (shown in the UI) if it could not be opened.
    pub store: Result<Store, String>,
    pub keys: Arc<dyn SecretStore>,
    pub client: OutboundClient,
    pub prices: Arc<PriceBook>,
    pub model: Arc<ModelHost>,
    pub running: Mutex<HashMap<String, CancellationToken>>,
    pub offline_setting: atelier_studio::privacy::OfflineSetting,
    /// Paths the user chose in a dialog or dropped on the window: the only ones file commands accept.
    pub picked: atelier_studio::picked::PickedPaths,
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
            picked: Default::default(),
            offline_setting: atelier_studio::privacy::OfflineSetting::beside(
                &atelier_store::default_path().unwrap_or_else(|_| std::env::temp_dir().join("atelier").join("library.sqlite3")),
            ),
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
