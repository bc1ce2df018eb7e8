//! Providers, the panel, the judge and the modes against a real loopback HTTP server speaking the
//! OpenAI chat-completions SSE protocol, with scripted faults.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_fusion::budget::Price;
use atelier_fusion::client::{MemoryLedger, OutboundClient};
use atelier_fusion::events::FusionEvent;
use atelier_fusion::modes::{run, FusionRequest, FusionStatus, Mode};
use atelier_fusion::openai::OpenAiProvider;
use atelier_fusion::panel::{MemberSpec, Timeouts};
use atelier_fusion::provider::{ChatEvent, ChatMessage, ChatRequest, Provider};
use atelier_fusion::{FusionError, MemberError};
use atelier_keys::{KeyScope, MemoryStore, SecretStore, SecretString};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

struct Setup {
    server: common::TestServer,
    client: OutboundClient,
    keys: Arc<MemoryStore>,
    ledger: Arc<MemoryLedger>,
}

async fn setup() -> Setup {
    let server = common::start().await;
    let ledger = Arc::new(MemoryLedger::default());
    let client = OutboundClient::new(Duration::from_secs(2)).with_ledger(ledger.clone());
    let keys = Arc::new(MemoryStore::default());
    keys.set(&KeyScope::new("test", &server.url).unwrap(), &SecretString::from("sk-test-123")).unwrap();
    Setup { server, client, keys, ledger }
}

impl Setup {
    fn provider(&self, model: &str) -> OpenAiProvider {
        OpenAiProvider::new("test", &self.server.url, model, self.client.clone(), self.keys.clone()).unwrap()
    }

    fn seat(&self, model: &str) -> MemberSpec {
        MemberSpec::new(Arc::new(self.provider(model)))
    }

    fn request(&self, members: &[&str], judge: &str, mode: Mode) -> FusionRequest {
        let mut r = FusionRequest::new(
            vec![ChatMessage::user("Describe the sea at dawn.")],
            members.iter().map(|m| self.seat(m)).collect(),
            self.seat(judge),
            mode,
        );
        r.seed = 11;
        r.max_tokens = 64;
        r.timeouts = Timeouts { first_token: Duration::from_millis(800), total: Duration::from_secs(10) };
        r.retry.base_delay = Duration::from_millis(50);
        r
    }
}

fn chat() -> ChatRequest {
    ChatRequest { messages: vec![ChatMessage::user("hi")], max_tokens: 16, temperature: 0.5, top_p: None, seed: Some(1), response_format: None }
}

async fn collect(provider: &OpenAiProvider) -> (String, Vec<ChatEvent>, Option<MemberError>) {
    let mut stream = provider.stream_chat(chat(), CancellationToken::new());
    let (mut text, mut events, mut error) = (String::new(), Vec::new(), None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(ChatEvent::Delta(t)) => text.push_str(&t),
            Ok(e) => events.push(e),
            Err(e) => error = Some(e),
        }
    }
    (text, events, error)
}

fn recorder() -> (Arc<Mutex<Vec<FusionEvent>>>, atelier_fusion::events::EventSink) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let events = Arc::clone(&events);
        Arc::new(move |e: FusionEvent| events.lock().unwrap().push(e)) as atelier_fusion::events::EventSink
    };
    (events, sink)
}

#[tokio::test]
async fn a_provider_streams_text_then_usage_with_the_key_and_stream_options() {
    let s = setup().await;
    let (text, events, error) = collect(&s.provider("writer-1")).await;
    assert!(error.is_none(), "{error:?}");
    assert!(text.starts_with("A plain answer about the sea at dawn"), "{text}");
    assert!(matches!(events[0], ChatEvent::Usage(u) if u.prompt_tokens == 12 && u.completion_tokens > 5));
    assert_eq!(events.last(), Some(&ChatEvent::Done));
    let request = &s.server.state.requests_for("writer-1")[0];
    assert_eq!(request.authorization.as_deref(), Some("Bearer sk-test-123"));
    assert_eq!(request.body["stream"], true);
    assert_eq!(request.body["stream_options"]["include_usage"], true);
    assert_eq!(request.body["max_tokens"], 16);
}

#[tokio::test]
async fn a_missing_key_fails_without_a_connection() {
    let s = setup().await;
    let p = OpenAiProvider::new("nokey", &s.server.url, "writer", s.client.clone(), s.keys.clone()).unwrap();
    let (_, _, error) = collect(&p).await;
    let origin = atelier_keys::Origin::parse(&s.server.url).unwrap().to_string();
    assert_eq!(error, Some(MemberError::MissingKey { provider: "nokey".into(), origin }));
    assert_eq!(s.server.state.connections.load(Ordering::SeqCst), 0);
    // A keyless local server is fine without one.
    let (text, _, error) = collect(&p.clone().without_key()).await;
    assert!(error.is_none() && !text.is_empty());
}

