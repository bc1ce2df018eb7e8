//! Downloading a model into the models folder, and registering a GGUF in the library.
//!
//! What a download promises (the trust list's "downloads never destroy or corrupt a model"):
//!
//! - **The file name** comes from the last segment of the address, percent-decoded, reduced to its last
//!   path component and to the characters `[A-Za-z0-9._-]` (others become `_`), never starting with a
//!   dot, always ending in `.gguf`. Anything else is refused before a request is sent.
//! - **Nothing is overwritten.** The bytes go to `<name>.part`; when the download is complete it is
//!   checked (sha256 when given, then opened as a GGUF of a supported architecture) *before* it is moved
//!   into place, and the move never replaces a file: when `<name>` exists the model becomes
//!   `<stem>-2.gguf`, `<stem>-3.gguf`… Only files the download created are ever removed: its `.part`
//!   (when the bytes are known bad: wrong sha256, not a usable GGUF, past the size cap) and, never, a
//!   model that was there before.
//! - **Resume** asks for `Range: bytes=<have>-`. A `206` is believed only when its `Content-Range` starts
//!   exactly at the bytes we have and is consistent (end ≥ start, end < total, length = Content-Length);
//!   otherwise the download restarts once from byte 0, and a second inconsistent answer is an error. A
//!   `200` to a range request restarts from 0. A `416` on a `.part` whose size is the file's total (or
//!   when the server does not say) means the `.part` is complete: it is verified and finished.
//! - **Sizes**: a body past its declared length, or past the absolute cap ([`DEFAULT_MAX_BYTES`] unless
//!   configured), stops the download; a body that ends short of its declared length is an error and the
//!   `.part` stays for the next try. No byte for [`Download::idle_timeout`] is an error too (`.part` kept).
//! - **Which check was done** is reported ([`Verification`]): the sha256 the caller gave (the catalog's,
//!   or the user's), else the sha256 the server declares for the file (Hugging Face sends the LFS
//!   object's sha256 as `X-Linked-Etag`, on the reply before its redirect to the CDN), else none — then
//!   only the GGUF check stands between the bytes and the library, and the user is told so.
//! - **Transport**: `https://` may skip the sha256; plain `http://` must give one (refused before any
//!   request otherwise). Redirects are followed by hand (at most [`Download::max_redirects`]):
//!   from an `https` address only to another `https` address (any host: model hubs hand off to CDNs);
//!   from an `http` address only on the same host — to the same scheme and port, or up to `https`. A
//!   redirect to another host from `http`, or to anything not `https` from `https`, is refused with an
//!   error that names the target so the user can decide. The file name is always taken from the
//!   address the user gave, not the redirect target.
//! - **Cancelling** pauses: what arrived stays in the `.part` for the next call.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use atelier_engine::GgufFile;
use atelier_fusion::client::{LedgeredResponse, OutboundClient};
use atelier_fusion::MemberError;
use atelier_store::{ModelRecord, Store};
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT_ENCODING, CONTENT_RANGE, LOCATION, RANGE};
use reqwest::{StatusCode, Url};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::error::{Result, StudioError};

/// The absolute size cap: no model Atelier can run is anywhere near this.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 30;
/// How long a download waits for the next byte (or for the reply's headers).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MAX_REDIRECTS: usize = 5;

/// What to download and where.
#[derive(Debug, Clone)]
pub struct Download {
    pub url: String,
    /// Expected sha256 (hex); required for `http://`.
    pub sha256: Option<String>,
    /// The models folder (the app passes `atelier_engine::default_model::user_models_dir()`).
    pub dir: PathBuf,
    pub max_bytes: u64,
    pub idle_timeout: Duration,
    pub max_redirects: usize,
}

impl Download {
    pub fn new(url: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        Self {
            url: url.into(),
            sha256: None,
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_BYTES,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_redirects: DEFAULT_MAX_REDIRECTS,
        }
    }

    pub fn sha256(mut self, sha256: Option<String>) -> Self {
        self.sha256 = sha256;
        self
    }

    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    pub fn max_redirects(mut self, max_redirects: usize) -> Self {
        self.max_redirects = max_redirects;
        self
    }
}

