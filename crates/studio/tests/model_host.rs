//! The model host: a model loaded before anyone waits is served; a load that fails or panics answers
//! every waiter with its error instead of leaving them waiting on "loading" forever.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_engine::{EngineError, LoadOptions, Model};
use atelier_studio::{ModelHost, ModelState, StudioError};

fn tiny_model(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("tiny.gguf");
    atelier_engine::synthetic::SyntheticSpec::tiny_llama().write(&path).unwrap();
    path
}

#[tokio::test]
async fn a_model_loaded_before_anyone_waits_is_served() {
    let host = ModelHost::new();
    let dir = tempfile::tempdir().unwrap();
    host.load(Ok(tiny_model(&dir)), &LoadOptions::default()).unwrap();
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
    assert!(error.to_string().contains("/nonexistent/model.gguf"), "{error}");
}

#[tokio::test]
async fn a_load_that_panics_publishes_an_error_to_every_waiter() {
    let host = Arc::new(ModelHost::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    {
        let seen = Arc::clone(&seen);
        host.watch(Box::new(move |status| {
            seen.lock().unwrap().push(status.state);
            true
        }));
    }
    // Waiters that arrived while the model was loading.
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let host = Arc::clone(&host);
            tokio::spawn(async move { host.engine().await.map(|_| ()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let loader = {
        let host = Arc::clone(&host);
        std::thread::spawn(move || host.load_with(|| -> Result<Model, EngineError> { panic!("index out of bounds: a hostile tensor") }))
    };
    let result = loader.join().expect("the panic escaped the host");
    assert!(matches!(&result, Err(StudioError::LoadPanicked(m)) if m.contains("hostile tensor")), "{result:?}");
    for waiter in waiters {
        let answer = tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("a waiter hung after a panicking load").unwrap();
        assert!(matches!(answer, Err(StudioError::NoModel(ref m)) if m.contains("internal error")), "{answer:?}");
    }
    assert_eq!(host.status().state, ModelState::Error);
    assert_eq!(seen.lock().unwrap().last(), Some(&ModelState::Error));
    // The host still works: a good model loads after the bad one.
    let dir = tempfile::tempdir().unwrap();
    host.load(Ok(tiny_model(&dir)), &LoadOptions::default()).unwrap();
    assert!(host.engine().await.is_ok());
}
