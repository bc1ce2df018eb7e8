//! The model downloader against a loopback server that answers with hand-written HTTP/1.1, so it can
//! cut bodies, lie about lengths and ranges, redirect, stall and never stop.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atelier_engine::synthetic::SyntheticSpec;
use atelier_studio::download::{download, register, sanitize_file_name, Download, DownloadProgress};
use atelier_studio::StudioError;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

mod common;
use common::loopback::{Reply, Server, Tail};
use common::{setup, Setup};

// ---------------------------------------------------------------------------------------------------
// Fixtures.

fn gguf_bytes(seed: u64) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.gguf");
    SyntheticSpec { seed, ..SyntheticSpec::tiny_llama() }.write(&path).unwrap();
    std::fs::read(path).unwrap()
}

fn model() -> Vec<u8> {
    gguf_bytes(1)
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

async fn run(s: &Setup, request: &Download) -> Result<atelier_store::ModelRecord, StudioError> {
    download(&s.client, &s.store, request, &CancellationToken::new(), |_| {}).await
}

fn kind<T: std::fmt::Debug>(result: &Result<T, StudioError>) -> atelier_studio::ErrorKind {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.kind(),
    }
}

// ---------------------------------------------------------------------------------------------------
// Resume and ranges.

#[tokio::test]
async fn a_cut_download_resumes_with_a_range_and_the_file_hashes_right() {
    let s = setup().await;
    let file = model();
    let half = file.len() / 2;
    let served = file.clone();
    let server = Server::start(move |i, _| {
        if i == 0 {
            // Promises the whole file, sends half, hangs up.
            Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served[..half].to_vec(), Tail::Close)
        } else {
            Reply::partial(&served, half)
        }
    })
    .await;
    let request = Download::new(server.url("/models/tiny-Q8_0.gguf"), &s.dir).sha256(Some(sha(&file)));

    let first = run(&s, &request).await;
    assert_eq!(kind(&first), "network", "{first:?}");
    assert_eq!(std::fs::read(s.dir.join("tiny-Q8_0.gguf.part")).unwrap(), file[..half]);
    assert!(!s.dir.join("tiny-Q8_0.gguf").exists());

    let mut events = Vec::new();
    let record = download(&s.client, &s.store, &request, &CancellationToken::new(), |e| events.push(e)).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].range, None);
    assert_eq!(requests[1].range.as_deref(), Some(format!("bytes={half}-").as_str()));
    let target = s.dir.join("tiny-Q8_0.gguf");
    assert_eq!(record.path, target.to_string_lossy());
    let on_disk = std::fs::read(&target).unwrap();
    assert_eq!(sha(&on_disk), sha(&file));
    assert_eq!(record.sha256.as_deref(), Some(sha(&file).as_str()));
    assert_eq!(record.architecture, "llama");
    assert_eq!(files_in(&s.dir), vec!["tiny-Q8_0.gguf"]);
    // Progress started from the bytes already there and ended at the total, then verification.
    assert!(matches!(events.first(), Some(DownloadProgress::Receiving { downloaded, total: Some(t), .. }) if *downloaded == half as u64 && *t == file.len() as u64));
    assert!(events.contains(&DownloadProgress::Verifying));
    assert!(events.iter().any(|e| matches!(e, DownloadProgress::Receiving { downloaded, .. } if *downloaded == file.len() as u64)));
}

#[tokio::test]
async fn a_wrong_content_range_start_restarts_from_zero() {
    let s = setup().await;
    let file = model();
    let half = file.len() / 2;
    std::fs::write(s.dir.join("m.gguf.part"), &file[..half]).unwrap();
    let served = file.clone();
    let server = Server::start(move |_, req| {
        if req.range.is_some() {
            // Claims a range from 0 although bytes from `half` were asked for: appending would corrupt.
            let n = served.len();
            Reply::new(
                "206 Partial Content",
                &[("Content-Length", n.to_string()), ("Content-Range", format!("bytes 0-{}/{n}", n - 1))],
                served.clone(),
                Tail::Close,
            )
        } else {
            Reply::ok(&served)
        }
    })
    .await;
    let record = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].range.as_deref(), Some(format!("bytes={half}-").as_str()));
    assert_eq!(requests[1].range, None);
    assert_eq!(std::fs::read(&record.path).unwrap(), file);
    assert_eq!(files_in(&s.dir), vec!["m.gguf"]);
}

