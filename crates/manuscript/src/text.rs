//! Plain-text export. The convention, which `import::text` reads back:
//!
//! ```text
//! The Title
//! by Ada Writer
//!
//!
//!
//! Part One
//! ========          a part: its heading underlined with `=`
//!
//! Chapter 1
//! ---------         a chapter: underlined with `-`
//!
//! A paragraph.
//!
//! #                 between scenes
//! ```
//!
//! Scene titles have no place in plain text: they come back as "Scene N". An untitled chapter has no
//! heading, so on import it joins the chapter before it.

use crate::model::{one_line, paragraphs, Manuscript};

pub(crate) fn export(m: &Manuscript) -> String {
    let mut out = String::with_capacity(m.chapters.iter().flat_map(|c| &c.scenes).map(|s| s.text.len() + 8).sum::<usize>() + 256);
    let title = one_line(&m.title);
    let author = one_line(&m.author);
    if !title.is_empty() {
        out.push_str(&title);
        out.push('\n');
    }
    if !author.is_empty() {
        out.push_str(&format!("by {author}\n"));
    }
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    for chapter in &m.chapters {
        if let Some(part) = &chapter.part {
            underlined(&mut out, part, '=');
        }
        if !chapter.title.is_empty() {
            underlined(&mut out, &chapter.title, '-');
        }
        for (n, scene) in chapter.scenes.iter().enumerate() {
            if n > 0 {
                out.push_str("\n#\n");
            }
            for paragraph in paragraphs(&scene.text) {
                out.push('\n');
                out.push_str(paragraph);
                out.push('\n');
            }
        }
    }
    out
}

fn underlined(out: &mut String, heading: &str, mark: char) {
    let heading = one_line(heading);
    let width = heading.chars().count().max(3);
    out.push_str("\n\n");
    out.push_str(&heading);
    out.push('\n');
    out.extend(std::iter::repeat(mark).take(width));
    out.push('\n');
}