/// Reported while a download runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[derive(specta::Type)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum DownloadProgress {
    Receiving { downloaded: u64, total: Option<u64>, bytes_per_second: f64, eta_seconds: Option<f64> },
    /// Every byte is in; checking the sha256 and the GGUF.
    Verifying,
    /// The file passed; this is how it was checked.
    Verified { check: Verification },
}

/// How a downloaded file was checked before it went into the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[derive(specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verification {
    /// Against the sha256 the request carried (the catalog's, or the one the user gave).
    GivenSha256 { sha256: String },
    /// Against the sha256 the server declared for the file (`X-Linked-Etag`).
    DeclaredSha256 { sha256: String },
    /// No sha256 was known: the file was only checked to be a GGUF Atelier can run.
    GgufOnly { sha256: String },
}

impl Verification {
    /// One line for the user.
    pub fn describe(&self) -> String {
        match self {
            Self::GivenSha256 { .. } => "sha256 matches the one expected".into(),
            Self::DeclaredSha256 { .. } => "sha256 matches the one the server declared for the file".into(),
            Self::GgufOnly { .. } => "no sha256 was known: checked only as a GGUF model file".into(),
        }
    }
}

/// Downloads `request.url` into `request.dir` and registers it in the library (see the module notes for
/// what is guaranteed). Cancelling `cancel` returns [`StudioError::Paused`] and keeps the `.part`.
pub async fn download(
    client: &OutboundClient,
    store: &Store,
    request: &Download,
    cancel: &CancellationToken,
    mut on_progress: impl FnMut(DownloadProgress),
) -> Result<ModelRecord> {
    // Turning offline mode on stops a download in flight like a pause (the `.part` stays), reported as
    // offline.
    let stop = cancel.child_token();
    let offline = {
        let (stop, client) = (stop.clone(), client.clone());
        tokio::spawn(async move {
            client.offline_turned_on().await;
            stop.cancel();
        })
    };
    let result = download_until(client, store, request, &stop, &mut on_progress).await;
    offline.abort();
    match result {
        Err(StudioError::Paused) if client.is_offline() => Err(StudioError::Offline),
        other => other,
    }
}

async fn download_until(
    client: &OutboundClient,
    store: &Store,
    request: &Download,
    cancel: &CancellationToken,
    mut on_progress: impl FnMut(DownloadProgress),
) -> Result<ModelRecord> {
    let plan = Plan::new(request)?;
    tokio::fs::create_dir_all(&request.dir)
        .await
        .map_err(|e| StudioError::io(format!("cannot create the models folder {}", request.dir.display()), e))?;
    let partial = request.dir.join(format!("{}.part", plan.name));
    let _claim = Claim::take(&partial)?;
    // The client never follows redirects itself: `open` follows the ones the policy allows, by hand.

    let mut restarted = false;
    let mut declared = None;
    loop {
        let mut have = file_len(&partial).await?;
        if have > request.max_bytes {
            remove_quietly(&partial).await;
            have = 0;
        }
        match fetch(client, &plan, request, &partial, have, cancel, &mut declared, &mut on_progress).await? {
            Fetched::Complete => break,
            Fetched::Restart(reason) => {
                if restarted {
                    return Err(StudioError::Network(format!("{reason}; the download was restarted once and the server is still inconsistent")));
                }
                restarted = true;
                remove_quietly(&partial).await;
            }
        }
    }

    on_progress(DownloadProgress::Verifying);
    let digest = sha256_file(&partial).await?;
    let check = match verify(plan.sha256.as_deref(), declared, digest.clone()) {
        Ok(check) => check,
        Err(e) => {
            remove_quietly(&partial).await;
            return Err(e);
        }
    };
    if let Err(e) = validate_gguf(&partial).await {
        // Complete but not a model Atelier can run: the bytes are no use for a resume either.
        if matches!(&e, StudioError::Model(engine) if !matches!(engine, atelier_engine::EngineError::Io { .. })) {
            remove_quietly(&partial).await;
        }
        return Err(e);
    }
    on_progress(DownloadProgress::Verified { check });
    let target = {
        let (partial, dir, name) = (partial.clone(), request.dir.clone(), plan.name.clone());
        tokio::task::spawn_blocking(move || place(&partial, &dir, &name))
            .await
            .map_err(|e| StudioError::Internal(e.to_string()))??
    };
    // The library keeps where the model came from, never a token in the address's query or userinfo.
    match register(store, &target, Some(&atelier_keys::strip_secrets(&request.url)), Some(&digest)).await {
        Ok(record) => Ok(record),
        Err(e) => {
            // The file is ours (just placed): put it back as the complete `.part` so a retry finishes.
            let _ = tokio::fs::rename(&target, &partial).await;
            Err(e)
        }
    }
}

