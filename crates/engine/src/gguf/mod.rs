//! Everything read from a GGUF file: the file itself (`file`: validation, metadata, tensors), its header
//! checks (`header`), the tokenizer rebuilt from `tokenizer.ggml.*` (`tokenizer`) and the chat template
//! from `tokenizer.chat_template` (`chat_template`), as mistral.rs splits them.

pub mod chat_template;
mod file;
mod header;
pub mod tokenizer;

pub use file::*;
pub use header::{MAX_ALIGNMENT, MAX_METADATA_MEMORY};
