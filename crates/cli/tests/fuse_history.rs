//! `atelier fuse`, `atelier history` and `atelier keys` end to end, against a loopback OpenAI-compatible
//! server and a library file of the test's own.

#[path = "../../fusion/tests/common/mod.rs"]
mod server;

use std::io::Write;
use std::process::{Command, Stdio};

struct Cli {
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self { db: dir.path().join("library.sqlite3"), _dir: dir }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_atelier"));
        c.env("ATELIER_DB", &self.db);
        c
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.cmd().args(args).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn panel_file(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("panel.toml");
    std::fs::write(
        &path,
        format!(
            r#"
mode = "merge"
members = ["loop:writer-a", "loop:excellent-b"]
judge = "loop:judge-good"
[[providers]]
id = "loop"
base_url = "{url}"
requires_key = false
[providers.prices]
"writer-a" = {{ input_per_mtok = 1.0, output_per_mtok = 2.0 }}
"#
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn fuse_prints_the_fused_answer_and_keeps_the_run_in_history() {
    let server = server::start().await;
    let cli = Cli::new();
    let panel = panel_file(cli._dir.path(), &server.url);
    let (ok, stdout, stderr) = tokio::task::spawn_blocking({
        let cli_db = cli.db.clone();
        let panel = panel.clone();
        move || {
            let out = Command::new(env!("CARGO_BIN_EXE_atelier"))
                .env("ATELIER_DB", cli_db)
                .args(["fuse", "Describe the sea at dawn.", "--config"])
                .arg(&panel)
                .args(["--json"])
                .output()
                .unwrap();
            (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
        }
    })
    .await
    .unwrap();
    assert!(ok, "{stderr}");
    let outcome: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(outcome["status"], "completed");
    assert_eq!(outcome["final_text"], "Fused: the sea at dawn, with gulls.");
    assert!(outcome["cost_usd"].as_f64().unwrap() > 0.0, "writer-a is priced");
    let run_id = outcome["run_id"].as_i64().unwrap();
    assert!(stderr.contains("fusing with 2 members (merge)"));

    // The run, its members, the judge and the ledger are in the library.
    let (ok, list, _) = cli.run(&["history", "list", "--json"]);
    assert!(ok);
    let runs: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(runs[0]["id"], run_id);
    assert_eq!(runs[0]["kind"], "fusion");
    assert_eq!(runs[0]["status"], "completed");
    let (ok, md, _) = cli.run(&["history", "export", "run", &run_id.to_string()]);
    assert!(ok);
    assert!(md.contains("## Response A (loop · writer-a)"), "{md}");
    assert!(md.contains("## Judge (loop · judge-good)"), "{md}");
    assert!(md.contains("## Final answer\n\nFused: the sea at dawn, with gulls."));
    let (ok, hits, _) = cli.run(&["history", "search", "gulls", "--json"]);
    assert!(ok);
    let hits: serde_json::Value = serde_json::from_str(&hits).unwrap();
    assert!(hits.as_array().unwrap().iter().any(|h| h["open_id"] == run_id));

    let store = atelier_store::Store::open(&cli.db).await.unwrap();
    let ledger = store.ledger().list(10, 0).await.unwrap();
    assert_eq!(ledger.len(), 3, "two members and the judge");
    assert!(ledger.iter().all(|e| e.run_id == Some(run_id) && e.status == "200" && e.bytes_sent > 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_fuse_refuses_cloud_members_and_opens_no_connection() {
    let server = server::start().await;
    let cli = Cli::new();
    let panel = panel_file(cli._dir.path(), &server.url);
    let (ok, stdout, _) = cli.run(&["fuse", "hi", "--offline", "--json", "--config", panel.to_str().unwrap()]);
    assert!(ok);
    let outcome: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(outcome["status"], "failed");
    assert_eq!(outcome["members"][0]["error"], "offline mode is on: no request was sent");
    assert_eq!(server.state.connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn generate_keeps_its_run_in_history() {
    let cli = Cli::new();
    let (ok, _, stderr) = cli.run(&["generate", "Name a colour.", "--max-tokens", "6", "--temperature", "0"]);
    assert!(ok, "{stderr}");
    let (_, list, _) = cli.run(&["history", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(runs[0]["kind"], "generate");
    assert_eq!(runs[0]["status"], "completed");
    assert_eq!(runs[0]["prompt"], "Name a colour.");
    assert!(!runs[0]["final_text"].as_str().unwrap().is_empty());
}

#[test]
fn write_rewrites_a_library_document_in_a_tone_and_history_rerun_reproduces_it() {
    let cli = Cli::new();
    let (ok, stdout, stderr) = cli.run(&[
        "write", "rewrite", "--text", "The boat left the harbour in the morning. Nobody waved.", "--selection", "The boat left the harbour in the morning.",
        "--tone", "vivid", "--json",
    ]);
    assert!(ok, "{stderr}");
    let first: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let text = first["text"].as_str().unwrap();
    assert!(!text.trim().is_empty());
    let run_id = first["run_id"].as_i64().expect("the run is in the history");

    let (_, list, _) = cli.run(&["history", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(runs[0]["action"], "rewrite:vivid");
    assert!(runs[0]["seed"].as_i64().is_some(), "the drawn seed is recorded");
    assert!(runs[0]["prompt"].as_str().unwrap().ends_with("Rewrite the passage above to be more vivid, keeping its meaning. Reply with the rewritten passage only."));

    let (ok, stdout, stderr) = cli.run(&["history", "rerun", &run_id.to_string(), "--json"]);
    assert!(ok, "{stderr}");
    let again: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(again["text"], first["text"], "same inputs, same seed, same text");
    assert_ne!(again["run_id"], first["run_id"]);

    let (ok, _, stderr) = cli.run(&["write", "shorten", "--text", "Some text.", "--no-history"]);
    assert!(!ok && stderr.contains("Select some text to shorten."), "{stderr}");
    let (ok, _, stderr) = cli.run(&["write", "rewrite", "--tone", "loud", "--selection", "x"]);
    assert!(!ok && stderr.contains("unknown tone `loud`"), "{stderr}");
}

#[test]
fn eval_writing_runs_actions_on_the_on_device_model_and_scores_them() {
    let cli = Cli::new();
    let set = cli._dir.path().join("writing.jsonl");
    std::fs::write(
        &set,
        concat!(
            r#"{"action": "shorten", "selection": "She walked slowly and carefully down the long, narrow, winding staircase, one step at a time.", "max_ratio": 5.0}"#, "\n",
            r#"{"action": "rewrite", "tone": "formal", "selection": "We gotta fix the roof.", "accept": ["no such word xyzzy"]}"#, "\n",
        ),
    )
    .unwrap();
    let (ok, stdout, stderr) = cli.run(&["eval", "writing", "--set", set.to_str().unwrap(), "--json", "--seed", "3"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["items"], 2);
    let score = |name: &str| report["scores"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap();
    assert_eq!(score("shorten")["answered"], 1);
    // The rewrite cannot contain the nonsense word it is asked for: it is answered and fails.
    assert_eq!((score("rewrite")["answered"].as_u64(), score("rewrite")["correct"].as_u64()), (Some(1), Some(0)));
    assert!(stderr.contains("rewrite: none of"), "{stderr}");
    // Evaluations are not kept in the writer's history.
    let (_, list, _) = cli.run(&["history", "list", "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&list).unwrap().as_array().map(Vec::len), Some(0));
}

#[test]
fn bad_panels_fail_with_a_clear_message() {
    let cli = Cli::new();
    let (ok, _, stderr) = cli.run(&["fuse", "hi", "--member", "nowhere:model", "--no-history"]);
    assert!(!ok);
    assert!(stderr.contains("unknown provider `nowhere`"), "{stderr}");
    let (ok, _, stderr) = cli.run(&["fuse", "hi", "--member", "openrouter", "--no-history"]);
    assert!(!ok);
    assert!(stderr.contains("provider:model"), "{stderr}");
}

/// Keys go to the OS keychain via stdin and are never printed (skipped where no keychain runs).
#[test]
fn keys_are_set_from_stdin_reported_and_deleted_without_ever_printing_them() {
    let probe = atelier_keys::KeyringStore::with_service("atelier-cli-probe");
    if let Err(e) = probe.probe() {
        assert!(std::env::var("ATELIER_REQUIRE_KEYRING").is_err(), "keychain required but unusable: {e}");
        eprintln!("skipped: no keychain ({e})");
        return;
    }
    let cli = Cli::new();
    let provider = format!("cli-test-{}", std::process::id());
    let secret = "sk-cli-secret-7788";
    let url = "https://api.cli-test.example/v1";
    let mut child = cli.cmd().args(["keys", "set", &provider, "--url", url]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{secret}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scope = format!("{provider} at https://api.cli-test.example:443");
    let (ok, status, _) = cli.run(&["keys", "status", &provider, "--url", url]);
    assert!(ok);
    assert_eq!(status.trim(), format!("{scope}: set"));
    // The key is bound to that address: the same provider elsewhere has none.
    let (_, elsewhere, _) = cli.run(&["keys", "status", &provider, "--url", "https://other.example/v1"]);
    assert_eq!(elsewhere.trim(), format!("{provider} at https://other.example:443: not set"));
    for text in [String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr), status.clone().into()] {
        assert!(!text.contains(secret));
    }
    let (ok, _, _) = cli.run(&["keys", "delete", &provider, "--url", url]);
    assert!(ok);
    let (_, status, _) = cli.run(&["keys", "status", &provider, "--url", url]);
    assert_eq!(status.trim(), format!("{scope}: not set"));
    // Without an address, a provider the library and the presets do not know is a clear error.
    let (ok, _, stderr) = cli.run(&["keys", "status", &provider]);
    assert!(!ok && stderr.contains("unknown provider"), "{stderr}");
}

/// `atelier eval fusion` on writing prompts: a loopback panel whose answers have a known quality
/// (an "excellent" answer beats the fused one, which beats a plain one, for the scripted pairwise
/// judge) gives the expected win table, in both the JSON and the table.
#[tokio::test(flavor = "multi_thread")]
async fn eval_fusion_on_writing_prompts_reports_the_expected_win_table() {
    let server = server::start().await;
    let cli = Cli::new();
    let panel = panel_file(cli._dir.path(), &server.url);
    let set = cli._dir.path().join("writing.jsonl");
    let prompts: Vec<String> = (0..4)
        .map(|i| serde_json::json!({ "id": format!("p{i}"), "kind": "rewrite", "prompt": "Rewrite this in a warmer tone.", "passage": format!("The ferry left at dawn, number {i}.") }).to_string())
        .collect();
    std::fs::write(&set, prompts.join("\n")).unwrap();
    let run = |json: bool| {
        let (db, panel, set) = (cli.db.clone(), panel.clone(), set.clone());
        tokio::task::spawn_blocking(move || {
            let mut command = Command::new(env!("CARGO_BIN_EXE_atelier"));
            command.env("ATELIER_DB", db).args(["eval", "fusion", "--set"]).arg(&set).arg("--config").arg(&panel).args(["--pairwise-judge", "loop:pairwise"]);
            if json {
                command.arg("--json");
            }
            let out = command.output().unwrap();
            (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
        })
    };
    let (ok, stdout, stderr) = run(true).await.unwrap();
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["prompts"], 4);
    assert_eq!(report["judge"], "loop:pairwise");
    assert_eq!(report["judge_replies_parsed"], 16);
    let row = |member: &str| report["members"].as_array().unwrap().iter().find(|r| r["member"] == member).cloned().unwrap();
    let plain = row("loop:writer-a");
    assert_eq!((plain["wins"].as_u64(), plain["ties"].as_u64(), plain["losses"].as_u64()), (Some(4), Some(0), Some(0)), "{plain}");
    assert_eq!(plain["fused_win_rate"], 1.0);
    // Four wins out of four is not certainty: the interval says so.
    assert!(plain["low"].as_f64().unwrap() < 0.6 && plain["high"].as_f64().unwrap() == 1.0, "{plain}");
    let excellent = row("loop:excellent-b");
    assert_eq!((excellent["wins"].as_u64(), excellent["losses"].as_u64()), (Some(0), Some(4)), "{excellent}");
    assert!(report["fused_cost_usd"].as_f64().unwrap() > 0.0, "writer-a is priced");
    // The pairwise judge saw each pair in both orders.
    let asked = server.state.requests_for("pairwise");
    assert_eq!(asked.len(), 16);
    assert!(asked.iter().all(|r| r.body["response_format"]["type"] == "json_schema"));

    let (ok, table, stderr) = run(false).await.unwrap();
    assert!(ok, "{stderr}");
    assert!(table.contains("fused vs each member on 4 writing prompts"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("loop:writer-a") && l.contains("100%")), "{table}");
}
