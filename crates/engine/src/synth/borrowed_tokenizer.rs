//! A real model's tokenizer for a random-weight stand-in: the `tokenizer.*` metadata (vocabulary,
//! merges, special tokens, chat template) read from another GGUF and written into the stand-in, its
//! vocabulary padded with unused tokens up to the stand-in's embedding rows. Benchmarks of what a
//! writer waits for then count the tokens real text makes, not a byte-level tokenizer's four times as many.

use std::path::Path;

use candle_core::quantized::gguf_file::Value;

use super::gguf_writer::{GgufWriter, MetaValue};
use crate::error::{EngineError, Result};
use crate::gguf::GgufFile;

const TOKENS: &str = "tokenizer.ggml.tokens";
const TOKEN_TYPES: &str = "tokenizer.ggml.token_type";
const SCORES: &str = "tokenizer.ggml.scores";
/// GGUF's token type for a token no text maps to.
const UNUSED: i32 = 5;

/// The tokenizer metadata of the GGUF at `path`, ready for [`super::synthetic::SyntheticSpec::tokenizer`].
pub fn read(path: &Path) -> Result<Vec<(String, MetaValue)>> {
    let file = GgufFile::open(path)?;
    let bad = |key: &str, detail: &str| EngineError::Corrupt { path: path.to_path_buf(), detail: format!("{key}: {detail}") };
    let mut keys: Vec<(&String, &Value)> = file.content().metadata.iter().filter(|(k, _)| k.starts_with("tokenizer.")).collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::with_capacity(keys.len());
    for (key, value) in keys {
        out.push((key.clone(), meta_value(value).ok_or_else(|| bad(key, "a value type the GGUF writer does not write"))?));
    }
    if !out.iter().any(|(k, _)| k == TOKENS) {
        return Err(EngineError::MissingMetadata { path: path.to_path_buf(), key: TOKENS.into() });
    }
    Ok(out)
}

/// Writes `borrowed` into `w`, the vocabulary padded to `vocab_size` entries (the embedding's rows).
pub fn write(w: &mut GgufWriter, borrowed: &[(String, MetaValue)], vocab_size: usize) -> Result<()> {
    for (key, value) in borrowed {
        let value = match (key.as_str(), value) {
            (TOKENS, MetaValue::Strings(tokens)) => {
                if tokens.len() > vocab_size {
                    return Err(EngineError::InvalidOption(format!(
                        "the borrowed vocabulary has {} tokens, more than the stand-in's {vocab_size} embedding rows",
                        tokens.len()
                    )));
                }
                let mut tokens = tokens.clone();
                tokens.extend((tokens.len()..vocab_size).map(|i| format!("<unused{i}>")));
                MetaValue::Strings(tokens)
            }
            (TOKEN_TYPES, MetaValue::I32s(types)) => MetaValue::I32s(padded(types, vocab_size, UNUSED)),
            (SCORES, MetaValue::F32s(scores)) => MetaValue::F32s(padded(scores, vocab_size, 0.0)),
            _ => value.clone(),
        };
        w.meta(key.clone(), value);
    }
    Ok(())
}

fn padded<T: Clone>(values: &[T], len: usize, fill: T) -> Vec<T> {
    let mut out = values.to_vec();
    out.resize(len.max(values.len()), fill);
    out
}

fn meta_value(value: &Value) -> Option<MetaValue> {
    Some(match value {
        Value::U8(v) => MetaValue::U32(*v as u32),
        Value::U16(v) => MetaValue::U32(*v as u32),
        Value::U32(v) => MetaValue::U32(*v),
        Value::U64(v) => MetaValue::U64(*v),
        Value::I8(v) => MetaValue::I32(*v as i32),
        Value::I16(v) => MetaValue::I32(*v as i32),
        Value::I32(v) => MetaValue::I32(*v),
        Value::F32(v) => MetaValue::F32(*v),
        Value::F64(v) => MetaValue::F32(*v as f32),
        Value::Bool(v) => MetaValue::Bool(*v),
        Value::String(v) => MetaValue::Str(v.clone()),
        Value::Array(items) => match items.first() {
            Some(Value::String(_)) | None => MetaValue::Strings(items.iter().map(|i| i.to_string().ok().cloned()).collect::<Option<_>>()?),
            Some(Value::I32(_)) => MetaValue::I32s(items.iter().map(|i| i.to_i32().ok()).collect::<Option<_>>()?),
            Some(Value::F32(_)) => MetaValue::F32s(items.iter().map(|i| i.to_f32().ok()).collect::<Option<_>>()?),
            Some(_) => return None,
        },
        _ => return None,
    })
}
