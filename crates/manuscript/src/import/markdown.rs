//! Markdown import: the convention `crate::markdown` writes, and hand-written files.
//!
//! - Title and author from YAML front matter (`title:`, `author:`, `kind:`) or pandoc `%` lines; without
//!   either, a single `#` heading that comes first, above `##` chapters, is the title (with front
//!   matter, even an empty title, it is a part).
//! - ATX (`#`) and setext (`===`/`---` underlined) headings; levels per [`super::heading_roles`].
//! - `***`, `---`, `* * *`, `#`, `⁂` alone on a line are scene breaks (a `---` right under a one-line
//!   paragraph underlines a heading instead, as in CommonMark).
//! - `<!-- scene: Title -->` names the scene it opens; other comments are dropped, fenced code is text.
//! - CommonMark backslash escapes are undone.

use super::{heading_roles, Builder, Join, Role};
use crate::error::Result;
use crate::model::{is_scene_break, ProjectKind};

enum Block<'a> {
    Heading(usize, String),
    SceneMarker(String),
    Break,
    Line(&'a str),
    Blank,
}

pub(crate) fn import(text: &str) -> Result<crate::Manuscript> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    let mut builder = Builder::new(Join::Wrap);
    let mut start = front_matter(&lines, &mut builder);
    let has_metadata = start > 0;
    if start == 0 {
        start = percent_lines(&lines, &mut builder);
    }
    lines.drain(..start);
    let blocks = blocks(&lines);

    let levels: Vec<usize> = blocks.iter().filter_map(|b| if let Block::Heading(l, _) = b { Some(*l) } else { None }).collect();
    // A hand-written `# Book Title` above `##` chapters: the title, not a part.
    let mut skip_title_heading = None;
    if !has_metadata && builder.title.is_empty() && levels.iter().filter(|&&l| l == 1).count() == 1 && levels.first() == Some(&1) && levels.contains(&2) {
        let index = blocks.iter().position(|b| matches!(b, Block::Heading(1, _))).expect("counted above");
        let before_is_empty = blocks[..index].iter().all(|b| matches!(b, Block::Blank));
        if before_is_empty {
            if let Block::Heading(_, title) = &blocks[index] {
                builder.title = title.clone();
            }
            skip_title_heading = Some(index);
        }
    }
    let roles = heading_roles(blocks.iter().enumerate().filter_map(|(i, b)| match b {
        Block::Heading(level, _) if Some(i) != skip_title_heading => Some(*level),
        _ => None,
    }));

    for (index, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(..) if Some(index) == skip_title_heading => {}
            Block::Heading(level, title) => match roles(*level) {
                Role::Part => builder.part(title)?,
                Role::Chapter => builder.chapter(title)?,
                Role::Scene => builder.scene(title)?,
            },
            Block::SceneMarker(title) => builder.name_scene(title)?,
            Block::Break => builder.scene_break()?,
            Block::Line(line) => builder.line(&unescape(line)),
            Block::Blank => builder.blank(),
        }
    }
    builder.finish()
}

/// `---` … `---` (or `...`) at the very top; returns the first line after it (0 when there is none).
fn front_matter(lines: &[&str], builder: &mut Builder) -> usize {
    if lines.first().map(|l| l.trim_end()) != Some("---") {
        return 0;
    }
    let Some(end) = lines.iter().skip(1).position(|l| matches!(l.trim_end(), "---" | "...")) else { return 0 };
    for line in &lines[1..=end] {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = yaml_scalar(value.trim());
        match key.trim().to_ascii_lowercase().as_str() {
            "title" => builder.title = value,
            "author" => builder.author = value,
            "kind" => {
                builder.kind = Some(match value.as_str() {
                    "screenplay" => ProjectKind::Screenplay,
                    "short_fiction" => ProjectKind::ShortFiction,
                    "other" => ProjectKind::Other,
                    _ => ProjectKind::Novel,
                })
            }
            _ => {}
        }
    }
    end + 2
}

/// A YAML scalar as written by hand or by our export: double-quoted (with `\"`, `\\` escapes),
/// single-quoted (`''`), or plain.
fn yaml_scalar(value: &str) -> String {
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push(' '),
                    Some('t') => out.push(' '),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    } else if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        inner.replace("''", "'")
    } else {
        value.to_string()
    }
}

/// Pandoc's title block: `% Title`, `% Author` on the first lines.
fn percent_lines(lines: &[&str], builder: &mut Builder) -> usize {
    let mut n = 0;
    while n < 3 && lines.get(n).is_some_and(|l| l.starts_with('%')) {
        let value = lines[n][1..].trim().to_string();
        match n {
            0 => builder.title = value,
            1 => builder.author = value,
            _ => {}
        }
        n += 1;
    }
    n
}

