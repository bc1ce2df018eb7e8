//! Fountain export for screenplays. The writer writes Fountain inside each scene, so scene text passes
//! through untouched; the structure goes into Fountain sections, which never print:
//!
//! ```text
//! Title: The Title
//! Credit: Written by
//! Author: Ada Writer
//!
//! # Act One            a part
//!
//! ## The Heist         a chapter (sequence)
//!
//! ### Scene title      every scene, titled or not
//!
//! INT. BANK - NIGHT
//! ...
//! ```

use crate::model::{one_line, Manuscript};

pub(crate) fn export(m: &Manuscript) -> String {
    let mut out = String::with_capacity(m.chapters.iter().flat_map(|c| &c.scenes).map(|s| s.text.len() + 32).sum::<usize>() + 256);
    let title = one_line(&m.title);
    let author = one_line(&m.author);
    if !title.is_empty() || !author.is_empty() {
        if !title.is_empty() {
            out.push_str(&format!("Title: {title}\n"));
        }
        if !author.is_empty() {
            out.push_str(&format!("Credit: Written by\nAuthor: {author}\n"));
        }
    }
    for (index, chapter) in m.chapters.iter().enumerate() {
        if let Some(part) = &chapter.part {
            section(&mut out, "#", part);
        }
        // As in Markdown: an untitled chapter keeps its marker unless it opens the book outside a part.
        if !chapter.title.is_empty() || index > 0 || chapter.part.is_some() {
            section(&mut out, "##", &chapter.title);
        }
        for scene in &chapter.scenes {
            section(&mut out, "###", &scene.title);
            let text = scene.text.trim_matches(|c| c == '\n' || c == '\r');
            if !text.trim().is_empty() {
                out.push('\n');
                for line in text.lines() {
                    out.push_str(line.trim_end());
                    out.push('\n');
                }
            }
        }
    }
    out
}

fn section(out: &mut String, marks: &str, title: &str) {
    let title = one_line(title);
    out.push('\n');
    out.push_str(marks);
    if !title.is_empty() {
        out.push(' ');
        out.push_str(&title);
    }
    out.push('\n');
}