/// Which check the downloaded bytes (hashing to `digest`) pass: the given sha256, else the declared one,
/// else none.
fn verify(given: Option<&str>, declared: Option<String>, digest: String) -> Result<Verification> {
    let (check, expected, whose) = match (given, declared) {
        (Some(given), _) => (Verification::GivenSha256 { sha256: given.to_string() }, given.to_string(), "expected"),
        (None, Some(declared)) => (Verification::DeclaredSha256 { sha256: declared.clone() }, declared, "the server declared for the file"),
        (None, None) => return Ok(Verification::GgufOnly { sha256: digest }),
    };
    if digest != expected {
        return Err(StudioError::Checksum(format!("The download is corrupt (sha256 {digest}, {whose} {expected}); the partial file was deleted.")));
    }
    Ok(check)
}

/// Validates a GGUF (opens it, reads its info, requires a supported architecture) or an OpenVINO model
/// folder (its files and config) and records it in the library.
pub async fn register(store: &Store, path: &Path, source_url: Option<&str>, sha256: Option<&str>) -> Result<ModelRecord> {
    // An OpenVINO model is its folder; picking the folder's openvino_model.xml means the folder.
    let path = match (path.file_name(), path.parent()) {
        (Some(name), Some(folder)) if name == atelier_engine::openvino::ir::MODEL_XML => folder.to_path_buf(),
        _ => path.to_path_buf(),
    };
    let info = tokio::task::spawn_blocking({
        let path = path.clone();
        move || -> Result<_> {
            if path.is_dir() {
                return Ok(atelier_engine::openvino::ir::IrDirectory::open(&path)?.info()?);
            }
            let gguf = GgufFile::open(&path)?;
            let info = gguf.info()?;
            gguf.require_supported_architecture()?;
            Ok(info)
        }
    })
    .await
    .map_err(|e| StudioError::Internal(e.to_string()))??;
    Ok(store
        .models()
        .upsert(
            &path.to_string_lossy(),
            &info.name,
            &info.architecture,
            &info.quantization,
            info.file_size as i64,
            info.parameters as i64,
            sha256,
            source_url,
        )
        .await?)
}

/// The model's file name from the last segment of an address: percent-decoded, only its last path
/// component, characters outside `[A-Za-z0-9._-]` replaced by `_`, no leading dot, ending in `.gguf`.
pub fn sanitize_file_name(segment: &str) -> Result<String> {
    let refuse = || StudioError::Invalid("The address should end with the model's file name, e.g. …/model-Q4_K_M.gguf".into());
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    let last = decoded.rsplit(['/', '\\']).next().unwrap_or("");
    let mut cleaned = String::with_capacity(last.len());
    for c in last.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' };
        if c == '_' && cleaned.ends_with('_') {
            continue;
        }
        cleaned.push(c);
    }
    if !cleaned.to_ascii_lowercase().ends_with(".gguf") {
        return Err(refuse());
    }
    let stem = cleaned[..cleaned.len() - ".gguf".len()].trim_start_matches(['.', '_', '-']).trim_end_matches(['.', '_', '-']);
    // Room for "-999.gguf.part" within the usual 255-byte limit.
    let stem = &stem[..stem.len().min(200)];
    if stem.is_empty() {
        return Err(refuse());
    }
    let first = stem.split('.').next().unwrap_or(stem).to_ascii_uppercase();
    let reserved = matches!(first.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (first.len() == 4 && (first.starts_with("COM") || first.starts_with("LPT")) && first.as_bytes()[3].is_ascii_digit());
    Ok(if reserved { format!("model-{stem}.gguf") } else { format!("{stem}.gguf") })
}

/// A checked request.
struct Plan {
    url: Url,
    name: String,
    sha256: Option<String>,
}

