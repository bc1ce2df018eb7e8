//! Finding a bible's names and aliases in a scene as the writer types: one Aho-Corasick automaton over
//! every name, matched case-insensitively (Unicode lower case) on whole words, the longest name winning
//! where names overlap ("Anna" inside "Anna Karenina").

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use atelier_store::BibleEntry;
use serde::Serialize;

/// Names indexed at most: a bible past this (10,000 entries with many aliases each) finds its first
/// names only, rather than building an automaton of hundreds of megabytes.
pub const MAX_NAMES: usize = 50_000;

/// One name found in the text. Offsets are UTF-16 code units (what the editor counts in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Mention {
    pub start: u32,
    pub end: u32,
    /// The entries that go by this name (usually one).
    pub entry_ids: Vec<i64>,
}

/// A bible's names, ready to be found.
pub struct MentionIndex {
    automaton: Option<AhoCorasick>,
    /// Per pattern: the entries with that name, and whether each end must sit on a word boundary.
    patterns: Vec<Pattern>,
}

struct Pattern {
    entries: Vec<i64>,
    bounded_start: bool,
    bounded_end: bool,
}

/// A match in byte offsets of the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub pattern: usize,
}

impl MentionIndex {
    pub fn new(entries: &[BibleEntry]) -> Self {
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut folded_names: Vec<String> = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        'entries: for entry in entries {
            for name in entry.names() {
                let folded = fold(name.trim()).text;
                if folded.is_empty() {
                    continue;
                }
                match by_name.get(&folded) {
                    Some(&i) => {
                        if !patterns[i].entries.contains(&entry.id) {
                            patterns[i].entries.push(entry.id);
                        }
                    }
                    None => {
                        if patterns.len() == MAX_NAMES {
                            break 'entries;
                        }
                        let first = folded.chars().next().expect("not empty");
                        let last = folded.chars().next_back().expect("not empty");
                        by_name.insert(folded.clone(), patterns.len());
                        patterns.push(Pattern { entries: vec![entry.id], bounded_start: needs_boundary(first), bounded_end: needs_boundary(last) });
                        folded_names.push(folded);
                    }
                }
            }
        }
        let automaton = if folded_names.is_empty() {
            None
        } else {
            // Standard semantics so that overlapping iteration sees every candidate; the choice between
            // overlapping names is made after the word-boundary check.
            AhoCorasickBuilder::new().match_kind(MatchKind::Standard).build(&folded_names).ok()
        };
        Self { automaton, patterns }
    }

    pub fn is_empty(&self) -> bool {
        self.automaton.is_none()
    }

    /// The names in `text`, in order, none overlapping, in byte offsets of `text`.
    pub fn find(&self, text: &str) -> Vec<Found> {
        let Some(automaton) = &self.automaton else { return Vec::new() };
        let folded = fold(text);
        let mut candidates: Vec<Found> = automaton
            .find_overlapping_iter(folded.text.as_str())
            .filter(|m| {
                let pattern = &self.patterns[m.pattern().as_usize()];
                (!pattern.bounded_start || !is_word_char_before(&folded.text, m.start()))
                    && (!pattern.bounded_end || !is_word_char_after(&folded.text, m.end()))
                    // A match must start and end on whole characters of the original text.
                    && folded.starts_char(m.start())
                    && folded.starts_char(m.end())
            })
            .map(|m| Found { start: folded.origin(m.start()), end: folded.origin(m.end()), pattern: m.pattern().as_usize() })
            .collect();
        // Leftmost first, the longest of those that start together; then no overlaps.
        candidates.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut kept: Vec<Found> = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            if kept.last().map_or(true, |last| candidate.start >= last.end) {
                kept.push(candidate);
            }
        }
        kept
    }

    /// The entries a match names.
    pub fn entries_of(&self, found: &Found) -> &[i64] {
        &self.patterns[found.pattern].entries
    }

    /// The names in `text` with UTF-16 offsets, for the editor.
    pub fn mentions(&self, text: &str) -> Vec<Mention> {
        let found = self.find(text);
        let mut offsets = Utf16Offsets::new(text);
        found
            .iter()
            .map(|f| Mention { start: offsets.at(f.start), end: offsets.at(f.end), entry_ids: self.entries_of(f).to_vec() })
            .collect()
    }

    /// How often each entry is named in `text`.
    pub fn counts(&self, text: &str) -> HashMap<i64, usize> {
        let mut counts = HashMap::new();
        for found in self.find(text) {
            for &entry in self.entries_of(&found) {
                *counts.entry(entry).or_insert(0) += 1;
            }
        }
        counts
    }
}

/// Text in lower case, with where each of its bytes came from in the original.
struct Folded {
    text: String,
    /// `origin[i]`: the original byte offset of the character that produced byte `i`; one more entry
    /// for the end.
    origins: Vec<u32>,
    /// Whether byte `i` starts the lower case of an original character (one more entry for the end).
    char_starts: Vec<bool>,
}

impl Folded {
    fn origin(&self, folded: usize) -> usize {
        self.origins[folded] as usize
    }

    fn starts_char(&self, folded: usize) -> bool {
        self.char_starts[folded]
    }
}

fn fold(text: &str) -> Folded {
    let mut folded = Folded { text: String::with_capacity(text.len()), origins: Vec::with_capacity(text.len() + 1), char_starts: Vec::with_capacity(text.len() + 1) };
    for (offset, c) in text.char_indices() {
        let before = folded.text.len();
        if c.is_ascii() {
            folded.text.push(c.to_ascii_lowercase());
        } else {
            folded.text.extend(c.to_lowercase());
        }
        for i in before..folded.text.len() {
            folded.origins.push(offset as u32);
            folded.char_starts.push(i == before);
        }
    }
    folded.origins.push(text.len() as u32);
    folded.char_starts.push(true);
    folded
}

