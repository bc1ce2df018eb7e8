//! The single door to the network. While offline mode is on it refuses every request before a socket is
//! opened; otherwise each request is recorded in the privacy ledger when it is sent (provider, model,
//! endpoint, bytes) and completed when it ends (bytes received, tokens, cost, status). Prompt text is
//! never logged.
//!
//! Chat requests follow no redirect (a 307/308 would re-send the prompt, and the key, to another host),
//! go over https unless the server is on this computer, and time out when the server goes quiet.
//! Turning offline mode on also ends every request already in flight.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::error::MemberError;
use crate::provider::Usage;

/// One outbound request, as the ledger shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRecord {
    pub at_ms: i64,
    pub provider: String,
    pub model: String,
    pub endpoint: String,
    pub bytes_sent: u64,
}

/// The end of a request recorded earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerCompletion {
    pub bytes_received: u64,
    pub usage: Option<Usage>,
    /// HTTP status, or "offline", "cancelled", "stream cut"…
    pub status: String,
}

/// Where ledger records go (the app persists them in the library).
pub trait LedgerSink: Send + Sync {
    /// Called when a request leaves; returns a handle for its completion.
    fn sent(&self, record: LedgerRecord) -> u64;
    fn completed(&self, handle: u64, completion: LedgerCompletion);
}

/// A ledger kept in memory (tests, the CLI).
#[derive(Debug, Default)]
pub struct MemoryLedger {
    pub entries: std::sync::Mutex<Vec<(LedgerRecord, Option<LedgerCompletion>)>>,
}

impl LedgerSink for MemoryLedger {
    fn sent(&self, record: LedgerRecord) -> u64 {
        let mut entries = self.entries.lock().unwrap();
        entries.push((record, None));
        entries.len() as u64 - 1
    }
    fn completed(&self, handle: u64, completion: LedgerCompletion) {
        if let Some(entry) = self.entries.lock().unwrap().get_mut(handle as usize) {
            entry.1 = Some(completion);
        }
    }
}

/// How long a server may stay silent mid-reply before the request is given up.
pub const READ_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct OutboundClient {
    http: reqwest::Client,
    offline: Arc<AtomicBool>,
    /// Signalled when offline mode is turned on, so requests in flight stop.
    went_offline: Arc<tokio::sync::watch::Sender<bool>>,
    read_timeout: Duration,
    ledger: Option<Arc<dyn LedgerSink>>,
}