impl Plan {
    fn new(request: &Download) -> Result<Self> {
        let url = Url::parse(request.url.trim()).map_err(|e| StudioError::Invalid(format!("\"{}\" is not an address ({e})", request.url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(StudioError::Invalid(format!("Models are downloaded over https:// (or http:// with a sha256), not \"{}\"", url.scheme())));
        }
        let sha256 = match request.sha256.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => Some(s.to_ascii_lowercase()),
            Some(s) => return Err(StudioError::Invalid(format!("\"{s}\" is not a sha256 (64 hexadecimal characters)"))),
        };
        if url.scheme() == "http" && sha256.is_none() {
            return Err(StudioError::Invalid(
                "A plain http:// download can be altered on the way: give the file's sha256, or use an https:// address.".into(),
            ));
        }
        let segment = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or("");
        let name = sanitize_file_name(segment)?;
        Ok(Self { url, name, sha256 })
    }
}

enum Fetched {
    /// The `.part` holds the whole file (still to be verified).
    Complete,
    /// The server's answer cannot be trusted to continue the `.part`: start again from byte 0.
    Restart(String),
}

/// `Content-Range: bytes start-end/total` (total `None` for `*`), or `bytes */total`.
#[derive(Debug, PartialEq)]
enum ContentRange {
    Bytes { start: u64, end: u64, total: Option<u64> },
    Unsatisfied { total: u64 },
}

fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let total = total.trim();
    if range.trim() == "*" {
        return Some(ContentRange::Unsatisfied { total: total.parse().ok()? });
    }
    let (start, end) = range.trim().split_once('-')?;
    let total = if total == "*" { None } else { Some(total.parse().ok()?) };
    Some(ContentRange::Bytes { start: start.trim().parse().ok()?, end: end.trim().parse().ok()?, total })
}

/// One request (following allowed redirects) and its body into the `.part`; `declared` receives the
/// sha256 the server declares for the file, when it does.
#[allow(clippy::too_many_arguments)]
async fn fetch(
    client: &OutboundClient,
    plan: &Plan,
    request: &Download,
    partial: &Path,
    have: u64,
    cancel: &CancellationToken,
    declared: &mut Option<String>,
    on_progress: &mut impl FnMut(DownloadProgress),
) -> Result<Fetched> {
    let LedgeredResponse { response, entry } = open(client, plan, request, have, cancel, declared).await?;
    // A server that declares another file than the one expected is not worth gigabytes of bytes.
    if let (Some(expected), Some(declared)) = (&plan.sha256, declared.as_ref()) {
        if expected != declared {
            return Err(StudioError::Checksum(format!(
                "The server declares sha256 {declared} for this file, not the expected {expected}: nothing more was downloaded. \
                 The file on the server has changed, or the address is wrong."
            )));
        }
    }
    let status = response.status();
    let content_range = response.headers().get(CONTENT_RANGE).and_then(|v| v.to_str().ok()).map(parse_content_range);
    let content_length = response.content_length();

    let (append, total) = match status {
        StatusCode::PARTIAL_CONTENT => {
            let Some(Some(ContentRange::Bytes { start, end, total })) = content_range else {
                return Ok(Fetched::Restart("the server sent part of the file without saying which part (Content-Range)".into()));
            };
            if start != have || end < start || total.is_some_and(|t| end >= t) {
                return Ok(Fetched::Restart(format!(
                    "the server sent bytes {start}-{end} of {} when bytes from {have} were asked for",
                    total.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
                )));
            }
            if let Some(length) = content_length {
                if length != end - start + 1 {
                    return Err(StudioError::Network(format!(
                        "The server's reply is inconsistent (Content-Length {length} for bytes {start}-{end}); try again later."
                    )));
                }
            }
            (true, Some(total.unwrap_or(end + 1)))
        }
        StatusCode::RANGE_NOT_SATISFIABLE if have > 0 => {
            return Ok(match content_range {
                // The `.part` already holds the whole file.
                Some(Some(ContentRange::Unsatisfied { total })) if total == have => Fetched::Complete,
                Some(Some(ContentRange::Unsatisfied { total })) => {
                    Fetched::Restart(format!("the partial file has {have} bytes but the file has {total}"))
                }
                // The server does not say: verification decides.
                _ => Fetched::Complete,
            });
        }
        status if status.is_success() => {
            if status != StatusCode::OK {
                return Err(StudioError::Network(format!("The server answered {status} instead of the file.")));
            }
            (false, content_length)
        }
        status => {
            return Err(StudioError::Network(format!(
                "The server answered {status}{}.",
                if have > 0 { "; what was downloaded so far is kept" } else { "" }
            )))
        }
    };
    if let Some(total) = total {
        if total > request.max_bytes {
            return Err(StudioError::TooLarge(format!(
                "The file is {total} bytes, more than the {} allowed; nothing more was downloaded.",
                request.max_bytes
            )));
        }
    }

    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(partial)
        .await
        .map_err(|e| StudioError::io(format!("cannot write {}", partial.display()), e))?;
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let start = if append { have } else { 0 };
    let streamed = stream_body(response, &entry, &mut writer, start, total, request, cancel, on_progress).await;
    // Whatever arrived is kept, whether the body ended or broke off.
    let flushed = writer.flush().await.map_err(|e| StudioError::io(format!("cannot write {}", partial.display()), e));
    let downloaded = match streamed {
        Ok(downloaded) => downloaded,
        Err(e) => {
            if let StudioError::TooLarge(_) = e {
                if total.is_none() {
                    // Past the absolute cap: nothing there can be a model.
                    drop(writer);
                    remove_quietly(partial).await;
                }
            }
            return Err(e);
        }
    };
    flushed?;
    writer.into_inner().sync_all().await.map_err(|e| StudioError::io(format!("cannot write {}", partial.display()), e))?;
    if let Some(total) = total {
        if downloaded < total {
            return Err(StudioError::Network(format!(
                "The server sent {downloaded} of {total} bytes; start the download again to resume."
            )));
        }
    }
    Ok(Fetched::Complete)
}

