//! Side-by-side diff of two versions of a scene, for its history: one row per paragraph (line), a
//! removed paragraph paired with an added one as a single `Changed` row, and inside a changed row the
//! words that differ. Work is bounded: inputs over 2 MB get line-level rows only, and every diff has a
//! deadline after which `similar` settles for a coarser (still correct) answer.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use similar::{capture_diff_slices_deadline, Algorithm, DiffOp};

/// Above this many bytes in either version, rows carry no word spans.
const WORD_LEVEL_LIMIT: usize = 2 * 1024 * 1024;
const DEADLINE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DiffChange {
    Same,
    Removed,
    Added,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Span {
    pub text: String,
    pub changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DiffRow {
    pub left: Option<String>,
    pub right: Option<String>,
    pub change: DiffChange,
    /// The left text in pieces, the differing ones `changed` (only on `Changed` rows, else empty).
    pub left_spans: Vec<Span>,
    pub right_spans: Vec<Span>,
}

impl DiffRow {
    fn one_sided(left: Option<&str>, right: Option<&str>, change: DiffChange) -> DiffRow {
        DiffRow { left: left.map(str::to_string), right: right.map(str::to_string), change, left_spans: Vec::new(), right_spans: Vec::new() }
    }
}

/// Paragraphs: non-blank lines, trailing whitespace trimmed (a blank-line change is not a change).
fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect()
}

fn line_ops(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(Instant::now() + DEADLINE))
}

pub fn side_by_side(old: &str, new: &str) -> Vec<DiffRow> {
    let (old_lines, new_lines) = (lines(old), lines(new));
    let word_level = old.len() <= WORD_LEVEL_LIMIT && new.len() <= WORD_LEVEL_LIMIT;
    let mut rows = Vec::with_capacity(old_lines.len().max(new_lines.len()));
    for op in line_ops(&old_lines, &new_lines) {
        match op {
            DiffOp::Equal { old_index, new_index, len } => {
                for i in 0..len {
                    rows.push(DiffRow::one_sided(Some(old_lines[old_index + i]), Some(new_lines[new_index + i]), DiffChange::Same));
                }
            }
            DiffOp::Delete { old_index, old_len, .. } => {
                rows.extend(old_lines[old_index..old_index + old_len].iter().map(|l| DiffRow::one_sided(Some(l), None, DiffChange::Removed)));
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                rows.extend(new_lines[new_index..new_index + new_len].iter().map(|l| DiffRow::one_sided(None, Some(l), DiffChange::Added)));
            }
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                let paired = old_len.min(new_len);
                for i in 0..paired {
                    let (left, right) = (old_lines[old_index + i], new_lines[new_index + i]);
                    let (left_spans, right_spans) = if word_level { word_spans(left, right) } else { (Vec::new(), Vec::new()) };
                    rows.push(DiffRow { left: Some(left.to_string()), right: Some(right.to_string()), change: DiffChange::Changed, left_spans, right_spans });
                }
                for l in &old_lines[old_index + paired..old_index + old_len] {
                    rows.push(DiffRow::one_sided(Some(l), None, DiffChange::Removed));
                }
                for l in &new_lines[new_index + paired..new_index + new_len] {
                    rows.push(DiffRow::one_sided(None, Some(l), DiffChange::Added));
                }
            }
        }
    }
    rows
}

