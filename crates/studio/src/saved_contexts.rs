//! Saving the on-device model's context to disk once the writer pauses, so that reopening the project
//! (or restarting the app) continues the scene from the saved cache instead of computing it again. The
//! save waits for a quiet moment: writing a long context takes a second, which must never delay a run.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use atelier_fusion::local::LocalEngine;

/// How long the model must sit idle before its context is written.
const IDLE: Duration = Duration::from_secs(2);

/// Runs started or finished; a pending save goes ahead only if this has not moved since it was planned.
static ACTIVITY: AtomicU64 = AtomicU64::new(0);

/// Where saved contexts live: beside the library they belong to.
pub fn dir_beside(library: &Path) -> Option<PathBuf> {
    library.parent().map(|dir| dir.join("contexts"))
}

/// A run is starting: any pending save waits for the next pause.
pub fn run_started() {
    ACTIVITY.fetch_add(1, Ordering::SeqCst);
}

/// A run finished: once the model has been idle for [`IDLE`], saves its context (the engine skips short
/// or already saved ones). Needs a tokio runtime; failures are logged, as the cache is only a cache.
pub fn save_when_idle(engine: Arc<LocalEngine>) {
    let ticket = ACTIVITY.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::spawn(async move {
        tokio::time::sleep(IDLE).await;
        if ACTIVITY.load(Ordering::SeqCst) != ticket {
            return;
        }
        // Checked again once the model is ours: a run queued meanwhile goes first, and the save waits.
        let still_idle = move |model: &mut atelier_engine::Model| {
            if ACTIVITY.load(Ordering::SeqCst) == ticket { model.save_context() } else { Ok(false) }
        };
        match engine.in_turn(still_idle).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) | Err(e) => tracing::warn!(error = %e, "the context could not be saved for next time"),
        }
    });
}
