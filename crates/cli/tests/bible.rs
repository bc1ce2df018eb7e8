//! `atelier bible …` and `atelier write … --show-context` as a writer runs them: entries are added
//! (with aliases, fields, pinned), listed, shown with the scenes that mention them, deleted; the
//! context a Continue on a scene would read lists the style guide first and the mentioned entry, and
//! `--drop` takes an entry out. The real binary on a real library file and the embedded model.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atelier")).env("ATELIER_DB", db).args(args).output().unwrap()
}

fn atelier(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(out.status.success(), "atelier {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(db: &Path, args: &[&str]) -> Value {
    let out = atelier(db, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("atelier {args:?}: not JSON ({e}): {out}"))
}

/// A library with one imported project: "The Harbour" (its first scene names Mara by her alias
/// "the Captain"), and "The Ford", which names no one.
fn library(dir: &Path) -> (std::path::PathBuf, String, Value) {
    let db = dir.join("library.sqlite3");
    let draft = dir.join("draft.md");
    std::fs::write(
        &draft,
        "# The Harbour\n\nThe fog lifted over the boats. The Captain counted the masts, one by one.\n\n***\n\nGulls on the quay.\n\n# The Ford\n\nCold water to the knee.\n",
    )
    .unwrap();
    let project = json(&db, &["project", "import", draft.to_str().unwrap(), "--title", "The Salt Road", "--json"]);
    let id = project["id"].as_i64().unwrap().to_string();
    let tree = json(&db, &["project", "show", &id, "--json"]);
    (db, id, tree)
}

fn scene_id(tree: &Value, index: usize) -> i64 {
    let scenes: Vec<&Value> = tree["nodes"].as_array().unwrap().iter().filter(|n| n["kind"] == "scene").collect();
    scenes[index]["id"].as_i64().unwrap()
}

#[test]
fn entries_are_added_listed_shown_with_their_scenes_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (db, project, tree) = library(dir.path());

    // By title (any case) as well as by id.
    let mara = json(
        &db,
        &["bible", "add", "Mara Vell", "--project", "the salt road", "--kind", "character", "--alias", "the Captain", "--description", "Harbour master of Saltmouth.", "--field", "Eyes=grey", "--field", "Age = 41", "--json"],
    );
    assert_eq!(mara["project_id"].as_i64().unwrap().to_string(), project);
    assert_eq!(mara["aliases"], serde_json::json!(["the Captain"]));
    assert_eq!(mara["fields"], serde_json::json!([{ "name": "Eyes", "value": "grey" }, { "name": "Age", "value": "41" }]));
    assert_eq!(mara["pinned"], false);
    let added = atelier(&db, &["bible", "add", "Saltmouth", "--project", &project, "--kind", "place", "--pinned"]);
    assert!(added.contains("Saltmouth (place)"), "{added}");
    json(&db, &["bible", "add", "Tides", "--global", "--kind", "lore", "--description", "Two a day.", "--json"]);

    // A kind the bible has not got: refused, naming the ones it has; nothing added.
    let bad = run(&db, &["bible", "add", "Grendel", "--project", &project, "--kind", "villain"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("unknown kind \"villain\"") && stderr.contains("character, place, object, lore, style_guide"), "{stderr}");
    // No such project.
    let lost = run(&db, &["bible", "add", "Mara", "--project", "Another Book", "--kind", "character"]);
    assert!(!lost.status.success());
    assert!(String::from_utf8_lossy(&lost.stderr).contains("no project titled \"Another Book\""), "{}", String::from_utf8_lossy(&lost.stderr));
    // A field without a value separator.
    let field = run(&db, &["bible", "add", "Mara", "--project", &project, "--kind", "character", "--field", "grey"]);
    assert!(!field.status.success() && String::from_utf8_lossy(&field.stderr).contains("NAME=VALUE"));

    let list = json(&db, &["bible", "list", "--project", &project, "--json"]);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"Mara Vell") && names.contains(&"Saltmouth") && names.contains(&"Tides"), "{names:?}");
    let table = atelier(&db, &["bible", "list", "--project", "The Salt Road"]);
    let row = |name: &str| table.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no {name} row: {table}")).to_string();
    assert!(table.lines().next().unwrap().contains("aliases"), "{table}");
    assert!(row("Mara Vell").contains("the Captain") && row("Mara Vell").contains("character") && !row("Mara Vell").contains("yes"), "{table}");
    assert!(row("Saltmouth").contains("yes"), "{table}");
    assert!(row("Tides").contains("(global)"), "{table}");

    // Show: every field, and the one scene that names her (by her alias only).
    let id = mara["id"].as_i64().unwrap().to_string();
    let shown = json(&db, &["bible", "show", &id, "--json"]);
    assert_eq!(shown["description"], "Harbour master of Saltmouth.");
    let scenes = shown["scenes"].as_array().unwrap();
    assert_eq!(scenes.len(), 1, "{scenes:?}");
    assert_eq!(scenes[0]["scene_id"].as_i64(), Some(scene_id(&tree, 0)));
    assert_eq!(scenes[0]["title"], "Scene 1");
    assert_eq!(scenes[0]["count"], 1);
    let text = atelier(&db, &["bible", "show", &id]);
    for expected in ["Mara Vell", "the Captain", "Harbour master of Saltmouth.", "Eyes: grey", "Age: 41", "Scene 1"] {
        assert!(text.contains(expected), "{expected:?} missing: {text}");
    }

    atelier(&db, &["bible", "delete", &id]);
    let list = json(&db, &["bible", "list", "--project", &project, "--json"]);
    assert!(list.as_array().unwrap().iter().all(|e| e["name"] != "Mara Vell"), "{list}");
    let gone = run(&db, &["bible", "show", &id]);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains(&format!("bible entry {id} does not exist")), "{}", String::from_utf8_lossy(&gone.stderr));
    assert!(!run(&db, &["bible", "delete", &id]).status.success());
}