#[tokio::test]
async fn http_faults_become_precise_member_errors() {
    let s = setup().await;
    let (_, _, e) = collect(&s.provider("401")).await;
    assert_eq!(e.unwrap().to_string(), "401 invalid key: test refused the API key");
    let (_, _, e) = collect(&s.provider("500")).await;
    assert_eq!(e.unwrap().to_string(), "500 upstream exploded");
    let (text, _, e) = collect(&s.provider("cut")).await;
    assert_eq!(e.unwrap(), MemberError::StreamCut { tokens: 4 });
    assert_eq!(text, "this answer will be ");
    let (text, _, e) = collect(&s.provider("badjson")).await;
    assert!(matches!(e, Some(MemberError::Malformed(ref m)) if m.contains("invalid JSON")), "{e:?}");
    assert_eq!(text, "fine ");
    // Comments, other events and junk lines are ignored.
    let (text, _, e) = collect(&s.provider("junk")).await;
    assert!(e.is_none(), "{e:?}");
    assert_eq!(text, "junk survived");
}

#[tokio::test]
async fn the_panel_retries_429_after_retry_after_and_5xx_with_backoff_but_not_401() {
    let s = setup().await;
    let started = std::time::Instant::now();
    let out = run(s.request(&["429-once", "503-once", "401"], "judge-good", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard())
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1000), "Retry-After: 1 was not honoured");
    assert_eq!(s.server.state.requests_for("429-once").len(), 2);
    assert_eq!(s.server.state.requests_for("503-once").len(), 2);
    assert_eq!(s.server.state.requests_for("401").len(), 1);
    let by_model = |m: &str| out.members.iter().find(|o| o.model == m).unwrap().clone();
    assert!(by_model("429-once").succeeded() && by_model("429-once").attempts == 2);
    assert_eq!(by_model("401").error.as_deref(), Some("401 invalid key: test refused the API key"));
    assert_eq!(out.status, FusionStatus::Completed);
}