#[tokio::test]
async fn a_server_that_keeps_sending_wrong_ranges_is_a_clear_error_and_no_model() {
    let s = setup().await;
    let file = model();
    let served = file.clone();
    let server = Server::start(move |_, _| {
        let n = served.len();
        Reply::new(
            "206 Partial Content",
            &[("Content-Length", (n - 5).to_string()), ("Content-Range", format!("bytes 5-{}/{n}", n - 1))],
            served[5..].to_vec(),
            Tail::Close,
        )
    })
    .await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "network");
    assert!(result.unwrap_err().to_string().contains("restarted once"));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(files_in(&s.dir), Vec::<String>::new());
}

#[tokio::test]
async fn a_416_on_a_complete_part_verifies_and_finishes() {
    let s = setup().await;
    let file = model();
    std::fs::write(s.dir.join("m.gguf.part"), &file).unwrap();
    let n = file.len();
    let server = Server::start(move |_, _| Reply::new("416 Range Not Satisfiable", &[("Content-Range", format!("bytes */{n}")), ("Content-Length", "0".into())], vec![], Tail::Close)).await;
    let record = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await.unwrap();
    assert_eq!(server.requests()[0].range.as_deref(), Some(format!("bytes={n}-").as_str()));
    assert_eq!(std::fs::read(&record.path).unwrap(), file);
    assert_eq!(files_in(&s.dir), vec!["m.gguf"]);
}

#[tokio::test]
async fn a_416_on_a_complete_part_with_the_wrong_hash_fails_and_drops_the_part() {
    let s = setup().await;
    let file = model();
    let mut bad = file.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    std::fs::write(s.dir.join("m.gguf.part"), &bad).unwrap();
    let n = file.len();
    let server = Server::start(move |_, _| Reply::new("416 Range Not Satisfiable", &[("Content-Range", format!("bytes */{n}")), ("Content-Length", "0".into())], vec![], Tail::Close)).await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "checksum");
    assert_eq!(files_in(&s.dir), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------------
// Lying lengths, endless and idle bodies.

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_an_error_and_kept_for_resume() {
    let s = setup().await;
    let file = model();
    let third = file.len() / 3;
    let served = file.clone();
    let server = Server::start(move |_, _| {
        Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served[..third].to_vec(), Tail::Close)
    })
    .await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "network");
    assert_eq!(std::fs::read(s.dir.join("m.gguf.part")).unwrap(), file[..third]);
    assert_eq!(files_in(&s.dir), vec!["m.gguf.part"]);
}

#[tokio::test]
async fn a_body_longer_than_its_content_length_never_becomes_a_model() {
    let s = setup().await;
    let file = model();
    let served = file.clone();
    // Declares half the file, sends all of it: only the declared bytes count, and they do not hash right.
    let server = Server::start(move |_, _| Reply::new("200 OK", &[("Content-Length", (served.len() / 2).to_string())], served.clone(), Tail::Close)).await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "checksum");
    assert_eq!(files_in(&s.dir), Vec::<String>::new());
}

#[tokio::test]
async fn a_206_whose_content_length_disagrees_with_its_range_is_refused() {
    let s = setup().await;
    let file = model();
    let half = file.len() / 2;
    std::fs::write(s.dir.join("m.gguf.part"), &file[..half]).unwrap();
    let served = file.clone();
    let server = Server::start(move |_, _| {
        let n = served.len();
        Reply::new(
            "206 Partial Content",
            &[("Content-Length", "10".into()), ("Content-Range", format!("bytes {half}-{}/{n}", n - 1))],
            served[half..half + 10].to_vec(),
            Tail::Close,
        )
    })
    .await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "network");
    // The partial is untouched.
    assert_eq!(std::fs::read(s.dir.join("m.gguf.part")).unwrap(), file[..half]);
}

#[tokio::test]
async fn an_endless_body_is_stopped_by_the_size_cap() {
    let s = setup().await;
    let server = Server::start(|_, _| Reply::new("200 OK", &[("Transfer-Encoding", "chunked".into())], vec![], Tail::Endless)).await;
    let started = Instant::now();
    let request = Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(b"whatever"))).max_bytes(1 << 20);
    let result = run(&s, &request).await;
    assert_eq!(kind(&result), "too_large");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(files_in(&s.dir), Vec::<String>::new());
}

#[tokio::test]
async fn a_declared_size_past_the_cap_is_refused_before_reading() {
    let s = setup().await;
    let server = Server::start(|_, _| Reply::new("200 OK", &[("Content-Length", (2u64 << 20).to_string())], vec![0; 1024], Tail::Hang)).await;
    let request = Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(b"whatever"))).max_bytes(1 << 20);
    let result = run(&s, &request).await;
    assert_eq!(kind(&result), "too_large");
    assert_eq!(files_in(&s.dir), Vec::<String>::new());
}