#[test]
fn show_context_lists_the_style_guide_first_and_the_mentioned_entry_and_drop_takes_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let (db, project, tree) = library(dir.path());
    let mara = json(&db, &["bible", "add", "Mara Vell", "--project", &project, "--kind", "character", "--alias", "the Captain", "--field", "Eyes=grey", "--json"]);
    let mara_key = format!("entry:{}", mara["id"]);
    // Added after her, listed before her: the style guide leads the context.
    let style = json(&db, &["bible", "add", "House style", "--project", &project, "--kind", "style_guide", "--description", "Short sentences. No adverbs.", "--json"]);
    let style_key = format!("entry:{}", style["id"]);
    // Named nowhere in the scene and not pinned: not in its context.
    let ford = json(&db, &["bible", "add", "The Ford", "--project", &project, "--kind", "place", "--alias", "Crossing", "--json"]);
    let scene = scene_id(&tree, 0).to_string();

    let view = json(&db, &["write", "continue", "--scene", &scene, "--show-context", "--json"]);
    let items = view["items"].as_array().unwrap();
    assert_eq!(items[0]["key"].as_str(), Some(style_key.as_str()), "{view}");
    assert_eq!(items[0]["kind"], "style_guide");
    let item = items.iter().find(|i| i["key"] == mara_key.as_str()).unwrap_or_else(|| panic!("no {mara_key}: {view}"));
    assert!(item["tokens"].as_u64().unwrap() > 0, "{item}");
    assert_eq!(item["state"], "included");
    assert_eq!(item["reason"], "mentioned 1×");
    assert!(item["text"].as_str().unwrap().contains("Eyes: grey"), "{item}");
    assert!(items.iter().all(|i| i["key"] != format!("entry:{}", ford["id"]).as_str()), "{view}");
    assert!(items.iter().any(|i| i["key"] == "text" && i["text"].as_str().unwrap().contains("The Captain counted the masts")), "{view}");
    let included: u64 = items.iter().filter(|i| i["state"] == "included").map(|i| i["tokens"].as_u64().unwrap()).sum();
    assert_eq!(view["tokens"].as_u64(), Some(included));
    assert!(view["budget"].as_u64().unwrap() < view["context_length"].as_u64().unwrap());
    assert_eq!(view["project_id"].as_i64().unwrap().to_string(), project);
    assert_eq!(view["cloud_context"], false);

    // The table: one row an item, device-only unless the project allows cloud context, then totals.
    let table = atelier(&db, &["write", "continue", "--scene", &scene, "--show-context"]);
    let row = table.lines().find(|l| l.starts_with("Mara Vell (character)")).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("mentioned 1×") && row.contains("included") && row.trim_end().ends_with("device"), "{row}");
    assert!(table.lines().nth(1).unwrap().starts_with("House style (style guide)"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("Instruction (continue)") && l.trim_end().ends_with("cloud ok")), "{table}");
    assert!(table.contains(&format!("{} tokens of a {}-token budget (context length {}", view["tokens"], view["budget"], view["context_length"])), "{table}");

    // Dropped: still listed (so it can be put back), not counted.
    let dropped = json(&db, &["write", "continue", "--scene", &scene, "--show-context", "--drop", &mara_key, "--json"]);
    let item = dropped["items"].as_array().unwrap().iter().find(|i| i["key"] == mara_key.as_str()).unwrap().clone();
    assert_eq!(item["state"], "dropped");
    assert_eq!(dropped["tokens"].as_u64().unwrap() + item["tokens"].as_u64().unwrap(), view["tokens"].as_u64().unwrap());

    // Nothing ran: History is empty.
    let history = json(&db, &["history", "list", "--json"]);
    assert_eq!(history.as_array().map(Vec::len), Some(0), "{history}");
}
