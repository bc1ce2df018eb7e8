//! Suggestions for fixture passages against a golden file: the hunks a rewrite, a shortening, an
//! expansion and a continuation become, with their sources; and every hunk accepted gives the revision
//! back, every hunk rejected the original, any mix something in between.

use atelier_manuscript::{apply_suggestions, suggestions, SourceAnswer};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/suggestions.json");

struct Fixture {
    name: &'static str,
    original: &'static str,
    revised: &'static str,
    answers: &'static [(&'static str, &'static str)],
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "rewrite",
        original: "The boat left the harbour in the morning. Everyone was sad.",
        revised: "The boat slipped out of the harbour at first light. Nobody on the quay spoke.",
        answers: &[("A", "The boat slipped out of the harbour at dawn."), ("B", "At first light the boat left; nobody on the quay spoke.")],
    },
    Fixture {
        name: "shorten",
        original: "She walked slowly and carefully down the long, narrow, winding staircase, one step at a time, holding the cold iron rail.",
        revised: "She crept down the winding staircase, holding the cold iron rail.",
        answers: &[("A", "She crept down the winding staircase."), ("B", "Down the staircase she went, holding the rail.")],
    },
    Fixture {
        name: "expand",
        original: "Mara opened the letter.\n\nIt was blank.",
        revised: "Mara opened the letter with her thumbnail, the wax cracking like ice.\n\nIt was blank, except for a thumbprint in the corner.",
        answers: &[("A", "Mara opened the letter with her thumbnail, the wax cracking like ice."), ("B", "It was blank, except for a thumbprint in the corner.")],
    },
    Fixture {
        name: "continue",
        original: "",
        revised: "The ferry horn sounded twice, and the fog swallowed it.",
        answers: &[("A", "The ferry horn sounded twice, and the fog swallowed it.")],
    },
];

#[test]
fn fixture_passages_give_the_golden_suggestions_and_apply_back() {
    let mut rendered = serde_json::Map::new();
    for f in FIXTURES {
        let answers: Vec<SourceAnswer> = f.answers.iter().map(|(n, t)| SourceAnswer { name: n.to_string(), text: t.to_string() }).collect();
        let hunks = suggestions(f.original, f.revised, &answers);
        assert!(!hunks.is_empty(), "{}", f.name);
        assert_eq!(apply_suggestions(f.original, &hunks, &vec![true; hunks.len()]), f.revised, "{}: all accepted", f.name);
        assert_eq!(apply_suggestions(f.original, &hunks, &vec![false; hunks.len()]), f.original, "{}: all rejected", f.name);
        // Accepting only the first hunk changes only its range.
        let first_only = apply_suggestions(f.original, &hunks, &[true]);
        let units: Vec<u16> = f.original.encode_utf16().collect();
        assert_eq!(first_only.encode_utf16().take(hunks[0].from).collect::<Vec<_>>(), units[..hunks[0].from].to_vec(), "{}", f.name);
        rendered.insert(f.name.to_string(), serde_json::to_value(&hunks).unwrap());
    }
    let rendered = serde_json::to_string_pretty(&rendered).unwrap() + "\n";
    if std::env::var("ATELIER_UPDATE_GOLDEN").is_ok() {
        std::fs::write(GOLDEN, &rendered).unwrap();
    }
    let golden = std::fs::read_to_string(GOLDEN).expect("the golden file (ATELIER_UPDATE_GOLDEN=1 writes it)");
    assert_eq!(rendered, golden, "the suggestions changed; if that is intended, rerun with ATELIER_UPDATE_GOLDEN=1");
}
