//! The model catalog against the real embedded model and a loopback mirror of Hugging Face: the
//! catalog's figures are the file's, a catalog model downloads (resuming, checked by the catalog's
//! sha256), becomes the default and is loaded, and a download left unfinished carries on after a
//! restart.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::{GgufFile, ModelShape};
use atelier_studio::catalog::{Catalog, CatalogEntry};
use atelier_studio::downloads::{self, DownloadContext, DownloadState, DownloadStatus, Downloads};
use atelier_studio::{ModelHost, StudioError, Verification};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

mod common;
use common::loopback::{Reply, Server, Tail};
use common::{setup, Setup};

const EMBEDDED: &str = "smollm2-135m-q4_1";

fn embedded_path() -> PathBuf {
    atelier_engine::find_default_model().expect("the embedded model is installed (scripts/fetch-default-model.sh)")
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn entry(id: &str) -> CatalogEntry {
    Catalog::builtin().get(id).unwrap().clone()
}

/// The path a catalog entry has on the hub, which the mirror serves.
fn hub_path(entry: &CatalogEntry) -> String {
    entry.url.strip_prefix("https://huggingface.co").unwrap().to_string()
}

impl Setup {
    fn context(&self, host: &Arc<ModelHost>, mirror: &Server) -> DownloadContext {
        DownloadContext { client: self.client.clone(), store: self.store.clone(), host: Arc::clone(host), dir: self.dir.clone(), mirror: Some(mirror.url("")) }
    }
}

/// Waits until `entry_id`'s download reaches a status other than receiving/verifying.
async fn settled(downloads: &Downloads, entry_id: &str) -> DownloadState {
    for _ in 0..600 {
        if let Some(state) = downloads.states().into_iter().find(|s| s.entry_id == entry_id) {
            if !matches!(state.status, DownloadStatus::Receiving | DownloadStatus::Verifying) {
                return state;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the download of {entry_id} never settled: {:?}", downloads.states());
}

// ---------------------------------------------------------------------------------------------------
// The catalog's figures.

#[test]
fn the_embedded_models_entry_is_what_its_file_says() {
    let path = embedded_path();
    let bytes = std::fs::read(&path).unwrap();
    let gguf = GgufFile::open(&path).unwrap();
    let e = entry(EMBEDDED);
    assert_eq!(e.shape, ModelShape::of_gguf(&gguf).unwrap(), "the catalog's shape is the header's");
    assert_eq!(e.size_bytes, bytes.len() as u64);
    assert_eq!(e.parameters, gguf.parameter_count());
    assert_eq!(e.sha256.as_deref(), Some(sha(&bytes).as_str()));
    assert_eq!(e.file_name().unwrap(), atelier_engine::DEFAULT_MODEL_FILE);
    // So the catalog's estimate is the one the engine's load check makes from the file.
    let info = gguf.info().unwrap();
    assert_eq!(e.context_length as usize, info.context_length);
    assert_eq!(e.shape.estimate(None), ModelShape::of_gguf(&gguf).unwrap().estimate(None));
}

#[test]
fn the_ministral_entries_have_ministral_3s_shape() {
    let spec = SyntheticSpec::ministral3_3b(candle_core::quantized::GgmlDType::Q4K);
    for id in ["ministral-3-3b-q4_k_m", "ministral-3-3b-q8_0"] {
        let s = entry(id).shape;
        assert_eq!(
            (s.layers as usize, s.kv_heads as usize, s.head_dim as usize, s.train_context as usize),
            (spec.n_layer, spec.n_kv_head, spec.head_dim, spec.context_length),
            "{id}"
        );
    }
    // 4-bit weights are smaller than 8-bit ones; both are a ~3.4B-parameter model's.
    let (q4, q8) = (entry("ministral-3-3b-q4_k_m"), entry("ministral-3-3b-q8_0"));
    assert!(q4.shape.weight_bytes < q8.shape.weight_bytes);
    assert!(q4.parameters > 3_000_000_000 && q4.parameters == q8.parameters);
}

#[test]
fn a_small_stand_ins_load_check_uses_the_catalog_estimate() {
    // The engine refuses a model by the same estimate the catalog shows: one byte short of it fails.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiny.gguf");
    SyntheticSpec::tiny_llama().write(&path).unwrap();
    let needed = ModelShape::of_gguf(&GgufFile::open(&path).unwrap()).unwrap().estimate(None).total;
    let load = |budget: u64| {
        atelier_engine::Model::load(&path, &atelier_engine::LoadOptions { memory_budget: Some(budget), ..Default::default() })
    };
    assert!(load(needed).is_ok());
    let refused = load(needed - 1).err().expect("one byte short is refused");
    assert!(refused.to_string().contains("not enough memory"), "{refused}");
}

// ---------------------------------------------------------------------------------------------------
// Downloads from a loopback mirror.

#[tokio::test]
async fn a_catalog_model_downloads_from_the_mirror_resuming_checked_by_the_catalog_sha256() {
    let s = setup().await;
    let file = std::fs::read(embedded_path()).unwrap();
    let e = entry(EMBEDDED);
    let served = file.clone();
    let path = hub_path(&e);
    // The first answer breaks off after a third of the file; the second is asked for the rest.
    let mirror = Server::start(move |i, request| {
        assert_eq!(request.path, path);
        match i {
            0 => Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served[..served.len() / 3].to_vec(), Tail::Close),
            _ => Reply::partial(&served, served.len() / 3),
        }
    })
    .await;
    let mirror_url = mirror.url("");
    let first = downloads::fetch(&s.client, &s.store, &e, &s.dir, Some(&mirror_url), &CancellationToken::new(), |_| {}).await;
    assert!(matches!(first, Err(StudioError::Network(_))), "{first:?}");
    let (record, check) = downloads::fetch(&s.client, &s.store, &e, &s.dir, Some(&mirror_url), &CancellationToken::new(), |_| {}).await.unwrap();
    assert_eq!(check, Verification::GivenSha256 { sha256: e.sha256.clone().unwrap() });
    assert_eq!(mirror.requests()[1].range.as_deref(), Some(format!("bytes={}-", file.len() / 3).as_str()));
    assert_eq!(std::fs::read(&record.path).unwrap(), file);
    // The library names the catalog's address, not the mirror's, so the catalog sees it installed.
    assert_eq!(record.source_url.as_deref(), Some(e.url.as_str()));
    let view = atelier_studio::catalog::current(&s.store, &s.dir).await.unwrap();
    let item = view.items.iter().find(|i| i.entry.id == EMBEDDED).unwrap();
    assert_eq!(item.installed.as_ref().map(|m| m.id), Some(record.id));
}

#[tokio::test]
async fn an_entry_without_a_sha256_is_not_fetched_over_plain_http() {
    let s = setup().await;
    let mirror = Server::start(|_, _| Reply::ok(b"never")).await;
    let e = entry("ministral-3-3b-q4_k_m");
    assert!(e.sha256.is_none());
    let result = downloads::fetch(&s.client, &s.store, &e, &s.dir, Some(&mirror.url("")), &CancellationToken::new(), |_| {}).await;
    assert_eq!(result.err().map(|e| e.kind()), Some(atelier_studio::ErrorKind::Invalid));
    assert!(mirror.requests().is_empty());
}

#[tokio::test]
async fn a_server_declaring_another_file_stops_before_the_body() {
    let s = setup().await;
    let e = entry(EMBEDDED);
    let file = std::fs::read(embedded_path()).unwrap();
    let other = "0".repeat(64);
    let mirror = Server::start(move |_, _| {
        Reply::new(
            "200 OK",
            &[("Content-Length", file.len().to_string()), ("X-Linked-Etag", format!("\"{other}\""))],
            file.clone(),
            Tail::Close,
        )
    })
    .await;
    let mut received = 0;
    let result = downloads::fetch(&s.client, &s.store, &e, &s.dir, Some(&mirror.url("")), &CancellationToken::new(), |p| {
        if let atelier_studio::DownloadProgress::Receiving { downloaded, .. } = p {
            received = downloaded;
        }
    })
    .await;
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("declares sha256") && message.contains("nothing more was downloaded"), "{message}");
    assert_eq!(received, 0);
    assert!(s.store.models().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_background_download_becomes_the_default_and_is_loaded() {
    let s = setup().await;
    let file = std::fs::read(embedded_path()).unwrap();
    let served = file.clone();
    let mirror = Server::start(move |_, _| Reply::ok(&served)).await;
    let host = Arc::new(ModelHost::new());
    let downloads = Downloads::default();
    let seen = Arc::new(Mutex::new(Vec::<DownloadStatus>::new()));
    let log = Arc::clone(&seen);
    downloads.watch(Box::new(move |states| {
        if let Some(state) = states.first() {
            log.lock().unwrap().push(state.status);
        }
        true
    }));
    let started = downloads.start(s.context(&host, &mirror), EMBEDDED, true).await.unwrap();
    assert_eq!(started.status, DownloadStatus::Receiving);
    let done = settled(&downloads, EMBEDDED).await;
    assert_eq!(done.status, DownloadStatus::Done, "{done:?}");
    assert_eq!(done.downloaded, file.len() as u64);
    assert!(done.message.as_deref().unwrap().contains("sha256 matches"));
    let default = s.store.models().default_model().await.unwrap().expect("the download is the default model");
    assert_eq!(Some(default.id), done.model_id);
    let loaded = host.status().info.expect("and it is loaded");
    assert_eq!(loaded.path, PathBuf::from(&default.path));
    assert!(seen.lock().unwrap().contains(&DownloadStatus::Verifying));
    // Nothing is left to resume, and a measured speed is kept for time estimates.
    let fresh = Downloads::default();
    fresh.resume_pending(s.context(&host, &mirror)).await;
    assert!(fresh.states().is_empty());
    assert!(s.store.settings().get::<f64>(downloads::SPEED_KEY).await.unwrap().is_some_and(|b| b > 0.0));
}

#[tokio::test]
async fn a_download_paused_or_cut_off_carries_on_after_a_restart() {
    let s = setup().await;
    let file = std::fs::read(embedded_path()).unwrap();
    let served = file.clone();
    let half = file.len() / 2;
    // First run: half the file, then the server stalls until the writer pauses.
    let mirror = Server::start(move |i, _| match i {
        0 => Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served[..half].to_vec(), Tail::Hang),
        _ => Reply::partial(&served, half),
    })
    .await;
    let host = Arc::new(ModelHost::new());
    let first_run = Downloads::default();
    first_run.start(s.context(&host, &mirror), EMBEDDED, true).await.unwrap();
    for _ in 0..200 {
        if first_run.states().first().is_some_and(|st| st.downloaded as usize >= half) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(first_run.pause(&s.store, EMBEDDED).await);
    let paused = settled(&first_run, EMBEDDED).await;
    assert_eq!((paused.status, paused.downloaded as usize), (DownloadStatus::Paused, half));

    // After a restart a paused download is shown, not resumed.
    let second_run = Downloads::default();
    second_run.resume_pending(s.context(&host, &mirror)).await;
    let shown = second_run.states();
    assert_eq!(shown.len(), 1);
    assert_eq!((shown[0].status, shown[0].downloaded as usize), (DownloadStatus::Paused, half));
    assert_eq!(mirror.requests().len(), 1);

    // Resumed by the writer, it asks only for the rest, and finishes.
    second_run.start(s.context(&host, &mirror), EMBEDDED, true).await.unwrap();
    let done = settled(&second_run, EMBEDDED).await;
    assert_eq!(done.status, DownloadStatus::Done, "{done:?}");
    assert_eq!(mirror.requests()[1].range.as_deref(), Some(format!("bytes={half}-").as_str()));
    let default = s.store.models().default_model().await.unwrap().unwrap();
    assert_eq!(std::fs::read(&default.path).unwrap(), file);
}

#[tokio::test]
async fn a_failed_download_is_resumed_at_the_next_start() {
    let s = setup().await;
    let file = std::fs::read(embedded_path()).unwrap();
    let served = file.clone();
    let third = file.len() / 3;
    let mirror = Server::start(move |i, _| match i {
        // The connection breaks off: the download fails, and stays in the library's list.
        0 => Reply::new("200 OK", &[("Content-Length", served.len().to_string())], served[..third].to_vec(), Tail::Close),
        _ => Reply::partial(&served, third),
    })
    .await;
    let host = Arc::new(ModelHost::new());
    let first_run = Downloads::default();
    first_run.start(s.context(&host, &mirror), EMBEDDED, false).await.unwrap();
    let failed = settled(&first_run, EMBEDDED).await;
    assert_eq!(failed.status, DownloadStatus::Failed);
    assert!(failed.message.as_deref().unwrap().contains("resume"), "{failed:?}");

    let second_run = Downloads::default();
    second_run.resume_pending(s.context(&host, &mirror)).await;
    let done = settled(&second_run, EMBEDDED).await;
    assert_eq!(done.status, DownloadStatus::Done, "{done:?}");
    // Not asked to become the default: the library has none, and nothing was loaded.
    assert!(s.store.models().default_model().await.unwrap().is_none());
    assert!(host.status().info.is_none());
}

#[tokio::test]
async fn offline_mode_leaves_unfinished_downloads_paused_at_start() {
    let s = setup().await;
    let mirror = Server::start(|_, _| Reply::ok(b"never")).await;
    let host = Arc::new(ModelHost::new());
    let first_run = Downloads::default();
    s.client.set_offline(true);
    first_run.start(s.context(&host, &mirror), EMBEDDED, true).await.unwrap();
    let stopped = settled(&first_run, EMBEDDED).await;
    assert_eq!(stopped.status, DownloadStatus::Paused);
    let second_run = Downloads::default();
    second_run.resume_pending(s.context(&host, &mirror)).await;
    let shown = second_run.states();
    assert_eq!(shown[0].status, DownloadStatus::Paused);
    assert!(shown[0].message.as_deref().unwrap().contains("Offline"), "{shown:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(mirror.requests().is_empty());
}

#[tokio::test]
async fn a_download_that_fails_its_check_is_not_tried_again_at_the_next_start() {
    let s = setup().await;
    // The mirror serves another file than the catalog's: the sha256 check fails.
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other.gguf");
    SyntheticSpec::tiny_llama().write(&other).unwrap();
    let wrong = std::fs::read(other).unwrap();
    let mirror = Server::start(move |_, _| Reply::ok(&wrong)).await;
    let host = Arc::new(ModelHost::new());
    let first_run = Downloads::default();
    first_run.start(s.context(&host, &mirror), EMBEDDED, true).await.unwrap();
    let failed = settled(&first_run, EMBEDDED).await;
    assert_eq!(failed.status, DownloadStatus::Failed);
    assert!(failed.message.as_deref().unwrap().contains("corrupt"), "{failed:?}");
    let second_run = Downloads::default();
    second_run.resume_pending(s.context(&host, &mirror)).await;
    assert!(second_run.states().is_empty());
    assert_eq!(mirror.requests().len(), 1);
}
