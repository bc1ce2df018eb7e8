//! Projects and the binder on a real SQLite file: the tree (insert, move, reorder, delete with undo),
//! word counts and daily progress, runs that name their scene, and migrations from every earlier schema
//! version with data in it.

use std::borrow::Cow;

use atelier_store::{NewNode, NewProject, NewRun, NodeKind, NodePatch, ProjectKind, RunKind, SceneStatus, Store, DEFAULT_PROJECT_TITLE};

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    (dir, store)
}

async fn novel(store: &Store) -> i64 {
    store.projects().create(&NewProject { title: "The Salt Road".into(), kind: ProjectKind::Novel, author: "Ada Marsh".into(), word_goal: Some(90_000) }).await.unwrap().id
}

async fn add(store: &Store, project: i64, parent: Option<i64>, kind: NodeKind, title: &str, text: Option<&str>) -> i64 {
    store
        .binder()
        .add(&NewNode { project_id: project, parent_id: parent, kind, title: title.into(), index: None, text: text.map(Into::into), synopsis: None })
        .await
        .unwrap()
        .id
}

/// The tree as `(depth, title)` lines, for readable assertions.
async fn outline(store: &Store, project: i64) -> Vec<String> {
    let tree = store.projects().tree(project).await.unwrap();
    let mut depth = std::collections::HashMap::new();
    tree.nodes
        .iter()
        .map(|n| {
            let d = n.parent_id.map(|p| depth[&p] + 1).unwrap_or(0);
            depth.insert(n.id, d);
            format!("{}{}", "  ".repeat(d), n.title)
        })
        .collect()
}

#[tokio::test]
async fn a_book_is_built_moved_and_reordered_in_the_binder() {
    let (_dir, store) = store().await;
    let project = novel(&store).await;
    let part = add(&store, project, None, NodeKind::Part, "Part One", None).await;
    let one = add(&store, project, Some(part), NodeKind::Chapter, "Harbour", None).await;
    let two = add(&store, project, Some(part), NodeKind::Chapter, "Ford", None).await;
    let dawn = add(&store, project, Some(one), NodeKind::Scene, "Dawn", Some("The fog lifted over the boats.")).await;
    let nets = add(&store, project, Some(one), NodeKind::Scene, "Nets", Some("Mending nets.")).await;
    let river = add(&store, project, Some(two), NodeKind::Scene, "River", Some("Cold water to the knee.")).await;
    // Inserted at an index, not last.
    store.binder().add(&NewNode { project_id: project, parent_id: Some(one), kind: NodeKind::Scene, title: "Before dawn".into(), index: Some(0), text: None, synopsis: None }).await.unwrap();
    assert_eq!(outline(&store, project).await, ["Part One", "  Harbour", "    Before dawn", "    Dawn", "    Nets", "  Ford", "    River"]);

    // A scene dragged to the other chapter, between its scenes' places; then a reorder inside it.
    store.binder().move_to(nets, Some(two), 0).await.unwrap();
    assert_eq!(outline(&store, project).await, ["Part One", "  Harbour", "    Before dawn", "    Dawn", "  Ford", "    Nets", "    River"]);
    store.binder().move_to(nets, Some(two), 5).await.unwrap();
    assert_eq!(outline(&store, project).await, ["Part One", "  Harbour", "    Before dawn", "    Dawn", "  Ford", "    River", "    Nets"]);
    // Chapters reorder; a chapter can leave its part for the top level.
    store.binder().move_to(two, Some(part), 0).await.unwrap();
    store.binder().move_to(one, None, 1).await.unwrap();
    assert_eq!(outline(&store, project).await, ["Part One", "  Ford", "    River", "    Nets", "Harbour", "  Before dawn", "  Dawn"]);

    // Positions stay dense among siblings.
    let tree = store.projects().tree(project).await.unwrap();
    for parent in [None, Some(part), Some(two), Some(one)] {
        let positions: Vec<i64> = tree.nodes.iter().filter(|n| n.parent_id == parent).map(|n| n.position).collect();
        assert_eq!(positions, (0..positions.len() as i64).collect::<Vec<_>>(), "under {parent:?}");
    }
    // Words: each scene's own, summed up the tree.
    let words = |id: i64| tree.nodes.iter().find(|n| n.id == id).unwrap().words;
    assert_eq!((words(dawn), words(river), words(two), words(part), tree.words), (6, 5, 7, 7, 13));
    assert_eq!(store.binder().get(part).await.unwrap().words, 7);
}

