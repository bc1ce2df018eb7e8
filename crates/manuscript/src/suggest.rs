//! A revised passage as suggestions against the original: word-level hunks the writer accepts or
//! rejects one by one, each attributed to the answers it came from (the panel members whose own text
//! holds its new words), or to the judge where none does. Offsets are UTF-16 code units into the
//! original passage, as the editor counts them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use similar::{capture_diff_slices_deadline, Algorithm, DiffOp};

use crate::diff::tokens;

const DEADLINE: Duration = Duration::from_millis(500);
/// An inserted run is credited to each answer holding at least this share of its word pairs (a judge
/// that merges two answers into one sentence draws on both).
const ATTRIBUTION_SHARE: f64 = 0.25;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Suggestion {
    /// The replaced range of the original, in UTF-16 code units (`from == to`: a pure insertion).
    pub from: usize,
    pub to: usize,
    /// What the range holds now, and what the revision puts there (empty: a deletion).
    pub delete: String,
    pub insert: String,
    /// The answers this change came from, by name; empty when only the judge wrote it.
    pub sources: Vec<String>,
}

/// One answer the revision may have drawn on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SourceAnswer {
    pub name: String,
    pub text: String,
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Lower-cased words, for matching an insertion against the answers whatever their punctuation.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

fn pairs(words: &[String]) -> HashSet<(String, String)> {
    words.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect()
}

/// The answers holding most of `insert`'s word pairs (or, for a one-word insertion, the word).
fn attribute(insert: &str, answers: &[(String, Vec<String>, HashSet<(String, String)>)]) -> Vec<String> {
    let inserted = words(insert);
    if inserted.is_empty() {
        return Vec::new();
    }
    let wanted = pairs(&inserted);
    answers
        .iter()
        .filter(|(_, answer_words, answer_pairs)| {
            if wanted.is_empty() {
                answer_words.contains(&inserted[0])
            } else {
                let held = wanted.iter().filter(|p| answer_pairs.contains(*p)).count();
                held > 0 && held as f64 >= (ATTRIBUTION_SHARE * wanted.len() as f64).ceil()
            }
        })
        .map(|(name, _, _)| name.clone())
        .collect()
}

/// The revision of `original` as hunks; neighbouring changes separated only by whitespace are one hunk.
pub fn suggestions(original: &str, revised: &str, answers: &[SourceAnswer]) -> Vec<Suggestion> {
    let (old, new) = (tokens(original), tokens(revised));
    let indexed: Vec<(String, Vec<String>, HashSet<(String, String)>)> = answers
        .iter()
        .map(|a| {
            let w = words(&a.text);
            let p = pairs(&w);
            (a.name.clone(), w, p)
        })
        .collect();
    let ops = capture_diff_slices_deadline(Algorithm::Patience, &old, &new, Some(Instant::now() + DEADLINE));
    // Old-token ranges with their new-token ranges; a change, a run of whitespace and another change
    // make one hunk ("shuffled down" for "walked slowly down"), anything else between them does not.
    type Range = std::ops::Range<usize>;
    let mut hunks: Vec<(Range, Range)> = Vec::new();
    let mut open: Option<(Range, Range)> = None;
    let mut held_space = false;
    for op in ops {
        let (o, n) = (op.old_range(), op.new_range());
        if matches!(op, DiffOp::Equal { .. }) {
            let whitespace = old[o.clone()].iter().all(|t| t.trim().is_empty());
            if !whitespace {
                hunks.extend(open.take());
            }
            held_space = whitespace && open.is_some();
            continue;
        }
        open = match open.take() {
            Some((mut ho, mut hn)) if held_space || (ho.end == o.start && hn.end == n.start) => {
                ho.end = o.end;
                hn.end = n.end;
                Some((ho, hn))
            }
            previous => {
                hunks.extend(previous);
                Some((o, n))
            }
        };
        held_space = false;
    }
    hunks.extend(open);
    let mut offsets = Vec::with_capacity(old.len() + 1);
    let mut at = 0;
    for t in &old {
        offsets.push(at);
        at += utf16_len(t);
    }
    offsets.push(at);
    hunks
        .into_iter()
        .map(|(o, n)| {
            let insert: String = new[n].concat();
            Suggestion { from: offsets[o.start], to: offsets[o.end], delete: old[o].concat(), sources: attribute(&insert, &indexed), insert }
        })
        .collect()
}

/// Four-letter-or-longer words too common to say whose idea a change was.
const COMMON: &[&str] = &["that", "this", "with", "from", "there", "their", "they", "them", "then", "than", "have", "were", "when", "what", "into", "over", "upon", "about", "which", "would", "could", "been", "more", "some"];

