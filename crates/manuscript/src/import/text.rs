//! Plain-text import: the convention `crate::text` writes, and manuscripts typed anywhere.
//!
//! - A title block: the first line, when a `by …` line follows it (or two blank lines do).
//! - Headings, each on a line of its own after a blank line (or at the top):
//!   - underlined with `=` (a part) or `-` (a chapter), the underline at least half the heading's width;
//!   - `Chapter 1`, `CHAPTER ONE`, `Chapter XII`, `Chapter 3: The Ford` (any case; the number in digits,
//!     words or roman numerals; a title after `:`, `.`, `-`, `–` or `—`); `Part …` and `Book …` the same
//!     way are parts; `Prologue`, `Epilogue`, `Interlude`, `Afterword` are chapters.
//! - `#`, `***`, `* * *`, `---`, `⁂` alone on a line are scene breaks.
//! - Paragraphs: blank-line separated (hard-wrapped lines joined), or one a line when a scene has no
//!   blank lines at all.

use super::{Builder, Join};
use crate::error::Result;
use crate::model::is_scene_break;

pub(crate) fn import(text: &str) -> Result<crate::Manuscript> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut builder = Builder::new(Join::Auto);
    let mut i = title_block(&lines, &mut builder);
    let mut prev_blank = true;
    while i < lines.len() {
        let line = lines[i].trim();
        i += 1;
        if line.is_empty() {
            builder.blank();
            prev_blank = true;
            continue;
        }
        if prev_blank && line.chars().count() <= 100 {
            if let Some(mark) = lines.get(i).and_then(|next| underline(next, line)) {
                if mark == '=' {
                    builder.part(line)?;
                } else {
                    builder.chapter(line)?;
                }
                i += 1;
                prev_blank = true;
                continue;
            }
            match numbered_heading(line) {
                Some(Heading::Part) => {
                    builder.part(line)?;
                    prev_blank = true;
                    continue;
                }
                Some(Heading::Chapter) => {
                    builder.chapter(line)?;
                    prev_blank = true;
                    continue;
                }
                None => {}
            }
        }
        if is_scene_break(line) {
            builder.scene_break()?;
            prev_blank = true;
            continue;
        }
        builder.line(line);
        prev_blank = false;
    }
    builder.finish()
}

fn title_block(lines: &[&str], builder: &mut Builder) -> usize {
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else { return lines.len() };
    let title = lines[first].trim();
    if numbered_heading(title).is_some() || is_scene_break(title) || lines.get(first + 1).and_then(|n| underline(n, title)).is_some() {
        return first;
    }
    let next = lines.get(first + 1).map(|l| l.trim()).unwrap_or("");
    if let Some(author) = next.strip_prefix("by ").or_else(|| next.strip_prefix("By ")).or_else(|| next.strip_prefix("BY ")) {
        builder.title = title.to_string();
        builder.author = author.trim().to_string();
        return first + 2;
    }
    let blanks_after = lines[first + 1..].iter().take_while(|l| l.trim().is_empty()).count();
    if blanks_after >= 2 && first + 1 + blanks_after < lines.len() {
        builder.title = title.to_string();
        return first + 1;
    }
    first
}

/// The underline character when `next` underlines `heading` (`=` or `-`, at least 3 and at least half
/// as wide as the heading).
fn underline(next: &str, heading: &str) -> Option<char> {
    let next = next.trim();
    let mark = next.chars().next()?;
    if !matches!(mark, '=' | '-') || !next.chars().all(|c| c == mark) {
        return None;
    }
    let width = next.chars().count();
    (width >= 3 && width * 2 >= heading.chars().count()).then_some(mark)
}

#[derive(Debug, PartialEq, Eq)]
enum Heading {
    Part,
    Chapter,
}