/// Letters, digits and combining marks make words; a name must not start or end inside one.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining_mark(c)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Scripts written without spaces between words (Chinese, Japanese) have no boundaries to check.
fn needs_boundary(c: char) -> bool {
    is_word_char(c) && !matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

fn is_word_char_before(text: &str, at: usize) -> bool {
    text[..at].chars().next_back().is_some_and(is_word_char)
}

fn is_word_char_after(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_some_and(is_word_char)
}

/// Byte offsets to UTF-16 offsets, for offsets asked in increasing order (one pass over the text).
struct Utf16Offsets<'a> {
    text: &'a str,
    byte: usize,
    utf16: u32,
}

impl<'a> Utf16Offsets<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, byte: 0, utf16: 0 }
    }

    fn at(&mut self, byte: usize) -> u32 {
        if byte < self.byte {
            // Asked out of order (an end before the next start never happens; a restart is cheap enough).
            self.byte = 0;
            self.utf16 = 0;
        }
        for c in self.text[self.byte..byte].chars() {
            self.utf16 += c.len_utf16() as u32;
        }
        self.byte = byte;
        self.utf16
    }
}

#[cfg(test)]
mod tests {
    use atelier_store::EntryKind;

    use super::*;

    fn entry(id: i64, name: &str, aliases: &[&str]) -> BibleEntry {
        BibleEntry {
            id,
            project_id: Some(1),
            kind: EntryKind::Character,
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            description: String::new(),
            fields: Vec::new(),
            pinned: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn found<'t>(index: &MentionIndex, text: &'t str) -> Vec<(&'t str, Vec<i64>)> {
        index.find(text).iter().map(|f| (&text[f.start..f.end], index.entries_of(f).to_vec())).collect()
    }

    #[test]
    fn names_and_aliases_are_found_ignoring_case_on_whole_words() {
        let index = MentionIndex::new(&[entry(1, "Mara Vell", &["Mara", "the Captain"]), entry(2, "Kestrel", &[])]);
        let text = "MARA looked at the kestrel. The captain's orders were clear; Marathon runners, Kestrels and marA.";
        assert_eq!(found(&index, text), vec![("MARA", vec![1]), ("kestrel", vec![2]), ("The captain", vec![1]), ("marA", vec![1])]);
    }

    #[test]
    fn the_longest_of_overlapping_names_wins_and_a_failed_long_name_leaves_the_short_one() {
        let index = MentionIndex::new(&[entry(1, "Anna", &[]), entry(2, "Anna Karenina", &[]), entry(3, "Karenina Station", &[])]);
        assert_eq!(found(&index, "Anna Karenina Station."), vec![("Anna Karenina", vec![2])]);
        // "Anna Kareninas" is not a whole-word "Anna Karenina": "Anna" alone is.
        assert_eq!(found(&index, "Anna Kareninas"), vec![("Anna", vec![1])]);
        assert_eq!(found(&index, "at Karenina Station"), vec![("Karenina Station", vec![3])]);
    }

    #[test]
    fn one_name_shared_by_two_entries_names_both() {
        let index = MentionIndex::new(&[entry(1, "Tomas", &["the twin"]), entry(2, "Tobias", &["The Twin"])]);
        assert_eq!(found(&index, "and the twin said"), vec![("the twin", vec![1, 2])]);
    }

    #[test]
    fn unicode_names_fold_case_and_respect_boundaries() {
        let index = MentionIndex::new(&[entry(1, "Ærøskøbing", &[]), entry(2, "Σοφία", &[]), entry(3, "İzmir", &[]), entry(4, "José", &[]), entry(5, "李明", &[])]);
        let text = "From ÆRØSKØBING to σοφία's house; İZMIR and izmir; José and Jose\u{301}; 李明说话。";
        let names: Vec<&str> = found(&index, text).into_iter().map(|(t, _)| t).collect();
        assert_eq!(names, vec!["ÆRØSKØBING", "σοφία", "İZMIR", "José", "李明"]);
        // A combining accent continues the word: "Jos" is not found in "Jose\u{301}".
        let index = MentionIndex::new(&[entry(1, "Jos", &[])]);
        assert!(found(&index, "Jose\u{301} left").is_empty());
        assert_eq!(found(&index, "Jos left"), vec![("Jos", vec![1])]);
    }

    #[test]
    fn offsets_for_the_editor_count_utf16_units() {
        let index = MentionIndex::new(&[entry(7, "Mara", &[])]);
        let text = "😀 é Mara";
        let mentions = index.mentions(text);
        // 😀 is two UTF-16 units, é one, spaces one each.
        assert_eq!(mentions, vec![Mention { start: 5, end: 9, entry_ids: vec![7] }]);
        let utf16: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(String::from_utf16(&utf16[5..9]).unwrap(), "Mara");
    }

    #[test]
    fn an_empty_bible_or_blank_names_find_nothing() {
        assert!(MentionIndex::new(&[]).find("anything").is_empty());
        assert!(MentionIndex::new(&[entry(1, "  ", &[""])]).is_empty());
        let index = MentionIndex::new(&[entry(1, "Ash", &[])]);
        assert!(found(&index, "").is_empty());
        assert_eq!(index.counts("Ash, ash and ASH. Ashes."), HashMap::from([(1, 3)]));
    }
}