#[tokio::test]
async fn an_idle_server_is_stopped_by_the_idle_timeout_and_the_part_kept() {
    let s = setup().await;
    let file = model();
    let served = file.clone();
    let server = Server::start(move |i, _| {
        if i == 0 {
            Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served[..1000].to_vec(), Tail::Hang)
        } else {
            // Reads the request and never answers.
            Reply { head: String::new(), body: vec![], tail: Tail::Hang }
        }
    })
    .await;
    let request = Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file))).idle_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let result = run(&s, &request).await;
    assert_eq!(kind(&result), "timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(std::fs::read(s.dir.join("m.gguf.part")).unwrap(), file[..1000]);
    // No reply at all (not even headers) times out too, and the partial stays.
    let result = run(&s, &request).await;
    assert_eq!(kind(&result), "timeout");
    assert_eq!(server.requests()[1].range.as_deref(), Some("bytes=1000-"));
    assert_eq!(std::fs::read(s.dir.join("m.gguf.part")).unwrap(), file[..1000]);
}

#[tokio::test]
async fn cancelling_pauses_and_keeps_the_part() {
    let s = setup().await;
    let file = model();
    let served = file.clone();
    let server = Server::start(move |_, _| Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served[..1000].to_vec(), Tail::Hang)).await;
    let cancel = CancellationToken::new();
    let request = Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)));
    let started = Instant::now();
    // The server stalls after 1000 bytes: progress still reports them, and the user cancels.
    let result = download(&s.client, &s.store, &request, &cancel, |e| {
        if let DownloadProgress::Receiving { downloaded, .. } = e {
            if downloaded >= 1000 {
                cancel.cancel();
            }
        }
    })
    .await;
    assert_eq!(kind(&result), "paused");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(std::fs::read(s.dir.join("m.gguf.part")).unwrap(), file[..1000]);
}

#[tokio::test]
async fn turning_offline_on_stops_a_running_download_and_keeps_the_part() {
    let s = setup().await;
    let file = model();
    let served = file.clone();
    let server = Server::start(move |_, _| Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served[..1000].to_vec(), Tail::Hang)).await;
    let request = Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)));
    let started = Instant::now();
    let client = s.client.clone();
    let result = download(&s.client, &s.store, &request, &CancellationToken::new(), |e| {
        if let DownloadProgress::Receiving { downloaded, .. } = e {
            if downloaded >= 1000 {
                client.set_offline(true);
            }
        }
    })
    .await;
    assert_eq!(kind(&result), "offline");
    assert!(started.elapsed() < Duration::from_secs(10), "the download went on after offline mode was turned on");
    assert_eq!(std::fs::read(s.dir.join("m.gguf.part")).unwrap(), file[..1000]);
}

#[tokio::test]
async fn the_library_keeps_the_source_address_without_its_query() {
    let s = setup().await;
    let file = model();
    let served = file.clone();
    let server = Server::start(move |_, _| Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served.clone(), Tail::Close)).await;
    let request = Download::new(format!("{}?token=hf_secret_token", server.url("/m.gguf")), &s.dir).sha256(Some(sha(&file)));
    let record = run(&s, &request).await.unwrap();
    let source = record.source_url.unwrap();
    assert!(source.ends_with("/m.gguf") && !source.contains("hf_secret_token"), "{source}");
}

// ---------------------------------------------------------------------------------------------------
// Redirects and transport.

#[tokio::test]
async fn a_same_host_redirect_is_followed_and_the_name_comes_from_the_given_address() {
    let s = setup().await;
    let file = model();
    let served = file.clone();
    let server = Server::start(move |_, req| {
        if req.path == "/resolve/main/tiny.gguf" {
            Reply::new("302 Found", &[("Location", "/blobs/0123abcd?sig=1".into()), ("Content-Length", "0".into())], vec![], Tail::Close)
        } else {
            Reply::ok(&served)
        }
    })
    .await;
    let record = run(&s, &Download::new(server.url("/resolve/main/tiny.gguf"), &s.dir).sha256(Some(sha(&file)))).await.unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/resolve/main/tiny.gguf", "/blobs/0123abcd?sig=1"]);
    assert_eq!(record.path, s.dir.join("tiny.gguf").to_string_lossy());
    assert_eq!(std::fs::read(&record.path).unwrap(), file);
}

