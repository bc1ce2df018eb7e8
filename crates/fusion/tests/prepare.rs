//! Preparing the on-device model in the background never keeps a request waiting: a request that
//! arrives while a preparation runs stops it at its next step, keeps what it computed, and answers as
//! a cold model would.

use std::sync::Arc;
use std::time::{Duration, Instant};

use atelier_engine::{find_default_model, ChatMessage, GenerateRequest, LoadOptions, Model, Prompt, SamplingParams};
use atelier_fusion::local::LocalEngine;
use tokio_util::sync::CancellationToken;

fn model() -> Model {
    let path = find_default_model().expect("the embedded model (scripts/fetch-default-model.sh)");
    Model::load(path, &LoadOptions { context_length: Some(2048), ..Default::default() }).unwrap()
}

fn request(text: &str) -> GenerateRequest {
    GenerateRequest {
        prompt: Prompt::Chat(vec![ChatMessage::user(text)]),
        max_tokens: 8,
        sampling: SamplingParams::greedy(),
        stop: vec![],
        response_format: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_stops_a_preparation_in_progress_and_continues_what_it_computed() {
    let scene = "The keeper counted the ships that passed the rock each night, and wrote their names down. ".repeat(60);
    let long = request(&format!("{scene}\n\nContinue the text above."));
    let short = request(&format!("{}\n\nWhat is the keeper counting?", &scene[..scene.len() / 2]));
    let mut reference = model();
    let cold = reference.generate(&short, &atelier_engine::CancelToken::new(), &mut |_| {}).unwrap();
    let (long_ids, short_ids) = (reference.prompt_tokens(&long.prompt).unwrap(), reference.prompt_tokens(&short.prompt).unwrap());
    let common = long_ids.iter().zip(&short_ids).take_while(|(a, b)| a == b).count();

    let engine = Arc::new(LocalEngine::new(model()));
    let preparing = tokio::spawn({
        let (engine, prompt) = (Arc::clone(&engine), long.prompt.clone());
        async move { engine.prepare(prompt).await }
    });
    // Wait until the preparation holds the model: the request below then arrives while it runs.
    let since = Instant::now();
    while engine.model().try_lock().is_ok() {
        assert!(since.elapsed() < Duration::from_secs(30), "the preparation never started");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let answered = engine.generate_stream(short.clone(), CancellationToken::new(), |_| {}).await.unwrap();
    let prepared = preparing.await.unwrap().unwrap();
    assert!(prepared.cancelled, "the request stopped the preparation: {prepared:?}");
    assert!(prepared.computed_tokens + 1 < prepared.prompt_tokens, "{prepared:?}");
    // What the preparation computed of the shared scene was not computed again.
    let reused = answered.prompt_tokens - answered.timings.prompt_tokens_processed;
    assert_eq!(reused, prepared.computed_tokens.min(common), "{prepared:?} {:?}", answered.timings);
    assert_eq!(answered.text, cold.text);

    // A preparation that runs to its end leaves the request one token to compute.
    let done = engine.prepare(long.prompt.clone()).await.unwrap();
    assert!(!done.cancelled && done.cached_tokens + done.computed_tokens + 1 == done.prompt_tokens, "{done:?}");
    let ready = engine.generate_stream(long, CancellationToken::new(), |_| {}).await.unwrap();
    assert_eq!(ready.timings.prompt_tokens_processed, 1);
}
