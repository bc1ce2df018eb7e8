//! The book through the studio: a binder becomes a manuscript for export (a project, a part, a chapter),
//! an imported file becomes the same binder again, and a writing action on a scene reads the chapter's
//! earlier scenes and is recorded against its project and scene.

use std::sync::Arc;

use atelier_engine::LoadOptions;
use atelier_manuscript::Format;
use atelier_store::{NewNode, NewProject, NodeKind, ProjectKind, Store};
use atelier_studio::generation::{self, GenerationEvent};
use atelier_studio::{manuscript, ActionInput, ModelHost, WritingAction};
use tokio_util::sync::CancellationToken;

struct Book {
    store: Store,
    _dir: tempfile::TempDir,
    project: i64,
    part: i64,
    chapter_one: i64,
    chapter_two: i64,
    scenes: Vec<(i64, i64)>, // (binder id, document id)
}

async fn book() -> Book {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let project = store.projects().create(&NewProject { title: "The Salt Road".into(), kind: ProjectKind::Novel, author: "Ada Marsh".into(), word_goal: None }).await.unwrap().id;
    let add = |parent, kind, title: &str, text: Option<&str>| NewNode { project_id: project, parent_id: parent, kind, title: title.into(), index: None, text: text.map(Into::into), synopsis: None };
    let prologue = store.binder().add(&add(None, NodeKind::Scene, "Prologue", Some("Salt on the wind."))).await.unwrap();
    let part = store.binder().add(&add(None, NodeKind::Part, "Part One", None)).await.unwrap().id;
    let chapter_one = store.binder().add(&add(Some(part), NodeKind::Chapter, "The Harbour", None)).await.unwrap().id;
    let dawn = store.binder().add(&add(Some(chapter_one), NodeKind::Scene, "Dawn", Some("The fog lifted over the boats.\n\nMara counted the masts."))).await.unwrap();
    let letter = store.binder().add(&add(Some(chapter_one), NodeKind::Scene, "The Letter", Some("A letter waited on the table."))).await.unwrap();
    let chapter_two = store.binder().add(&add(Some(part), NodeKind::Chapter, "The Ford", None)).await.unwrap().id;
    let river = store.binder().add(&add(Some(chapter_two), NodeKind::Scene, "River", Some("Cold water to the knee."))).await.unwrap();
    let scenes = [prologue, dawn, letter, river].into_iter().map(|n| (n.id, n.document_id.unwrap())).collect();
    Book { store, _dir: dir, project, part, chapter_one, chapter_two, scenes }
}

fn outline(m: &atelier_manuscript::Manuscript) -> Vec<String> {
    let mut lines = Vec::new();
    for c in &m.chapters {
        if let Some(part) = &c.part {
            lines.push(format!("part {part}"));
        }
        lines.push(format!("chapter {:?}: {}", c.title, c.scenes.iter().map(|s| s.title.as_str()).collect::<Vec<_>>().join(", ")));
    }
    lines
}

#[tokio::test]
async fn the_binder_becomes_a_manuscript_whole_or_one_part_or_chapter() {
    let book = book().await;
    let whole = manuscript::to_manuscript(&book.store, book.project, None).await.unwrap();
    assert_eq!((whole.title.as_str(), whole.author.as_str()), ("The Salt Road", "Ada Marsh"));
    assert_eq!(outline(&whole), ["chapter \"\": Prologue", "part Part One", "chapter \"The Harbour\": Dawn, The Letter", "chapter \"The Ford\": River"]);
    assert_eq!(whole.chapters[1].scenes[0].text, "The fog lifted over the boats.\n\nMara counted the masts.");

    let part = manuscript::to_manuscript(&book.store, book.project, Some(book.part)).await.unwrap();
    assert_eq!(outline(&part), ["part Part One", "chapter \"The Harbour\": Dawn, The Letter", "chapter \"The Ford\": River"]);
    let chapter = manuscript::to_manuscript(&book.store, book.project, Some(book.chapter_two)).await.unwrap();
    assert_eq!(outline(&chapter), ["chapter \"The Ford\": River"]);
    assert!(manuscript::to_manuscript(&book.store, book.project, Some(99_999)).await.is_err());
}

