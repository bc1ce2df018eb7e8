//! Fountain import: the convention `crate::fountain` writes, and screenplays from other programs.
//!
//! - The title page (`Title:`, `Author:`/`Authors:`, any other `Key:` lines, indented continuation
//!   lines) up to the first blank line.
//! - Sections: levels per [`super::heading_roles`] (`#` acts over `##` sequences are parts over
//!   chapters; only one of them, chapters); `###` and deeper open a scene with that title.
//! - A file with no `###` sections is split into scenes at its scene headings (`INT.`, `EXT.`,
//!   `EST.`, `INT./EXT.`, `I/E`, or a forced `.HEADING`), each titled by its heading.
//! - Everything else is scene text, kept line for line; sections inside `/* boneyard */` are text.

use super::{heading_roles, Builder, Join, Role};
use crate::error::Result;
use crate::model::ProjectKind;

pub(crate) fn import(text: &str) -> Result<crate::Manuscript> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut builder = Builder::new(Join::Raw);
    builder.kind = Some(ProjectKind::Screenplay);
    let start = title_page(&lines, &mut builder);
    let body = &lines[start..];

    let mut boneyard = false;
    let mut sections = Vec::new();
    for (n, line) in body.iter().enumerate() {
        if !boneyard {
            if let Some((level, _)) = section(line) {
                sections.push((n, level));
            }
        }
        boneyard = boneyard_after(line, boneyard);
    }
    let roles = heading_roles(sections.iter().map(|&(_, level)| level));
    let split_at_headings = !sections.iter().any(|&(_, level)| roles(level) == Role::Scene);

    let mut boneyard = false;
    let mut prev_blank = true;
    for line in body {
        let was_boneyard = boneyard;
        boneyard = boneyard_after(line, boneyard);
        if !was_boneyard {
            if let Some((level, title)) = section(line) {
                match roles(level) {
                    Role::Part => builder.part(&title)?,
                    Role::Chapter => builder.chapter(&title)?,
                    Role::Scene => builder.scene(&title)?,
                }
                prev_blank = true;
                continue;
            }
            if split_at_headings && prev_blank && is_scene_heading(line) {
                builder.scene(line.trim().trim_start_matches('.'))?;
            }
        }
        if line.trim().is_empty() {
            builder.blank();
            prev_blank = true;
        } else {
            builder.line(line);
            prev_blank = false;
        }
    }
    builder.finish()
}

fn title_page(lines: &[&str], builder: &mut Builder) -> usize {
    let is_key = |line: &str| {
        line.split_once(':').is_some_and(|(key, _)| !key.is_empty() && !key.starts_with([' ', '\t']) && key.len() <= 40 && key.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '_'))
    };
    // The first key must be one Fountain defines, or a script opening on "FADE IN:" would lose its
    // first lines to a title page it does not have.
    const KEYS: &[&str] = &["title", "credit", "author", "authors", "source", "draft date", "date", "contact", "copyright", "notes", "revision"];
    let first_key = lines.first().filter(|l| is_key(l)).and_then(|l| l.split_once(':')).map(|(k, _)| k.trim().to_lowercase());
    if !first_key.is_some_and(|k| KEYS.contains(&k.as_str())) {
        return 0;
    }
    let mut key = String::new();
    let mut n = 0;
    while n < lines.len() && !lines[n].trim().is_empty() {
        let line = lines[n];
        n += 1;
        let (value, continued) = if line.starts_with([' ', '\t']) {
            (line.trim(), true)
        } else if let Some((k, v)) = line.split_once(':') {
            key = k.trim().to_lowercase();
            (v.trim(), false)
        } else {
            continue;
        };
        let field = match key.as_str() {
            "title" => &mut builder.title,
            "author" | "authors" => &mut builder.author,
            _ => continue,
        };
        if continued && !field.is_empty() && !value.is_empty() {
            field.push(' ');
        }
        field.push_str(value);
    }
    n
}

/// A section line: its depth and title.
fn section(line: &str) -> Option<(usize, String)> {
    let line = line.trim_start();
    let level = line.chars().take_while(|&c| c == '#').count();
    (level > 0).then(|| (level, line[level..].trim().to_string()))
}

fn boneyard_after(line: &str, inside: bool) -> bool {
    let (open, close) = (line.rfind("/*"), line.rfind("*/"));
    match (open, close) {
        (Some(o), Some(c)) => o > c,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (None, None) => inside,
    }
}

fn is_scene_heading(line: &str) -> bool {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix('.') {
        return rest.starts_with(|c: char| c.is_alphanumeric());
    }
    let upper = line.to_uppercase();
    ["INT./EXT", "INT/EXT", "I/E", "INT", "EXT", "EST"].iter().any(|prefix| {
        upper.strip_prefix(prefix).is_some_and(|rest| rest.starts_with(['.', ' ']))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_page_sections_and_scene_headings() {
        let text = "Title: Heist\nAuthor: Jo\n    and Sam\n\n# Act One\n\n## Setup\n\nINT. BANK - NIGHT\n\nBOB\nHi.\n\nEXT. STREET - DAY\n\nRain.\n\n# Act Two\n\n## Turn\n\n/*\n# not a section\n*/\nINT. VAN\n";
        let m = import(text).unwrap();
        assert_eq!((m.title.as_str(), m.author.as_str()), ("Heist", "Jo and Sam"));
        assert_eq!(m.kind, ProjectKind::Screenplay);
        assert_eq!(m.chapters.len(), 2);
        assert_eq!(m.chapters[0].part.as_deref(), Some("Act One"));
        let scenes: Vec<_> = m.chapters[0].scenes.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(scenes, ["INT. BANK - NIGHT", "EXT. STREET - DAY"]);
        assert_eq!(m.chapters[0].scenes[0].text, "INT. BANK - NIGHT\n\nBOB\nHi.");
        assert!(m.chapters[1].scenes[0].text.contains("# not a section"));
    }

    #[test]
    fn scene_sections_win_over_scene_headings() {
        let m = import("## Seq\n\n### Opening\n\nINT. A\n\nEXT. B\n").unwrap();
        assert_eq!(m.chapters[0].scenes.len(), 1);
        assert_eq!(m.chapters[0].scenes[0].title, "Opening");
    }

    #[test]
    fn no_heading_interior() {
        assert!(!is_scene_heading("INTERIOR"));
        assert!(is_scene_heading("int. kitchen"));
        assert!(is_scene_heading(".FLASHBACK"));
        assert!(!is_scene_heading("..."));
    }
}
