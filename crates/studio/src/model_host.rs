//! The on-device model both front ends share: loaded in the background, swapped when the user picks
//! another, its status pushed to every watcher. A load that fails — or panics — publishes its error to
//! every waiter, so nothing waits forever on a model that will never come.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use atelier_engine::{EngineError, LoadOptions, Model, ModelInfo};
use atelier_fusion::local::LocalEngine;
use serde::Serialize;

use crate::error::{Result, StudioError};

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[derive(specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum ModelState {
    Loading,
    Ready,
    Error,
}

/// What the UI is told about the on-device model.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[derive(specta::Type)]
pub struct ModelStatus {
    pub state: ModelState,
    pub info: Option<ModelInfo>,
    pub device: Option<String>,
    pub backend: Option<String>,
    pub error: Option<String>,
    pub load_ms: Option<f64>,
}

/// Receives every status; returns `false` once its receiver is gone (a closed window) to be forgotten.
pub type StatusWatcher = Box<dyn Fn(&ModelStatus) -> bool + Send>;

pub struct ModelHost {
    status: Mutex<ModelStatus>,
    ready: tokio::sync::watch::Sender<bool>,
    engine: Mutex<Option<Arc<LocalEngine>>>,
    watchers: Mutex<Vec<StatusWatcher>>,
}

impl Default for ModelHost {
    fn default() -> Self {
        Self::new()
    }
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

    /// A host that will never have a model (a front end that needs none): waiters get `reason` at once.
    pub fn without_model(reason: &str) -> Self {
        let host = Self::new();
        host.publish(ModelStatus { state: ModelState::Error, error: Some(reason.to_string()), ..host.status() });
        host
    }

    pub fn status(&self) -> ModelStatus {
        lock(&self.status).clone()
    }

    pub fn watch(&self, watcher: StatusWatcher) {
        watcher(&self.status());
        lock(&self.watchers).push(watcher);
    }

    fn publish(&self, status: ModelStatus) {
        *lock(&self.status) = status.clone();
        lock(&self.watchers).retain(|w| w(&status));
        // send_replace, not send: send drops the value when nobody is waiting yet (as at start-up).
        self.ready.send_replace(status.state != ModelState::Loading);
    }

    /// Loads `path` on the calling (blocking) thread; the previous model keeps serving until it is ready.
    pub fn load(&self, path: std::result::Result<PathBuf, EngineError>, options: &LoadOptions) -> Result<()> {
        self.load_with(|| path.and_then(|p| Model::load(p, options)))
    }

    /// Publishes "loading", runs `load`, then publishes its model or its error — also when it panics.
    pub fn load_with(&self, load: impl FnOnce() -> std::result::Result<Model, EngineError>) -> Result<()> {
        self.publish(ModelStatus { state: ModelState::Loading, ..self.status() });
        // A panic inside the engine (a defect a hostile file found) must not leave the state "loading".
        let loaded = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(load)) {
            Ok(Ok(model)) => Ok(model),
            Ok(Err(e)) => Err(StudioError::Model(e)),
            Err(panic) => Err(StudioError::LoadPanicked(panic_message(&panic))),
        };
        match loaded {
            Ok(model) => {
                let status = ModelStatus {
                    state: ModelState::Ready,
                    info: Some(model.info().clone()),
                    device: Some(model.device_name().to_string()),
                    backend: Some(model.backend_name().to_string()),
                    error: None,
                    load_ms: Some(model.load_duration().as_secs_f64() * 1000.0),
                };
                tracing::info!(model = %model.info().name, device = model.device_name(), load_ms = status.load_ms.unwrap_or_default(), "model ready");
                *lock(&self.engine) = Some(Arc::new(LocalEngine::new(model)));
                self.publish(status);
                Ok(())
            }
            Err(err) => {
                tracing::warn!("the model could not be loaded: {err}");
                let keep = lock(&self.engine).is_some();
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
    pub async fn engine(&self) -> Result<Arc<LocalEngine>> {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
        lock(&self.engine).clone().ok_or_else(|| StudioError::NoModel(self.status().error.unwrap_or_else(|| "no model is loaded".into())))
    }

    pub fn engine_now(&self) -> Option<Arc<LocalEngine>> {
        lock(&self.engine).clone()
    }
}

/// A poisoned lock only means another thread panicked while holding it; the data is still whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_else(|| "unknown panic".into())
}
