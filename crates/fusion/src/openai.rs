//! Any OpenAI-compatible chat-completions endpoint, streamed over SSE:
//!
//! | service          | base URL                              | key                      |
//! |------------------|---------------------------------------|--------------------------|
//! | OpenRouter       | `https://openrouter.ai/api/v1`        | yes                      |
//! | Mistral          | `https://api.mistral.ai/v1`           | yes                      |
//! | OpenAI           | `https://api.openai.com/v1`           | yes                      |
//! | Ollama           | `http://127.0.0.1:11434/v1`           | no                       |
//! | vLLM             | `http://127.0.0.1:8000/v1`            | optional (`--api-key`)   |
//! | llama.cpp server | `http://127.0.0.1:8080/v1`            | optional (`--api-key`)   |
//! | LM Studio        | `http://127.0.0.1:1234/v1`            | no                       |
//!
//! Requests are `POST {base}/chat/completions` with `stream: true` and
//! `stream_options.include_usage`, so the last chunk carries token usage (and OpenRouter's cost).

use std::sync::Arc;
use std::time::Duration;

use atelier_keys::{ExposeSecret, KeyScope, SecretStore, SecretString};
use eventsource_stream::Eventsource;
use futures::stream::BoxStream;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::budget::Price;
use crate::client::{read_capped, OutboundClient};
use crate::error::MemberError;
use crate::redact::redact;
use crate::provider::{ChatEvent, ChatRequest, Provider, ResponseFormat, Usage};

