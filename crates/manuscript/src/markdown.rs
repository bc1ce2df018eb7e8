//! Markdown export. The convention, which `import::markdown` reads back:
//!
//! ```text
//! ---
//! title: "The Title"
//! author: "Ada Writer"
//! kind: novel
//! ---
//!
//! # Part One                  a part heading, before the first chapter of the part
//!
//! ## Chapter 1                a chapter (an untitled one is a bare `##`, except first and partless)
//!
//! <!-- scene: Arrival -->     each scene's title, invisible when rendered
//!
//! A paragraph.
//!
//! ***                         between scenes
//! ```
//!
//! Prose lines that Markdown would read as structure (a leading `#`, `>`, `<`, list marker or fence, a
//! lone `***`) get a CommonMark backslash escape, and every backslash is doubled, so the text renders as
//! written and comes back unchanged.

use crate::model::{one_line, paragraphs, Manuscript};

pub(crate) fn export(m: &Manuscript) -> String {
    let mut out = String::with_capacity(m.chapters.iter().flat_map(|c| &c.scenes).map(|s| s.text.len() + 64).sum::<usize>() + 256);
    out.push_str("---\n");
    out.push_str(&format!("title: {}\n", yaml_string(&m.title)));
    out.push_str(&format!("author: {}\n", yaml_string(&m.author)));
    out.push_str(&format!("kind: {}\n", kind_name(m)));
    out.push_str("---\n");
    for (index, chapter) in m.chapters.iter().enumerate() {
        if let Some(part) = &chapter.part {
            push_heading(&mut out, "#", part);
        }
        // An untitled chapter still needs its marker after the first (or it would join the one before)
        // and under a part (or the part heading would read as a chapter).
        if !chapter.title.is_empty() || index > 0 || chapter.part.is_some() {
            push_heading(&mut out, "##", &chapter.title);
        }
        for (n, scene) in chapter.scenes.iter().enumerate() {
            if n > 0 {
                out.push_str("\n***\n");
            }
            out.push_str(&format!("\n<!-- scene: {} -->\n", comment_text(&scene.title)));
            for paragraph in paragraphs(&scene.text) {
                out.push('\n');
                out.push_str(&escape_line(paragraph));
                out.push('\n');
            }
        }
    }
    out
}

fn kind_name(m: &Manuscript) -> &'static str {
    match m.kind {
        crate::ProjectKind::Novel => "novel",
        crate::ProjectKind::Screenplay => "screenplay",
        crate::ProjectKind::ShortFiction => "short_fiction",
        crate::ProjectKind::Other => "other",
    }
}

/// A YAML double-quoted scalar: safe whatever the title holds (colons, quotes, `#`).
fn yaml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in one_line(value).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn push_heading(out: &mut String, marks: &str, title: &str) {
    let text = heading(title);
    out.push('\n');
    out.push_str(marks);
    if !text.is_empty() {
        out.push(' ');
        out.push_str(&text);
    }
    out.push('\n');
}

/// Heading text: backslashes doubled, and a trailing `#` escaped so it is not read as a closing sequence.
fn heading(title: &str) -> String {
    let mut text = one_line(title).replace('\\', "\\\\");
    if text.ends_with('#') {
        text.pop();
        text.push_str("\\#");
    }
    text
}

/// The scene title inside `<!-- scene: … -->`: `--` cannot appear in a comment, so `-` and `\` are escaped.
fn comment_text(title: &str) -> String {
    one_line(title).replace('\\', "\\\\").replace('-', "\\-")
}

fn escape_line(paragraph: &str) -> String {
    let text = paragraph.replace('\\', "\\\\");
    let first = text.chars().next().unwrap_or(' ');
    let second = text.chars().nth(1).unwrap_or(' ');
    let structural = matches!(first, '#' | '>' | '<' | '=' | '`' | '~' | '|' | '%')
        || (matches!(first, '-' | '+' | '*') && second == ' ')
        || crate::model::is_scene_break(&text);
    if structural {
        return format!("\\{text}");
    }
    // "1. " or "1) " would start an ordered list.
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 10 {
        let rest = &text[digits..];
        if (rest.starts_with(". ") || rest.starts_with(") ")) || rest == "." || rest == ")" {
            return format!("{}\\{}", &text[..digits], rest);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_markdown_would_read_as_structure() {
        assert_eq!(escape_line("# not a heading"), "\\# not a heading");
        assert_eq!(escape_line("***"), "\\***");
        assert_eq!(escape_line("- item"), "\\- item");
        assert_eq!(escape_line("1999. A year"), "1999\\. A year");
        assert_eq!(escape_line("back\\slash"), "back\\\\slash");
        assert_eq!(escape_line("-dash"), "-dash");
        assert_eq!(escape_line("Plain words."), "Plain words.");
    }

    #[test]
    fn metadata_survives_quotes_and_colons() {
        assert_eq!(yaml_string("A \"B\": C\\"), "\"A \\\"B\\\": C\\\\\"");
        assert_eq!(comment_text("a --> b"), "a \\-\\-> b");
        assert_eq!(heading("Part #"), "Part \\#");
    }
}