#[tokio::test]
async fn the_binder_refuses_what_cannot_nest() {
    let (_dir, store) = store().await;
    let project = novel(&store).await;
    let other = novel(&store).await;
    let part = add(&store, project, None, NodeKind::Part, "Part", None).await;
    let chapter = add(&store, project, Some(part), NodeKind::Chapter, "Chapter", None).await;
    let scene = add(&store, project, Some(chapter), NodeKind::Scene, "Scene", None).await;
    let elsewhere = add(&store, other, None, NodeKind::Chapter, "Elsewhere", None).await;
    let refused = |r: atelier_store::Result<atelier_store::BinderNode>| matches!(r, Err(atelier_store::StoreError::Invalid(_)));
    let new = |parent, kind| NewNode { project_id: project, parent_id: Some(parent), kind, title: "x".into(), index: None, text: None, synopsis: None };
    assert!(refused(store.binder().add(&new(scene, NodeKind::Scene)).await), "a scene inside a scene");
    assert!(refused(store.binder().add(&new(chapter, NodeKind::Part)).await), "a part inside a chapter");
    assert!(refused(store.binder().move_to(part, Some(chapter), 0).await), "a part moved under its own chapter (a cycle)");
    assert!(refused(store.binder().move_to(chapter, Some(chapter), 0).await), "a chapter under itself");
    assert!(refused(store.binder().move_to(scene, Some(elsewhere), 0).await), "a move into another project");
    assert!(store.binder().move_to(scene, Some(9_999), 0).await.is_err(), "a move under nothing");
    assert_eq!(outline(&store, project).await, ["Part", "  Chapter", "    Scene"], "a refused change changes nothing");
}

#[tokio::test]
async fn a_deleted_chapter_comes_back_with_its_scenes_where_it_was() {
    let (_dir, store) = store().await;
    let project = novel(&store).await;
    let one = add(&store, project, None, NodeKind::Chapter, "One", None).await;
    let two = add(&store, project, None, NodeKind::Chapter, "Two", None).await;
    add(&store, project, None, NodeKind::Chapter, "Three", None).await;
    let scene = add(&store, project, Some(two), NodeKind::Scene, "Quarrel", Some("The zeppelin quarrel.")).await;
    // A scene deleted on its own earlier stays deleted when its chapter's delete is undone.
    let gone = add(&store, project, Some(two), NodeKind::Scene, "Cut", Some("An obsidian cut scene.")).await;
    store.binder().delete(gone).await.unwrap();
    let _ = one;

    store.binder().delete(two).await.unwrap();
    assert_eq!(outline(&store, project).await, ["One", "Three"]);
    assert!(store.search("zeppelin", 10, 0).await.unwrap().is_empty(), "a deleted scene left search");
    assert!(store.binder().get(scene).await.is_err());

    store.binder().restore(two).await.unwrap();
    assert_eq!(outline(&store, project).await, ["One", "Two", "  Quarrel", "Three"]);
    assert_eq!(store.search("zeppelin", 10, 0).await.unwrap().len(), 1);
    assert!(store.search("obsidian", 10, 0).await.unwrap().is_empty(), "the separately deleted scene stayed deleted");
    store.binder().restore(gone).await.unwrap();
    assert_eq!(outline(&store, project).await, ["One", "Two", "  Quarrel", "  Cut", "Three"]);

    // Purged after the undo window: gone for good, with the scene's document.
    store.binder().delete(two).await.unwrap();
    store.documents().purge_deleted(0).await.unwrap();
    store.binder().purge_deleted(0).await.unwrap();
    assert!(store.binder().restore(two).await.is_err());
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM documents").fetch_one(store.pool()).await.unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn deletes_in_one_millisecond_are_undone_one_at_a_time() {
    let (_dir, store) = store().await;
    let project = novel(&store).await;
    let chapter = add(&store, project, None, NodeKind::Chapter, "One", None).await;
    let mut scenes = Vec::new();
    for n in 0..40 {
        scenes.push(add(&store, project, Some(chapter), NodeKind::Scene, &format!("S{n}"), None).await);
    }
    // Back to back, many land in the same millisecond: each still gets a stamp of its own.
    let mut stamps = Vec::new();
    for &scene in &scenes {
        stamps.push(store.binder().delete(scene).await.unwrap());
    }
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "delete stamps repeat: {stamps:?}");
    store.binder().restore(scenes[20]).await.unwrap();
    assert_eq!(outline(&store, project).await, ["One", "  S20"]);
}

