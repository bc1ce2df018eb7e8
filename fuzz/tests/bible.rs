//! Fuzz target for the story bible's readers of untrusted text: names and a scene (any Unicode, from a
//! library bundle or a paste) through the mention index, and a model's answer through the continuity
//! check's lenient reader. Never a panic; every mention lies on whole characters of the text, in
//! order, without overlaps; a report stays bounded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use atelier_fuzz::{Bytes, Guard};
use atelier_store::{BibleEntry, EntryKind};
use atelier_studio::bible::mentions::MentionIndex;
use atelier_studio::context::Sources;

fn crash_path(target: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{target}.abort-input"))
}

/// Names from the first part of the input (one a line), the text from the rest; short inputs borrow
/// awkward seeds so the search reaches case folding that changes lengths (İ, ß, Σ) and combining marks.
fn split(input: &[u8]) -> (Vec<BibleEntry>, String) {
    let mut r = Bytes::new(input);
    let names_len = r.u8() as usize;
    let names = String::from_utf8_lossy(r.take(names_len)).to_string();
    let mut text = String::from_utf8_lossy(r.rest()).to_string();
    let seeds = ["İzmir", "Straße", "ΣΟΦΊΑ", "Jose\u{301}", "李明", "Anna Karenina", "anna"];
    let mut lines: Vec<String> = names.lines().map(str::to_string).collect();
    if lines.len() < 3 {
        lines.extend(seeds.iter().map(|s| s.to_string()));
        text.push_str(" İZMIR straße σοφία José\u{301} 李明说 Anna Kareninas ANNA");
    }
    let entries = lines
        .chunks(2)
        .enumerate()
        .map(|(i, names)| BibleEntry {
            id: i as i64 + 1,
            project_id: Some(1),
            kind: EntryKind::Character,
            name: names[0].clone(),
            aliases: names[1..].to_vec(),
            description: String::new(),
            fields: Vec::new(),
            pinned: false,
            created_at: 0,
            updated_at: 0,
        })
        .collect();
    (entries, text)
}

#[test]
fn bible_mentions_and_findings() {
    let guard = Guard::new(crash_path("bible_mentions_and_findings"));
    atelier_fuzz::limit_address_space(2 << 30);
    bolero::check!().with_test_time(atelier_fuzz::test_time()).with_max_len(16 << 10).for_each(|input: &[u8]| {
        guard.run(input, || {
            let (entries, text) = split(input);
            let index = MentionIndex::new(&entries);
            let found = index.find(&text);
            let mut end = 0;
            for f in &found {
                assert!(f.start >= end && f.start < f.end && f.end <= text.len(), "{f:?} after {end} in {} bytes", text.len());
                assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                assert!(!index.entries_of(f).is_empty());
                end = f.end;
            }
            let units = text.encode_utf16().count() as u32;
            let mentions = index.mentions(&text);
            assert_eq!(mentions.len(), found.len());
            assert!(mentions.iter().all(|m| m.start < m.end && m.end <= units));

            let sources = Sources { index: Some(Arc::new(index)), entries: Arc::new(entries), project_id: Some(1), ..Default::default() };
            let (issues, _) = atelier_studio::continuity::read_findings(&text, &sources, &[(1, 1, "Scene".into())]);
            assert!(issues.len() <= 100);
        })
    });
}
