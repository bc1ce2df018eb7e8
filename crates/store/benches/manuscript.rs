//! Opening a whole book and moving around in it: a 200-scene, 150,000-word project (4 parts, 40
//! chapters) in a real SQLite file. Times opening the project (its binder and the first scene's text),
//! switching scenes (the scene's text and details), opening a chapter as one text, and autosaving a
//! scene. The target for opening and switching is ≤ 100 ms at p95.
//! `cargo bench -p atelier-store --bench manuscript [-- SCENES WORDS_PER_SCENE]`; prints a table and a JSON line.

use std::time::Instant;

use atelier_store::{NewNode, NewProject, NodeKind, ProjectKind, Store};

mod common;

use common::{timed, Latencies, Prose};

const TARGET_P95_MS: f64 = 100.0;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let scenes = args.first().copied().unwrap_or(200);
    let words_per_scene = args.get(1).copied().unwrap_or(750);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.sqlite3");
        let store = Store::open(&path).await.unwrap();
        let mut prose = Prose(0x2545_F491_4F6C_DD1D);
        let started = Instant::now();
        let project = store.projects().create(&NewProject { title: "The Long Book".into(), kind: ProjectKind::Novel, author: "A. Writer".into(), word_goal: Some(150_000) }).await.unwrap().id;
        let node = |parent, kind, title: String, text: Option<String>| NewNode { project_id: project, parent_id: parent, kind, title, index: None, text, synopsis: Some("What happens, in a line.".into()) };
        let (chapters, parts) = (scenes.div_ceil(5), 4);
        let mut scene_ids = Vec::with_capacity(scenes);
        let mut chapter_ids = Vec::with_capacity(chapters);
        let mut part = None;
        for c in 0..chapters {
            if c % chapters.div_ceil(parts) == 0 {
                part = Some(store.binder().add(&node(None, NodeKind::Part, format!("Part {}", c / chapters.div_ceil(parts) + 1), None)).await.unwrap().id);
            }
            let chapter = store.binder().add(&node(part, NodeKind::Chapter, format!("Chapter {}", c + 1), None)).await.unwrap().id;
            chapter_ids.push(chapter);
            for s in 0..5.min(scenes - scene_ids.len()) {
                let text = prose.text(words_per_scene);
                scene_ids.push(store.binder().add(&node(Some(chapter), NodeKind::Scene, format!("Scene {}.{}", c + 1, s + 1), Some(text))).await.unwrap());
            }
        }
        let fill_seconds = started.elapsed().as_secs_f64();
        let tree = store.projects().tree(project).await.unwrap();
        let size_mib = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / (1 << 20) as f64;

        // Opening the project: what the app reads before the first scene shows.
        let mut open = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            let tree = store.projects().tree(project).await.unwrap();
            let first = tree.nodes.iter().find_map(|n| n.document_id).unwrap();
            store.documents().get(first).await.unwrap();
            open.push(started.elapsed());
        }
        // Switching scenes in an order that jumps around the book.
        let mut switch = Vec::new();
        for i in 0..400 {
            let scene = &scene_ids[(prose.next() as usize + i) % scene_ids.len()];
            let started = Instant::now();
            store.documents().get(scene.document_id.unwrap()).await.unwrap();
            store.binder().get(scene.id).await.unwrap();
            switch.push(started.elapsed());
        }
        let mut chapter_view = Vec::new();
        for i in 0..100 {
            timed(&mut chapter_view, store.binder().scenes_under(chapter_ids[(prose.next() as usize + i) % chapter_ids.len()])).await.unwrap();
        }
        let mut autosave = Vec::new();
        for i in 0..200 {
            let scene = &scene_ids[i % scene_ids.len()];
            let body = prose.text(words_per_scene + 5);
            timed(&mut autosave, store.documents().save(scene.document_id.unwrap(), &scene.title, &body, "autosave")).await.unwrap();
        }

        println!(
            "project: {} scenes in {} chapters, {} words, {size_mib:.1} MiB library, built in {fill_seconds:.1} s",
            scene_ids.len(),
            chapter_ids.len(),
            tree.words
        );
        println!("{:<44} {:>7} {:>9} {:>9} {:>9}", "operation", "samples", "p50 ms", "p95 ms", "p99 ms");
        let (open, switch) = (Latencies(open), Latencies(switch));
        let results = vec![
            open.row("open project (binder + first scene)"),
            switch.row("switch scene (text + details)"),
            Latencies(chapter_view).row("open chapter as one text (5 scenes)"),
            Latencies(autosave).row("autosave a scene (with progress)"),
        ];
        let (open_p95, switch_p95) = (open.percentile(0.95), switch.percentile(0.95));
        println!(
            "open p95 {open_p95:.2} ms, switch p95 {switch_p95:.2} ms: {:.0}× and {:.0}× inside the {TARGET_P95_MS} ms target",
            TARGET_P95_MS / open_p95,
            TARGET_P95_MS / switch_p95
        );
        println!(
            "{}",
            serde_json::json!({ "scenes": scene_ids.len(), "chapters": chapter_ids.len(), "words": tree.words, "file_mib": size_mib, "target_p95_ms": TARGET_P95_MS, "results": results })
        );
        store.close().await;
        assert!(open_p95 <= TARGET_P95_MS && switch_p95 <= TARGET_P95_MS, "over the {TARGET_P95_MS} ms target");
    });
}