#[tokio::test]
async fn a_500_that_persists_gives_up_after_three_attempts() {
    let s = setup().await;
    let out = run(s.request(&["500", "writer"], "judge-good", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    assert_eq!(s.server.state.requests_for("500").len(), 3);
    assert_eq!(out.members[0].error.as_deref(), Some("500 upstream exploded"));
    // One answer is enough (quorum 1): nothing to compare, so it is the result.
    assert_eq!(out.status, FusionStatus::Completed);
    assert_eq!(out.final_text.as_deref(), Some(out.members[1].text.as_str()));
}

#[tokio::test]
async fn an_answer_without_text_is_a_failure_with_its_reason_and_never_reaches_the_judge() {
    let s = setup().await;
    let out = run(s.request(&["empty", "writer-a"], "judge-good", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard())
        .await
        .unwrap();
    let empty = &out.members[0];
    assert!(!empty.succeeded());
    assert_eq!(empty.error.as_deref(), Some("the server ended the stream before any text"));
    // Retried like a dropped connection: the server may have been busy with another request.
    assert_eq!(s.server.state.requests_for("empty").len(), 3);
    // One answer left: it is the result, and the judge never saw an empty response.
    assert!(s.server.state.requests_for("judge-good").is_empty());
    assert_eq!(out.final_text.as_deref(), Some(out.members[1].text.as_str()));
}

#[tokio::test]
async fn a_slow_first_byte_times_out_and_the_rest_still_fuses() {
    let s = setup().await;
    let out = run(s.request(&["slow-first", "writer-a", "writer-b"], "judge-good", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard())
        .await
        .unwrap();
    assert_eq!(out.members[0].error.as_deref(), Some("timeout after 0.8 s waiting for the first token"));
    assert_eq!(out.status, FusionStatus::Completed);
    assert_eq!(out.final_text.as_deref(), Some("Fused: the sea at dawn, with gulls."));
}

#[tokio::test]
async fn merge_calls_each_member_once_and_the_judge_once_anonymously() {
    let s = setup().await;
    let (events, sink) = recorder();
    let out = run(s.request(&["writer-a", "excellent-b", "cut"], "judge-good", Mode::Merge), CancellationToken::new(), sink).await.unwrap();
    assert_eq!(out.status, FusionStatus::Completed);
    assert_eq!(s.server.state.request_count(), 4);
    let judge = &s.server.state.requests_for("judge-good")[0];
    let prompt = judge.body["messages"].to_string();
    for name in ["writer-a", "excellent-b", "cut", "test", "judge-good"] {
        // The judge sees answers, never who wrote them.
        assert!(!prompt.contains(&format!("\"{name}\"")) && !prompt.contains(&format!(" {name}")), "judge prompt names {name}");
    }
    assert!(prompt.contains("<response id=\\\"A\\\">") && prompt.contains("<response id=\\\"B\\\">"));
    assert!(!prompt.contains("<response id=\\\"C\\\">"), "the cut answer is not judged");
    let verdict = out.verdict.unwrap();
    assert_eq!(verdict.consensus, ["both mention the sea"]);
    assert_eq!(verdict.minority_report.as_deref(), Some("night is more haunting"));
    // Labels in the outcome are panel seats: member 1 ("excellent-b") is B.
    assert_eq!(verdict.best.as_deref(), Some("B"));
    assert_eq!(out.final_source.as_deref(), Some("judge"));
    assert_eq!(out.members[2].error.as_deref(), Some("stream cut after 4 tokens"));

    let events = events.lock().unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            FusionEvent::RunStarted { .. } => "run_started",
            FusionEvent::MemberStarted { .. } => "member_started",
            FusionEvent::MemberDelta { .. } => "member_delta",
            FusionEvent::MemberFinished { .. } => "member_finished",
            FusionEvent::MemberFailed { .. } => "member_failed",
            FusionEvent::JudgeStarted { .. } => "judge_started",
            FusionEvent::JudgeDelta { .. } => "judge_delta",
            FusionEvent::Analysis { .. } => "analysis",
            FusionEvent::Final { .. } => "final",
            FusionEvent::Usage { .. } => "usage",
            FusionEvent::Finished { .. } => "finished",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds[0], "run_started");
    assert_eq!(kinds.iter().filter(|k| **k == "member_finished").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "member_failed").count(), 1);
    assert!(kinds.contains(&"judge_delta") && kinds.contains(&"analysis"));
    assert_eq!(&kinds[kinds.len() - 3..], ["usage", "final", "finished"]);
    // Events serialise for the UI.
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["type"], "run_started");
}

#[tokio::test]
async fn best_of_judges_twice_in_swapped_order_and_the_content_wins_not_the_position() {
    for seed in [1u64, 2, 3, 4] {
        let s = setup().await;
        let mut request = s.request(&["writer-a", "writer-b", "excellent-c"], "judge-good", Mode::BestOf);
        request.seed = seed;
        let out = run(request, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
        assert_eq!(s.server.state.requests_for("judge-good").len(), 2, "two judge passes");
        assert_eq!(out.orders.len(), 2);
        assert_eq!(out.orders[1], out.orders[0].iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(out.verdict.as_ref().unwrap().best.as_deref(), Some("C"));
        assert_eq!(out.final_text.as_deref(), Some(out.members[2].text.as_str()));
        assert!(out.final_source.as_deref().unwrap().starts_with("response C"));
        assert!(!out.judges_disagreed && !out.tie);
    }
}

#[tokio::test]
async fn debate_revises_once_per_round_with_the_others_answers_then_merges() {
    let s = setup().await;
    let out = run(s.request(&["writer-a", "writer-b"], "judge-good", Mode::Debate { rounds: 1 }), CancellationToken::new(), atelier_fusion::events::discard())
        .await
        .unwrap();
    assert_eq!(out.status, FusionStatus::Completed);
    assert_eq!(s.server.state.requests_for("writer-a").len(), 2);
    assert_eq!(s.server.state.requests_for("writer-b").len(), 2);
    assert_eq!(s.server.state.requests_for("judge-good").len(), 1);
    let revision = &s.server.state.requests_for("writer-a")[1].body;
    let messages = revision["messages"].as_array().unwrap();
    assert_eq!(messages[1]["role"], "assistant", "its own first answer");
    let last = messages.last().unwrap()["content"].as_str().unwrap();
    assert!(last.contains("Other panelists answered") && last.contains(out.members[1].text.as_str()));
    assert_eq!(out.members.iter().filter(|m| m.round == 1).count(), 2);
}

#[tokio::test]
async fn a_malformed_verdict_is_retried_once_then_reported() {
    let s = setup().await;
    let out = run(s.request(&["writer-a", "writer-b"], "judge-flaky", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    assert_eq!(out.status, FusionStatus::Completed);
    assert_eq!(s.server.state.requests_for("judge-flaky").len(), 2);

    let s = setup().await;
    let out = run(s.request(&["writer-a", "writer-b"], "judge-bad", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    assert_eq!(out.status, FusionStatus::JudgeFailed);
    assert_eq!(s.server.state.requests_for("judge-bad").len(), 2);
    assert!(out.error.as_deref().unwrap().starts_with("judge failed: the judge wrote no JSON"));
    assert!(out.final_text.is_none());
    assert!(out.members.iter().all(|m| m.succeeded() && !m.text.is_empty()), "members' answers are returned");
}

#[tokio::test]
async fn a_run_over_budget_is_refused_before_any_request() {
    let s = setup().await;
    let mut request = s.request(&["writer-a", "writer-b"], "judge-good", Mode::Merge);
    let price = Price { input_per_mtok: 100.0, output_per_mtok: 1000.0 };
    for m in &mut request.members {
        m.price = Some(price);
    }
    request.budget_usd = Some(0.01);
    let estimate = request.estimate();
    assert!(estimate.total_usd > 0.1, "{estimate:?}");
    assert!(estimate.unpriced.contains(&"test:judge-good".to_string()));
    match run(request, CancellationToken::new(), atelier_fusion::events::discard()).await {
        Err(FusionError::OverBudget { estimate, cap }) => assert!(estimate > cap),
        other => panic!("{:?}", other.map(|o| o.status)),
    }
    assert_eq!(s.server.state.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_budget_cap_stops_members_mid_run() {
    let s = setup().await;
    let mut request = s.request(&["endless", "writer-a"], "judge-good", Mode::Merge);
    // $1 per output token: the cap of $40 is reached after ~40 streamed tokens.
    request.members[0].price = Some(Price { input_per_mtok: 0.0, output_per_mtok: 1e6 });
    request.max_tokens = 0; // the estimate counts nothing; the cap works on what streams
    request.budget_usd = Some(40.0);
    let out = run(request, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    let endless = &out.members[0];
    assert_eq!(endless.error_kind, Some(atelier_fusion::MemberErrorKind::Budget), "{endless:?}");
    assert!(endless.error.as_deref().unwrap().contains("$40.0000"));
    assert!(endless.text.split_whitespace().count() >= 39);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.server.state.closed_early.load(Ordering::SeqCst), 1, "the endless stream was closed");
}

#[tokio::test]
async fn cancelling_a_run_closes_every_request_in_flight() {
    let s = setup().await;
    let cancel = CancellationToken::new();
    let mut request = s.request(&[], "judge-good", Mode::Merge);
    // A server that serves three at once; a fourth member waits in the queue, and is cancelled there.
    request.members = (0..4).map(|_| MemberSpec::new(Arc::new(s.provider("endless").with_concurrency(Some(3))))).collect();
    let handle = tokio::spawn(run(request, cancel.clone(), atelier_fusion::events::discard()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.server.state.streams_open.load(Ordering::SeqCst), 3);
    cancel.cancel();
    let out = handle.await.unwrap().unwrap();
    assert_eq!(out.status, FusionStatus::Cancelled);
    assert!(out.members.iter().all(|m| m.error_kind == Some(atelier_fusion::MemberErrorKind::Cancelled)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.server.state.streams_open.load(Ordering::SeqCst), 0);
    assert_eq!(s.server.state.closed_early.load(Ordering::SeqCst), 3);
    assert_eq!(s.server.state.requests_for("judge-good").len(), 0);
}

#[tokio::test]
async fn offline_mode_fails_cloud_members_without_opening_a_socket() {
    let s = setup().await;
    s.client.set_offline(true);
    let out = run(s.request(&["writer-a", "writer-b"], "judge-good", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    assert_eq!(out.status, FusionStatus::Failed);
    assert!(out.members.iter().all(|m| m.error.as_deref() == Some("offline mode is on: no request was sent")));
    assert_eq!(s.server.state.connections.load(Ordering::SeqCst), 0);
    assert!(s.ledger.entries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn every_request_is_in_the_ledger_without_its_text() {
    let s = setup().await;
    run(s.request(&["writer-a", "writer-b"], "judge-good", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    let entries = s.ledger.entries.lock().unwrap();
    assert_eq!(entries.len(), 3);
    for (record, completion) in entries.iter() {
        assert!(record.endpoint.ends_with("/v1/chat/completions"));
        assert!(record.bytes_sent > 50);
        let completion = completion.as_ref().expect("completed");
        assert_eq!(completion.status, "200");
        assert!(completion.bytes_received > 0);
        assert!(completion.usage.unwrap().completion_tokens > 0);
        let json = serde_json::to_string(record).unwrap();
        assert!(!json.contains("sea at dawn") && !json.contains("Describe"), "prompt text in the ledger");
    }
}

#[tokio::test]
async fn openrouter_style_prices_are_fetched_from_models() {
    let s = setup().await;
    let prices = s.provider("x").fetch_prices().await.unwrap();
    let ministral = prices.iter().find(|(id, _)| id == "mistralai/ministral-8b").unwrap().1;
    assert!((ministral.input_per_mtok - 0.1).abs() < 1e-9 && (ministral.output_per_mtok - 0.2).abs() < 1e-9);
    assert!(!prices.iter().any(|(id, _)| id == "no-pricing"));
}

#[tokio::test]
async fn a_panel_must_have_one_to_eight_members() {
    let s = setup().await;
    let nine: Vec<&str> = vec!["w"; 9];
    assert!(matches!(run(s.request(&nine, "judge-good", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard()).await, Err(FusionError::PanelSize(9))));
    assert!(matches!(run(s.request(&[], "judge-good", Mode::Merge), CancellationToken::new(), atelier_fusion::events::discard()).await, Err(FusionError::PanelSize(0))));
}

#[tokio::test(flavor = "multi_thread")]
async fn members_on_one_local_server_queue_instead_of_cutting_each_other_off() {
    let s = setup().await;
    let events: Arc<Mutex<Vec<FusionEvent>>> = Arc::default();
    let sink: atelier_fusion::events::EventSink = {
        let events = Arc::clone(&events);
        Arc::new(move |e| events.lock().unwrap().push(e))
    };
    let out = run(s.request(&["writer-a", "writer-b", "excellent-c"], "judge-good", Mode::Merge), CancellationToken::new(), sink).await.unwrap();
    assert_eq!(out.status, FusionStatus::Completed);
    assert!(out.members.iter().all(|m| m.succeeded()), "{:?}", out.members);
    // A loopback endpoint serves one request at a time unless told otherwise.
    assert_eq!(s.server.state.most_streams_open.load(Ordering::SeqCst), 1);
    let events = events.lock().unwrap();
    let queued: Vec<usize> = events.iter().filter_map(|e| match e { FusionEvent::MemberQueued { member, .. } => Some(*member), _ => None }).collect();
    assert_eq!(queued.len(), 2, "two of three members waited: {queued:?}");
    // Each queued member starts only after it was queued, and its latency excludes the wait.
    for member in queued {
        let at = |wanted: &str| events.iter().position(|e| match (e, wanted) {
            (FusionEvent::MemberQueued { member: m, .. }, "queued") | (FusionEvent::MemberStarted { member: m, .. }, "started") => *m == member,
            _ => false,
        });
        assert!(at("queued").unwrap() < at("started").unwrap());
    }
    assert!(out.members.iter().all(|m| m.latency_ms < 2_000), "{:?}", out.members.iter().map(|m| m.latency_ms).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_limit_lets_members_of_a_server_run_side_by_side() {
    let s = setup().await;
    let seat = |model: &str| MemberSpec::new(Arc::new(s.provider(model).with_concurrency(Some(3))));
    let mut request = s.request(&[], "judge-good", Mode::Merge);
    request.members = vec![seat("endless"), seat("writer-b"), seat("writer-c")];
    request.timeouts.total = Duration::from_millis(600);
    let out = run(request, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    assert!(out.members[1].succeeded() && out.members[2].succeeded(), "{:?}", out.members);
    // The endless stream was still open while the others answered.
    assert!(s.server.state.most_streams_open.load(Ordering::SeqCst) >= 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_json_schema_goes_to_the_server_as_its_response_format_and_a_grammar_does_not() {
    let s = setup().await;
    let provider = s.provider("writer-a");
    let schema = serde_json::json!({ "type": "object", "properties": { "better": { "enum": ["A", "B"] } }, "required": ["better"], "x-guidance": { "whitespace_flexible": false } });
    for format in [Some(atelier_fusion::provider::ResponseFormat::json_schema("pick", schema.clone())), Some(atelier_fusion::provider::ResponseFormat::Lark { grammar: "start: \"A\"".into() }), None] {
        let request = ChatRequest { response_format: format, ..chat() };
        let mut stream = provider.stream_chat(request, CancellationToken::new());
        while let Some(event) = stream.next().await {
            event.unwrap();
        }
    }
    let bodies: Vec<serde_json::Value> = s.server.state.requests_for("writer-a").into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 3);
    let format = &bodies[0]["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "pick");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(format["json_schema"]["schema"]["properties"], schema["properties"]);
    // llguidance's own options are not a server's business.
    assert!(format["json_schema"]["schema"].get("x-guidance").is_none());
    assert!(bodies[1].get("response_format").is_none() && bodies[2].get("response_format").is_none());
}