/// Sends the request, following redirects the policy allows.
async fn open(
    client: &OutboundClient,
    plan: &Plan,
    request: &Download,
    have: u64,
    cancel: &CancellationToken,
    declared: &mut Option<String>,
) -> Result<LedgeredResponse> {
    let mut url = plan.url.clone();
    let mut hops = 0;
    loop {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        if have > 0 {
            headers.insert(RANGE, HeaderValue::from_str(&format!("bytes={have}-")).expect("a range is a valid header"));
        }
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(StudioError::Paused),
            sent = tokio::time::timeout(request.idle_timeout, client.get("download", url.as_str(), headers)) => sent,
        };
        let response = sent
            .map_err(|_| StudioError::Timeout(format!("{} did not answer within {} s.", host_of(&url), request.idle_timeout.as_secs_f64())))?
            .map_err(member_error)?;
        let status = response.response.status();
        if let Some(sha256) = declared_sha256(response.response.headers()) {
            *declared = Some(sha256);
        }
        if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        let location = response
            .response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| StudioError::Network(format!("The server answered {status} without saying where to go.")))?;
        let next = url.join(location).map_err(|e| StudioError::Network(format!("The server redirected to \"{location}\", which is not an address ({e}).")))?;
        check_redirect(&url, &next)?;
        hops += 1;
        if hops > request.max_redirects {
            return Err(StudioError::Network(format!("Too many redirects (more than {}).", request.max_redirects)));
        }
        url = next;
    }
}

/// Hugging Face's `X-Linked-Etag` (`"<sha256>"`, maybe weak) when it is a sha256; for files not in
/// LFS it is a git object id, which says nothing about the bytes and is ignored.
fn declared_sha256(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-linked-etag")?.to_str().ok()?.trim();
    let value = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
    (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| value.to_ascii_lowercase())
}