fn numbered_heading(line: &str) -> Option<Heading> {
    let lower = line.to_lowercase();
    for word in ["prologue", "epilogue", "interlude", "afterword"] {
        if let Some(rest) = lower.strip_prefix(word) {
            if rest.is_empty() || separator_then_title(rest) {
                return Some(Heading::Chapter);
            }
        }
    }
    let (kind, rest) = if let Some(rest) = lower.strip_prefix("chapter") {
        (Heading::Chapter, rest)
    } else if let Some(rest) = lower.strip_prefix("part").or_else(|| lower.strip_prefix("book")) {
        (Heading::Part, rest)
    } else {
        return None;
    };
    let rest = rest.strip_prefix([' ', '\t'])?.trim_start();
    // The number: the longest run of words that reads as one, then an end or a separator.
    let end = number_len(rest)?;
    let after = &rest[end..];
    (after.trim().is_empty() || separator_then_title(after)).then_some(kind)
}

fn separator_then_title(rest: &str) -> bool {
    let rest = rest.trim_start();
    rest.starts_with([':', '.', '-', '–', '—'])
}

const NUMBER_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty",
    "seventy", "eighty", "ninety", "hundred", "and", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
    "eighth", "ninth", "tenth", "last", "final",
];

/// Bytes of `text` taken by a leading number: digits, a roman numeral, or number words (`twenty-one`).
fn number_len(text: &str) -> Option<usize> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        return Some(digits);
    }
    let token_end = |s: &str| s.find(|c: char| !c.is_alphanumeric()).unwrap_or(s.len());
    let first = &text[..token_end(text)];
    if !first.is_empty() && first.len() <= 8 && first.chars().all(|c| "ivxlcdm".contains(c)) {
        return Some(first.len());
    }
    // Number words, joined by spaces or hyphens ("twenty-one", "one hundred and two").
    let mut end = 0;
    let mut rest = text;
    loop {
        let word = &rest[..token_end(rest)];
        if word.is_empty() || !NUMBER_WORDS.contains(&word) || (word == "and" && end == 0) {
            break;
        }
        end = text.len() - rest.len() + word.len();
        rest = &rest[word.len()..];
        match rest.strip_prefix(['-', ' ']) {
            Some(next) if next.starts_with(|c: char| c.is_alphabetic()) => rest = next,
            _ => break,
        }
    }
    (end > 0).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_headings() {
        for yes in ["Chapter 1", "CHAPTER ONE", "Chapter XII", "Chapter 3: The Ford", "chapter twenty-one — Home", "Part Two", "Prologue", "Chapter 4."] {
            assert!(numbered_heading(yes).is_some(), "{yes}");
        }
        for no in ["Chapter one was the hardest.", "Chapters", "Parting words", "Chapter", "Partly cloudy: rain"] {
            assert_eq!(numbered_heading(no), None, "{no}");
        }
        assert_eq!(numbered_heading("Book III"), Some(Heading::Part));
    }

    #[test]
    fn title_block_chapters_and_breaks() {
        let m = import("The Book\nby Ann Lee\n\n\nChapter One\n\nIt was\nlate.\n\nShe left.\n\n* * *\n\nMorning.\n\nCHAPTER TWO: Rain\nWet.\n").unwrap();
        assert_eq!((m.title.as_str(), m.author.as_str()), ("The Book", "Ann Lee"));
        assert_eq!(m.chapters.len(), 2);
        assert_eq!(m.chapters[0].scenes.len(), 2);
        assert_eq!(m.chapters[0].scenes[0].text, "It was late.\n\nShe left.");
        assert_eq!(m.chapters[1].title, "CHAPTER TWO: Rain");
        assert_eq!(m.chapters[1].scenes[0].text, "Wet.");
    }

    #[test]
    fn one_paragraph_a_line_without_blank_lines() {
        let m = import("Chapter 1\nFirst.\nSecond.\n").unwrap();
        assert_eq!(m.chapters[0].scenes[0].text, "First.\n\nSecond.");
    }
}