#[tokio::test]
async fn a_redirect_to_another_host_over_http_is_not_followed() {
    let s = setup().await;
    let file = model();
    let port = Arc::new(Mutex::new(0u16));
    let p = Arc::clone(&port);
    // "localhost" is another host name than "127.0.0.1", though it reaches the same server.
    let server = Server::start(move |_, _| {
        let port = *p.lock().unwrap();
        Reply::new("302 Found", &[("Location", format!("http://localhost:{port}/elsewhere.gguf")), ("Content-Length", "0".into())], vec![], Tail::Close)
    })
    .await;
    *port.lock().unwrap() = server.port;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "invalid");
    assert!(result.unwrap_err().to_string().contains(&format!("http://localhost:{}/elsewhere.gguf", server.port)));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(files_in(&s.dir), Vec::<String>::new());
}

#[tokio::test]
async fn a_redirect_to_another_port_over_http_is_not_followed() {
    let s = setup().await;
    let file = model();
    let server = Server::start(move |_, _| Reply::new("301 Moved Permanently", &[("Location", "http://127.0.0.1:1/m.gguf".into()), ("Content-Length", "0".into())], vec![], Tail::Close)).await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "invalid");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_redirect_loop_stops() {
    let s = setup().await;
    let server = Server::start(|i, _| Reply::new("302 Found", &[("Location", format!("/hop{i}.gguf")), ("Content-Length", "0".into())], vec![], Tail::Close)).await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(b"x"))).max_redirects(3)).await;
    assert_eq!(kind(&result), "network");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn http_without_sha256_is_refused_before_any_request() {
    let s = setup().await;
    let server = Server::start(|_, _| Reply::ok(b"never")).await;
    for sha256 in [None, Some(String::new()), Some("   ".to_string())] {
        let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(sha256)).await;
        assert_eq!(kind(&result), "invalid");
    }
    // A malformed sha256 is refused too.
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some("abc".into()))).await;
    assert_eq!(kind(&result), "invalid");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.requests().is_empty());
    assert_eq!(files_in(&s.dir), Vec::<String>::new());
}

#[tokio::test]
async fn offline_mode_refuses_the_download_without_a_request() {
    let s = setup().await;
    s.client.set_offline(true);
    let server = Server::start(|_, _| Reply::ok(b"never")).await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(b"never")))).await;
    assert_eq!(kind(&result), "offline");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn an_error_status_keeps_the_part() {
    let s = setup().await;
    std::fs::write(s.dir.join("m.gguf.part"), b"GGUF partial").unwrap();
    let server = Server::start(|_, _| Reply::new("503 Service Unavailable", &[("Content-Length", "0".into())], vec![], Tail::Close)).await;
    let result = run(&s, &Download::new(server.url("/m.gguf"), &s.dir).sha256(Some(sha(b"x")))).await;
    assert_eq!(kind(&result), "network");
    assert_eq!(std::fs::read(s.dir.join("m.gguf.part")).unwrap(), b"GGUF partial");
}

// ---------------------------------------------------------------------------------------------------
// Existing models and names.

#[tokio::test]
async fn an_existing_model_of_the_same_name_is_untouched_and_the_download_gets_a_free_name() {
    let s = setup().await;
    let existing = gguf_bytes(2);
    let file = model();
    assert_ne!(existing, file);
    let mine = s.dir.join("tiny.gguf");
    std::fs::write(&mine, &existing).unwrap();
    std::fs::write(s.dir.join("tiny-2.gguf"), b"not even a model").unwrap();
    let before = register(&s.store, &mine, None, None).await.unwrap();

    let served = file.clone();
    let server = Server::start(move |_, _| Reply::ok(&served)).await;
    let record = run(&s, &Download::new(server.url("/tiny.gguf"), &s.dir).sha256(Some(sha(&file)))).await.unwrap();
    assert_eq!(record.path, s.dir.join("tiny-3.gguf").to_string_lossy());
    assert_eq!(std::fs::read(&record.path).unwrap(), file);
    assert_eq!(std::fs::read(&mine).unwrap(), existing);
    assert_eq!(std::fs::read(s.dir.join("tiny-2.gguf")).unwrap(), b"not even a model");
    let models = s.store.models().list().await.unwrap();
    assert_eq!(models.len(), 2);
    assert!(models.iter().any(|m| m.id == before.id && m.path == before.path && m.size_bytes == existing.len() as i64));
}

