//! Import: bytes of a file into a [`Manuscript`] for the app to preview. Every reader turns its format
//! into the same few events (title, part, chapter, scene, break, line) on a [`Builder`], which owns the
//! rules the formats share:
//!
//! - text before the first heading goes to a chapter with an empty title;
//! - a scene without a title of its own is "Scene N" (N counting within its chapter);
//! - an empty chapter with no title and no part (a stray empty heading) is dropped;
//! - the kind is the file's own when it says (Markdown front matter; Fountain is a screenplay), else a
//!   novel, or short fiction when nothing has a chapter title;
//! - at most [`MAX_CHAPTERS`] chapters and [`MAX_SCENES`] scenes: more is an error, not a slow preview.

mod docx;
mod fountain;
mod markdown;
mod text;

use crate::error::{ManuscriptError, Result};
use crate::model::{Chapter, Format, Manuscript, ProjectKind, Scene};

/// The largest file any import reads (and, for DOCX, the most it inflates in all).
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;
pub const MAX_CHAPTERS: usize = 10_000;
pub const MAX_SCENES: usize = 10_000;

pub(crate) fn import(bytes: &[u8], format: Format) -> Result<Manuscript> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ManuscriptError::TooLarge { what: "the file".into(), limit: MAX_INPUT_BYTES as u64 });
    }
    match format {
        Format::Docx => docx::import(bytes),
        Format::Epub => Err(ManuscriptError::Unsupported(
            "EPUB import is not supported: export the book as DOCX or Markdown from the program that made it, and import that".into(),
        )),
        Format::Markdown => markdown::import(&decode_text(bytes, format)?),
        Format::Text => text::import(&decode_text(bytes, format)?),
        Format::Fountain => fountain::import(&decode_text(bytes, format)?),
    }
}

/// A text file's content: UTF-8 (a byte-order mark dropped, line ends normalised to `\n`); bytes that
/// are not UTF-8 become U+FFFD, which the preview shows; a NUL means binary data, not text.
fn decode_text(bytes: &[u8], format: Format) -> Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(ManuscriptError::Invalid { format, reason: "it holds binary data, not text".into() });
    }
    let text = String::from_utf8_lossy(bytes);
    Ok(if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text.into_owned() })
}

/// How the lines of a scene become its text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Join {
    /// Lines of a paragraph are soft-wrapped (Markdown, DOCX): joined with spaces; blank lines separate
    /// paragraphs.
    Wrap,
    /// Plain text: soft-wrapped paragraphs when the scene has blank lines between them, else one
    /// paragraph a line.
    Auto,
    /// Lines kept as written, blank lines and all (Fountain).
    Raw,
}

pub(crate) struct Builder {
    pub title: String,
    pub author: String,
    pub kind: Option<ProjectKind>,
    join: Join,
    chapters: Vec<Chapter>,
    pending_part: Option<String>,
    scene_title: Option<String>,
    /// The scene was opened by a marker of its own (a title): it exists even with no text.
    scene_marked: bool,
    lines: Vec<String>,
    scenes: usize,
}

impl Builder {
    pub fn new(join: Join) -> Builder {
        Builder {
            title: String::new(),
            author: String::new(),
            kind: None,
            join,
            chapters: Vec::new(),
            pending_part: None,
            scene_title: None,
            scene_marked: false,
            lines: Vec::new(),
            scenes: 0,
        }
    }

    pub fn part(&mut self, title: &str) -> Result<()> {
        self.flush()?;
        if let Some(previous) = self.pending_part.take() {
            // Two part headings in a row: the first keeps an empty chapter so it is not lost.
            self.push_chapter(Some(previous), String::new())?;
        }
        self.pending_part = Some(title.to_string());
        Ok(())
    }

    pub fn chapter(&mut self, title: &str) -> Result<()> {
        self.flush()?;
        let part = self.pending_part.take();
        self.push_chapter(part, title.to_string())
    }

    /// A scene opened by a marker that carries its title (`<!-- scene: … -->`, `### …`, Heading 3).
    pub fn scene(&mut self, title: &str) -> Result<()> {
        self.flush()?;
        self.scene_title = Some(title.to_string());
        self.scene_marked = true;
        Ok(())
    }

    /// A break between scenes: the next scene is untitled unless a marker follows.
    pub fn scene_break(&mut self) -> Result<()> {
        self.flush()
    }

    /// Names the scene being read, if nothing has named it yet (a marker just after a break).
    pub fn name_scene(&mut self, title: &str) -> Result<()> {
        if self.lines.iter().all(|l| l.trim().is_empty()) && !self.scene_marked {
            self.scene_title = Some(title.to_string());
            self.scene_marked = true;
            Ok(())
        } else {
            self.scene(title)
        }
    }

    pub fn line(&mut self, line: &str) {
        self.lines.push(line.to_string());
    }

    pub fn blank(&mut self) {
        self.lines.push(String::new());
    }

