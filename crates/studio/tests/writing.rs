//! Writing actions on the embedded model through the studio's one generation path: the run is recorded
//! with everything needed to run it again, and a re-run of it writes the same text.

use std::sync::{Arc, Mutex};

use atelier_engine::LoadOptions;
use atelier_store::Store;
use atelier_studio::generation::{self, EventSink, GenerationEvent, GenerationSpec};
use atelier_studio::{ActionInput, ModelHost, Tone, WritingAction};
use tokio_util::sync::CancellationToken;

fn host() -> ModelHost {
    let host = ModelHost::new();
    let path = atelier_engine::find_default_model().expect("the embedded model (scripts/fetch-default-model.sh)");
    host.load(Ok(path), &LoadOptions { threads: Some(2), ..Default::default() }).unwrap();
    host
}

/// Collects the streamed events.
fn recording() -> (EventSink, Arc<Mutex<Vec<GenerationEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    (Arc::new(move |event| sink.lock().unwrap().push(event)), events)
}

fn rewrite() -> ActionInput {
    ActionInput {
        action: Some(WritingAction::Rewrite),
        tone: Some(Tone::Vivid),
        selection: "The boat left the harbour in the morning.".into(),
        document: "The boat left the harbour in the morning. Nobody waved.".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rewrite_is_recorded_with_its_inputs_and_seed_and_a_rerun_writes_the_same_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let host = host();
    let sampling = atelier_engine::SamplingParams { temperature: 0.9, seed: 1234, ..generation::sampling(None, None).unwrap() };
    let (sink, events) = recording();
    let first = generation::write(&host, Some(&store), &rewrite(), sampling, None, CancellationToken::new(), sink).await.unwrap();
    assert!(!first.text.trim().is_empty());

    let run_id = match events.lock().unwrap().first() {
        Some(GenerationEvent::Started { run_id: Some(id) }) => *id,
        other => panic!("the first event names the run: {other:?}"),
    };
    let run = store.runs().get(run_id).await.unwrap();
    assert_eq!(run.run.action.as_deref(), Some("rewrite:vivid"));
    assert_eq!(run.run.seed, Some(1234));
    assert_eq!(run.run.final_text.as_deref(), Some(first.text.as_str()));
    assert!(run.run.prompt.starts_with("The passage:\n\nThe boat left the harbour in the morning.\n\nRewrite the passage above to be more vivid"), "{}", run.run.prompt);
    let spec = generation::recorded_spec(&run.run).unwrap();
    let action = spec.action.as_ref().expect("the action is recorded");
    assert_eq!((action.action, action.tone), (WritingAction::Rewrite, Some(Tone::Vivid)));
    assert_eq!(action.selection, "The boat left the harbour in the morning.");
    assert_eq!(spec.system.as_deref(), Some(atelier_studio::writing::SYSTEM_PROMPT));
    assert_eq!(spec.sampling.temperature, 0.9);

    // Sampled at 0.9, so only the recorded seed can make the text come out the same.
    let (sink, _) = recording();
    let again = generation::rerun(&host, &store, run_id, CancellationToken::new(), sink).await.unwrap();
    assert_eq!(again.text, first.text);
    let runs = store.runs().list(&Default::default(), 10, 0).await.unwrap();
    assert_eq!(runs.len(), 2, "the re-run is a run of its own");

    // A different seed is a different sample: the seed is what the re-run reproduced.
    let (sink, _) = recording();
    let other = atelier_engine::SamplingParams { seed: 99, ..spec.sampling.clone() };
    let different = generation::generate(&host, None, GenerationSpec { sampling: other, ..spec }, None, CancellationToken::new(), sink).await.unwrap();
    assert_ne!(different.text, first.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_turn_is_recorded_and_rerun_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let host = host();
    let spec = GenerationSpec {
        kind: Some("chat".into()),
        system: Some("You are a terse writing partner.".into()),
        history: vec![atelier_engine::ChatMessage::user("My hero is called Mara."), atelier_engine::ChatMessage::assistant("Noted: Mara.")],
        ..GenerationSpec::prompt("What is my hero called?", 24, generation::sampling(Some(0.8), Some(7)).unwrap())
    };
    let (sink, events) = recording();
    let first = generation::generate(&host, Some(&store), spec, None, CancellationToken::new(), sink).await.unwrap();
    let Some(GenerationEvent::Started { run_id: Some(run_id) }) = events.lock().unwrap().first().cloned() else { panic!("no run") };
    let (sink, _) = recording();
    let again = generation::rerun(&host, &store, run_id, CancellationToken::new(), sink).await.unwrap();
    assert_eq!(again.text, first.text);
    assert_eq!(store.runs().get(run_id).await.unwrap().run.action.as_deref(), Some("chat"));
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_that_cannot_run_say_why_before_anything_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let host = host();
    let (sink, _) = recording();
    let input = ActionInput { action: Some(WritingAction::Shorten), ..Default::default() };
    let err = generation::write(&host, Some(&store), &input, generation::sampling(None, None).unwrap(), None, CancellationToken::new(), sink).await.unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert_eq!(err.to_string(), "Select some text to shorten.");
    assert!(store.runs().list(&Default::default(), 10, 0).await.unwrap().is_empty());

    let fusion_run = store.runs().start(atelier_store::RunKind::Fusion, &atelier_store::NewRun { prompt: "x".into(), ..Default::default() }).await.unwrap();
    let (sink, _) = recording();
    let err = generation::rerun(&host, &store, fusion_run, CancellationToken::new(), sink).await.unwrap_err();
    assert!(err.to_string().contains("open a fusion run in Fusion"), "{err}");
}

/// Reading ahead through the app's own service: the Rewrite the panel would run is computed while the
/// writer pauses, so the click computes one token and writes what a cold run writes; a writer who
/// turned reading ahead off gets nothing computed, and with no model loaded nothing waits for one.
#[tokio::test(flavor = "multi_thread")]
async fn a_rewrite_read_ahead_costs_its_click_one_token_unless_the_writer_turned_it_off() {
    use atelier_studio::generation::{ContextFor, WriteParams};
    use atelier_studio::privacy::OfflineSetting;
    use atelier_studio::Studio;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let keys = Arc::new(atelier_keys::MemoryStore::default());
    let studio = Studio::new(Ok(store), keys.clone(), OfflineSetting::beside(&dir.path().join("library.sqlite3")));
    let target = ContextFor::Write(WriteParams { input: rewrite(), document_id: None, seed: None });
    assert_eq!(studio.prepare_context(&target).await.unwrap(), None, "no model is loaded: nothing is prepared, nothing waits");

    let path = atelier_engine::find_default_model().unwrap();
    studio.model.load(Ok(path), &LoadOptions { threads: Some(2), ..Default::default() }).unwrap();
    let prepared = studio.prepare_context(&target).await.unwrap().expect("prepared");
    assert!(!prepared.cancelled && prepared.computed_tokens + 1 == prepared.prompt_tokens, "{prepared:?}");
    let (sink, _) = recording();
    let clicked = studio.write("w1", &rewrite(), None, Some(7), sink).await.unwrap();
    assert_eq!((clicked.prompt_tokens, clicked.timings.prompt_tokens_processed), (prepared.prompt_tokens, 1));
    let cold = generation::write(&host(), None, &rewrite(), generation::sampling(None, Some(7)).unwrap(), None, CancellationToken::new(), recording().0).await.unwrap();
    assert_eq!(clicked.text, cold.text);

    studio.set_setting("prepare_ahead", &serde_json::json!(false)).await.unwrap();
    let shorten = ContextFor::Write(WriteParams { input: ActionInput { action: Some(WritingAction::Shorten), ..rewrite() }, document_id: None, seed: None });
    assert_eq!(studio.prepare_context(&shorten).await.unwrap(), None);
}