#[tokio::test]
async fn an_existing_model_survives_a_download_that_fails_validation() {
    let s = setup().await;
    let existing = gguf_bytes(2);
    let mine = s.dir.join("tiny.gguf");
    std::fs::write(&mine, &existing).unwrap();
    let before = register(&s.store, &mine, None, None).await.unwrap();

    // The right bytes for the checksum, but not a model.
    let junk = b"<html>this is a login page, not a model</html>".repeat(50);
    let served = junk.clone();
    let server = Server::start(move |_, _| Reply::ok(&served)).await;
    let result = run(&s, &Download::new(server.url("/tiny.gguf"), &s.dir).sha256(Some(sha(&junk)))).await;
    assert_eq!(kind(&result), "model_invalid");
    assert_eq!(std::fs::read(&mine).unwrap(), existing);
    assert_eq!(files_in(&s.dir), vec!["tiny.gguf"]);
    let models = s.store.models().list().await.unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].id, before.id);

    // A truncated model (valid header, tensors past the end) fails the same way.
    let file = model();
    let cut = file[..file.len() - 100].to_vec();
    let served = cut.clone();
    let server = Server::start(move |_, _| Reply::ok(&served)).await;
    let result = run(&s, &Download::new(server.url("/tiny.gguf"), &s.dir).sha256(Some(sha(&cut)))).await;
    assert_eq!(kind(&result), "model_invalid", "{result:?}");
    assert_eq!(std::fs::read(&mine).unwrap(), existing);
    assert_eq!(files_in(&s.dir), vec!["tiny.gguf"]);
}

#[test]
fn hostile_file_names_are_sanitised_or_refused() {
    let ok = |raw: &str, want: &str| assert_eq!(sanitize_file_name(raw).unwrap(), want, "{raw}");
    ok("model-Q4_K_M.gguf", "model-Q4_K_M.gguf");
    ok("../../x.gguf", "x.gguf");
    ok("..\\..\\x.gguf", "x.gguf");
    ok("%2e%2e%2fx.gguf", "x.gguf");
    ok("..%2F..%2Fetc%2Fx.gguf", "x.gguf");
    ok(".hidden.gguf", "hidden.gguf");
    ok("My%20Model%20v2.gguf", "My_Model_v2.gguf");
    ok("My Model v2.gguf", "My_Model_v2.gguf");
    ok("Mod%C3%A8le%20%C3%BC.gguf", "Mod_le.gguf");
    ok("tiny.GGUF", "tiny.gguf");
    ok("con.gguf", "model-con.gguf");
    ok("a%00b.gguf", "a_b.gguf");
    ok(&format!("{}.gguf", "a".repeat(300)), &format!("{}.gguf", "a".repeat(200)));
    let refused = |raw: &str| {
        let err = sanitize_file_name(raw).unwrap_err();
        assert_eq!(err.kind(), "invalid", "{raw}");
    };
    refused("модель.gguf");
    refused(".gguf");
    refused("..gguf");
    refused("%2e%2e%2f.gguf");
    refused("model.bin");
    refused("model.gguf.exe");
    refused("model.gguf%2fevil.sh");
    refused("");
}

#[tokio::test]
async fn hostile_names_in_addresses_stay_inside_the_models_folder() {
    let s = setup().await;
    let file = model();
    let served = file.clone();
    let server = Server::start(move |_, _| Reply::ok(&served)).await;
    for (path, name) in [
        ("/dl/%2e%2e%2f%2e%2e%2fx.gguf", "x.gguf"),
        ("/dl/..%5C..%5Cy.gguf", "y.gguf"),
        ("/dl/My%20Mod%C3%A8le%20v2.gguf", "My_Mod_le_v2.gguf"),
        ("/dl/.z.gguf?download=1", "z.gguf"),
    ] {
        let record = run(&s, &Download::new(server.url(path), &s.dir).sha256(Some(sha(&file)))).await.unwrap();
        assert_eq!(record.path, s.dir.join(name).to_string_lossy(), "{path}");
    }
    assert_eq!(files_in(&s.dir), vec!["My_Mod_le_v2.gguf", "x.gguf", "y.gguf", "z.gguf"]);
    let outside: Vec<String> = files_in(s.dir.parent().unwrap()).into_iter().filter(|n| n.ends_with(".gguf") || n.ends_with(".part")).collect();
    assert_eq!(outside, Vec::<String>::new());
    // A name that cannot be made safe is refused before any request.
    let before = server.requests().len();
    let result = run(&s, &Download::new(server.url("/dl/%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C.gguf"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "invalid");
    let result = run(&s, &Download::new(server.url("/dl/model.bin"), &s.dir).sha256(Some(sha(&file)))).await;
    assert_eq!(kind(&result), "invalid");
    assert_eq!(server.requests().len(), before);
}
