//! Fuzz target for library bundle import: a bundle is a file the user picks (maybe from someone else), so
//! any JSON must give Ok or a clean error, an error must leave the library as it was, and a library that
//! took a bundle must still list, export and pass its integrity check.

use std::path::{Path, PathBuf};

use atelier_fuzz::{Bytes, Guard, INTERESTING};
use atelier_store::{LibraryBundle, Store};
use serde_json::{json, Value};

fn crash_path(target: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{target}.abort-input"))
}

/// A small bundle with a row of every kind, the references between them intact.
fn seed() -> Value {
    serde_json::from_str(include_str!("../seeds/bundle.json")).expect("seeds/bundle.json parses")
}

const SECTIONS: &[&str] = &["documents", "revisions", "conversations", "messages", "runs", "run_members", "providers", "ledger"];
const FIELDS: &[&str] = &[
    "id", "document_id", "conversation_id", "run_id", "title", "body", "reason", "role", "content", "kind", "status", "action",
    "prompt", "mode", "judge", "seed", "final_text", "analysis", "error", "settings", "prompt_tokens", "completion_tokens",
    "cost_usd", "started_at", "finished_at", "created_at", "updated_at", "position", "label", "round", "provider", "model",
    "output", "latency_ms", "first_token_ms", "name", "base_url", "models", "enabled", "at", "endpoint", "bytes_sent",
    "bytes_received",
];
const STRINGS: &[&str] = &[
    "", "\0", "a\0b", "user", "system", "assistant", "tool", "member", "judge", "generate", "fusion", "running", "failed",
    "interrupted", "🐈‍⬛ é", "\u{feff}", "'); DROP TABLE documents; --", "\"", "\\", "\u{2028}", "null", "{\"a\":", "[[[[",
];

fn value(r: &mut Bytes) -> Value {
    match r.u8() % 8 {
        0 => Value::Null,
        1 => Value::Bool(r.bool()),
        2 => json!(*r.pick(INTERESTING) as i64),
        3 => json!(*r.pick(INTERESTING)),
        4 => json!(r.u8() as i64 - 3),
        5 => serde_json::Number::from_f64(f64::from_bits(r.u64())).map(Value::Number).unwrap_or(Value::Null),
        6 => json!(*r.pick(STRINGS)),
        _ => {
            let n = r.u16() as usize % 200;
            json!(String::from_utf8_lossy(r.take(n)).repeat(r.u8() as usize % 4 + 1))
        }
    }
}

/// The input as a bundle's JSON when it is one; otherwise the seed bundle with fuzzer-chosen edits
/// (fields set to edge values, rows duplicated or dropped, references pointed elsewhere).
fn bundle_from(input: &[u8]) -> Option<LibraryBundle> {
    if let Ok(bundle) = serde_json::from_slice::<LibraryBundle>(input) {
        return Some(bundle);
    }
    let mut r = Bytes::new(input);
    let mut bundle = seed();
    for _ in 0..(r.u8() % 12 + 1) {
        let section = *r.pick(SECTIONS);
        let rows = bundle[section].as_array_mut().unwrap();
        match r.u8() % 6 {
            0 if !rows.is_empty() => {
                let i = r.u8() as usize % rows.len();
                let row = rows[i].clone();
                rows.push(row);
            }
            1 if !rows.is_empty() => {
                let i = r.u8() as usize % rows.len();
                rows.remove(i);
            }
            2 => {
                let n = r.u8() as usize % 64;
                bundle["settings"][String::from_utf8_lossy(r.take(n)).into_owned()] = value(&mut r);
            }
            3 => bundle["version"] = value(&mut r),
            _ if !rows.is_empty() => {
                let i = r.u8() as usize % rows.len();
                let field = *r.pick(FIELDS);
                let v = value(&mut r);
                if let Some(obj) = rows[i].as_object_mut() {
                    if obj.contains_key(field) {
                        obj.insert(field.into(), v);
                    }
                }
            }
            _ => {}
        }
    }
    serde_json::from_value(bundle).ok()
}

struct Library {
    _dir: tempfile::TempDir,
    store: Store,
    imports: usize,
    /// Every bundle given to this library, in order: written out when it breaks, to replay.
    history: Vec<LibraryBundle>,
}

fn open_library(rt: &tokio::runtime::Runtime) -> Library {
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(Store::open(dir.path().join("library.db"))).unwrap();
    Library { _dir: dir, store, imports: 0, history: Vec::new() }
}

#[test]
fn library_import() {
    let guard = Guard::new(crash_path("library_import"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let library = std::sync::Mutex::new(open_library(&rt));
    bolero::check!().with_test_time(atelier_fuzz::test_time()).with_max_len(8 << 10).for_each(|input: &[u8]| {
        guard.run(input, || {
            let Some(bundle) = bundle_from(input) else { return };
            let mut lib = library.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // A fresh library now and then keeps each import quick.
            if lib.imports >= 200 {
                *lib = open_library(&rt);
            }
            lib.imports += 1;
            lib.history.push(bundle.clone());
            let lib = &*lib;
            let store = &lib.store;
            rt.block_on(async {
                let before = store.documents().list().await.expect("the library lists before the import").len();
                match store.import_library(&bundle).await {
                    Ok(()) => {
                        let after = store.documents().list().await.expect("the library lists after an import").len();
                        assert_eq!(after, before + bundle.documents.len(), "every imported document is listed");
                        let exported = store.export_library().await.expect("a library that took a bundle exports");
                        assert!(exported.documents.len() >= bundle.documents.len());
                        store.conversations().list(None).await.expect("conversations list after an import");
                    }
                    Err(_) => {
                        let after = store.documents().list().await.expect("the library lists after a failed import").len();
                        assert_eq!(after, before, "a failed import changed the library");
                    }
                }
                assert_sound(lib).await;
            });
        })
    });
}

/// The library passes its integrity check after its latest import. When it does not, the bundles it
/// took, in order, are saved to `target/tmp/library_import.history.json` (a JSON array of bundles:
/// import them one by one into a new library to replay), since damage may come from an earlier import.
async fn assert_sound(lib: &Library) {
    let Err(e) = lib.store.check_integrity().await else { return };
    let history = Path::new(env!("CARGO_TARGET_TMPDIR")).join("library_import.history.json");
    let _ = std::fs::write(&history, serde_json::to_vec_pretty(&lib.history).unwrap());
    panic!("integrity after import {} into this library: {e} (the bundles it took, in order: {})", lib.imports, history.display());
}