impl std::fmt::Debug for OutboundClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundClient").field("offline", &self.is_offline()).finish()
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl OutboundClient {
    pub fn new(connect_timeout: Duration) -> Self {
        Self::with_read_timeout(connect_timeout, READ_TIMEOUT)
    }

    pub fn with_read_timeout(connect_timeout: Duration, read_timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .read_timeout(read_timeout)
            // Redirects come back as responses: a chat request is never re-sent elsewhere, and the
            // downloader decides by hand which redirects it follows.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .user_agent(concat!("Atelier/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds with static settings");
        Self {
            http,
            offline: Arc::new(AtomicBool::new(false)),
            went_offline: Arc::new(tokio::sync::watch::channel(false).0),
            read_timeout,
            ledger: None,
        }
    }

    pub fn with_ledger(mut self, ledger: Arc<dyn LedgerSink>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Offline mode: shared by every clone of this client. Turning it on ends requests in flight.
    pub fn set_offline(&self, offline: bool) {
        self.offline.store(offline, Ordering::SeqCst);
        self.went_offline.send_replace(offline);
    }

    /// Resolves once offline mode is on (at once if it already is): requests in flight select on it.
    pub async fn offline_turned_on(&self) {
        let mut watch = self.went_offline.subscribe();
        let _ = watch.wait_for(|offline| *offline).await;
    }

    pub fn is_offline(&self) -> bool {
        self.offline.load(Ordering::SeqCst)
    }

    /// POSTs JSON and returns the response with its ledger entry open.
    pub async fn post_json(
        &self,
        provider: &str,
        model: &str,
        url: &str,
        headers: HeaderMap,
        body: &serde_json::Value,
    ) -> Result<LedgeredResponse, MemberError> {
        if self.is_offline() {
            return Err(MemberError::Offline);
        }
        // Prompts travel over https unless the server is on this computer.
        atelier_keys::Origin::parse(url).map_err(|e| MemberError::InvalidEndpoint(e.to_string()))?;
        let bytes = serde_json::to_vec(body).map_err(|e| MemberError::Malformed(e.to_string()))?;
        let header_bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
        let request = self
            .http
            .post(url)
            .headers(headers)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes.clone());
        self.send(provider, model, url, (bytes.len() + header_bytes) as u64, request).await
    }

    /// GETs a URL (model lists, prices), ledgered like any other request.
    pub async fn get(&self, provider: &str, url: &str, headers: HeaderMap) -> Result<LedgeredResponse, MemberError> {
        if self.is_offline() {
            return Err(MemberError::Offline);
        }
        let header_bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
        let request = self.http.get(url).headers(headers);
        self.send(provider, "-", url, header_bytes as u64, request).await
    }

    async fn send(
        &self,
        provider: &str,
        model: &str,
        url: &str,
        bytes_sent: u64,
        request: reqwest::RequestBuilder,
    ) -> Result<LedgeredResponse, MemberError> {
        // The ledger shows where a request went, never a token hidden in its query or userinfo.
        let endpoint = atelier_keys::strip_secrets(url);
        let entry = LedgerEntry::open(self.ledger.clone(), LedgerRecord {
            at_ms: now_ms(),
            provider: provider.to_string(),
            model: model.to_string(),
            endpoint: endpoint.clone(),
            bytes_sent,
        });
        let sent = tokio::select! {
            sent = request.send() => sent,
            _ = self.offline_turned_on() => {
                entry.set_status("offline".into());
                return Err(MemberError::Offline);
            }
        };
        match sent {
            Ok(response) => {
                tracing::debug!(provider, model, endpoint = %endpoint, bytes_sent, status = response.status().as_u16(), "request answered");
                entry.set_status(response.status().as_u16().to_string());
                Ok(LedgeredResponse { response, entry })
            }
            Err(e) => {
                tracing::debug!(provider, model, endpoint = %endpoint, error = %root_cause(&e), "request failed");
                entry.set_status(if e.is_timeout() { "timeout" } else { "connection failed" }.into());
                if e.is_timeout() {
                    return Err(MemberError::Timeout { phase: "waiting for the server", after: self.read_timeout });
                }
                Err(MemberError::Connect { url: endpoint, message: root_cause(&e) })
            }
        }
    }
}

/// Reads at most `cap` bytes of a body (error pages, model lists): a server cannot make Atelier hold an
/// endless reply in memory. Anything past the cap is dropped, and `truncated` says so.
pub async fn read_capped(response: reqwest::Response, cap: usize, entry: &LedgerEntry) -> Result<(Vec<u8>, bool), MemberError> {
    use futures::StreamExt;
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| MemberError::Malformed(format!("the reply broke off: {}", root_cause(&e))))?;
        entry.add_received(chunk.len() as u64);
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// An open ledger entry: completed on drop with whatever is known by then.
pub struct LedgerEntry {
    sink: Option<Arc<dyn LedgerSink>>,
    handle: u64,
    bytes_received: AtomicU64,
    usage: std::sync::Mutex<Option<Usage>>,
    status: std::sync::Mutex<String>,
}

impl LedgerEntry {
    fn open(sink: Option<Arc<dyn LedgerSink>>, record: LedgerRecord) -> Self {
        let handle = sink.as_ref().map(|s| s.sent(record)).unwrap_or(0);
        Self {
            sink,
            handle,
            bytes_received: AtomicU64::new(0),
            usage: std::sync::Mutex::new(None),
            status: std::sync::Mutex::new("sent".into()),
        }
    }

    pub fn add_received(&self, bytes: u64) {
        self.bytes_received.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn set_usage(&self, usage: Usage) {
        *self.usage.lock().unwrap() = Some(usage);
    }

    pub fn set_status(&self, status: String) {
        *self.status.lock().unwrap() = status;
    }
}

impl Drop for LedgerEntry {
    fn drop(&mut self) {
        if let Some(sink) = &self.sink {
            sink.completed(
                self.handle,
                LedgerCompletion {
                    bytes_received: self.bytes_received.load(Ordering::Relaxed),
                    usage: *self.usage.lock().unwrap(),
                    status: self.status.lock().unwrap().clone(),
                },
            );
        }
    }
}

pub struct LedgeredResponse {
    pub response: reqwest::Response,
    pub entry: LedgerEntry,
}
