//! `atelier project …` and `atelier write --project/--scene` as a writer runs them: a manuscript is
//! previewed, imported, listed, shown, exported to every format, and a scene of it is continued.

use std::path::Path;
use std::process::{Command, Output};

fn atelier(db: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_atelier")).env("ATELIER_DB", db).args(args).output().unwrap();
    assert!(out.status.success(), "atelier {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_manuscript_is_imported_shown_exported_and_continued_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("library.sqlite3");
    let draft = dir.path().join("draft.md");
    std::fs::write(&draft, "# The Harbour\n\nThe fog lifted over the boats.\n\n***\n\nMara counted the masts, one by one.\n\n# The Ford\n\nCold water to the knee.\n").unwrap();

    // The split first, and nothing created.
    let preview = stdout(&atelier(&db, &["project", "import", draft.to_str().unwrap(), "--preview"]));
    assert!(preview.contains("The Harbour") && preview.contains("Scene 2 (7 words)"), "{preview}");
    let list: serde_json::Value = serde_json::from_str(&stdout(&atelier(&db, &["project", "list", "--json"]))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);

    let created: serde_json::Value = serde_json::from_str(&stdout(&atelier(&db, &["project", "import", draft.to_str().unwrap(), "--title", "The Salt Road", "--json"]))).unwrap();
    let id = created["id"].as_i64().unwrap().to_string();
    atelier(&db, &["project", "new", "Second book", "--kind", "screenplay", "--goal", "20000"]);
    let list: serde_json::Value = serde_json::from_str(&stdout(&atelier(&db, &["project", "list", "--json"]))).unwrap();
    let titles: Vec<&str> = list.as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 2);
    assert!(titles.contains(&"The Salt Road") && titles.contains(&"Second book"));

    let tree: serde_json::Value = serde_json::from_str(&stdout(&atelier(&db, &["project", "show", &id, "--json"]))).unwrap();
    let nodes: Vec<(String, String)> = tree["nodes"].as_array().unwrap().iter().map(|n| (n["kind"].as_str().unwrap().into(), n["title"].as_str().unwrap().into())).collect();
    let expected = [("chapter", "The Harbour"), ("scene", "Scene 1"), ("scene", "Scene 2"), ("chapter", "The Ford"), ("scene", "Scene 1")];
    assert_eq!(nodes, expected.map(|(k, t)| (k.to_string(), t.to_string())));
    assert_eq!(tree["words"], 18);
    let shown = stdout(&atelier(&db, &["project", "show", &id]));
    assert!(shown.contains("The Salt Road") && shown.contains("[draft]"), "{shown}");

    for format in ["docx", "epub", "md", "txt", "fountain"] {
        let out = dir.path().join(format!("book.{format}"));
        atelier(&db, &["project", "export", &id, "--format", format, "--out", out.to_str().unwrap()]);
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.len() > 100, "{format}: {} bytes", bytes.len());
        if matches!(format, "md" | "txt" | "fountain") {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("Mara counted the masts, one by one."), "{format}: {text}");
        } else {
            assert_eq!(&bytes[..2], b"PK", "{format} is a zip");
        }
    }
    // One chapter alone.
    let chapter = tree["nodes"][3]["id"].as_i64().unwrap().to_string();
    let out = dir.path().join("ford.md");
    atelier(&db, &["project", "export", &id, "--node", &chapter, "--format", "md", "--out", out.to_str().unwrap()]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("Cold water") && !text.contains("Mara"), "{text}");

    // Continue on the second scene of the first chapter, named by title: it reads the first scene too,
    // and the run names the project and scene.
    let second = tree["nodes"][2]["id"].as_i64().unwrap();
    let run: serde_json::Value =
        serde_json::from_str(&stdout(&atelier(&db, &["write", "continue", "--project", &id, "--scene", &second.to_string(), "--seed", "5", "--json"]))).unwrap();
    assert!(!run["text"].as_str().unwrap().trim().is_empty());
    let history: serde_json::Value = serde_json::from_str(&stdout(&atelier(&db, &["history", "list", "--json"]))).unwrap();
    let recorded = &history.as_array().unwrap()[0];
    assert_eq!((recorded["project_id"].as_i64(), recorded["scene_id"].as_i64()), (id.parse().ok(), Some(second)));
    assert!(recorded["prompt"].as_str().unwrap().contains("The fog lifted over the boats."), "{}", recorded["prompt"]);

    // Two scenes share the title "Scene 1": by title is refused, by id works.
    let ambiguous = Command::new(env!("CARGO_BIN_EXE_atelier")).env("ATELIER_DB", &db).args(["write", "continue", "--project", &id, "--scene", "Scene 1"]).output().unwrap();
    assert!(!ambiguous.status.success());
    assert!(String::from_utf8_lossy(&ambiguous.stderr).contains("several scenes"), "{}", String::from_utf8_lossy(&ambiguous.stderr));
}
