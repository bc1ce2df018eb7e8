//! Regression (found by the fuzz target `sse_stream`, fuzz/tests/fusion.rs): a stream that starts with a
//! UTF-8 byte-order mark — which the SSE specification allows and says to skip — panicked inside
//! eventsource-stream 0.2.3 (`&string[1..]` slices into the 3-byte BOM), killing the member's task.
//! The stream must instead be read as if the BOM were not there.

use std::sync::Arc;
use std::time::Duration;

use atelier_fusion::client::OutboundClient;
use atelier_fusion::openai::OpenAiProvider;
use atelier_fusion::provider::{ChatEvent, ChatMessage, ChatRequest, Provider};
use atelier_keys::MemoryStore;
use axum::response::IntoResponse;
use axum::routing::post;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

const BODY: &str = "\u{feff}data: {\"choices\":[{\"delta\":{\"content\":\"It was dark.\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

async fn serve(body: &'static str) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move || async move { ([(axum::http::header::CONTENT_TYPE, "text/event-stream")], body).into_response() }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn a_stream_that_starts_with_a_byte_order_mark_is_read() {
    let url = serve(BODY).await;
    let client = OutboundClient::with_read_timeout(Duration::from_secs(2), Duration::from_secs(10));
    let provider = OpenAiProvider::new("test", &url, "m", client, Arc::new(MemoryStore::default())).unwrap().without_key();
    let request = ChatRequest { messages: vec![ChatMessage::user("hi")], max_tokens: 16, temperature: 0.5, top_p: None, seed: Some(1), response_format: None };
    let mut stream = provider.stream_chat(request, CancellationToken::new());
    let (mut text, mut error, mut done) = (String::new(), None, false);
    while let Some(item) = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("the stream stalled") {
        match item {
            Ok(ChatEvent::Delta(t)) => text.push_str(&t),
            Ok(ChatEvent::Done) => done = true,
            Ok(_) => {}
            Err(e) => error = Some(e),
        }
    }
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text, "It was dark.");
    assert!(done, "the stream did not finish");
}