/// The redirect policy of the module notes.
fn check_redirect(from: &Url, to: &Url) -> Result<()> {
    let allowed = match (from.scheme(), to.scheme()) {
        ("https", "https") => true,
        ("http", "https") => from.host_str() == to.host_str(),
        ("http", "http") => from.host_str() == to.host_str() && from.port_or_known_default() == to.port_or_known_default(),
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    Err(StudioError::Invalid(format!(
        "The server redirected the download to {to}, which Atelier does not follow from {} ({}). If you trust it, download from that address directly.",
        host_of(from),
        if to.scheme() != "https" { "not https" } else { "another host over plain http" }
    )))
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or("the server").to_string()
}

fn member_error(e: MemberError) -> StudioError {
    match e {
        MemberError::Offline => StudioError::Offline,
        MemberError::Connect { url, message } => StudioError::Network(format!("Cannot connect to {url}: {message}")),
        e @ MemberError::Timeout { .. } => StudioError::Timeout(format!("The download server did not answer: {e}.")),
        e => StudioError::Network(e.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn stream_body(
    response: reqwest::Response,
    entry: &atelier_fusion::client::LedgerEntry,
    writer: &mut (impl tokio::io::AsyncWrite + Unpin),
    start: u64,
    total: Option<u64>,
    request: &Download,
    cancel: &CancellationToken,
    on_progress: &mut impl FnMut(DownloadProgress),
) -> Result<u64> {
    let started = Instant::now();
    let mut downloaded = start;
    let report = |downloaded: u64| {
        let speed = (downloaded - start) as f64 / started.elapsed().as_secs_f64().max(1e-3);
        let eta = total.map(|t| t.saturating_sub(downloaded) as f64 / speed.max(1.0));
        DownloadProgress::Receiving { downloaded, total, bytes_per_second: speed, eta_seconds: eta }
    };
    on_progress(report(downloaded));
    let mut reported = downloaded;
    // Progress goes out at most every 200 ms, and also while the server stalls (the last count shown
    // is the real one).
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_byte = tokio::time::Instant::now();
    let mut body = response.bytes_stream();
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(StudioError::Paused),
            _ = tokio::time::sleep_until(last_byte + request.idle_timeout) => {
                return Err(StudioError::Timeout(format!(
                    "No data arrived for {} s after {downloaded} bytes; start the download again to resume.",
                    request.idle_timeout.as_secs_f64()
                )))
            }
            _ = ticker.tick() => {
                if downloaded != reported {
                    reported = downloaded;
                    on_progress(report(downloaded));
                }
                continue;
            }
            next = body.next() => next,
        };
        let chunk = match next {
            None => break,
            Some(Err(e)) => {
                return Err(StudioError::Network(format!(
                    "The download broke off after {downloaded} bytes ({}); start it again to resume.",
                    root_cause(&e)
                )))
            }
            Some(Ok(chunk)) => chunk,
        };
        last_byte = tokio::time::Instant::now();
        entry.add_received(chunk.len() as u64);
        let after = downloaded + chunk.len() as u64;
        if let Some(total) = total {
            if after > total {
                let keep = (total - downloaded) as usize;
                writer.write_all(&chunk[..keep]).await.map_err(|e| StudioError::io("cannot write the model file", e))?;
                return Err(StudioError::TooLarge(format!("The server sent more than the {total} bytes it announced; the download stopped.")));
            }
        }
        if after > request.max_bytes {
            return Err(StudioError::TooLarge(format!(
                "The download passed {} bytes, the most allowed, and was stopped.",
                request.max_bytes
            )));
        }
        writer.write_all(&chunk).await.map_err(|e| StudioError::io("cannot write the model file", e))?;
        downloaded = after;
    }
    on_progress(report(downloaded));
    Ok(downloaded)
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Moves the verified `.part` to the first free name; never replaces an existing file.
fn place(partial: &Path, dir: &Path, name: &str) -> Result<PathBuf> {
    let stem = name.strip_suffix(".gguf").unwrap_or(name);
    for n in 1..=999 {
        let target = if n == 1 { dir.join(name) } else { dir.join(format!("{stem}-{n}.gguf")) };
        // A hard link is an atomic "create only if absent".
        match std::fs::hard_link(partial, &target) {
            Ok(()) => {
                let _ = std::fs::remove_file(partial);
                return Ok(target);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => {
                // No hard links here (FAT, some network drives): check, then rename.
                if std::fs::symlink_metadata(&target).is_ok() {
                    continue;
                }
                std::fs::rename(partial, &target).map_err(|e| StudioError::io(format!("cannot move the model to {}", target.display()), e))?;
                return Ok(target);
            }
        }
    }
    Err(StudioError::Exists(format!("{name} and its numbered variants already exist in {}; remove some first.", dir.display())))
}

async fn validate_gguf(path: &Path) -> Result<()> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let gguf = GgufFile::open(&path)?;
        gguf.info()?;
        gguf.require_supported_architecture()?;
        Ok(())
    })
    .await
    .map_err(|e| StudioError::Internal(e.to_string()))?
}

async fn sha256_file(path: &Path) -> Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut hasher = Sha256::new();
        let mut file = std::fs::File::open(&path)?;
        std::io::copy(&mut file, &mut hasher)?;
        Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
    })
    .await
    .map_err(|e| StudioError::Internal(e.to_string()))?
    .map_err(|e| StudioError::io("cannot read the downloaded file", e))
}