#[tokio::test]
async fn a_project_exported_and_imported_again_is_the_same_book() {
    let book = book().await;
    let dir = tempfile::tempdir().unwrap();
    let original = manuscript::to_manuscript(&book.store, book.project, None).await.unwrap();
    for format in [Format::Markdown, Format::Docx, Format::Text] {
        let path = dir.path().join(format!("book.{}", format.extension()));
        let bytes = manuscript::export_to_file(&book.store, book.project, None, format, &path).await.unwrap();
        assert_eq!(bytes, std::fs::metadata(&path).unwrap().len(), "{format}");
        let read = manuscript::read_file(&path).await.unwrap();
        let project = manuscript::create_project(&book.store, &read, Some("Imported"), None).await.unwrap();
        let again = manuscript::to_manuscript(&book.store, project.id, None).await.unwrap();
        let chapters = |m: &atelier_manuscript::Manuscript| m.chapters.iter().filter(|c| !c.title.is_empty()).map(|c| c.title.clone()).collect::<Vec<_>>();
        assert_eq!(chapters(&again), chapters(&original), "{format}");
        let text = |m: &atelier_manuscript::Manuscript| m.chapters.iter().flat_map(|c| &c.scenes).map(|s| s.text.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>();
        assert_eq!(text(&again), text(&original), "{format}: every scene's text, in order");
        assert_eq!(again.words(), original.words(), "{format}");
    }
}

#[tokio::test]
async fn an_import_is_previewed_and_created_only_when_accepted() {
    let book = book().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("draft.md");
    std::fs::write(&path, "# Chapter One\n\nThe first scene.\n\n***\n\nThe second scene.\n\n# Chapter Two\n\nThe third.\n").unwrap();
    let pending = manuscript::PendingImports::default();
    let before = book.store.projects().list().await.unwrap().len();
    let preview = manuscript::preview_import(&pending, &path).await.unwrap();
    assert_eq!(book.store.projects().list().await.unwrap().len(), before, "a preview creates nothing");
    assert_eq!(preview.chapters.iter().map(|c| (c.title.as_str(), c.scenes.len())).collect::<Vec<_>>(), [("Chapter One", 2), ("Chapter Two", 1)]);
    assert_eq!(preview.chapters[0].scenes[1].opening, "The second scene.");
    assert_eq!(preview.words, 8);
    let project = manuscript::accept_import(&book.store, &pending, &preview.token, Some("My Draft"), Some(ProjectKind::ShortFiction)).await.unwrap();
    assert_eq!((project.title.as_str(), project.kind), ("My Draft", ProjectKind::ShortFiction));
    let tree = book.store.projects().tree(project.id).await.unwrap();
    assert_eq!(tree.nodes.iter().map(|n| (n.kind, n.title.as_str())).collect::<Vec<_>>(), [
        (NodeKind::Chapter, "Chapter One"),
        (NodeKind::Scene, "Scene 1"),
        (NodeKind::Scene, "Scene 2"),
        (NodeKind::Chapter, "Chapter Two"),
        (NodeKind::Scene, "Scene 1"),
    ]);
    assert!(manuscript::accept_import(&book.store, &pending, &preview.token, None, None).await.is_err(), "a preview is accepted once");
    let not_a_manuscript = dir.path().join("model.gguf");
    std::fs::write(&not_a_manuscript, b"GGUF").unwrap();
    assert!(manuscript::preview_import(&pending, &not_a_manuscript).await.is_err());
}

#[tokio::test]
async fn an_action_on_a_scene_reads_the_chapters_earlier_scenes() {
    let book = book().await;
    let (_, letter) = book.scenes[2];
    let input = ActionInput { action: Some(WritingAction::Continue), before: "A letter waited".into(), document: "A letter waited on the table.".into(), ..Default::default() };
    let with = manuscript::with_scene_context(&book.store, Some(letter), &input).await.unwrap();
    assert_eq!(with.before, "The fog lifted over the boats.\n\nMara counted the masts.\n\n#\n\nA letter waited");
    assert!(with.document.ends_with("#\n\nA letter waited on the table."));
    // The first scene of a chapter has nothing before it in the chapter (the prologue is elsewhere).
    let (_, river) = book.scenes[3];
    assert_eq!(manuscript::with_scene_context(&book.store, Some(river), &input).await.unwrap().before, "A letter waited");
    // A document that is no scene, or none at all, is read as it is.
    assert_eq!(manuscript::with_scene_context(&book.store, None, &input).await.unwrap().before, "A letter waited");
    let _ = book.chapter_one;
}

#[tokio::test(flavor = "multi_thread")]
async fn continue_on_a_scene_runs_on_the_embedded_model_and_names_project_and_scene() {
    let book = book().await;
    let host = ModelHost::new();
    let path = atelier_engine::find_default_model().expect("the embedded model (scripts/fetch-default-model.sh)");
    host.load(Ok(path), &LoadOptions { threads: Some(2), ..Default::default() }).unwrap();
    let (scene, letter) = book.scenes[2];
    // A new, empty scene after "The Letter": Continue follows the chapter's earlier scenes.
    let input = ActionInput { action: Some(WritingAction::Continue), ..Default::default() };
    let run_id = Arc::new(std::sync::Mutex::new(None));
    let sink_id = Arc::clone(&run_id);
    let sink: generation::EventSink = Arc::new(move |event| {
        if let GenerationEvent::Started { run_id } = event {
            *sink_id.lock().unwrap() = run_id;
        }
    });
    let sampling = atelier_engine::SamplingParams { seed: 7, ..generation::sampling(None, None).unwrap() };
    book.store.documents().save(letter, "The Letter", "", "manual").await.unwrap();
    let generation = generation::write(&host, Some(&book.store), &input, sampling, Some(letter), CancellationToken::new(), sink).await.unwrap();
    assert!(!generation.text.trim().is_empty());
    let run = book.store.runs().get(run_id.lock().unwrap().expect("recorded")).await.unwrap().run;
    assert_eq!((run.project_id, run.scene_id, run.document_id), (Some(book.project), Some(scene), Some(letter)));
    assert!(run.prompt.contains("Mara counted the masts."), "the prompt reads the chapter's earlier scene: {}", run.prompt);
    assert!(!run.prompt.contains("Salt on the wind"), "but not other chapters");
    let _ = book.chapter_two;
}
