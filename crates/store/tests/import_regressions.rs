//! Regressions found by the fuzz target `library_import` (fuzz/tests/store.rs): whatever a bundle holds,
//! a library that imported it stays sound.

use atelier_store::{LibraryBundle, Store};

fn seed() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../fuzz/seeds/bundle.json")).unwrap()
}

async fn import_then_check(edit: impl FnOnce(&mut serde_json::Value)) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.db")).await.unwrap();
    let mut bundle = seed();
    edit(&mut bundle);
    let bundle: LibraryBundle = serde_json::from_value(bundle).unwrap();
    if store.import_library(&bundle).await.is_err() {
        // A refused bundle is fine; the library must still be sound.
    }
    store.check_integrity().await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn text_with_a_nul_character_keeps_the_search_index_sound() {
    for (section, field) in [("documents", "title"), ("documents", "body"), ("messages", "content"), ("runs", "prompt"), ("runs", "final_text"), ("run_members", "output")] {
        let result = import_then_check(|b| b[section][0][field] = serde_json::json!("a\u{0}b c")).await;
        assert!(result.is_ok(), "{section}.{field} with a NUL: {result:?}");
    }
}