#[tokio::test]
async fn scene_details_chapter_text_and_daily_progress() {
    let (_dir, store) = store().await;
    let project = novel(&store).await;
    let chapter = add(&store, project, None, NodeKind::Chapter, "One", None).await;
    let first = add(&store, project, Some(chapter), NodeKind::Scene, "First", Some("one two three")).await;
    let second = add(&store, project, Some(chapter), NodeKind::Scene, "Second", None).await;

    let node = store
        .binder()
        .update(second, &NodePatch { title: Some("The letter".into()), synopsis: Some("Mara finds the letter.".into()), pov: Some("Mara".into()), status: Some(SceneStatus::Revised), target_words: Some(Some(1500)) })
        .await
        .unwrap();
    assert_eq!((node.title.as_str(), node.pov.as_str(), node.status, node.target_words), ("The letter", "Mara", SceneStatus::Revised, Some(1500)));
    // The title is the scene document's, so search and revisions see it.
    let document = node.document_id.unwrap();
    assert_eq!(store.documents().get(document).await.unwrap().title, "The letter");
    let cleared = store.binder().update(second, &NodePatch { target_words: Some(None), ..Default::default() }).await.unwrap();
    assert_eq!(cleared.target_words, None);
    assert!(store.binder().update(second, &NodePatch { target_words: Some(Some(0)), ..Default::default() }).await.is_err());

    // The chapter as one text: its scenes in order, each its own document.
    store.documents().save(document, "The letter", "four five six seven", "autosave").await.unwrap();
    let scenes = store.binder().scenes_under(chapter).await.unwrap();
    let texts: Vec<&str> = scenes.iter().map(|s| s.document.body.as_str()).collect();
    assert_eq!(texts, ["one two three", "four five six seven"]);
    assert_eq!(scenes[0].node.id, first);

    // Today's progress: four words written in this project today (the imported three are not).
    let progress = store.projects().progress(project, 30).await.unwrap();
    assert_eq!(progress.len(), 1);
    assert_eq!((progress[0].words, progress[0].written), (7, 4));
    store.documents().save(document, "The letter", "four five", "autosave").await.unwrap();
    let progress = store.projects().progress(project, 30).await.unwrap();
    assert_eq!((progress[0].words, progress[0].written), (5, 2));
    let list = store.projects().list().await.unwrap();
    assert_eq!((list[0].words, list[0].scenes, list[0].word_goal), (5, 2, Some(90_000)));
}

