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

/// The fuzz target's "malformed inverted index for FTS5 table main.documents_fts" (the seed was
/// fuzz/tests/__fuzz__/library_import/crashes/fts5-malformed-after-imports.json): the index was sound,
/// the check was not. `PRAGMA integrity_check` on a pooled connection read the FTS5 index structure that
/// connection had cached before another connection wrote, and called the difference corruption. A run of
/// imports, with a check after each, must never see a broken index.
#[tokio::test]
async fn integrity_check_after_imports_on_other_connections_sees_a_sound_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.db")).await.unwrap();
    let bundle: LibraryBundle = serde_json::from_value(seed()).unwrap();
    for i in 0..40 {
        // Writes on one pooled connection, the check on whichever comes next.
        store.import_library(&bundle).await.unwrap();
        store.documents().create(&format!("Draft {i}"), "words for the index to merge").await.unwrap();
        if let Err(e) = store.check_integrity().await {
            panic!("integrity check after import {i}: {e}");
        }
    }
    // And the index really is sound: it agrees with its content, row for row.
    for table in ["documents_fts", "messages_fts", "runs_fts", "run_members_fts"] {
        sqlx::query(&format!("INSERT INTO {table}({table}, rank) VALUES('integrity-check', 1)"))
            .execute(store.pool())
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
}
