//! The library on a real SQLite file: migrations, every repository, search, export/import, backup,
//! concurrency.

use atelier_store::*;
use serde_json::json;

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn opening_creates_the_schema_in_wal_mode_with_foreign_keys() {
    let (_dir, store) = store().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.pool()).await.unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(store.pool()).await.unwrap();
    assert_eq!(fk, 1);
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetch_all(store.pool()).await.unwrap();
    for t in ["documents", "revisions", "conversations", "messages", "runs", "run_members", "models", "providers", "settings", "ledger"] {
        assert!(tables.iter().any(|n| n == t), "missing table {t}");
    }
    store.check_integrity().await.unwrap();
}

#[tokio::test]
async fn reopening_keeps_data_and_reapplies_no_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lib.sqlite3");
    let store = Store::open(&path).await.unwrap();
    let doc = store.documents().create("Chapter one", "It was a dark and stormy night.").await.unwrap();
    let applied = "SELECT count(*) FROM _sqlx_migrations";
    let first: i64 = sqlx::query_scalar(applied).fetch_one(store.pool()).await.unwrap();
    store.close().await;
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.documents().get(doc.id).await.unwrap().body, "It was a dark and stormy night.");
    let second: i64 = sqlx::query_scalar(applied).fetch_one(store.pool()).await.unwrap();
    assert_eq!((first, second), (std::fs::read_dir("migrations").unwrap().count() as i64, first));
}

#[tokio::test]
async fn documents_round_trip_with_revisions_and_soft_delete() {
    let (_dir, store) = store().await;
    let docs = store.documents();
    let doc = docs.create("Draft", "one").await.unwrap();
    docs.save(doc.id, "Draft", "one two", "autosave").await.unwrap();
    docs.save(doc.id, "Draft", "one two three", "autosave").await.unwrap();
    // Autosaves within the interval update one revision.
    let revisions = docs.revisions(doc.id).await.unwrap();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0].body, "one two three");
    // An explicit save always keeps a revision.
    docs.save(doc.id, "Draft", "one two three four", "manual").await.unwrap();
    let revisions = docs.revisions(doc.id).await.unwrap();
    assert_eq!(revisions.len(), 2);
    let restored = docs.restore_revision(revisions[1].id).await.unwrap();
    assert_eq!(restored.body, "one two three");
    assert_eq!(docs.get(doc.id).await.unwrap().body, "one two three");

    let list = docs.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].words, 3);
    docs.rename(doc.id, "Chapter 1").await.unwrap();
    assert_eq!(docs.get(doc.id).await.unwrap().title, "Chapter 1");

    docs.delete(doc.id).await.unwrap();
    assert!(matches!(docs.get(doc.id).await, Err(StoreError::NotFound { .. })));
    assert!(docs.list().await.unwrap().is_empty());
    docs.restore(doc.id).await.unwrap();
    assert_eq!(docs.get(doc.id).await.unwrap().title, "Chapter 1");
}

#[tokio::test]
async fn the_list_counts_words_of_documents_written_before_counts_were_stored() {
    let (_dir, store) = store().await;
    let docs = store.documents();
    let counted = docs.create("New", "four words right here").await.unwrap();
    let legacy = docs.create("Old", "älter  text\nmit drei").await.unwrap();
    sqlx::query("UPDATE documents SET word_count = NULL, preview = NULL WHERE id = ?").bind(legacy.id).execute(store.pool()).await.unwrap();
    let list = docs.list().await.unwrap();
    let words = |id| list.iter().find(|d| d.id == id).unwrap().words;
    assert_eq!((words(counted.id), words(legacy.id)), (4, 4));
    assert_eq!(list.iter().find(|d| d.id == legacy.id).unwrap().preview, "älter  text\nmit drei");
}

#[tokio::test]
async fn revisions_are_bounded() {
    let (_dir, store) = store().await;
    let docs = store.documents();
    let doc = docs.create("Long", "").await.unwrap();
    for i in 0..(MAX_REVISIONS + 15) {
        docs.save(doc.id, "Long", &format!("version {i}"), "manual").await.unwrap();
    }
    let revisions = docs.revisions(doc.id).await.unwrap();
    assert_eq!(revisions.len() as i64, MAX_REVISIONS);
    assert_eq!(revisions[0].body, format!("version {}", MAX_REVISIONS + 14));
}