#[tokio::test]
async fn a_run_on_a_scene_names_its_project_and_scene() {
    let (_dir, store) = store().await;
    let project = novel(&store).await;
    let scene = add(&store, project, None, NodeKind::Scene, "Dawn", Some("The fog.")).await;
    let document = store.binder().get(scene).await.unwrap().document_id.unwrap();
    let run = store.runs().start(RunKind::Generate, &NewRun { document_id: Some(document), prompt: "Continue".into(), ..Default::default() }).await.unwrap();
    let run = store.runs().get(run).await.unwrap().run;
    assert_eq!((run.project_id, run.scene_id), (Some(project), Some(scene)));
    let free = store.runs().start(RunKind::Generate, &NewRun { prompt: "A free prompt".into(), ..Default::default() }).await.unwrap();
    let free = store.runs().get(free).await.unwrap().run;
    assert_eq!((free.project_id, free.scene_id), (None, None));
}

#[tokio::test]
async fn a_deleted_project_takes_its_scenes_out_of_search_until_restored() {
    let (_dir, store) = store().await;
    let project = novel(&store).await;
    add(&store, project, None, NodeKind::Scene, "Dawn", Some("A marzipan harbour.")).await;
    store.projects().delete(project).await.unwrap();
    assert!(store.projects().list().await.unwrap().is_empty());
    assert!(store.search("marzipan", 10, 0).await.unwrap().is_empty());
    store.projects().restore(project).await.unwrap();
    assert_eq!(store.search("marzipan", 10, 0).await.unwrap().len(), 1);
    assert_eq!(outline(&store, project).await, ["Dawn"]);
}

#[tokio::test]
async fn documents_outside_any_project_are_adopted_when_the_library_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("library.sqlite3");
    let store = Store::open(&path).await.unwrap();
    assert!(store.projects().list().await.unwrap().is_empty(), "a new library has no project");
    store.documents().create("Loose", "written through the document API").await.unwrap();
    store.close().await;
    let store = Store::open(&path).await.unwrap();
    let projects = store.projects().list().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].title, DEFAULT_PROJECT_TITLE);
    assert_eq!(outline(&store, projects[0].id).await, ["Loose"]);
}

