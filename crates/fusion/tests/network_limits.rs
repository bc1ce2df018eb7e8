//! The network client's limits against a hostile loopback server: no redirects, keys scrubbed from
//! echoed errors, capped error bodies and SSE lines, a read timeout, clamped Retry-After, and offline
//! mode ending streams already running.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use atelier_fusion::client::{MemoryLedger, OutboundClient};
use atelier_fusion::openai::OpenAiProvider;
use atelier_fusion::provider::{ChatEvent, ChatMessage, ChatRequest, Provider};
use atelier_fusion::MemberError;
use atelier_keys::{KeyScope, MemoryStore, SecretStore, SecretString};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-loopback-secret-0123456789";

struct Setup {
    server: common::TestServer,
    client: OutboundClient,
    keys: Arc<MemoryStore>,
    ledger: Arc<MemoryLedger>,
}

async fn setup(read_timeout: Duration) -> Setup {
    let server = common::start().await;
    let ledger = Arc::new(MemoryLedger::default());
    let client = OutboundClient::with_read_timeout(Duration::from_secs(2), read_timeout).with_ledger(ledger.clone());
    let keys = Arc::new(MemoryStore::default());
    keys.set(&KeyScope::new("test", &server.url).unwrap(), &SecretString::from(KEY)).unwrap();
    Setup { server, client, keys, ledger }
}

impl Setup {
    fn provider(&self, model: &str) -> OpenAiProvider {
        OpenAiProvider::new("test", &self.server.url, model, self.client.clone(), self.keys.clone()).unwrap()
    }
}

async fn collect(provider: &OpenAiProvider) -> (String, Option<MemberError>) {
    let request = ChatRequest { messages: vec![ChatMessage::user("hi")], max_tokens: 16, temperature: 0.5, top_p: None, seed: Some(1), response_format: None };
    let mut stream = provider.stream_chat(request, CancellationToken::new());
    let (mut text, mut error) = (String::new(), None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(ChatEvent::Delta(t)) => text.push_str(&t),
            Ok(_) => {}
            Err(e) => error = Some(e),
        }
    }
    (text, error)
}

#[tokio::test]
async fn redirects_are_not_followed_with_the_prompt_and_key() {
    let s = setup(Duration::from_secs(10)).await;
    for model in ["redirect-307", "redirect-308"] {
        let (text, error) = collect(&s.provider(model)).await;
        assert!(text.is_empty());
        let error = error.expect("a redirect was treated as an answer");
        assert!(matches!(error, MemberError::Http { status: 307 | 308, .. }), "{error:?}");
        assert!(error.to_string().contains("redirect"), "{error}");
    }
    assert!(s.server.state.requests_for("followed-redirect").is_empty(), "the client followed a redirect");
}

#[tokio::test]
async fn a_key_echoed_by_the_server_is_scrubbed_from_errors_and_the_ledger() {
    let s = setup(Duration::from_secs(10)).await;
    for model in ["echo-key", "echo-key-in-stream"] {
        let (_, error) = collect(&s.provider(model)).await;
        let error = error.expect("the echo is an error");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(KEY), "{model}: the key reached the error: {shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
        // The server really did echo it: the test would see it without the scrubbing.
        assert_eq!(s.server.state.requests_for(model)[0].authorization.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    }
    let ledger = format!("{:?}", s.ledger.entries.lock().unwrap());
    assert!(!ledger.contains(KEY));
}

#[tokio::test]
async fn an_endless_error_body_is_read_only_up_to_a_cap() {
    let s = setup(Duration::from_secs(10)).await;
    let started = Instant::now();
    let (_, error) = collect(&s.provider("endless-error")).await;
    assert!(matches!(error, Some(MemberError::Http { status: 500, .. })), "{error:?}");
    let received = s.ledger.entries.lock().unwrap().last().and_then(|e| e.1.as_ref().map(|c| c.bytes_received)).unwrap();
    assert!(received < 1 << 20, "read {received} bytes of an endless error page");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn an_endless_sse_line_is_malformed_not_memory() {
    let s = setup(Duration::from_secs(10)).await;
    let (text, error) = collect(&s.provider("endless-line")).await;
    assert!(text.is_empty());
    assert!(matches!(&error, Some(MemberError::Malformed(m)) if m.contains("over 1 MiB")), "{error:?}");
    let received = s.ledger.entries.lock().unwrap().last().and_then(|e| e.1.as_ref().map(|c| c.bytes_received)).unwrap();
    assert!(received < 4 << 20, "read {received} bytes of one line");
}

#[tokio::test]
async fn a_server_that_goes_quiet_times_out() {
    let s = setup(Duration::from_millis(400)).await;
    let started = Instant::now();
    let (text, error) = collect(&s.provider("stall")).await;
    assert_eq!(text, "one ");
    assert!(error.is_some(), "a stalled stream ended without an error");
    assert!(started.elapsed() < Duration::from_secs(10), "waited {:?}", started.elapsed());
}

#[tokio::test]
async fn huge_retry_after_values_do_not_panic() {
    let s = setup(Duration::from_secs(10)).await;
    for value in ["1e300", "inf", "-1", "Sun, 06 Nov 0001 08:49:37 GMT"] {
        let (_, error) = collect(&s.provider(&format!("retry-after:{value}"))).await;
        let error = error.expect("429 is an error");
        assert!(matches!(error, MemberError::RateLimited { .. }), "{value}: {error:?}");
        assert!(error.to_string().starts_with("429"), "{error}");
    }
}

#[tokio::test]
async fn turning_offline_on_ends_streams_already_running() {
    let s = setup(Duration::from_secs(10)).await;
    let provider = s.provider("endless");
    let request = ChatRequest { messages: vec![ChatMessage::user("hi")], max_tokens: 16, temperature: 0.5, top_p: None, seed: Some(1), response_format: None };
    let mut stream = provider.stream_chat(request, CancellationToken::new());
    // Wait for the first words, then go offline.
    let first = stream.next().await;
    assert!(matches!(first, Some(Ok(ChatEvent::Delta(_)))), "{first:?}");
    s.client.set_offline(true);
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        let mut last = None;
        while let Some(item) = stream.next().await {
            last = Some(item);
        }
        last
    })
    .await
    .expect("the stream went on after offline mode was turned on");
    assert!(matches!(rest, Some(Err(MemberError::Offline))), "{rest:?}");
    // The server saw the client leave.
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.server.state.closed_early.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.server.state.closed_early.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_ledger_keeps_no_query_string_or_userinfo() {
    let s = setup(Duration::from_secs(10)).await;
    // A base URL with a token in the query (some gateways ask for that): the request goes, the ledger
    // keeps the address without it.
    let url = format!("{}?token=secret-in-query", s.server.url);
    let _ = s.client.get("test", &format!("{url}/models"), Default::default()).await;
    let entries = s.ledger.entries.lock().unwrap();
    let endpoint = &entries.last().unwrap().0.endpoint;
    assert!(!endpoint.contains("secret-in-query"), "{endpoint}");
}

#[tokio::test]
async fn prompts_never_go_over_clear_text_to_the_network() {
    let s = setup(Duration::from_secs(10)).await;
    let result = s.client.post_json("x", "m", "http://api.example.invalid/v1/chat/completions", Default::default(), &serde_json::json!({})).await;
    assert!(matches!(result, Err(MemberError::InvalidEndpoint(_))), "{:?}", result.err());
    assert!(s.ledger.entries.lock().unwrap().is_empty(), "a refused request reached the ledger");
}
