//! A loopback OpenAI-compatible server speaking chat-completions SSE, with scripted behaviour chosen by
//! the requested model name. It counts connections, requests and streams the client closed early.

#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub model: String,
    pub body: Value,
    pub authorization: Option<String>,
    pub headers: HeaderMap,
}

#[derive(Default)]
pub struct ServerState {
    pub connections: AtomicUsize,
    pub requests: Mutex<Vec<Recorded>>,
    /// Streams whose client went away before the stream ended.
    pub closed_early: AtomicUsize,
    pub streams_open: AtomicUsize,
    /// The most streams that were open at once.
    pub most_streams_open: AtomicUsize,
    attempts: Mutex<HashMap<String, usize>>,
}

impl ServerState {
    pub fn requests_for(&self, model: &str) -> Vec<Recorded> {
        self.requests.lock().unwrap().iter().filter(|r| r.model == model).cloned().collect()
    }
    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

pub struct TestServer {
    pub url: String,
    pub state: Arc<ServerState>,
}

/// Counts accepted TCP connections (so tests can assert that none were opened).
struct CountingListener {
    inner: tokio::net::TcpListener,
    state: Arc<ServerState>,
}

impl axum::serve::Listener for CountingListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok((stream, addr)) = self.inner.accept().await {
                self.state.connections.fetch_add(1, Ordering::SeqCst);
                // Small SSE writes must not wait for Nagle's algorithm (it adds ~40 ms per response).
                let _ = stream.set_nodelay(true);
                return (stream, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

pub async fn start() -> TestServer {
    let state = Arc::new(ServerState::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .route("/elsewhere/v1/chat/completions", post(elsewhere))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counting = CountingListener { inner: listener, state: Arc::clone(&state) };
    tokio::spawn(async move {
        axum::serve(counting, app).await.unwrap();
    });
    TestServer { url: format!("http://{addr}/v1"), state }
}

/// Where the "redirect" script points: any request arriving here followed a redirect.
async fn elsewhere(State(state): State<Arc<ServerState>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    state.requests.lock().unwrap().push(Recorded {
        model: "followed-redirect".into(),
        body,
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string),
        headers: headers.clone(),
    });
    sse(&state, reply("you followed me", 3), Duration::ZERO, None)
}

async fn models() -> Json<Value> {
    Json(json!({"data": [
        {"id": "mistralai/ministral-8b", "pricing": {"prompt": "0.0000001", "completion": "0.0000002"}},
        {"id": "free/model", "pricing": {"prompt": "0", "completion": "0"}},
        {"id": "no-pricing"}
    ]}))
}

fn chunk(text: &str) -> String {
    format!("data: {}\n\n", json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}))
}

fn finish_chunk() -> String {
    format!("data: {}\n\n", json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
}

fn usage_chunk(prompt: usize, completion: usize) -> String {
    format!("data: {}\n\n", json!({"id": "c", "choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}))
}

/// Splits text into word-sized SSE chunks with usage and [DONE], like a real service.
fn reply(text: &str, prompt_tokens: usize) -> Vec<String> {
    let words: Vec<String> = text.split_inclusive(' ').map(str::to_string).collect();
    let mut out: Vec<String> = words.iter().map(|w| chunk(w)).collect();
    out.push(finish_chunk());
    out.push(usage_chunk(prompt_tokens, words.len()));
    out.push("data: [DONE]\n\n".into());
    out
}

/// A stream that notes in the state if the client dropped it before its end.
struct Tracked<S> {
    inner: std::pin::Pin<Box<S>>,
    state: Arc<ServerState>,
    finished: bool,
}

impl<S: Stream<Item = Result<Bytes, Infallible>>> Stream for Tracked<S> {
    type Item = Result<Bytes, Infallible>;
    fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
        let poll = self.inner.as_mut().poll_next(cx);
        if let std::task::Poll::Ready(None) = poll {
            self.finished = true;
        }
        poll
    }
}

impl<S> Drop for Tracked<S> {
    fn drop(&mut self) {
        self.state.streams_open.fetch_sub(1, Ordering::SeqCst);
        if !self.finished {
            self.state.closed_early.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn sse(state: &Arc<ServerState>, parts: Vec<String>, delay: Duration, then: Option<Vec<String>>) -> Response {
    let open = state.streams_open.fetch_add(1, Ordering::SeqCst) + 1;
    state.most_streams_open.fetch_max(open, Ordering::SeqCst);
    let stream = futures::stream::unfold((parts.into_iter(), then), move |(mut parts, mut then)| async move {
        match parts.next() {
            Some(part) => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Some((Ok(Bytes::from(part)), (parts, then)))
            }
            None => match then.take() {
                // An endless stream: keep sending until the client leaves.
                Some(forever) => {
                    let cycle: Vec<String> = forever.iter().cycle().take(100_000).cloned().collect();
                    let mut iter = cycle.into_iter();
                    let first = iter.next().unwrap();
                    tokio::time::sleep(delay).await;
                    Some((Ok(Bytes::from(first)), (iter, None)))
                }
                None => None,
            },
        }
    });
    let tracked = Tracked { inner: Box::pin(stream), state: Arc::clone(state), finished: false };
    Response::builder().header("content-type", "text/event-stream").body(Body::from_stream(tracked)).unwrap()
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": {"message": message, "code": status.as_u16()}}))).into_response()
}

fn last_user_message(body: &Value) -> String {
    body["messages"].as_array().and_then(|m| m.iter().rev().find(|m| m["role"] == "user")).and_then(|m| m["content"].as_str()).unwrap_or("").to_string()
}

/// A judge that reads the responses and favours the one containing "excellent".
/// A pairwise judge of known taste: an "excellent" answer beats a fused one, which beats a plain one.
fn pairwise_reply(body: &Value) -> String {
    let user = last_user_message(body);
    let quality = |id: &str| {
        let text = user.split(&format!("<answer id=\"{id}\">")).nth(1).and_then(|t| t.split("</answer>").next()).unwrap_or("");
        if text.contains("excellent") {
            3
        } else if text.contains("Fused") {
            2
        } else {
            1
        }
    };
    let better = match quality("A").cmp(&quality("B")) {
        std::cmp::Ordering::Greater => "A",
        std::cmp::Ordering::Less => "B",
        std::cmp::Ordering::Equal => "tie",
    };
    json!({ "reason": "it reads better", "better": better }).to_string()
}

fn judge_reply(body: &Value, valid: bool) -> String {
    if !valid {
        return "I think they are all fine, really.".into();
    }
    let user = last_user_message(body);
    let mut labels = Vec::new();
    let mut best = None;
    for part in user.split("<response id=\"").skip(1) {
        let label = part.split('"').next().unwrap().to_string();
        if part.contains("excellent") {
            best = Some(label.clone());
        }
        labels.push(label);
    }
    let best = best.unwrap_or_else(|| labels[0].clone());
    let scores: serde_json::Map<String, Value> =
        labels.iter().map(|l| (l.clone(), json!(if *l == best { 9 } else { 5 }))).collect();
    let verdict = json!({
        "consensus": ["both mention the sea"],
        "contradictions": ["morning versus night"],
        "unique_insights": [{"response": best, "insight": "the gulls"}],
        "blind_spots": ["no smell of salt"],
        "scores": scores,
        "best": best,
        "minority_report": "night is more haunting"
    });
    format!("```json\n{verdict}\n```\n=== FINAL ANSWER ===\nFused: the sea at dawn, with gulls.")
}

async fn chat(State(state): State<Arc<ServerState>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let model = body["model"].as_str().unwrap_or("").to_string();
    let attempt = {
        let mut attempts = state.attempts.lock().unwrap();
        let n = attempts.entry(model.clone()).or_insert(0);
        *n += 1;
        *n
    };
    state.requests.lock().unwrap().push(Recorded {
        model: model.clone(),
        body: body.clone(),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string),
        headers: headers.clone(),
    });
    let fast = Duration::from_millis(2);
    match model.as_str() {
        "401" => error(StatusCode::UNAUTHORIZED, "invalid api key"),
        "500" => error(StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded"),
        "429-once" if attempt == 1 => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "slow down");
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            r
        }
        "503-once" if attempt == 1 => error(StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
        "slow-first" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            sse(&state, reply("too late", 5), fast, None)
        }
        "cut" => {
            let mut parts = reply("this answer will be cut off right here in the middle", 7);
            parts.truncate(4);
            sse(&state, parts, fast, None)
        }
        // What llama-cpp-python's server sends for a request a second one cut off: a clean end, no text.
        "empty" => sse(&state, vec![finish_chunk(), usage_chunk(9, 0), "data: [DONE]\n\n".into()], fast, None),
        "junk" => {
            let mut parts = vec![": keep-alive comment\n\n".to_string(), "event: ping\ndata: \n\n".to_string(), "garbage without a field\n\n".to_string()];
            parts.extend(reply("junk survived", 3));
            sse(&state, parts, fast, None)
        }
        "redirect-307" | "redirect-308" => {
            let code = if model.ends_with("307") { StatusCode::TEMPORARY_REDIRECT } else { StatusCode::PERMANENT_REDIRECT };
            Response::builder().status(code).header("location", "/elsewhere/v1/chat/completions").body(Body::empty()).unwrap()
        }
        // A proxy error page quoting the request's Authorization header back.
        "echo-key" => {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            error(StatusCode::BAD_GATEWAY, &format!("upstream rejected header Authorization: {auth}"))
        }
        "echo-key-in-stream" => {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let err = json!({"error": {"message": format!("bad credentials {auth}"), "code": 401}});
            sse(&state, vec![chunk("hi "), format!("data: {err}\n\n")], fast, None)
        }
        // An error body that never ends.
        "endless-error" => {
            let body = futures::stream::repeat_with(|| Ok::<_, Infallible>(Bytes::from(vec![b'x'; 64 << 10]))).take(4096);
            Response::builder().status(StatusCode::INTERNAL_SERVER_ERROR).body(Body::from_stream(body)).unwrap()
        }
        // One SSE line that never ends (64 MiB without a newline).
        "endless-line" => {
            let head = futures::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b"data: {\"choices\":[{\"delta\":{\"content\":\"")) });
            let tail = futures::stream::repeat_with(|| Ok::<_, Infallible>(Bytes::from(vec![b'a'; 64 << 10]))).take(1024);
            state.streams_open.fetch_add(1, Ordering::SeqCst);
            let tracked = Tracked { inner: Box::pin(head.chain(tail)), state: Arc::clone(&state), finished: false };
            Response::builder().header("content-type", "text/event-stream").body(Body::from_stream(tracked)).unwrap()
        }
        // One token, then silence.
        "stall" => {
            let first = futures::stream::once(async { Ok::<_, Infallible>(Bytes::from(chunk("one "))) });
            let later = futures::stream::once(async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok::<_, Infallible>(Bytes::from(chunk("two ")))
            });
            state.streams_open.fetch_add(1, Ordering::SeqCst);
            let tracked = Tracked { inner: Box::pin(first.chain(later)), state: Arc::clone(&state), finished: false };
            Response::builder().header("content-type", "text/event-stream").body(Body::from_stream(tracked)).unwrap()
        }
        m if m.starts_with("retry-after:") => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "slow down");
            r.headers_mut().insert("retry-after", m["retry-after:".len()..].parse().unwrap());
            r
        }
        "badjson" => sse(&state, vec![chunk("fine "), "data: {not json\n\n".into(), chunk("never")], fast, None),
        "endless" => sse(&state, vec![chunk("and ")], Duration::from_millis(20), Some(vec![chunk("on ")])),
        "judge-good" => sse(&state, reply(&judge_reply(&body, true), 50), fast, None),
        "pairwise" => sse(&state, reply(&pairwise_reply(&body), 40), fast, None),
        "judge-bad" => sse(&state, reply(&judge_reply(&body, false), 50), fast, None),
        "judge-flaky" => sse(&state, reply(&judge_reply(&body, attempt > 1), 50), fast, None),
        m if m.starts_with("judge-latency-") => {
            let ms: u64 = m["judge-latency-".len()..].parse().unwrap();
            tokio::time::sleep(Duration::from_millis(ms)).await;
            sse(&state, reply(&judge_reply(&body, true), 50), Duration::ZERO, None)
        }
        m if m.starts_with("latency-") => {
            let ms: u64 = m["latency-".len()..].parse().unwrap();
            tokio::time::sleep(Duration::from_millis(ms)).await;
            sse(&state, reply("done", 5), Duration::ZERO, None)
        }
        m => {
            // "excellent-…" answers contain the word the judge favours.
            let quality = if m.starts_with("excellent") { "excellent" } else { "plain" };
            // The text must not name the model: the judge's anonymity is tested on it.
            let variant = m.bytes().map(|b| b as usize).sum::<usize>() % 97;
            let text = format!("A {quality} answer about the sea at dawn, variant {variant}.");
            sse(&state, reply(&text, 12), fast, None)
        }
    }
}