/// A library at schema `version`, as that Atelier left it (only the migrations up to it applied).
async fn library_at(path: &std::path::Path, version: i64) {
    let all = sqlx::migrate!("./migrations");
    let upto = sqlx::migrate::Migrator {
        migrations: Cow::Owned(all.migrations.iter().filter(|m| m.version <= version).cloned().collect()),
        ..sqlx::migrate!("./migrations")
    };
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    upto.run(&pool).await.unwrap();
    // What any earlier version could hold: documents (one trashed), revisions, a chat, runs with members.
    sqlx::raw_sql(
        "INSERT INTO documents (id, title, body, created_at, updated_at) VALUES
            (7, 'Chapter two', 'The river was high that spring.', 2000, 2500),
            (3, 'Opening', 'It began with a letter from the harbour master.', 1000, 3000),
            (9, 'Cut scene', 'An abandoned quixotic draft.', 1500, 1600);
         UPDATE documents SET deleted_at = 4000 WHERE id = 9;
         INSERT INTO revisions (document_id, title, body, reason, created_at) VALUES (3, 'Opening', 'It began.', 'manual', 1100);
         INSERT INTO conversations (id, document_id, title, created_at, updated_at) VALUES (1, 3, 'About the letter', 1200, 1200);
         INSERT INTO messages (conversation_id, role, content, created_at) VALUES (1, 'user', 'Who sent it?', 1200);
         INSERT INTO runs (id, kind, document_id, action, prompt, status, final_text, started_at) VALUES
            (1, 'generate', 3, 'continue', 'Continue the opening', 'completed', 'The seal was broken.', 1300),
            (2, 'fusion', NULL, NULL, 'A free prompt', 'completed', 'Fused.', 1400);
         INSERT INTO run_members (run_id, position, label, provider, model, output, status) VALUES (2, 0, 'A', 'local', 'smol', 'Fused.', 'completed');",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn every_earlier_schema_migrates_its_documents_into_a_default_project_losing_nothing() {
    let latest = sqlx::migrate!("./migrations").migrations.iter().map(|m| m.version).max().unwrap();
    // The schemas from before projects (0003 made them).
    let earlier: Vec<i64> = sqlx::migrate!("./migrations").migrations.iter().map(|m| m.version).filter(|&v| v < 3).collect();
    assert!(earlier.len() >= 2, "versions 1 and 2 at least");
    for version in earlier {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.sqlite3");
        library_at(&path, version).await;
        let store = Store::open(&path).await.unwrap();
        let context = format!("from schema v{version}");

        let projects = store.projects().list().await.unwrap();
        assert_eq!(projects.len(), 1, "{context}");
        assert_eq!((projects[0].title.as_str(), projects[0].kind), (DEFAULT_PROJECT_TITLE, ProjectKind::Other), "{context}");
        // Scenes oldest first, titles and words from the documents (word counts derived for v1 files).
        let tree = store.projects().tree(projects[0].id).await.unwrap();
        let scenes: Vec<(&str, i64, NodeKind)> = tree.nodes.iter().map(|n| (n.title.as_str(), n.words, n.kind)).collect();
        assert_eq!(scenes, [("Opening", 9, NodeKind::Scene), ("Chapter two", 6, NodeKind::Scene)], "{context}");
        assert_eq!(tree.words, 15, "{context}");
        assert_eq!(store.documents().get(3).await.unwrap().body, "It began with a letter from the harbour master.", "{context}");
        assert_eq!(store.documents().revisions(3).await.unwrap().len(), 1, "{context}");
        assert_eq!(store.conversations().list(Some(3)).await.unwrap().len(), 1, "{context}");
        // Runs on a document now name the project and scene; the others are untouched.
        let run = store.runs().get(1).await.unwrap();
        assert_eq!((run.run.project_id, run.run.scene_id), (Some(projects[0].id), Some(tree.nodes[0].id)), "{context}");
        assert_eq!(run.run.final_text.as_deref(), Some("The seal was broken."), "{context}");
        let fusion = store.runs().get(2).await.unwrap();
        assert_eq!((fusion.run.project_id, fusion.members.len()), (None, 1), "{context}");
        // The trashed document is a trashed scene: Undo (restore) still brings it back into the binder.
        assert!(store.search("quixotic", 10, 0).await.unwrap().is_empty(), "{context}");
        let trashed: i64 = sqlx::query_scalar("SELECT id FROM binder WHERE document_id = 9").fetch_one(store.pool()).await.unwrap();
        store.binder().restore(trashed).await.unwrap();
        assert_eq!(store.projects().tree(projects[0].id).await.unwrap().nodes.len(), 3, "{context}");
        assert_eq!(store.search("quixotic", 10, 0).await.unwrap().len(), 1, "{context}");
        // And the library as it was is kept beside it.
        assert!(dir.path().join(format!("library.sqlite3.before-v{latest}.bak")).exists(), "{context}");
        store.check_integrity().await.unwrap();
        store.close().await;
    }
}

#[tokio::test]
async fn a_library_with_projects_gains_the_story_bible_keeping_its_context_on_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("library.sqlite3");
    library_at(&path, 3).await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO projects (id, title, kind, created_at, updated_at) VALUES (5, 'The Salt Road', 'novel', 10, 10);
         INSERT INTO ledger (at, provider, model, endpoint, bytes_sent, bytes_received, status) VALUES (1, 'p', 'm', 'https://x', 10, 20, '200');",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let store = Store::open(&path).await.unwrap();
    let project = store.projects().get(5).await.unwrap();
    assert!(!project.cloud_context, "an existing project must not start sending its bible to the cloud");
    assert!(store.bible().list(5).await.unwrap().is_empty());
    assert_eq!(store.ledger().list(10, 0).await.unwrap()[0].items, Vec::<String>::new());
}