#[tokio::test]
async fn conversations_and_messages_round_trip() {
    let (_dir, store) = store().await;
    let doc = store.documents().create("Novel", "text").await.unwrap();
    let c = store.conversations().create(Some(doc.id), "About chapter 2").await.unwrap();
    store.conversations().add_message(c.id, "user", "Is the pacing too slow?", None).await.unwrap();
    store.conversations().add_message(c.id, "assistant", "A little, in the middle.", None).await.unwrap();
    let messages = store.conversations().messages(c.id).await.unwrap();
    assert_eq!(messages.iter().map(|m| m.role.as_str()).collect::<Vec<_>>(), ["user", "assistant"]);
    assert_eq!(store.conversations().list(Some(doc.id)).await.unwrap().len(), 1);
    assert!(matches!(store.conversations().add_message(c.id, "robot", "x", None).await, Err(StoreError::Invalid(_))));
    assert!(matches!(store.conversations().add_message(999, "user", "x", None).await, Err(StoreError::NotFound { .. })));
}

async fn fusion_run(store: &Store) -> i64 {
    let runs = store.runs();
    let run = runs
        .start(
            RunKind::Fusion,
            &NewRun {
                prompt: "Rewrite the opening line".into(),
                mode: Some("merge".into()),
                judge: Some("openrouter:judge-model".into()),
                seed: Some(7),
                settings: Some(json!({"budget_usd": 0.05})),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let a = runs
        .add_member(run, &NewMember { position: 0, label: "A".into(), role: MemberRole::Member, round: 0, provider: "local".into(), model: "smollm2".into() })
        .await
        .unwrap();
    let b = runs
        .add_member(run, &NewMember { position: 1, label: "B".into(), role: MemberRole::Member, round: 0, provider: "openrouter".into(), model: "mistral-small".into() })
        .await
        .unwrap();
    runs.append_output(a, "The sea was ").await.unwrap();
    runs.append_output(a, "glass-still at dawn.").await.unwrap();
    let done = MemberFinish {
        prompt_tokens: Some(12),
        completion_tokens: Some(8),
        cost_usd: Some(0.0),
        latency_ms: Some(900),
        first_token_ms: Some(120),
        ..MemberFinish::new(RunStatus::Completed)
    };
    runs.finish_member(a, &done).await.unwrap();
    runs.finish_member(b, &MemberFinish { latency_ms: Some(300), ..MemberFinish::failed("401 invalid key") }).await.unwrap();
    let finish = RunFinish {
        final_text: Some("At dawn the sea lay still as glass.".into()),
        analysis: Some(json!({"consensus": []})),
        prompt_tokens: 30,
        completion_tokens: 20,
        cost_usd: 0.0012,
        ..RunFinish::new(RunStatus::Completed)
    };
    runs.finish(run, &finish).await.unwrap();
    run
}

#[tokio::test]
async fn runs_are_stored_with_their_members_and_filtered() {
    let (_dir, store) = store().await;
    let run = fusion_run(&store).await;
    let got = store.runs().get(run).await.unwrap();
    assert_eq!(got.run.status, "completed");
    assert_eq!(got.run.final_text.as_deref(), Some("At dawn the sea lay still as glass."));
    assert_eq!(got.members.len(), 2);
    assert_eq!(got.members[0].output, "The sea was glass-still at dawn.");
    assert_eq!(got.members[1].error.as_deref(), Some("401 invalid key"));
    assert_eq!(got.run.analysis.as_deref(), Some(r#"{"consensus":[]}"#));
    assert_eq!((got.run.prompt_tokens, got.run.completion_tokens, got.run.cost_usd), (30, 20, 0.0012));
    assert!(got.run.finished_at.is_some());
    let a = &got.members[0];
    assert_eq!((a.status.as_str(), a.prompt_tokens, a.completion_tokens, a.latency_ms, a.first_token_ms), ("completed", Some(12), Some(8), Some(900), Some(120)));
    let b = &got.members[1];
    assert_eq!((b.status.as_str(), b.prompt_tokens, b.cost_usd, b.latency_ms), ("failed", None, None, Some(300)));

    let by_model = store.runs().list(&RunFilter { model: Some("mistral-small".into()), ..Default::default() }, 10, 0).await.unwrap();
    assert_eq!(by_model.len(), 1);
    let other = store.runs().list(&RunFilter { mode: Some("debate".into()), ..Default::default() }, 10, 0).await.unwrap();
    assert!(other.is_empty());
    store.runs().delete(run).await.unwrap();
    assert!(store.runs().get(run).await.is_err());
    let orphans: i64 = sqlx::query_scalar("SELECT count(*) FROM run_members").fetch_one(store.pool()).await.unwrap();
    assert_eq!(orphans, 0);
}

#[tokio::test]
async fn a_failed_run_keeps_its_error_and_no_usage() {
    let (_dir, store) = store().await;
    let run = store.runs().start(RunKind::Generate, &NewRun { prompt: "Continue".into(), ..Default::default() }).await.unwrap();
    let member = store
        .runs()
        .add_member(run, &NewMember { position: 0, label: "A".into(), role: MemberRole::Member, round: 0, provider: "local".into(), model: "m".into() })
        .await
        .unwrap();
    store.runs().finish_member(member, &MemberFinish::failed("model file is truncated")).await.unwrap();
    store.runs().finish(run, &RunFinish::failed("model file is truncated")).await.unwrap();
    let got = store.runs().get(run).await.unwrap();
    assert_eq!((got.run.status.as_str(), got.run.error.as_deref()), ("failed", Some("model file is truncated")));
    assert_eq!((got.run.final_text, got.run.analysis, got.run.prompt_tokens, got.run.cost_usd), (None, None, 0, 0.0));
    let m = &got.members[0];
    assert_eq!((m.status.as_str(), m.error.as_deref(), m.prompt_tokens, m.latency_ms), ("failed", Some("model file is truncated"), None, None));
    assert_eq!(RunFinish::new(RunStatus::Cancelled).error, None);
    assert_eq!(MemberFinish::new(RunStatus::Interrupted).status, RunStatus::Interrupted);
}

#[tokio::test]
async fn a_run_left_running_is_interrupted_on_reopen_with_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lib.sqlite3");
    let store = Store::open(&path).await.unwrap();
    let run = store.runs().start(RunKind::Generate, &NewRun { prompt: "Continue".into(), ..Default::default() }).await.unwrap();
    let member = store
        .runs()
        .add_member(run, &NewMember { position: 0, label: "A".into(), role: MemberRole::Member, round: 0, provider: "local".into(), model: "m".into() })
        .await
        .unwrap();
    store.runs().append_output(member, "half a sentence").await.unwrap();
    store.close().await;
    let store = Store::open(&path).await.unwrap();
    let got = store.runs().get(run).await.unwrap();
    assert_eq!(got.run.status, "interrupted");
    assert_eq!(got.members[0].status, "interrupted");
    assert_eq!(got.members[0].output, "half a sentence");
}

#[tokio::test]
async fn models_providers_settings_and_ledger_round_trip() {
    let (_dir, store) = store().await;
    let m = store.models().upsert("/m/a.gguf", "A", "llama", "Q4_1", 100, 135, Some("abc"), None).await.unwrap();
    let n = store.models().upsert("/m/b.gguf", "B", "mistral3", "Q4_K", 200, 3400, None, Some("https://x/b.gguf")).await.unwrap();
    store.models().set_default(m.id).await.unwrap();
    store.models().set_default(n.id).await.unwrap();
    assert_eq!(store.models().default_model().await.unwrap().unwrap().id, n.id);
    assert_eq!(store.models().list().await.unwrap().len(), 2);
    assert!(store.models().set_default(999).await.is_err());
    // The old default survived the failed switch.
    assert_eq!(store.models().default_model().await.unwrap().unwrap().id, n.id);

    let models = vec![ProviderModel { id: "mistralai/ministral-8b".into(), input_per_mtok: Some(0.1), output_per_mtok: Some(0.1) }];
    store.providers().save("openrouter", "OpenRouter", "openai_compatible", "https://openrouter.ai/api/v1", &models, true).await.unwrap();
    let p = store.providers().get("openrouter").await.unwrap();
    assert_eq!(p.models, models);
    assert!(store.providers().save("bad id!", "x", "openai_compatible", "http://x", &[], true).await.is_err());

    store.settings().set("theme", &"dark").await.unwrap();
    store.settings().set("offline", &true).await.unwrap();
    assert_eq!(store.settings().get::<String>("theme").await.unwrap().as_deref(), Some("dark"));
    assert_eq!(store.settings().get::<bool>("offline").await.unwrap(), Some(true));
    assert_eq!(store.settings().get::<bool>("missing").await.unwrap(), None);

    for i in 0..3 {
        store
            .ledger()
            .record(&NewLedgerEntry {
                provider: "openrouter".into(),
                model: "m".into(),
                endpoint: "https://openrouter.ai/api/v1/chat/completions".into(),
                bytes_sent: 1000 + i,
                bytes_received: 500,
                prompt_tokens: Some(100),
                completion_tokens: Some(50),
                cost_usd: Some(0.001),
                status: "200".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let totals = store.ledger().totals(None).await.unwrap();
    assert_eq!((totals.requests, totals.bytes_sent, totals.prompt_tokens), (3, 3003, 300));
    assert!((totals.cost_usd - 0.003).abs() < 1e-9);
    assert_eq!(store.ledger().list(2, 0).await.unwrap().len(), 2);
}

#[tokio::test]
async fn search_finds_documents_messages_and_outputs_and_forgets_deleted_rows() {
    let (_dir, store) = store().await;
    let doc = store.documents().create("The Lighthouse", "Keepers counted the steps every night.").await.unwrap();
    let c = store.conversations().create(Some(doc.id), "Chat").await.unwrap();
    store.conversations().add_message(c.id, "user", "Should the lighthouse keeper be older?", None).await.unwrap();
    let run = fusion_run(&store).await;

    let hits = store.search("lighthouse", 20, 0).await.unwrap();
    let kinds: Vec<&str> = hits.iter().map(|h| h.kind.as_str()).collect();
    assert!(kinds.contains(&"document") && kinds.contains(&"message"), "{kinds:?}");
    let doc_hit = hits.iter().find(|h| h.kind == "document").unwrap();
    assert_eq!(doc_hit.open_id, doc.id);
    assert!(doc_hit.snippet.contains(&format!("{HIGHLIGHT_START}Lighthouse{HIGHLIGHT_END}")), "{}", doc_hit.snippet);

    // Model outputs and final texts, with stemming ("glass" finds "glass-still").
    let hits = store.search("glass", 20, 0).await.unwrap();
    assert!(hits.iter().any(|h| h.kind == "run_output" && h.open_id == run));
    assert!(hits.iter().any(|h| h.kind == "run" && h.id == run));
    // Prefix match while typing, and syntax characters are plain text.
    assert!(!store.search("lightho", 20, 0).await.unwrap().is_empty());
    assert!(store.search("\"AND\" (", 20, 0).await.unwrap().is_empty());

    // Updated text is found by its new words only; deleted rows disappear.
    store.documents().save(doc.id, "The Lighthouse", "Gulls circled the tower.", "manual").await.unwrap();
    assert!(store.search("steps", 20, 0).await.unwrap().iter().all(|h| h.kind != "document"));
    assert!(store.search("gulls", 20, 0).await.unwrap().iter().any(|h| h.kind == "document"));
    store.documents().delete(doc.id).await.unwrap();
    assert!(store.search("gulls", 20, 0).await.unwrap().is_empty());
    store.runs().delete(run).await.unwrap();
    assert!(store.search("glass", 20, 0).await.unwrap().is_empty());
    store.conversations().delete(c.id).await.unwrap();
    assert!(store.search("older", 20, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn search_pages() {
    let (_dir, store) = store().await;
    for i in 0..25 {
        store.documents().create(&format!("Note {i}"), "a harbour at dawn").await.unwrap();
    }
    let first = store.search("harbour", 10, 0).await.unwrap();
    let third = store.search("harbour", 10, 20).await.unwrap();
    assert_eq!(first.len(), 10);
    assert_eq!(third.len(), 5);
    assert!(first.iter().all(|h| !third.iter().any(|t| t.id == h.id)));
}

#[tokio::test]
async fn exports_render_markdown_and_json() {
    use ExportFormat::{Json, Markdown};
    let (_dir, store) = store().await;
    let doc = store.documents().create("Ode", "Line one.\nLine two.").await.unwrap();
    let run = fusion_run(&store).await;
    let c = store.conversations().create(None, "Chat").await.unwrap();
    store.conversations().add_message(c.id, "user", "Hi", None).await.unwrap();

    let document = ExportTarget::Document(doc.id);
    assert_eq!(store.export(document, Markdown).await.unwrap(), "# Ode\n\nLine one.\nLine two.\n");
    let json: serde_json::Value = serde_json::from_str(&store.export(document, Json).await.unwrap()).unwrap();
    assert_eq!(json["document"]["title"], "Ode");
    assert!(json["revisions"].is_array());

    let md = store.export(ExportTarget::Run(run), Markdown).await.unwrap();
    assert!(md.contains("## Prompt\n\nRewrite the opening line"));
    assert!(md.contains("Response A (local · smollm2)"));
    assert!(md.contains("> Failed: 401 invalid key"));
    assert!(md.contains("## Final answer\n\nAt dawn the sea lay still as glass."));
    let json: serde_json::Value = serde_json::from_str(&store.export(ExportTarget::Run(run), Json).await.unwrap()).unwrap();
    assert_eq!(json["id"], run);
    assert_eq!(json["final_text"], "At dawn the sea lay still as glass.");
    assert_eq!(json["members"].as_array().map(Vec::len), Some(2));

    let conversation = ExportTarget::Conversation(c.id);
    assert_eq!(store.export(conversation, Markdown).await.unwrap(), "# Chat\n\n## You\n\nHi\n");
    let json: serde_json::Value = serde_json::from_str(&store.export(conversation, Json).await.unwrap()).unwrap();
    assert_eq!(json["conversation"]["title"], "Chat");
    assert_eq!(json["messages"][0]["content"], "Hi");

    // A missing id is "not found" whatever the format.
    for format in [Markdown, Json] {
        for target in [ExportTarget::Run(9999), ExportTarget::Document(9999), ExportTarget::Conversation(9999)] {
            assert!(matches!(store.export(target, format).await, Err(StoreError::NotFound { .. })), "{target:?} {format:?}");
        }
    }
}

#[test]
fn export_names_parse_and_unknown_ones_say_what_is_allowed() {
    assert_eq!(ExportTarget::parse("run", 3).unwrap(), ExportTarget::Run(3));
    assert_eq!(ExportTarget::parse("document", 4).unwrap(), ExportTarget::Document(4));
    assert_eq!(ExportTarget::parse("conversation", 5).unwrap(), ExportTarget::Conversation(5));
    assert_eq!(ExportFormat::parse("md").unwrap(), ExportFormat::Markdown);
    assert_eq!(ExportFormat::parse("markdown").unwrap(), ExportFormat::Markdown);
    assert_eq!(ExportFormat::parse("json").unwrap(), ExportFormat::Json);
    assert_eq!((ExportFormat::Markdown.extension(), ExportFormat::Markdown.label()), ("md", "Markdown"));
    assert_eq!((ExportFormat::Json.extension(), ExportFormat::Json.label()), ("json", "JSON"));

    let Err(StoreError::Invalid(message)) = ExportTarget::parse("chapter", 1) else { panic!("`chapter` is not an export target") };
    assert!(message.contains("chapter") && message.contains("run, document or conversation"), "{message}");
    let Err(StoreError::Invalid(message)) = ExportFormat::parse("docx") else { panic!("`docx` is not an export format") };
    assert!(message.contains("docx") && message.contains("md") && message.contains("json"), "{message}");
    assert!(ExportFormat::parse("").is_err());

    // How the front ends see them over IPC.
    assert_eq!(serde_json::to_value(ExportTarget::Run(7)).unwrap(), json!({"kind": "run", "id": 7}));
    assert_eq!(serde_json::from_value::<ExportTarget>(json!({"kind": "conversation", "id": 2})).unwrap(), ExportTarget::Conversation(2));
    assert_eq!(serde_json::to_value(ExportFormat::Markdown).unwrap(), json!("markdown"));
}

#[tokio::test]
async fn a_library_bundle_round_trips_its_content() {
    let (_dir, source) = store().await;
    let doc = source.documents().create("Ünïcode — “quotes” 🙂", "Body\nwith lines\n").await.unwrap();
    source.documents().save(doc.id, "Ünïcode — “quotes” 🙂", "Body\nwith more lines\n", "manual").await.unwrap();
    let c = source.conversations().create(Some(doc.id), "Chat").await.unwrap();
    source.conversations().add_message(c.id, "assistant", "Reply ✓", None).await.unwrap();
    fusion_run(&source).await;
    source.providers().save("vllm", "vLLM", "openai_compatible", "http://127.0.0.1:8000/v1", &[], false).await.unwrap();
    source.settings().set("font_size", &17).await.unwrap();
    let bundle = source.export_library().await.unwrap();
    let text = serde_json::to_string(&bundle).unwrap();

    let (_dir2, target) = store().await;
    target.import_library(&serde_json::from_str(&text).unwrap()).await.unwrap();
    let again = target.export_library().await.unwrap();
    // Same content, byte for byte (ids may differ).
    let strip = |b: &LibraryBundle| {
        let mut v = serde_json::to_value(b).unwrap();
        v["exported_at"] = json!(0);
        for table in ["documents", "revisions", "conversations", "messages", "runs", "run_members", "ledger"] {
            for row in v[table].as_array_mut().unwrap() {
                for key in ["id", "document_id", "conversation_id", "run_id"] {
                    if row.get(key).is_some() {
                        row[key] = json!(0);
                    }
                }
            }
        }
        v
    };
    assert_eq!(strip(&again), strip(&bundle));
    assert_eq!(target.documents().list().await.unwrap()[0].title, "Ünïcode — “quotes” 🙂");
    assert!(target.import_library(&LibraryBundle { format: "other".into(), ..bundle }).await.is_err());
}

#[tokio::test]
async fn online_backup_is_a_sound_copy() {
    let (dir, store) = store().await;
    store.documents().create("Keep me", "safe").await.unwrap();
    let backup = dir.path().join("backup.sqlite3");
    store.backup(&backup).await.unwrap();
    assert!(store.backup(&backup).await.is_err(), "refuses to overwrite");
    let copy = Store::open(&backup).await.unwrap();
    copy.check_integrity().await.unwrap();
    assert_eq!(copy.documents().list().await.unwrap()[0].title, "Keep me");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_streaming_autosave_and_search_never_hit_busy() {
    let (_dir, store) = store().await;
    let doc = store.documents().create("Busy", "").await.unwrap();
    let run = store.runs().start(RunKind::Generate, &NewRun { prompt: "go".into(), ..Default::default() }).await.unwrap();
    let member = store
        .runs()
        .add_member(run, &NewMember { position: 0, label: "A".into(), role: MemberRole::Member, round: 0, provider: "local".into(), model: "m".into() })
        .await
        .unwrap();
    let streamer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                store.runs().append_output(member, &format!("token{i} ")).await.unwrap();
            }
        })
    };
    let autosave = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..150 {
                store.documents().save(doc.id, "Busy", &format!("draft {i}"), "autosave").await.unwrap();
            }
        })
    };
    let searcher = {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..150 {
                store.search("token draft", 10, 0).await.unwrap();
            }
        })
    };
    streamer.await.unwrap();
    autosave.await.unwrap();
    searcher.await.unwrap();
    let output = store.runs().get(run).await.unwrap().members[0].output.clone();
    assert_eq!(output.split_whitespace().count(), 300);
    assert_eq!(store.documents().get(doc.id).await.unwrap().body, "draft 149");
}

/// A library at an earlier schema is copied aside before it is migrated, with its data in the copy.
#[tokio::test]
async fn a_backup_is_taken_before_each_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("library.sqlite3");
    // A library at schema version 1, as an earlier Atelier left it.
    let all = sqlx::migrate!("./migrations");
    let latest = all.migrations.iter().map(|m| m.version).max().unwrap();
    let v1 = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(all.migrations.iter().filter(|m| m.version == 1).cloned().collect()),
        ..sqlx::migrate!("./migrations")
    };
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    v1.run(&pool).await.unwrap();
    sqlx::query("INSERT INTO documents (title, body, created_at, updated_at) VALUES ('Chapter one', 'Kept before the schema changed.', 1, 1)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let backup = dir.path().join(format!("library.sqlite3.before-v{latest}.bak"));

    let store = Store::open(&path).await.unwrap();
    assert!(backup.exists(), "no backup before migrating to v{latest}");
    let copy = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", backup.display())).await.unwrap();
    let body: String = sqlx::query_scalar("SELECT body FROM documents").fetch_one(&copy).await.unwrap();
    assert_eq!(body, "Kept before the schema changed.");
    let version: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations").fetch_one(&copy).await.unwrap();
    assert_eq!(version, 1, "the backup is of the library before the migration");
    // The library itself is migrated, and reopening takes no second backup.
    assert_eq!(store.documents().list().await.unwrap()[0].words, 5);
    store.close().await;
    let backups = || std::fs::read_dir(dir.path()).unwrap().flatten().filter(|e| e.path().extension().is_some_and(|x| x == "bak")).count();
    assert_eq!(backups(), 1);
    Store::open(&path).await.unwrap().close().await;
    assert_eq!(backups(), 1, "an up-to-date library was backed up again");
    // A fresh library gets no backup.
    let fresh = dir.path().join("fresh.sqlite3");
    Store::open(&fresh).await.unwrap().close().await;
    assert_eq!(backups(), 1, "a new library was backed up");
}