/// Words and the whitespace between them, as separate tokens (so a changed word is its own span).
pub(crate) fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut space = None;
    for (i, c) in text.char_indices() {
        let is_space = c.is_whitespace();
        if space.is_some_and(|s| s != is_space) {
            out.push(&text[start..i]);
            start = i;
        }
        space = Some(is_space);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn push_span(spans: &mut Vec<Span>, text: &str, changed: bool) {
    match spans.last_mut() {
        Some(last) if last.changed == changed => last.text.push_str(text),
        _ => spans.push(Span { text: text.to_string(), changed }),
    }
}

fn word_spans(old: &str, new: &str) -> (Vec<Span>, Vec<Span>) {
    let (old_tokens, new_tokens) = (tokens(old), tokens(new));
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for op in capture_diff_slices_deadline(Algorithm::Myers, &old_tokens, &new_tokens, Some(Instant::now() + DEADLINE)) {
        let (old_range, new_range) = (op.old_range(), op.new_range());
        let changed = !matches!(op, DiffOp::Equal { .. });
        for t in &old_tokens[old_range] {
            push_span(&mut left, t, changed);
        }
        for t in &new_tokens[new_range] {
            push_span(&mut right, t, changed);
        }
    }
    (left, right)
}

/// Words added and removed between two versions: whole paragraphs added or removed count in full,
/// changed paragraphs by their differing words (over 2 MB, changed paragraphs count in full too).
pub fn diff_stats(old: &str, new: &str) -> (usize, usize) {
    let (mut added, mut removed) = (0, 0);
    for row in side_by_side(old, new) {
        match row.change {
            DiffChange::Same => {}
            DiffChange::Removed => removed += row.left.as_deref().map_or(0, crate::word_count),
            DiffChange::Added => added += row.right.as_deref().map_or(0, crate::word_count),
            DiffChange::Changed if row.left_spans.is_empty() && row.right_spans.is_empty() => {
                removed += row.left.as_deref().map_or(0, crate::word_count);
                added += row.right.as_deref().map_or(0, crate::word_count);
            }
            DiffChange::Changed => {
                removed += row.left_spans.iter().filter(|s| s.changed).map(|s| crate::word_count(&s.text)).sum::<usize>();
                added += row.right_spans.iter().filter(|s| s.changed).map(|s| crate::word_count(&s.text)).sum::<usize>();
            }
        }
    }
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(rows: &[DiffRow]) -> Vec<DiffChange> {
        rows.iter().map(|r| r.change).collect()
    }

    #[test]
    fn rows_pair_a_replaced_paragraph_and_keep_the_rest() {
        let old = "The fog lifted.\n\nBoats went out.\n\nGulls cried.";
        let new = "The fog lifted.\n\nThe boats went out early.\n\nGulls cried.\n\nNight fell.";
        let rows = side_by_side(old, new);
        assert_eq!(changes(&rows), [DiffChange::Same, DiffChange::Changed, DiffChange::Same, DiffChange::Added]);
        assert_eq!(rows[1].left.as_deref(), Some("Boats went out."));
        assert_eq!(rows[1].right.as_deref(), Some("The boats went out early."));
        assert_eq!(rows[3].left, None);
        assert!(rows[0].left_spans.is_empty() && rows[3].right_spans.is_empty());
    }

    #[test]
    fn word_spans_mark_only_the_differing_words() {
        let rows = side_by_side("She walked to the old harbour.", "She ran to the harbour.");
        assert_eq!(changes(&rows), [DiffChange::Changed]);
        let render = |spans: &[Span]| spans.iter().map(|s| if s.changed { format!("[{}]", s.text) } else { s.text.clone() }).collect::<String>();
        assert_eq!(render(&rows[0].left_spans), "She [walked] to the[ old] harbour.");
        assert_eq!(render(&rows[0].right_spans), "She [ran] to the harbour.");
        // The spans put back together are the texts.
        assert_eq!(rows[0].left_spans.iter().map(|s| s.text.as_str()).collect::<String>(), "She walked to the old harbour.");
    }

    #[test]
    fn unequal_replacements_spill_into_removed_and_added_rows() {
        let rows = side_by_side("a\nb\nc", "x\ny");
        assert_eq!(changes(&rows), [DiffChange::Changed, DiffChange::Changed, DiffChange::Removed]);
        let rows = side_by_side("", "one\ntwo");
        assert_eq!(changes(&rows), [DiffChange::Added, DiffChange::Added]);
        assert!(side_by_side("same", "same").iter().all(|r| r.change == DiffChange::Same));
    }

    #[test]
    fn huge_inputs_get_line_rows_without_spans() {
        let old = "word ".repeat(450_000) + "\nend";
        let new = "word ".repeat(450_000) + "\nfinish";
        let rows = side_by_side(&old, &new);
        assert_eq!(changes(&rows), [DiffChange::Same, DiffChange::Changed]);
        assert!(rows[1].left_spans.is_empty());
    }

    #[test]
    fn stats_count_added_and_removed_words() {
        assert_eq!(diff_stats("She walked to the old harbour.", "She ran to the harbour."), (1, 2));
        assert_eq!(diff_stats("one two\nthree", "one two"), (0, 1));
        assert_eq!(diff_stats("", "a b c"), (3, 0));
    }
}
