//! The story bible in a real library file: entries per project and global ones, their checks, trash
//! and restore, and the revision a cached name index is checked against.

use atelier_store::{EntryField, EntryKind, EntryPatch, NewEntry, NewProject, ProjectKind, ProjectPatch, Store, StoreError};

async fn library() -> (Store, tempfile::TempDir, i64, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let new = |title: &str| NewProject { title: title.into(), kind: ProjectKind::Novel, author: String::new(), word_goal: None };
    let a = store.projects().create(&new("A")).await.unwrap().id;
    let b = store.projects().create(&new("B")).await.unwrap().id;
    (store, dir, a, b)
}

fn entry(project_id: Option<i64>, kind: EntryKind, name: &str) -> NewEntry {
    NewEntry { project_id, kind, name: name.into(), aliases: Vec::new(), description: String::new(), fields: Vec::new(), pinned: false }
}

#[tokio::test]
async fn a_bible_holds_its_projects_entries_and_the_global_ones_style_guides_first() {
    let (store, _dir, a, b) = library().await;
    let bible = store.bible();
    let mara = bible
        .create(&NewEntry {
            aliases: vec![" Mara ".into(), "mara".into(), "".into(), "Mara Vell".into(), "the  pilot's   girl".into()],
            fields: vec![EntryField { name: "Eyes".into(), value: " grey ".into() }, EntryField { name: " ".into(), value: "".into() }],
            description: "  A pilot's daughter.  ".into(),
            ..entry(Some(a), EntryKind::Character, "  Mara   Vell ")
        })
        .await
        .unwrap();
    assert_eq!(mara.name, "Mara Vell");
    assert_eq!(mara.aliases, ["Mara", "the pilot's girl"], "blanks, repeats and the name itself are dropped");
    assert_eq!(mara.fields, [EntryField { name: "Eyes".into(), value: "grey".into() }]);
    assert_eq!(mara.description, "A pilot's daughter.");
    bible.create(&entry(None, EntryKind::StyleGuide, "House style")).await.unwrap();
    bible.create(&entry(Some(b), EntryKind::Place, "Elsewhere")).await.unwrap();
    let names = |entries: Vec<atelier_store::BibleEntry>| entries.into_iter().map(|e| e.name).collect::<Vec<_>>();
    assert_eq!(names(bible.list(a).await.unwrap()), ["House style", "Mara Vell"]);
    assert_eq!(names(bible.list(b).await.unwrap()), ["House style", "Elsewhere"]);

    let pinned = bible.update(mara.id, &EntryPatch { pinned: Some(true), kind: Some(EntryKind::Lore), ..Default::default() }).await.unwrap();
    assert!(pinned.pinned && pinned.kind == EntryKind::Lore && pinned.aliases == mara.aliases);
    bible.delete(mara.id).await.unwrap();
    assert_eq!(names(bible.list(a).await.unwrap()), ["House style"]);
    assert!(matches!(bible.get(mara.id).await, Err(StoreError::NotFound { .. })));
    assert_eq!(bible.restore(mara.id).await.unwrap().name, "Mara Vell");
}

#[tokio::test]
async fn bad_entries_are_refused_with_the_reason() {
    let (store, _dir, a, _) = library().await;
    let bible = store.bible();
    let err = |e: StoreError| e.to_string();
    assert!(err(bible.create(&entry(Some(a), EntryKind::Character, "   ")).await.unwrap_err()).contains("name cannot be empty"));
    assert!(err(bible.create(&entry(Some(a), EntryKind::Character, &"x".repeat(201))).await.unwrap_err()).contains("longer than 200"));
    let many = NewEntry { aliases: (0..65).map(|i| format!("a{i}")).collect(), ..entry(Some(a), EntryKind::Character, "Many") };
    assert!(err(bible.create(&many).await.unwrap_err()).contains("at most 64 aliases"));
    assert!(matches!(bible.create(&entry(Some(999), EntryKind::Place, "Nowhere")).await, Err(StoreError::NotFound { .. })));
    // A kind the schema does not know cannot be written behind the API's back either.
    let raw = sqlx::query("INSERT INTO bible_entries (project_id, kind, name, created_at, updated_at) VALUES (?, 'villain', 'X', 0, 0)");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", _dir.path().join("library.sqlite3").display())).await.unwrap();
    assert!(raw.bind(a).execute(&pool).await.is_err());
}

#[tokio::test]
async fn the_revision_changes_with_every_change_and_the_cloud_switch_is_off_until_turned_on() {
    let (store, _dir, a, _) = library().await;
    let bible = store.bible();
    let mut seen = vec![bible.revision(a).await.unwrap()];
    let id = bible.create(&entry(Some(a), EntryKind::Object, "Lantern")).await.unwrap().id;
    seen.push(bible.revision(a).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    bible.update(id, &EntryPatch { aliases: Some(vec!["the lamp".into()]), ..Default::default() }).await.unwrap();
    seen.push(bible.revision(a).await.unwrap());
    bible.delete(id).await.unwrap();
    seen.push(bible.revision(a).await.unwrap());
    for pair in seen.windows(2) {
        assert_ne!(pair[0], pair[1], "a change left the revision as it was: {seen:?}");
    }

    let project = store.projects().get(a).await.unwrap();
    assert!(!project.cloud_context, "a project keeps its context on the device by default");
    let project = store.projects().update(a, &ProjectPatch { cloud_context: Some(true), ..Default::default() }).await.unwrap();
    assert!(project.cloud_context);
    let project = store.projects().update(a, &ProjectPatch { title: Some("Renamed".into()), ..Default::default() }).await.unwrap();
    assert!(project.cloud_context, "another change keeps the switch");
}