/// The longest SSE line a reply may send: past it the stream is malformed, not a reason to grow memory.
pub const MAX_SSE_LINE: usize = 1 << 20;
/// The largest SSE event (its `data:` lines together): a chunk of a chat reply is a few hundred bytes.
pub const MAX_SSE_EVENT: usize = 4 << 20;
/// How much of an error page is read (the message is in the first few hundred bytes).
const MAX_ERROR_BODY: usize = 64 << 10;
/// A model list (OpenRouter's is ~1 MiB today).
const MAX_MODEL_LIST: usize = 16 << 20;
/// The longest a `Retry-After` is honoured for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct OpenAiProvider {
    id: String,
    /// The provider and the origin of `base_url`: the only key this provider may send.
    scope: KeyScope,
    base_url: String,
    model: String,
    client: OutboundClient,
    keys: Arc<dyn SecretStore>,
    requires_key: bool,
    price: Option<Price>,
    /// Shared with every provider on the same endpoint.
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl OpenAiProvider {
    pub fn new(
        id: impl Into<String>,
        base_url: impl Into<String>,
        model: impl Into<String>,
        client: OutboundClient,
        keys: Arc<dyn SecretStore>,
    ) -> Result<Self, MemberError> {
        let id = id.into();
        let base_url = base_url.into().trim().trim_end_matches('/').to_string();
        let scope = KeyScope::new(&id, &base_url).map_err(|e| MemberError::InvalidEndpoint(e.to_string()))?;
        let gate = crate::gate::default_limit(&base_url).map(|limit| crate::gate::for_endpoint(&base_url, limit));
        Ok(Self { id, scope, base_url, model: model.into(), client, keys, requires_key: true, price: None, gate })
    }

    /// Local servers (Ollama, LM Studio) take no key.
    pub fn without_key(mut self) -> Self {
        self.requires_key = false;
        self
    }

    /// Price used when the service does not report the cost itself.
    pub fn with_price(mut self, price: Price) -> Self {
        self.price = Some(price);
        self
    }

    /// At most `limit` requests at once to this endpoint, for every provider that uses it (`None`: no limit).
    pub fn with_concurrency(mut self, limit: Option<usize>) -> Self {
        self.gate = limit.map(|limit| crate::gate::for_endpoint(&self.base_url, limit));
        self
    }

    pub fn price(&self) -> Option<Price> {
        self.price
    }

    fn is_openrouter(&self) -> bool {
        let host = self.scope.origin().host();
        host == "openrouter.ai" || host.ends_with(".openrouter.ai")
    }

    /// The key for this provider at this origin, if one was set (or `None` for keyless servers).
    fn key(&self) -> Result<Option<SecretString>, MemberError> {
        // A keyless server (Ollama, a local vLLM) works whether or not a keychain is there.
        let key = match self.keys.get(&self.scope) {
            Ok(key) => key,
            Err(_) if !self.requires_key => None,
            Err(e) => return Err(MemberError::Keychain(e.to_string())),
        };
        match key {
            None if self.requires_key => {
                Err(MemberError::MissingKey { provider: self.id.clone(), origin: self.scope.origin().to_string() })
            }
            key => Ok(key),
        }
    }

    fn headers(&self, key: Option<&SecretString>) -> Result<HeaderMap, MemberError> {
        let mut headers = HeaderMap::new();
        if let Some(key) = key {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
                .map_err(|_| MemberError::Malformed("the stored API key has characters HTTP cannot carry".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        if self.is_openrouter() {
            // OpenRouter's app attribution.
            headers.insert("HTTP-Referer", HeaderValue::from_static("https://github.com/atelier-app/atelier"));
            headers.insert("X-Title", HeaderValue::from_static("Atelier"));
        }
        Ok(headers)
    }

    fn body(&self, request: &ChatRequest) -> serde_json::Value {
        let mut body = serde_json::json!({
            "model": self.model,
            "messages": request.messages,
            "stream": true,
            "stream_options": { "include_usage": true },
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        });
        if let Some(top_p) = request.top_p {
            body["top_p"] = top_p.into();
        }
        if let Some(seed) = request.seed {
            body["seed"] = seed.into();
        }
        // OpenAI's structured outputs take a JSON Schema; a grammar has no server-side equivalent, so the
        // reply is parsed leniently instead.
        if let Some(ResponseFormat::JsonSchema { name, schema }) = &request.response_format {
            let mut schema = schema.clone();
            if let Some(object) = schema.as_object_mut() {
                object.remove("x-guidance");
            }
            body["response_format"] = serde_json::json!({
                "type": "json_schema",
                "json_schema": { "name": name, "strict": true, "schema": schema }
            });
        }
        if self.is_openrouter() {
            body["usage"] = serde_json::json!({ "include": true });
        }
        body
    }

    /// Prices of every model the service lists (OpenRouter's `GET /models`: USD per token as strings).
    pub async fn fetch_prices(&self) -> Result<Vec<(String, Price)>, MemberError> {
        const LIST_TIMEOUT: Duration = Duration::from_secs(30);
        let url = format!("{}/models", self.base_url);
        let key = self.key().or_else(|e| if matches!(e, MemberError::MissingKey { .. }) { Ok(None) } else { Err(e) })?;
        let headers = self.headers(key.as_ref())?;
        let fetch = async {
            let response = self.client.get(&self.id, &url, headers).await?;
            let status = response.response.status();
            if !status.is_success() {
                return Err(MemberError::Http { status: status.as_u16(), message: "listing models failed".into() });
            }
            let (body, truncated) = read_capped(response.response, MAX_MODEL_LIST, &response.entry).await?;
            if truncated {
                return Err(MemberError::Malformed(format!("the model list is over {} MiB", MAX_MODEL_LIST >> 20)));
            }
            Ok(body)
        };
        let body = tokio::time::timeout(LIST_TIMEOUT, fetch)
            .await
            .map_err(|_| MemberError::Timeout { phase: "listing models", after: LIST_TIMEOUT })??;
        let text = String::from_utf8_lossy(&body);
        #[derive(Deserialize)]
        struct Models {
            data: Vec<ModelEntry>,
        }
        #[derive(Deserialize)]
        struct ModelEntry {
            id: String,
            pricing: Option<Pricing>,
        }
        #[derive(Deserialize)]
        struct Pricing {
            prompt: Option<String>,
            completion: Option<String>,
        }
        let models: Models = serde_json::from_str(&text).map_err(|e| MemberError::Malformed(format!("model list: {e}")))?;
        Ok(models
            .data
            .into_iter()
            .filter_map(|m| {
                let p = m.pricing?;
                let per_token = |s: Option<String>| s.and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
                Some((m.id, Price { input_per_mtok: per_token(p.prompt) * 1e6, output_per_mtok: per_token(p.completion) * 1e6 }))
            })
            .collect())
    }
}

/// One `data:` payload of a chat-completions stream, as parsed here (public so the fuzz target reads
/// the same shapes).
#[derive(Debug, Deserialize)]
pub struct Chunk {
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<ChunkUsage>,
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Delta {
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ChunkUsage {
    #[serde(default)]
    pub prompt_tokens: usize,
    #[serde(default)]
    pub completion_tokens: usize,
    /// OpenRouter reports the cost in USD credits.
    #[serde(default)]
    pub cost: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

/// `Retry-After` as seconds or an HTTP date, clamped to [0, MAX_RETRY_AFTER] whatever the server says
/// (huge, infinite, negative, NaN, or a date before 1970).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?)
}

pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_nan() {
            return None;
        }
        return Some(Duration::from_secs_f64(seconds.clamp(0.0, MAX_RETRY_AFTER.as_secs_f64())));
    }
    let at = httpdate_parse(value)?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or_default().min(MAX_RETRY_AFTER))
}

fn httpdate_parse(value: &str) -> Option<std::time::SystemTime> {
    // RFC 7231 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
    let parts: Vec<&str> = value.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u64 = parts[1].parse().ok().filter(|d| (1..=31).contains(d))?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].iter().position(|m| *m == parts[2])? as u64 + 1;
    // Before 1970 the arithmetic below would underflow; after 9999 it is no date a server means.
    let year: u64 = parts[3].parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let hms: Vec<u64> = parts[4].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3 || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + hms.first()? * 3600 + hms.get(1)? * 60 + hms.get(2)?;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

/// The message of an error reply, scrubbed of the key we sent (servers and proxies sometimes echo it).
fn error_message(body: &str, key: Option<&SecretString>) -> String {
    let message = serde_json::from_str::<ErrorEnvelope>(body)
        .map(|e| e.error.message)
        .ok()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| body.chars().take(200).collect::<String>().trim().to_string());
    redact(&message, key.map(|k| k.expose_secret()))
}

impl Provider for OpenAiProvider {
    fn id(&self) -> &str {
        &self.id
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn is_cloud(&self) -> bool {
        true
    }

    fn gate(&self) -> Option<Arc<tokio::sync::Semaphore>> {
        self.gate.clone()
    }

    fn stream_chat(&self, request: ChatRequest, cancel: CancellationToken) -> BoxStream<'static, Result<ChatEvent, MemberError>> {
        let this = self.clone();
        let (tx, rx) = futures::channel::mpsc::unbounded();
        tokio::spawn(async move {
            let result = tokio::select! {
                result = this.run(request, &tx) => result,
                _ = cancel.cancelled() => Err(MemberError::Cancelled),
                // Offline mode turned on mid-reply ends the stream at once.
                _ = this.client.offline_turned_on() => Err(MemberError::Offline),
            };
            if let Err(e) = result {
                let _ = tx.unbounded_send(Err(e));
            }
        });
        rx.boxed()
    }
}

type Sender = futures::channel::mpsc::UnboundedSender<Result<ChatEvent, MemberError>>;

impl OpenAiProvider {
    async fn run(&self, request: ChatRequest, tx: &Sender) -> Result<(), MemberError> {
        // Offline comes first: not even the keychain is asked.
        if self.client.is_offline() {
            return Err(MemberError::Offline);
        }
        let url = format!("{}/chat/completions", self.base_url);
        let key = self.key()?;
        let headers = self.headers(key.as_ref())?;
        let body = self.body(&request);
        let prompt_estimate = crate::budget::estimate_tokens(&serde_json::to_string(&request.messages).unwrap_or_default());
        let response = self.client.post_json(&self.id, &self.model, &url, headers, &body).await?;
        let (response, entry) = (response.response, response.entry);
        let status = response.status();
        if !status.is_success() {
            let after = retry_after(response.headers());
            let (body, _) = read_capped(response, MAX_ERROR_BODY, &entry).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            return Err(match status.as_u16() {
                401 => MemberError::Unauthorized { provider: self.id.clone() },
                403 => MemberError::Forbidden { message: error_message(&text, key.as_ref()) },
                429 => MemberError::RateLimited { retry_after: after },
                code if (300..400).contains(&code) => MemberError::Http {
                    status: code,
                    message: "the server redirected the request elsewhere; Atelier does not follow redirects with your prompt — use the final address as the base URL".into(),
                },
                code => MemberError::Http { status: code, message: error_message(&text, key.as_ref()) },
            });
        }
        let mut events = crate::sse::guard(
            response.bytes_stream().map(|chunk| {
                if let Ok(bytes) = &chunk {
                    entry.add_received(bytes.len() as u64);
                }
                chunk
            }),
            MAX_SSE_LINE,
            MAX_SSE_EVENT,
        )
        .eventsource();
        let mut tokens = 0usize;
        let mut finished = false;
        let mut usage_sent = false;
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(eventsource_stream::EventStreamError::Transport(crate::sse::SseTransportError::LineTooLong { .. })) => {
                    entry.set_status("malformed".into());
                    return Err(MemberError::Malformed(format!("a stream line is over {} MiB", MAX_SSE_LINE >> 20)));
                }
                Err(eventsource_stream::EventStreamError::Transport(crate::sse::SseTransportError::EventTooLarge { .. })) => {
                    entry.set_status("malformed".into());
                    return Err(MemberError::Malformed(format!("a stream event is over {} MiB", MAX_SSE_EVENT >> 20)));
                }
                // The connection broke mid-stream.
                Err(_) => break,
            };
            let data = event.data.trim();
            if data.is_empty() {
                continue;
            }
            if data == "[DONE]" {
                finished = true;
                break;
            }
            let chunk: Chunk = serde_json::from_str(data)
                .map_err(|e| MemberError::Malformed(format!("invalid JSON in a stream chunk after {tokens} tokens ({e})")))?;
            if let Some(error) = chunk.error {
                let status = error.code.as_ref().and_then(|c| c.as_u64()).filter(|c| (100..=599).contains(c)).unwrap_or(500) as u16;
                return Err(MemberError::Http { status, message: redact(&error.message, key.as_ref().map(|k| k.expose_secret())) });
            }
            for choice in &chunk.choices {
                if let Some(text) = choice.delta.as_ref().and_then(|d| d.content.as_ref()).filter(|t| !t.is_empty()) {
                    tokens += 1;
                    if tx.unbounded_send(Ok(ChatEvent::Delta(text.clone()))).is_err() {
                        entry.set_status("cancelled".into());
                        return Ok(());
                    }
                }
                if choice.finish_reason.is_some() {
                    finished = true;
                }
            }
            if let Some(u) = chunk.usage {
                let cost = u.cost.or_else(|| self.price.map(|p| p.cost(u.prompt_tokens, u.completion_tokens)));
                let usage = Usage { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, cost_usd: cost };
                entry.set_usage(usage);
                usage_sent = true;
                let _ = tx.unbounded_send(Ok(ChatEvent::Usage(usage)));
            }
        }
        if !finished {
            entry.set_status("stream cut".into());
            return Err(MemberError::StreamCut { tokens });
        }
        if !usage_sent {
            // The service did not report usage: estimate, so budgets and the ledger still add up.
            let usage = Usage {
                prompt_tokens: prompt_estimate,
                completion_tokens: tokens,
                cost_usd: self.price.map(|p| p.cost(prompt_estimate, tokens)),
            };
            entry.set_usage(usage);
            let _ = tx.unbounded_send(Ok(ChatEvent::Usage(usage)));
        }
        let _ = tx.unbounded_send(Ok(ChatEvent::Done));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        assert_eq!(httpdate_parse("Sun, 06 Nov 1994 08:49:37 GMT").unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(), 784111777);
    }

    #[test]
    fn hostile_retry_after_values_are_clamped_not_panics() {
        for (value, expected) in [
            ("1e300", Some(MAX_RETRY_AFTER)),
            ("inf", Some(MAX_RETRY_AFTER)),
            ("-inf", Some(Duration::ZERO)),
            ("-5", Some(Duration::ZERO)),
            ("NaN", None),
            ("18446744073709551616", Some(MAX_RETRY_AFTER)),
            ("Sun, 06 Nov 0000 08:49:37 GMT", None),
            ("Sun, 06 Nov 1969 23:59:59 GMT", None),
            ("Sun, 99 Nov 2030 99:99:99 GMT", None),
            ("Fri, 31 Dec 9999 23:59:59 GMT", Some(MAX_RETRY_AFTER)),
            ("Sun, 06 Nov 1994 08:49 GMT", None),
        ] {
            assert_eq!(parse_retry_after(value), expected, "{value}");
        }
    }

    #[test]
    fn openrouter_gets_attribution_headers_and_usage_accounting() {
        let keys = std::sync::Arc::new(atelier_keys::MemoryStore::default());
        let scope = KeyScope::new("openrouter", "https://openrouter.ai/api/v1").unwrap();
        keys.set(&scope, &SecretString::from("sk-or")).unwrap();
        let client = OutboundClient::new(Duration::from_secs(1));
        let or = OpenAiProvider::new("openrouter", "https://openrouter.ai/api/v1/", "m", client.clone(), keys.clone()).unwrap();
        let headers = or.headers(or.key().unwrap().as_ref()).unwrap();
        assert_eq!(headers["x-title"], "Atelier");
        assert!(headers.contains_key("http-referer"));
        assert!(headers[AUTHORIZATION].is_sensitive());
        let request = ChatRequest { messages: vec![], max_tokens: 8, temperature: 0.0, top_p: None, seed: None, response_format: None };
        assert_eq!(or.body(&request)["usage"]["include"], true);
        let other = OpenAiProvider::new("openrouter", "https://api.mistral.ai/v1", "m", client.clone(), keys.clone()).unwrap();
        assert!(!other.headers(None).unwrap().contains_key("x-title"));
        assert!(other.body(&request).get("usage").is_none());
        // A host that only contains the name is not OpenRouter.
        let lookalike = OpenAiProvider::new("x", "https://openrouter.ai.evil.example/v1", "m", client, keys).unwrap();
        assert!(!lookalike.is_openrouter());
    }

    #[test]
    fn a_re_pointed_provider_gets_no_key() {
        let keys = std::sync::Arc::new(atelier_keys::MemoryStore::default());
        keys.set(&KeyScope::new("openai", "https://api.openai.com/v1").unwrap(), &SecretString::from("sk-real-key-0123456789")).unwrap();
        let client = OutboundClient::new(Duration::from_secs(1));
        let moved = OpenAiProvider::new("openai", "https://elsewhere.example/v1", "m", client.clone(), keys.clone()).unwrap();
        let err = moved.key().unwrap_err();
        assert!(matches!(&err, MemberError::MissingKey { origin, .. } if origin == "https://elsewhere.example:443"), "{err:?}");
        assert!(err.to_string().contains("atelier keys set openai"), "{err}");
        let home = OpenAiProvider::new("openai", "https://api.openai.com/v1", "m", client.clone(), keys.clone()).unwrap();
        assert!(home.key().unwrap().is_some());
        // Clear text to the network is refused outright.
        assert!(matches!(OpenAiProvider::new("openai", "http://api.openai.com/v1", "m", client, keys), Err(MemberError::InvalidEndpoint(_))));
    }

    #[test]
    fn error_messages_come_from_the_body() {
        assert_eq!(error_message(r#"{"error":{"message":"model not found","code":404}}"#, None), "model not found");
        assert_eq!(error_message("upstream timeout", None), "upstream timeout");
        let key = SecretString::from("sk-echoed-0123456789abcdef");
        let echoed = error_message(r#"{"error":{"message":"invalid header: Bearer sk-echoed-0123456789abcdef"}}"#, Some(&key));
        assert!(!echoed.contains("sk-echoed"), "{echoed}");
    }
}
