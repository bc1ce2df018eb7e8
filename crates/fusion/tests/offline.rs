//! Offline self-fusion: a panel of samples of the on-device model, judged by it, with offline mode on.
//! Its own test binary, so no other test's sockets are in this process while it counts them.

use std::sync::Arc;
use std::time::Duration;

use atelier_engine::{find_default_model, LoadOptions, Model};
use atelier_fusion::client::OutboundClient;
use atelier_fusion::config::PanelBuilder;
use atelier_fusion::local::{LocalEngine, LocalProvider};
use atelier_fusion::modes::{run, FusionRequest, FusionStatus, Mode};
use atelier_fusion::panel::MemberSpec;
use atelier_fusion::provider::{ChatEvent, ChatMessage, ChatRequest, Provider};
use atelier_keys::MemoryStore;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

/// Inodes of this process's open sockets ("socket:[123]"); compared as sets, since a socket the
/// harness closes meanwhile is not one this run opened.
fn open_sockets() -> std::collections::BTreeSet<String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|t| t.to_string_lossy().into_owned())
        .filter(|t| t.starts_with("socket:"))
        .collect()
}

fn engine() -> Arc<LocalEngine> {
    let path = find_default_model().expect("the embedded model (scripts/fetch-default-model.sh)");
    let model = Model::load(path, &LoadOptions { context_length: Some(2048), ..Default::default() }).unwrap();
    Arc::new(LocalEngine::new(model))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_fusion_runs_on_device_with_offline_on_and_opens_no_socket() {
    let engine = engine();
    let client = OutboundClient::new(Duration::from_secs(1));
    client.set_offline(true);
    let builder = PanelBuilder::new(client.clone(), Arc::new(MemoryStore::default()), Some(Arc::clone(&engine)));
    let members = builder.self_fusion_panel(3).unwrap();
    assert!(members.iter().all(|m| !m.provider.is_cloud()));
    let judge = MemberSpec::new(Arc::new(LocalProvider::persona(Arc::clone(&engine), 0.2, Some("an impartial editor"))));
    let mut request = FusionRequest::new(vec![ChatMessage::user("Give one vivid image of the sea at dawn.")], members, judge, Mode::Merge);
    request.max_tokens = 24;
    request.judge_max_tokens = 96;
    request.seed = 5;
    let sockets_before = open_sockets();
    // Sample while the run is in flight too, so a socket opened and closed again is caught.
    let watching = CancellationToken::new();
    let watcher = tokio::spawn({
        let (watching, before) = (watching.clone(), sockets_before.clone());
        async move {
            let mut opened = std::collections::BTreeSet::new();
            while !watching.is_cancelled() {
                opened.extend(open_sockets().difference(&before).cloned());
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            opened
        }
    });
    let out = run(request, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    watching.cancel();
    let mut opened = watcher.await.unwrap();
    opened.extend(open_sockets().difference(&sockets_before).cloned());
    assert!(opened.is_empty(), "sockets were opened while offline: {opened:?}");
    assert_eq!(out.members.len(), 3);
    assert!(out.members.iter().all(|m| m.succeeded() && !m.text.trim().is_empty()), "{:?}", out.members);
    // Three personas at different temperatures answer differently.
    assert!(out.members[0].text != out.members[1].text || out.members[1].text != out.members[2].text);
    // A 135M model may not write a valid verdict: then the answers come back with that status.
    assert!(matches!(out.status, FusionStatus::Completed | FusionStatus::JudgeFailed), "{:?}", out.status);
    assert_eq!(out.cost_usd, 0.0);
    assert!(!out.judge_passes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_local_requests_queue_and_both_finish() {
    let engine = engine();
    let provider = LocalProvider::new(engine);
    let request = |text: &str| ChatRequest { messages: vec![ChatMessage::user(text)], max_tokens: 12, temperature: 0.0, top_p: None, seed: Some(1), response_format: None };
    let collect = |p: LocalProvider, r: ChatRequest| async move {
        let mut s = p.stream_chat(r, CancellationToken::new());
        let mut text = String::new();
        let mut done = false;
        while let Some(e) = s.next().await {
            match e.unwrap() {
                ChatEvent::Delta(t) => text.push_str(&t),
                ChatEvent::Done => done = true,
                ChatEvent::Usage(u) => assert!(u.completion_tokens > 0),
            }
        }
        assert!(done);
        text
    };
    let (a, b) = tokio::join!(collect(provider.clone(), request("Name a fruit.")), collect(provider.clone(), request("Name a river.")));
    assert!(!a.is_empty() && !b.is_empty());
    // Cancelling one in the queue stops it without disturbing the model.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let mut s = provider.stream_chat(request("Name a mountain."), cancel);
    assert!(matches!(s.next().await, Some(Err(atelier_fusion::MemberError::Cancelled))));
}

/// The on-device judge under its grammar: every verdict parses, for merge and pick, whatever the seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_on_device_judges_verdict_parses_by_construction() {
    use atelier_fusion::judge::{judge_format, judge_messages, label, parse_verdict, JudgeTask};
    let engine = engine();
    let judge = LocalProvider::persona(Arc::clone(&engine), 0.9, Some("an impartial editor"));
    let answers = ["The sea woke grey and the gulls spoke first.", "Dawn: a copper line on black water, and a bell somewhere."];
    let labels: Vec<String> = (0..answers.len()).map(label).collect();
    for (task, seed) in [(JudgeTask::Merge, 1), (JudgeTask::Merge, 2), (JudgeTask::Pick, 3)] {
        let request = ChatRequest {
            messages: judge_messages("Write one line about the sea at dawn.", &answers, task, None),
            max_tokens: 1024,
            temperature: 0.9,
            top_p: None,
            seed: Some(seed),
            response_format: Some(judge_format(&labels, task)),
        };
        let mut stream = judge.stream_chat(request, CancellationToken::new());
        let mut text = String::new();
        while let Some(event) = stream.next().await {
            if let ChatEvent::Delta(piece) = event.unwrap() {
                text.push_str(&piece);
            }
        }
        let (verdict, final_text) = parse_verdict(&text, &labels, task).unwrap_or_else(|e| panic!("{task:?} seed {seed}: {e}\n{text}"));
        assert_eq!(verdict.scores.len(), 2, "{text}");
        assert!(verdict.best.is_some());
        assert!(!final_text.is_empty());
        if task == JudgeTask::Pick {
            assert!(labels.contains(&final_text), "{final_text}");
        }
    }
}

/// Self-fusion with the writer's personas, and its latency from the model's measured speed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_fusion_takes_the_writers_personas_and_estimates_its_latency_from_measured_speed() {
    use atelier_fusion::config::Persona;
    let engine = engine();
    assert_eq!(engine.measured_speed(), None, "nothing measured yet");
    let builder = PanelBuilder::new(OutboundClient::new(Duration::from_secs(1)), Arc::new(MemoryStore::default()), Some(Arc::clone(&engine)));
    let personas = vec![Persona { temperature: 0.4, description: "a poet".into() }, Persona { temperature: 1.1, description: "a sceptic".into() }];
    let members = builder.self_fusion_panel_with(3, &personas).unwrap();
    let names: Vec<String> = members.iter().map(|m| m.provider.model().to_string()).collect();
    assert!(names[0].contains("a poet, t=0.4") && names[1].contains("a sceptic, t=1.1") && names[2].contains("a poet"), "{names:?}");
    let bad = vec![Persona { temperature: 3.0, description: "a wild one".into() }];
    assert!(builder.self_fusion_panel_with(2, &bad).err().expect("refused").to_string().contains("temperature from 0 to 2"));

    let judge = MemberSpec::new(Arc::new(LocalProvider::persona(Arc::clone(&engine), 0.2, Some("an impartial editor"))));
    let mut request = FusionRequest::new(vec![ChatMessage::user("Give one vivid image of the sea at dawn, in a sentence or two.")], members, judge, Mode::Merge);
    request.max_tokens = 48;
    // At 10 tokens a second (and prompts for free): three answers of 48, then a verdict of 250 + 48.
    let seconds = request.on_device_seconds((1e12, 10.0)).unwrap();
    assert!((seconds - (3.0 * 48.0 + 298.0) / 10.0).abs() < 0.01, "{seconds}");
    assert!(request.on_device_seconds((1e12, 20.0)).unwrap() < seconds);

    // A generation of a real prompt measures the speed the estimate then uses.
    let prompt = "Describe, in one sentence, a lighthouse keeper climbing the stairs at dusk while a storm gathers over the grey estuary and the gulls go quiet.";
    let reply = LocalProvider::new(Arc::clone(&engine))
        .stream_chat(ChatRequest { messages: vec![ChatMessage::user(prompt)], max_tokens: 16, temperature: 0.0, top_p: None, seed: Some(1), response_format: None }, CancellationToken::new())
        .collect::<Vec<_>>()
        .await;
    assert!(reply.iter().all(|e| e.is_ok()));
    let (prompt_speed, decode_speed) = engine.measured_speed().expect("measured");
    assert!(prompt_speed > 0.0 && decode_speed > 0.0);
    assert!(request.on_device_seconds((prompt_speed, decode_speed)).unwrap() > 0.0);
}
