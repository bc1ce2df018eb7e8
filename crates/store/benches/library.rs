//! Insert and search latency of a large library: 10,000 documents and 100,000 chat messages in a real
//! SQLite file, written one call at a time through the public API (as the app writes them).
//! `cargo bench -p atelier-store --bench library [-- DOCS MESSAGES]`; prints a table and a JSON line.

use std::time::Instant;

use atelier_store::Store;

mod common;

use common::{timed, Latencies, Prose};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let documents = args.first().copied().unwrap_or(10_000);
    let messages = args.get(1).copied().unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.sqlite3");
        let store = Store::open(&path).await.unwrap();
        let mut prose = Prose(0x9E37_79B9_7F4A_7C15);
        let started = Instant::now();

        // The last tenth of each kind is timed separately: inserts into an almost full library.
        let mut doc_inserts = Vec::new();
        let mut doc_ids = Vec::with_capacity(documents);
        for i in 0..documents {
            let (title, body) = (prose.text(4), prose.text(300));
            let mut sink = Vec::new();
            let samples = if i >= documents - documents / 10 { &mut doc_inserts } else { &mut sink };
            doc_ids.push(timed(samples, store.documents().create(&title, &body)).await.unwrap().id);
        }
        let per_conversation = 100;
        let mut message_inserts = Vec::new();
        let mut conversation = store.conversations().create(None, "Chat 0").await.unwrap().id;
        for i in 0..messages {
            if i > 0 && i % per_conversation == 0 {
                conversation = store.conversations().create(Some(doc_ids[(i / per_conversation) % doc_ids.len()]), &format!("Chat {i}")).await.unwrap().id;
            }
            let (role, words) = if i % 2 == 0 { ("user", 25) } else { ("assistant", 120) };
            let content = prose.text(words);
            let mut sink = Vec::new();
            let samples = if i >= messages - messages / 10 { &mut message_inserts } else { &mut sink };
            timed(samples, store.conversations().add_message(conversation, role, &content, None)).await.unwrap();
        }
        let fill_seconds = started.elapsed().as_secs_f64();
        let size_mib = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / (1 << 20) as f64;

        let mut autosaves = Vec::new();
        for (n, &id) in doc_ids.iter().rev().take(200).enumerate() {
            let body = prose.text(320);
            timed(&mut autosaves, store.documents().save(id, &format!("Draft {n}"), &body, "autosave")).await.unwrap();
        }

        let mut results = Vec::new();
        println!("library: {documents} documents, {messages} messages, {size_mib:.1} MiB, filled in {fill_seconds:.1} s");
        println!("{:<44} {:>7} {:>9} {:>9} {:>9}", "operation", "samples", "p50 ms", "p95 ms", "p99 ms");
        results.push(Latencies(doc_inserts).row("insert document (300 words)"));
        results.push(Latencies(message_inserts).row("insert message"));
        results.push(Latencies(autosaves).row("save document (autosave, with revision)"));
        for (name, query) in [
            ("search: common word, first page", "harbour"),
            ("search: two common words", "lantern violin"),
            ("search: rare word", "zeppelin"),
            ("search: prefix while typing", "quix"),
            ("search: no match", "xylophonist"),
        ] {
            let mut samples = Vec::new();
            let mut hits = 0;
            for _ in 0..30 {
                hits = timed(&mut samples, store.search(query, 20, 0)).await.unwrap().len();
            }
            results.push(Latencies(samples).row(&format!("{name} ({hits} hits)")));
        }
        let mut listing = Vec::new();
        for _ in 0..30 {
            timed(&mut listing, store.documents().list()).await.unwrap();
        }
        results.push(Latencies(listing).row(&format!("list documents ({documents})")));
        println!(
            "{}",
            serde_json::json!({ "documents": documents, "messages": messages, "file_mib": size_mib, "fill_seconds": fill_seconds, "results": results })
        );
        store.close().await;
    });
}
