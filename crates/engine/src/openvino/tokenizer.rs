//! The tokenizer of an OpenVINO model folder: its Hugging Face `tokenizer.json` (the same tokenizer the
//! folder's `openvino_tokenizer.xml` was converted from), with BOS, EOS and the stop tokens from
//! `tokenizer_config.json` and `generation_config.json`.

use serde_json::Value;

use crate::error::{EngineError, Result};
use crate::gguf::tokenizer::{Tokenizer, TokenizerKind, END_OF_TURN_TOKENS};

use super::ir::IrDirectory;

pub fn tokenizer(dir: &IrDirectory) -> Result<Tokenizer> {
    let bad = |detail: String| EngineError::OpenVinoModel { path: dir.path.clone(), detail };
    let inner = tokenizers::Tokenizer::from_bytes(&dir.tokenizer_json)
        .map_err(|e| bad(format!("tokenizer.json cannot be read ({e})")))?;
    let control: Vec<(String, u32)> = inner
        .get_added_tokens_decoder()
        .into_iter()
        .filter(|(_, token)| token.special)
        .map(|(id, token)| (token.content, id))
        .collect();
    let token_id = |key: &str| -> Option<u32> {
        let text = match dir.tokenizer_config.get(key)? {
            Value::String(s) => s.as_str(),
            // Older exports write `{"content": "<s>", ...}`.
            other => other.get("content")?.as_str()?,
        };
        inner.token_to_id(text)
    };
    let ids_of = |value: Option<&Value>| -> Vec<u32> {
        match value {
            Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_u64).filter_map(|id| u32::try_from(id).ok()).collect(),
            Some(v) => v.as_u64().and_then(|id| u32::try_from(id).ok()).map(|id| vec![id]).unwrap_or_default(),
            None => Vec::new(),
        }
    };
    let generation = &dir.generation_config;
    let bos_id = token_id("bos_token").or_else(|| ids_of(generation.get("bos_token_id")).first().copied());
    let eos_id = token_id("eos_token").or_else(|| ids_of(generation.get("eos_token_id")).first().copied());
    let mut stop_ids: Vec<u32> = eos_id.into_iter().chain(ids_of(generation.get("eos_token_id"))).collect();
    for (text, id) in &control {
        if END_OF_TURN_TOKENS.contains(&text.as_str()) {
            stop_ids.push(*id);
        }
    }
    stop_ids.sort_unstable();
    stop_ids.dedup();
    let vocab = inner.get_vocab_size(true) as u32;
    if let Some(id) = bos_id.into_iter().chain(stop_ids.iter().copied()).find(|&id| id >= vocab) {
        return Err(bad(format!("special token id {id} is outside the vocabulary of {vocab}")));
    }
    // `add_bos_token` where the config says; else whatever tokenizer.json's post-processor does, as
    // transformers and OpenVINO's tokenizer do.
    let add_bos = match dir.tokenizer_config.get("add_bos_token").and_then(Value::as_bool) {
        Some(add) => add,
        None => {
            let with = inner.encode_fast("a", true).map_err(|e| bad(format!("tokenizer.json: {e}")))?;
            bos_id.is_some() && with.get_ids().first() == bos_id.as_ref()
        }
    };
    // Byte-level BPE decodes with a ByteLevel step; SentencePiece BPE with byte fallback.
    let byte_level = inner.get_decoder().is_some_and(|d| format!("{d:?}").contains("ByteLevel"));
    let kind = if byte_level { TokenizerKind::ByteLevelBpe } else { TokenizerKind::SentencePiece };
    Ok(Tokenizer::from_parts(inner, control, kind, bos_id, eos_id, add_bos, stop_ids))
}