/// Words that carry meaning, for matching a change against a judge's note.
fn content_words(text: &str) -> HashSet<String> {
    words(text).into_iter().filter(|w| w.chars().count() >= 4 && !COMMON.contains(&w.as_str())).collect()
}

/// Credits each change to the answers a judge's note names for it: a note (an answer's name and what
/// the judge found unique in it) shares at least two content words with the change's new text (its one
/// word, for a one-word change). The
/// judge may paraphrase an answer's idea in words that answer never used; its note still says whose
/// idea it was.
pub fn credit_notes(suggestions: &mut [Suggestion], notes: &[SourceAnswer]) {
    let notes: Vec<(&str, HashSet<String>)> = notes.iter().map(|n| (n.name.as_str(), content_words(&n.text))).collect();
    for suggestion in suggestions.iter_mut() {
        let inserted = content_words(&suggestion.insert);
        let needed = inserted.len().min(2);
        for (name, note) in &notes {
            if needed > 0 && inserted.intersection(note).count() >= needed && !suggestion.sources.iter().any(|s| s == name) {
                suggestion.sources.push(name.to_string());
            }
        }
    }
}

/// `original` with the suggestions in `accepted` applied (the rest rejected).
pub fn apply(original: &str, suggestions: &[Suggestion], accepted: &[bool]) -> String {
    let units: Vec<u16> = original.encode_utf16().collect();
    let mut out: Vec<u16> = Vec::with_capacity(units.len());
    let mut at = 0;
    for (s, keep) in suggestions.iter().zip(accepted.iter().chain(std::iter::repeat(&false))) {
        let from = s.from.min(units.len());
        let to = s.to.clamp(from, units.len());
        if from < at {
            continue;
        }
        out.extend_from_slice(&units[at..from]);
        if *keep {
            out.extend(s.insert.encode_utf16());
        } else {
            out.extend_from_slice(&units[from..to]);
        }
        at = to;
    }
    out.extend_from_slice(&units[at..]);
    String::from_utf16_lossy(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepting_everything_gives_the_revision_and_rejecting_everything_the_original() {
        let original = "The old man walked slowly down to the sea, and he looked at the boats.";
        let revised = "The old man shuffled down to the grey sea and watched the boats.";
        let hunks = suggestions(original, revised, &[]);
        assert!(hunks.len() >= 2, "{hunks:?}");
        assert_eq!(apply(original, &hunks, &vec![true; hunks.len()]), revised);
        assert_eq!(apply(original, &hunks, &[]), original);
    }

    #[test]
    fn offsets_count_utf16_units_as_the_editor_does() {
        let original = "Café — naïve 😀 words here.";
        let revised = "Café — naïve 😀 new words here.";
        let hunks = suggestions(original, revised, &[]);
        assert_eq!(hunks.len(), 1);
        let prefix: String = original.encode_utf16().take(hunks[0].from).map(|u| u as u32).filter_map(char::from_u32).collect();
        assert!(prefix.starts_with("Caf"));
        assert_eq!(hunks[0].insert.trim(), "new");
        assert_eq!(apply(original, &hunks, &[true]), revised);
    }

    #[test]
    fn a_judge_note_credits_the_change_it_describes_and_no_other() {
        let mut hunks = suggestions("The birds were awake.", "The birds were awake. Gulls spoke first, before the bells.", &[]);
        assert!(hunks.iter().all(|h| h.sources.is_empty()));
        let notes = [
            SourceAnswer { name: "B · loop:editor".into(), text: "Lets the gulls speak first.".into() },
            SourceAnswer { name: "A · loop:polisher".into(), text: "Keeps the bells.".into() },
        ];
        credit_notes(&mut hunks, &notes);
        credit_notes(&mut hunks, &notes);
        let credited: Vec<&String> = hunks.iter().flat_map(|h| &h.sources).collect();
        assert_eq!(credited, [&"B · loop:editor".to_string()], "{hunks:?}");
    }

    #[test]
    fn a_change_is_credited_to_the_answers_that_hold_its_words() {
        let answers = [
            SourceAnswer { name: "B".into(), text: "The gulls woke first over the grey water.".into() },
            SourceAnswer { name: "C".into(), text: "Dawn came like a bruise.".into() },
        ];
        let hunks = suggestions("The birds were awake.", "The gulls woke first. Dawn came like a bruise.", &answers);
        let sources: Vec<String> = hunks.iter().flat_map(|h| h.sources.clone()).collect();
        assert!(sources.contains(&"B".to_string()) && sources.contains(&"C".to_string()), "{hunks:?}");
        let invented = suggestions("The birds were awake.", "The starlings sang.", &answers);
        assert!(invented.iter().all(|h| h.sources.is_empty()), "{invented:?}");
    }
}
