//! The one error type of the crate: every export and import failure, worded for the person who picked
//! the file (the UI shows the message as is).

use crate::model::Format;

#[derive(Debug, thiserror::Error)]
pub enum ManuscriptError {
    /// Writing a format failed inside its library (never expected for a valid manuscript).
    #[error("could not write the {format} file: {reason}")]
    Export { format: Format, reason: String },
    /// The bytes are not a readable file of the format asked for.
    #[error("this is not a readable {format} file: {reason}")]
    Invalid { format: Format, reason: String },
    /// Input (or a part of it, such as one zip entry) over a fixed cap: refused before it can exhaust memory.
    #[error("{what} is larger than the {} MiB limit", limit / (1024 * 1024))]
    TooLarge { what: String, limit: u64 },
    /// More chapters or scenes than any real manuscript has: a hostile or mis-parsed file.
    #[error("the file has more than {limit} {what}")]
    TooMany { what: &'static str, limit: usize },
    /// A format this direction does not support (EPUB import).
    #[error("{0}")]
    Unsupported(String),
}

pub type Result<T, E = ManuscriptError> = std::result::Result<T, E>;
