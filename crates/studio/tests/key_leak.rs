//! A whole session with a real API key — set it, fuse against a loopback "cloud", have the server echo
//! the key back in an error, re-point the provider to another host, import a bundle that re-points it
//! too, export and back up — and then look everywhere for the key: the library file, its WAL, the
//! backup, the exports, the log, what the UI is sent, and every byte the other host received.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_fusion::client::OutboundClient;
use atelier_fusion::config::MemberConfig;
use atelier_fusion::modes::{run, FusionRequest, Mode};
use atelier_fusion::persist::{RunRecorder, StoreLedger};
use atelier_fusion::provider::ChatMessage;
use atelier_fusion::PriceBook;
use atelier_keys::{KeyringStore, MemoryStore, SecretStore, SecretString};
use atelier_store::{ExportFormat, ExportTarget, NewRun, RunKind, Store};
use atelier_studio::providers::{self, ProviderInput};
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-leaktest-7f3a9c0e5b1d2468ace0";

/// A loopback OpenAI-compatible server that keeps every request's raw bytes.
struct RawServer {
    url: String,
    seen: Arc<Mutex<Vec<u8>>>,
}

fn serve() -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || handle(stream, log));
        }
    });
    RawServer { url, seen }
}

fn handle(mut stream: std::net::TcpStream, log: Arc<Mutex<Vec<u8>>>) {
    let Some((request, body_start)) = common::read_request(&mut stream) else { return };
    let head = String::from_utf8_lossy(&request[..body_start]).to_string();
    log.lock().unwrap().extend_from_slice(&request);
    let body = String::from_utf8_lossy(&request[body_start..]).to_string();
    let auth = head.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:")).unwrap_or("").to_string();
    let response = if body.contains("\"echo\"") {
        // A proxy that quotes the request's headers back in its error page.
        let page = format!("{{\"error\":{{\"message\":\"upstream refused {auth}\"}}}}");
        format!("HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}", page.len())
    } else {
        let chunk = |t: &str| format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{t}\"}},\"finish_reason\":null}}]}}\n\n");
        let sse = format!(
            "{}{}data: {{\"choices\":[{{\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n",
            chunk("The sea "),
            chunk("at dawn.")
        );
        format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{sse}", sse.len())
    };
    let _ = stream.write_all(response.as_bytes());
}

/// The real keychain under CI (with-keyring.sh); elsewhere, without one, keys in memory.
fn keychain() -> Arc<dyn SecretStore> {
    let store = KeyringStore::with_service(format!("atelier-test-leak-{}", std::process::id()));
    match store.probe() {
        Ok(()) => Arc::new(store),
        Err(e) if std::env::var("ATELIER_REQUIRE_KEYRING").is_err() => {
            eprintln!("no keychain here ({e}): keys kept in memory for this test");
            Arc::new(MemoryStore::default())
        }
        Err(e) => panic!("ATELIER_REQUIRE_KEYRING is set but the keychain is unusable: {e}"),
    }
}