fn blocks<'a>(lines: &[&'a str]) -> Vec<Block<'a>> {
    let mut blocks = Vec::with_capacity(lines.len());
    let mut fence: Option<&str> = None;
    let mut in_comment = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        i += 1;
        if let Some(marker) = fence {
            if trimmed.starts_with(marker) {
                fence = None;
            }
            blocks.push(Block::Line(line));
            continue;
        }
        if in_comment {
            in_comment = !trimmed.contains("-->");
            continue;
        }
        let prev_blank = matches!(blocks.last(), None | Some(Block::Blank | Block::Heading(..) | Block::Break | Block::SceneMarker(_)));
        if trimmed.is_empty() {
            blocks.push(Block::Blank);
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent < 4 && (trimmed.starts_with("```") || trimmed.starts_with("~~~")) {
            fence = Some(&trimmed[..3]);
            blocks.push(Block::Line(line));
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("<!--") {
            if let Some(body) = rest.strip_suffix("-->") {
                if let Some(title) = body.trim().strip_prefix("scene:").or_else(|| (body.trim() == "scene").then_some("")) {
                    blocks.push(Block::SceneMarker(unescape(title.trim())));
                }
            } else if !rest.contains("-->") {
                in_comment = true;
            }
            continue;
        }
        // A bare `#` is a scene break here (CommonMark would make it an empty heading).
        if trimmed == "#" {
            blocks.push(Block::Break);
            continue;
        }
        if indent < 4 {
            if let Some(heading) = atx_heading(trimmed) {
                blocks.push(heading);
                continue;
            }
        }
        // Setext: a one-line paragraph underlined with `=` or `-`.
        if prev_blank && indent < 4 && !is_scene_break(trimmed) {
            if let Some(next) = lines.get(i).map(|l| l.trim()) {
                let level = if !next.is_empty() && next.chars().all(|c| c == '=') {
                    Some(1)
                } else if next.len() >= 2 && next.chars().all(|c| c == '-') {
                    Some(2)
                } else {
                    None
                };
                if let Some(level) = level {
                    blocks.push(Block::Heading(level, heading_text(trimmed)));
                    i += 1;
                    continue;
                }
            }
        }
        if is_scene_break(trimmed) {
            blocks.push(Block::Break);
            continue;
        }
        blocks.push(Block::Line(line));
    }
    blocks
}

fn atx_heading(trimmed: &str) -> Option<Block<'static>> {
    let level = trimmed.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &trimmed[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let mut text = rest.trim();
    // An optional closing sequence of `#`s, when a space sets it apart (and it is not escaped).
    let without = text.trim_end_matches('#');
    if without.len() < text.len() && (without.is_empty() || without.ends_with([' ', '\t'])) {
        text = without.trim_end();
    }
    Some(Block::Heading(level, heading_text(text)))
}

fn heading_text(text: &str) -> String {
    unescape(text.trim())
}

/// Undoes CommonMark backslash escapes: `\` before ASCII punctuation stands for that character.
fn unescape(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next) = chars.peek() {
                if next.is_ascii_punctuation() {
                    out.push(next);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headings_breaks_and_front_matter() {
        let m = import("---\ntitle: \"A \\\"Q\\\": B\"\nauthor: 'O''Brien'\n---\n\n# Part One\n\n## One\n\nText\nwrapped.\n\n***\n\nMore.\n\n## Two ##\n\n\\# not heading\n").unwrap();
        assert_eq!(m.title, "A \"Q\": B");
        assert_eq!(m.author, "O'Brien");
        assert_eq!(m.chapters.len(), 2);
        assert_eq!(m.chapters[0].part.as_deref(), Some("Part One"));
        assert_eq!(m.chapters[0].scenes.len(), 2);
        assert_eq!(m.chapters[0].scenes[0].text, "Text wrapped.");
        assert_eq!(m.chapters[1].title, "Two");
        assert_eq!(m.chapters[1].scenes[0].text, "# not heading");
    }

    #[test]
    fn a_single_top_heading_over_chapters_is_the_title() {
        let m = import("# My Book\n\n## Chapter 1\n\nHello.\n\n## Chapter 2\n\nBye.\n").unwrap();
        assert_eq!(m.title, "My Book");
        assert_eq!(m.chapters.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["Chapter 1", "Chapter 2"]);
        assert!(m.chapters.iter().all(|c| c.part.is_none()));
    }

    #[test]
    fn setext_headings_code_fences_and_comments() {
        let m = import("One\n===\n\nText.\n<!-- a\nlong comment -->\n```\n# code\n```\n\nTwo\n===\n\nMore.\n").unwrap();
        assert_eq!(m.chapters.len(), 2, "{m:?}");
        assert_eq!(m.chapters[0].title, "One");
        assert!(m.chapters[0].scenes[0].text.contains("# code"));
        assert!(!m.chapters[0].scenes[0].text.contains("comment"));
        assert_eq!(m.chapters[1].title, "Two");
        let m = import("Only\n----\n\nText.\n\n---\n\nMore.\n").unwrap();
        assert_eq!(m.chapters.len(), 1);
        assert_eq!(m.chapters[0].title, "Only");
        assert_eq!(m.chapters[0].scenes.len(), 2);
    }
}