async fn file_len(path: &Path) -> Result<u64> {
    match tokio::fs::metadata(path).await {
        Ok(m) if m.is_file() => Ok(m.len()),
        Ok(_) => Err(StudioError::Exists(format!("{} is in the way (not a file)", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(StudioError::io(format!("cannot read {}", path.display()), e)),
    }
}

async fn remove_quietly(path: &Path) {
    let _ = tokio::fs::remove_file(path).await;
}

/// One download per `.part` at a time in this process.
struct Claim(PathBuf);

fn claims() -> &'static Mutex<HashSet<PathBuf>> {
    static CLAIMS: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    CLAIMS.get_or_init(Default::default)
}

impl Claim {
    fn take(partial: &Path) -> Result<Self> {
        if !claims().lock().unwrap().insert(partial.to_path_buf()) {
            return Err(StudioError::Busy(format!("{} is already being downloaded.", partial.display())));
        }
        Ok(Self(partial.to_path_buf()))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        claims().lock().unwrap().remove(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        assert_eq!(parse_content_range("bytes 10-19/20"), Some(ContentRange::Bytes { start: 10, end: 19, total: Some(20) }));
        assert_eq!(parse_content_range("bytes 10-19/*"), Some(ContentRange::Bytes { start: 10, end: 19, total: None }));
        assert_eq!(parse_content_range("bytes */20"), Some(ContentRange::Unsatisfied { total: 20 }));
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_content_range("bytes x-2/3"), None);
    }

    #[test]
    fn declared_sha256_is_read_only_when_it_is_one() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-linked-etag", HeaderValue::from_str(v).unwrap());
            h
        };
        let sha = "AB".repeat(32);
        assert_eq!(declared_sha256(&headers(&format!("\"{sha}\""))), Some("ab".repeat(32)));
        assert_eq!(declared_sha256(&headers(&format!("W/\"{sha}\""))), Some("ab".repeat(32)));
        // A git blob id (40 hex) or anything else is not a sha256 of the file.
        assert_eq!(declared_sha256(&headers("\"0123456789abcdef0123456789abcdef01234567\"")), None);
        assert_eq!(declared_sha256(&headers(&"zz".repeat(32))), None);
        assert_eq!(declared_sha256(&HeaderMap::new()), None);
    }

    #[test]
    fn the_given_sha256_wins_then_the_declared_one_then_none() {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        assert_eq!(verify(Some(&a), Some(b.clone()), a.clone()).unwrap(), Verification::GivenSha256 { sha256: a.clone() });
        assert_eq!(verify(None, Some(a.clone()), a.clone()).unwrap(), Verification::DeclaredSha256 { sha256: a.clone() });
        assert_eq!(verify(None, None, a.clone()).unwrap(), Verification::GgufOnly { sha256: a.clone() });
        let declared_wrong = verify(None, Some(b.clone()), a.clone()).unwrap_err().to_string();
        assert!(declared_wrong.contains("the server declared"), "{declared_wrong}");
        assert!(verify(Some(&b), None, a).unwrap_err().to_string().contains("expected"));
    }

    #[test]
    fn redirect_policy() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(check_redirect(&u("https://a/x.gguf"), &u("https://cdn.b/y")).is_ok());
        assert!(check_redirect(&u("https://a/x.gguf"), &u("http://a/y")).is_err());
        assert!(check_redirect(&u("http://a/x.gguf"), &u("https://a/y")).is_ok());
        assert!(check_redirect(&u("http://a/x.gguf"), &u("https://b/y")).is_err());
        assert!(check_redirect(&u("http://a/x.gguf"), &u("http://a/y")).is_ok());
        assert!(check_redirect(&u("http://a/x.gguf"), &u("http://a:8080/y")).is_err());
        assert!(check_redirect(&u("http://a/x.gguf"), &u("http://b/y")).is_err());
        assert!(check_redirect(&u("https://a/x.gguf"), &u("ftp://a/y")).is_err());
    }
}