/// What tracing writes during the test, as the app's log would keep it.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn fuse(store: &Store, keys: &Arc<dyn SecretStore>, members: &[&str]) -> Vec<String> {
    let run_id = store.runs().start(RunKind::Fusion, &NewRun { prompt: "Describe the sea at dawn.".into(), ..Default::default() }).await.unwrap();
    let client = OutboundClient::new(Duration::from_secs(2)).with_ledger(StoreLedger::new(store.clone(), Some(run_id)));
    let builder = providers::panel_builder(store, Arc::clone(keys), client, None, Arc::new(PriceBook::default())).await.unwrap();
    let seats: Vec<_> = members.iter().map(|m| builder.seat(&MemberConfig::parse(m).unwrap()).unwrap()).collect();
    let mut request = FusionRequest::new(vec![ChatMessage::user("Describe the sea at dawn.")], seats.clone(), seats[0].clone(), Mode::BestOf);
    request.retry.max_attempts = 1;
    let names = seats.iter().chain([&seats[0]]).map(|s| (s.provider.id().to_string(), s.provider.model().to_string())).collect();
    let recorder = RunRecorder::start(store.clone(), run_id, names);
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&errors);
    let sink = recorder.sink(Arc::new(move |event| seen.lock().unwrap().push(format!("{event:?}"))));
    let result = run(request, CancellationToken::new(), sink).await;
    recorder.finish(result.as_ref().map_err(|e| e.to_string())).await.unwrap();
    let mut shown = errors.lock().unwrap().clone();
    shown.push(format!("{result:?}"));
    shown.push(store.export(ExportTarget::Run(run_id), ExportFormat::Markdown).await.unwrap());
    shown.push(store.export(ExportTarget::Run(run_id), ExportFormat::Json).await.unwrap());
    shown
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_appears_nowhere_it_was_not_given() {
    let log = LogBuffer::default();
    let writer = log.clone();
    tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).with_ansi(false).init();

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let keys = keychain();
    let home = serve();
    let elsewhere = serve();

    // Set the key for the provider at its origin, and fuse (one member's server echoes the key).
    let input = |url: &str| ProviderInput { id: "cloud".into(), name: "Cloud".into(), base_url: url.into(), models: vec![], enabled: true, max_concurrent: None };
    providers::save(&store, &input(&home.url)).await.unwrap();
    let scope = providers::set_key(Some(&store), keys.as_ref(), "cloud", SecretString::from(KEY)).await.unwrap();
    let mut shown = fuse(&store, &keys, &["cloud:writer", "cloud:echo"]).await;
    assert!(String::from_utf8_lossy(&home.seen.lock().unwrap()).contains(&format!("Bearer {KEY}")), "the key did not reach its own origin");
    assert!(shown.iter().any(|s| s.contains("[REDACTED]")), "the echoing server's error was not seen: {shown:?}");

    // What the UI is sent about providers.
    shown.push(serde_json::to_string(&providers::list(&store, keys.as_ref()).await.unwrap()).unwrap());

    // Re-point the provider to another host and fuse again: the other host gets no key.
    providers::save(&store, &input(&elsewhere.url)).await.unwrap();
    let views = providers::list(&store, keys.as_ref()).await.unwrap();
    assert!(!views[0].key_set, "the moved provider still shows a key");
    shown.extend(fuse(&store, &keys, &["cloud:writer"]).await);

    // A bundle that re-points the provider (as an imported library would) changes nothing either.
    let mut bundle = store.export_library().await.unwrap();
    let bundle_text = serde_json::to_string(&bundle).unwrap();
    for p in &mut bundle.providers {
        p.base_url = elsewhere.url.clone();
    }
    store.import_library(&bundle).await.unwrap();
    shown.extend(fuse(&store, &keys, &["cloud:writer"]).await);

    // Export and back up.
    std::fs::write(dir.path().join("bundle.json"), &bundle_text).unwrap();
    store.backup(dir.path().join("backup.sqlite3")).await.unwrap();

    // Nowhere: not in the library, its WAL or shm, the backup or the bundle...
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(!bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()), "the key is in {}", entry.path().display());
    }
    // ...nor the log, nor anything shown to the user, nor any byte the other origin received.
    let log_text = String::from_utf8_lossy(&log.0.lock().unwrap()).to_string();
    assert!(!log_text.is_empty(), "nothing was logged: the log check would prove nothing");
    assert!(!log_text.contains(KEY), "the key is in the log");
    for text in &shown {
        assert!(!text.contains(KEY), "the key was shown: {text}");
    }
    let other = String::from_utf8_lossy(&elsewhere.seen.lock().unwrap()).to_string();
    assert!(other.contains("POST /v1/chat/completions"), "the re-pointed provider never reached its new host");
    assert!(!other.contains(KEY), "the key went to an origin it was not given for");
    assert!(!other.to_ascii_lowercase().contains("authorization"), "credentials went to the other origin");

    keys.delete(&scope).unwrap();
}
