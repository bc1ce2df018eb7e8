//! The `atelier` binary as a user runs it.

use std::process::Command;

/// The CLI with its own library file, so tests never touch the user's.
fn atelier() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atelier"));
    let db = std::env::temp_dir().join(format!("atelier-cli-test-{}-{}.sqlite3", std::process::id(), rand_suffix()));
    command.env("ATELIER_DB", db);
    command
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn generate_streams_text_from_the_default_model() {
    let out = atelier().args(["generate", "Say hello to a writer.", "--max-tokens", "12", "--temperature", "0"]).output().unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.trim().is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tok/s"));
}

#[test]
fn generate_json_reports_text_and_timings() {
    let out = atelier().args(["generate", "Name a colour.", "--max-tokens", "8", "--seed", "3", "--json"]).output().unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["text"].as_str().unwrap().is_empty());
    assert!(v["completion_tokens"].as_u64().unwrap() >= 1);
    assert!(v["timings"]["decode_tokens_per_second"].as_f64().is_some());
    assert!(v["timings"]["time_to_first_token_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(v["model"]["architecture"], "llama");
}

#[test]
fn a_missing_model_fails_with_a_clear_message() {
    let out = atelier().args(["generate", "hi", "--model", "/no/such/model.gguf"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("model file not found: /no/such/model.gguf"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_non_gguf_model_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.gguf");
    std::fs::write(&path, "chapter one").unwrap();
    let out = atelier().args(["generate", "hi", "--model"]).arg(&path).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a GGUF model file"));
}

#[test]
fn models_describes_the_default_model() {
    let out = atelier().args(["models", "--json"]).output().unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"]["quantization"], "Q4_1");
    assert_eq!(v["supported"], true);
}