    fn push_chapter(&mut self, part: Option<String>, title: String) -> Result<()> {
        if self.chapters.len() >= MAX_CHAPTERS {
            return Err(ManuscriptError::TooMany { what: "chapters", limit: MAX_CHAPTERS });
        }
        self.chapters.push(Chapter { part, title, scenes: Vec::new() });
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let text = join_lines(&self.lines, self.join);
        self.lines.clear();
        let title = self.scene_title.take();
        let marked = std::mem::take(&mut self.scene_marked);
        if text.is_empty() && !marked {
            return Ok(());
        }
        if self.chapters.is_empty() || self.pending_part.is_some() {
            let part = self.pending_part.take();
            self.push_chapter(part, String::new())?;
        }
        if self.scenes >= MAX_SCENES {
            return Err(ManuscriptError::TooMany { what: "scenes", limit: MAX_SCENES });
        }
        self.scenes += 1;
        let chapter = self.chapters.last_mut().expect("a chapter was just ensured");
        let title = title.unwrap_or_else(|| format!("Scene {}", chapter.scenes.len() + 1));
        chapter.scenes.push(Scene { title, text });
        Ok(())
    }

    pub fn finish(mut self) -> Result<Manuscript> {
        self.flush()?;
        if let Some(part) = self.pending_part.take() {
            self.push_chapter(Some(part), String::new())?;
        }
        self.chapters.retain(|c| !(c.title.is_empty() && c.part.is_none() && c.scenes.is_empty()));
        let kind = self.kind.unwrap_or(if self.chapters.iter().all(|c| c.title.is_empty() && c.part.is_none()) {
            ProjectKind::ShortFiction
        } else {
            ProjectKind::Novel
        });
        Ok(Manuscript { title: self.title, author: self.author, kind, chapters: self.chapters })
    }
}

fn join_lines(lines: &[String], join: Join) -> String {
    let wrap = match join {
        Join::Raw => {
            let start = lines.iter().position(|l| !l.trim().is_empty());
            let end = lines.iter().rposition(|l| !l.trim().is_empty());
            return match (start, end) {
                (Some(start), Some(end)) => lines[start..=end].iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n"),
                _ => String::new(),
            };
        }
        Join::Wrap => true,
        Join::Auto => {
            let mut seen_text = false;
            let mut gap = false;
            let mut wrapped = false;
            for line in lines {
                if line.trim().is_empty() {
                    gap = seen_text;
                } else {
                    if gap {
                        wrapped = true;
                        break;
                    }
                    seen_text = true;
                }
            }
            wrapped
        }
    };
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() || !wrap {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            if !wrap && !line.is_empty() {
                paragraphs.push(line.to_string());
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs.join("\n\n")
}

/// Which heading levels are parts and which chapters: with both level 1 and level 2 headings, level 1
/// is a part and level 2 a chapter; with only one of them, that one is a chapter. Deeper levels open
/// scenes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Part,
    Chapter,
    Scene,
}

pub(crate) fn heading_roles(levels: impl Iterator<Item = usize>) -> impl Fn(usize) -> Role {
    let (mut one, mut two) = (false, false);
    for level in levels {
        one |= level == 1;
        two |= level == 2;
    }
    move |level| match level {
        1 if two && one => Role::Part,
        1 => Role::Chapter,
        2 => Role::Chapter,
        _ => Role::Scene,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.split('\n').map(str::to_string).collect()
    }

    #[test]
    fn joins_lines_by_mode() {
        assert_eq!(join_lines(&lines("a\nb\n\nc"), Join::Wrap), "a b\n\nc");
        assert_eq!(join_lines(&lines("a\nb\n\nc"), Join::Auto), "a b\n\nc");
        assert_eq!(join_lines(&lines("\na\nb\n"), Join::Auto), "a\n\nb");
        assert_eq!(join_lines(&lines("\n\nINT. HOUSE\n\nBOB\nHi.  \n\n"), Join::Raw), "INT. HOUSE\n\nBOB\nHi.");
    }

    #[test]
    fn builder_puts_loose_text_in_an_untitled_chapter_and_numbers_scenes() {
        let mut b = Builder::new(Join::Wrap);
        b.line("Before.");
        b.chapter("One").unwrap();
        b.line("First.");
        b.scene_break().unwrap();
        b.line("Second.");
        b.scene("Named").unwrap();
        b.scene_break().unwrap();
        b.chapter("").unwrap();
        let m = b.finish().unwrap();
        assert_eq!(m.chapters.len(), 2, "{m:?}");
        assert_eq!(m.chapters[0].title, "");
        assert_eq!(m.chapters[0].scenes[0].text, "Before.");
        let titles: Vec<_> = m.chapters[1].scenes.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Scene 1", "Scene 2", "Named"]);
        assert_eq!(m.kind, ProjectKind::Novel);
    }

    #[test]
    fn builder_refuses_too_many_chapters() {
        let mut b = Builder::new(Join::Wrap);
        for _ in 0..MAX_CHAPTERS {
            b.chapter("c").unwrap();
        }
        assert!(matches!(b.chapter("c"), Err(ManuscriptError::TooMany { what: "chapters", .. })));
    }

    #[test]
    fn roles_follow_the_levels_present() {
        let roles = heading_roles([1, 2, 2].into_iter());
        assert_eq!((roles(1), roles(2), roles(3)), (Role::Part, Role::Chapter, Role::Scene));
        let roles = heading_roles([1, 1].into_iter());
        assert_eq!(roles(1), Role::Chapter);
        let roles = heading_roles([2, 3].into_iter());
        assert_eq!((roles(2), roles(3)), (Role::Chapter, Role::Scene));
    }
}
