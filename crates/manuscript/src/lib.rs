//! Atelier's book-format layer: a manuscript (title, author, chapters, parts and scenes of plain text)
//! exported to DOCX in standard manuscript format, EPUB 3, Markdown, plain text and Fountain; imported
//! back from all but EPUB, into the same model, for the app to preview before it accepts; and
//! side-by-side diffs of a scene's history, and a revised passage as suggestions against the original. Pure Rust: no database, no async, no external programs.

mod diff;
mod docx;
mod epub;
mod error;
mod fountain;
mod import;
mod markdown;
mod model;
mod suggest;
mod text;
mod xml;

pub use diff::{diff_stats, side_by_side, DiffChange, DiffRow, Span};
pub use error::{ManuscriptError, Result};
pub use suggest::{apply as apply_suggestions, credit_notes, suggestions, SourceAnswer, Suggestion};
pub use import::{MAX_CHAPTERS, MAX_INPUT_BYTES, MAX_SCENES};
pub use model::{approximate_word_count, word_count, Chapter, ExportOptions, Format, Manuscript, ManuscriptFont, ProjectKind, Scene};

/// The manuscript as a file of `format`, DOCX in Courier New.
pub fn export(m: &Manuscript, format: Format) -> Result<Vec<u8>> {
    export_with(m, format, &ExportOptions::default())
}

/// As [`export`], with the options that shape a DOCX manuscript (the other formats carry no font).
pub fn export_with(m: &Manuscript, format: Format, options: &ExportOptions) -> Result<Vec<u8>> {
    match format {
        Format::Docx => docx::export(m, options),
        Format::Epub => epub::export(m),
        Format::Markdown => Ok(markdown::export(m).into_bytes()),
        Format::Text => Ok(text::export(m).into_bytes()),
        Format::Fountain => Ok(fountain::export(m).into_bytes()),
    }
}

/// A manuscript read from a file of `format`; bounded (see [`MAX_INPUT_BYTES`], [`MAX_CHAPTERS`],
/// [`MAX_SCENES`]) and never panicking on hostile input. EPUB import is [`ManuscriptError::Unsupported`].
pub fn import(bytes: &[u8], format: Format) -> Result<Manuscript> {
    import::import(bytes, format)
}
