//! The manuscript as every format sees it: a title, an author, chapters (some opening a part) and their
//! scenes of plain text. Export and import both go through this shape, so a round trip is a comparison
//! of two values.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    #[default]
    Novel,
    Screenplay,
    ShortFiction,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Manuscript {
    pub title: String,
    pub author: String,
    pub kind: ProjectKind,
    pub chapters: Vec<Chapter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Chapter {
    /// `Some(part title)` when this chapter is the first of a part: the part heading goes before it.
    pub part: Option<String>,
    /// Empty for scenes that sit outside any chapter (short fiction).
    pub title: String,
    pub scenes: Vec<Scene>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Scene {
    pub title: String,
    /// Plain text; paragraphs are separated by blank lines or single newlines (Fountain in a screenplay).
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Format {
    #[serde(rename = "docx")]
    Docx,
    #[serde(rename = "epub")]
    Epub,
    #[serde(rename = "md")]
    Markdown,
    #[serde(rename = "txt")]
    Text,
    #[serde(rename = "fountain")]
    Fountain,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Docx, Format::Epub, Format::Markdown, Format::Text, Format::Fountain];

    pub fn extension(&self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Epub => "epub",
            Format::Markdown => "md",
            Format::Text => "txt",
            Format::Fountain => "fountain",
        }
    }

    /// Case-insensitive, with or without the leading dot; the common long spellings are accepted too.
    pub fn from_extension(ext: &str) -> Option<Format> {
        let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
        Some(match ext.as_str() {
            "docx" => Format::Docx,
            "epub" => Format::Epub,
            "md" | "markdown" | "mdown" | "mkd" => Format::Markdown,
            "txt" | "text" => Format::Text,
            "fountain" | "spmd" => Format::Fountain,
            _ => return None,
        })
    }

    pub fn mime(&self) -> &'static str {
        match self {
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Epub => "application/epub+zip",
            Format::Markdown => "text/markdown",
            Format::Text => "text/plain",
            // Fountain has no registered type; it is plain text, and save dialogs treat it so.
            Format::Fountain => "text/plain",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Docx => "DOCX",
            Format::Epub => "EPUB",
            Format::Markdown => "Markdown",
            Format::Text => "plain text",
            Format::Fountain => "Fountain",
        })
    }
}

/// The typeface of a DOCX manuscript: Courier New is the classic standard manuscript format, Times New
/// Roman the modern variant many agents accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ManuscriptFont {
    #[default]
    Courier,
    TimesNewRoman,
}

impl ManuscriptFont {
    pub fn family(&self) -> &'static str {
        match self {
            ManuscriptFont::Courier => "Courier New",
            ManuscriptFont::TimesNewRoman => "Times New Roman",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExportOptions {
    pub font: ManuscriptFont,
}

pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The figure a title page quotes: to the nearest 1,000 above 5,000 words, else to the nearest 100
/// (never "about 0 words" for a manuscript that has some).
pub fn approximate_word_count(words: usize) -> usize {
    let step = if words > 5_000 { 1_000 } else { 100 };
    let rounded = (words + step / 2) / step * step;
    if rounded == 0 && words > 0 {
        step
    } else {
        rounded
    }
}

impl Manuscript {
    pub fn words(&self) -> usize {
        self.chapters.iter().flat_map(|c| &c.scenes).map(|s| word_count(&s.text)).sum()
    }

    pub fn scene_count(&self) -> usize {
        self.chapters.iter().map(|c| c.scenes.len()).sum()
    }
}

/// The paragraphs of a scene's prose: every non-empty line, trimmed (blank lines and single newlines
/// both separate paragraphs).
pub(crate) fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty())
}

/// A line that marks a scene break in prose: `#`, `⁂`, or three or more of `*`, `-`, `_` or `~`
/// (spaces between them allowed, so `* * *` counts).
pub(crate) fn is_scene_break(line: &str) -> bool {
    let line = line.trim();
    if line == "#" || line == "⁂" {
        return true;
    }
    let mut marks = line.chars().filter(|c| !c.is_whitespace());
    let Some(first) = marks.next() else { return false };
    matches!(first, '*' | '-' | '_' | '~') && marks.clone().all(|c| c == first) && marks.count() >= 2
}

/// One line of a title, heading or metadata value: newlines and tabs become spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_round_trip_and_accept_long_spellings() {
        for format in Format::ALL {
            assert_eq!(Format::from_extension(format.extension()), Some(format));
        }
        assert_eq!(Format::from_extension(".Markdown"), Some(Format::Markdown));
        assert_eq!(Format::from_extension("pdf"), None);
    }

    #[test]
    fn serde_names_are_the_extensions() {
        for format in Format::ALL {
            assert_eq!(serde_json::to_string(&format).unwrap(), format!("\"{}\"", format.extension()));
        }
        assert_eq!(serde_json::to_string(&ProjectKind::ShortFiction).unwrap(), "\"short_fiction\"");
        assert_eq!(serde_json::from_str::<ManuscriptFont>("\"times_new_roman\"").unwrap(), ManuscriptFont::TimesNewRoman);
    }

    #[test]
    fn word_estimate_rounds_like_a_title_page() {
        assert_eq!(approximate_word_count(0), 0);
        assert_eq!(approximate_word_count(12), 100);
        assert_eq!(approximate_word_count(149), 100);
        assert_eq!(approximate_word_count(150), 200);
        assert_eq!(approximate_word_count(5_000), 5_000);
        assert_eq!(approximate_word_count(5_499), 5_000);
        assert_eq!(approximate_word_count(5_500), 6_000);
        assert_eq!(approximate_word_count(149_501), 150_000);
    }

    #[test]
    fn scene_breaks() {
        for yes in ["#", "***", "* * *", "---", "⁂", " ~~~ ", "___"] {
            assert!(is_scene_break(yes), "{yes:?}");
        }
        for no in ["", "**", "# Heading", "*-*", "a***", "##"] {
            assert!(!is_scene_break(no), "{no:?}");
        }
    }
}
