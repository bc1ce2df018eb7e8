//! A `tokenizers` tokenizer rebuilt from GGUF metadata (`tokenizer.ggml.*`), for files that ship no
//! tokenizer.json. Two kinds exist in GGUF: `gpt2` (byte-level BPE with merges; its pre-tokenizer is
//! named by `tokenizer.ggml.pre`) and `llama` (SentencePiece BPE with scores and byte fallback).

use std::collections::HashMap;
use std::ops::Range;

use candle_core::quantized::gguf_file::Value;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::{Prepend, Replace};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence as PreSequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PreTokenizerWrapper, SplitDelimiterBehavior,
};

use crate::error::{EngineError, Result};
use super::GgufFile;

// ggml token types (llama.cpp `llama_token_type`).
const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// Pre-tokenizer regexes, as llama.cpp uses them for each `tokenizer.ggml.pre` value.
const GPT2_REGEX: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const TEKKEN_REGEX: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Texts that end a turn in the chat formats we know; a control token with one of these names stops generation.
pub(crate) const END_OF_TURN_TOKENS: &[&str] =
    &["<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>", "<end_of_turn>", "</s>", "<|end_of_text|>"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerKind {
    /// Byte-level BPE (`tokenizer.ggml.model = gpt2`), e.g. SmolLM2, Llama 3, Mistral's Tekken.
    ByteLevelBpe,
    /// SentencePiece BPE (`tokenizer.ggml.model = llama`), e.g. Mistral 7B, Llama 2.
    SentencePiece,
}

#[derive(Clone)]
pub struct Tokenizer {
    /// Never matches control tokens itself (`encode_special_tokens`): [`Specials`] decides where they are.
    inner: tokenizers::Tokenizer,
    specials: Specials,
    token_count: usize,
    kind: TokenizerKind,
    bos_id: Option<u32>,
    eos_id: Option<u32>,
    add_bos: bool,
    stop_ids: Vec<u32>,
}

impl Tokenizer {
    pub fn from_gguf(gguf: &GgufFile) -> Result<Self> {
        let model = gguf.string("tokenizer.ggml.model")?;
        let tokens = string_array(gguf, "tokenizer.ggml.tokens")?;
        let token_types = match gguf.opt_array("tokenizer.ggml.token_type")? {
            Some(values) => values.iter().map(value_as_i32).collect::<Option<Vec<_>>>().ok_or_else(|| {
                EngineError::Tokenizer("tokenizer.ggml.token_type holds non-integers".into())
            })?,
            None => vec![1; tokens.len()],
        };
        if token_types.len() != tokens.len() {
            return Err(EngineError::Tokenizer(format!(
                "{} tokens but {} token types",
                tokens.len(),
                token_types.len()
            )));
        }
        let bos_id = gguf.opt_u64("tokenizer.ggml.bos_token_id")?.map(|v| v as u32);
        let eos_id = gguf.opt_u64("tokenizer.ggml.eos_token_id")?.map(|v| v as u32);
        let eot_id = gguf.opt_u64("tokenizer.ggml.eot_token_id")?.map(|v| v as u32);
        let unk_id = gguf.opt_u64("tokenizer.ggml.unknown_token_id")?.map(|v| v as u32);

        let (kind, mut inner, default_add_bos) = match model.as_str() {
            "gpt2" => {
                let pre = gguf.opt_string("tokenizer.ggml.pre").unwrap_or_else(|| "default".into());
                let bos_by_default = matches!(pre.as_str(), "tekken" | "llama3" | "llama-bpe" | "llama-v3" | "pixtral");
                (TokenizerKind::ByteLevelBpe, byte_level_bpe(gguf, &tokens, &pre)?, bos_by_default)
            }
            "llama" => {
                let add_space_prefix = gguf.opt_bool("tokenizer.ggml.add_space_prefix")?.unwrap_or(true);
                (TokenizerKind::SentencePiece, sentencepiece_bpe(gguf, &tokens, unk_id, add_space_prefix)?, true)
            }
            other => {
                return Err(EngineError::Tokenizer(format!(
                    "tokenizer kind `{other}` is not supported (supported: gpt2, llama)"
                )))
            }
        };

        // Control and user-defined tokens are matched whole in text, as llama.cpp does with `parse_special`.
        let added: Vec<AddedToken> = tokens
            .iter()
            .zip(&token_types)
            .filter(|(_, t)| **t == TOKEN_TYPE_CONTROL || **t == TOKEN_TYPE_USER_DEFINED)
            .map(|(text, t)| AddedToken::from(text.clone(), *t == TOKEN_TYPE_CONTROL).normalized(false))
            .collect();
        inner.add_special_tokens(&added);
        inner.set_encode_special_tokens(true);
        let specials = Specials::new(
            tokens
                .iter()
                .zip(&token_types)
                .enumerate()
                .filter(|(_, (text, t))| **t == TOKEN_TYPE_CONTROL && !text.is_empty())
                .map(|(id, (text, _))| (text.clone(), id as u32)),
        );

        let mut stop_ids: Vec<u32> = eos_id.into_iter().chain(eot_id).collect();
        for (id, (text, t)) in tokens.iter().zip(&token_types).enumerate() {
            if *t == TOKEN_TYPE_CONTROL && END_OF_TURN_TOKENS.contains(&text.as_str()) && !stop_ids.contains(&(id as u32)) {
                stop_ids.push(id as u32);
            }
        }
        let add_bos = gguf.opt_bool("tokenizer.ggml.add_bos_token")?.unwrap_or(default_add_bos) && bos_id.is_some();
        Ok(Self { inner, specials, token_count: tokens.len(), kind, bos_id, eos_id, add_bos, stop_ids })
    }

    /// A tokenizer from a ready `tokenizers` one (a Hugging Face `tokenizer.json`) and its control tokens;
    /// those are then matched only where [`Specials`] allows, as for a GGUF's.
    pub(crate) fn from_parts(
        mut inner: tokenizers::Tokenizer,
        control: Vec<(String, u32)>,
        kind: TokenizerKind,
        bos_id: Option<u32>,
        eos_id: Option<u32>,
        add_bos: bool,
        stop_ids: Vec<u32>,
    ) -> Self {
        inner.set_encode_special_tokens(true);
        let token_count = inner.get_vocab_size(true);
        let specials = Specials::new(control.into_iter().filter(|(text, _)| !text.is_empty()));
        Self { inner, specials, token_count, kind, bos_id, eos_id, add_bos: add_bos && bos_id.is_some(), stop_ids }
    }

    pub fn kind(&self) -> TokenizerKind {
        self.kind
    }

    /// Encodes `text`, matching special tokens written in it; adds BOS when the model wants one and
    /// the text does not already start with it (chat templates often write it themselves).
    pub fn encode(&self, text: &str, add_bos: bool) -> Result<Vec<u32>> {
        self.encode_guarded(text, &[], add_bos)
    }

    /// As [`Self::encode`], but control-token text that overlaps an `untrusted` byte range (message
    /// contents) is encoded as plain text: a user cannot write a control token.
    pub fn encode_guarded(&self, text: &str, untrusted: &[Range<usize>], add_bos: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        let mut plain_from = 0;
        for (at, len, id) in self.specials.find(text, untrusted) {
            self.encode_plain_into(&text[plain_from..at], &mut ids)?;
            ids.push(id);
            plain_from = at + len;
        }
        self.encode_plain_into(&text[plain_from..], &mut ids)?;
        if add_bos && self.add_bos {
            if let Some(bos) = self.bos_id {
                if ids.first() != Some(&bos) {
                    ids.insert(0, bos);
                }
            }
        }
        Ok(ids)
    }

    /// Encodes `text` with no control tokens matched in it.
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        self.encode_plain_into(text, &mut ids)?;
        Ok(ids)
    }

    fn encode_plain_into(&self, text: &str, ids: &mut Vec<u32>) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let encoding = self.inner.encode_fast(text, false).map_err(|e| EngineError::Tokenizer(e.to_string()))?;
        ids.extend_from_slice(encoding.get_ids());
        Ok(())
    }

    /// Whether `text` holds the text of a control token (e.g. `<|im_start|>`).
    pub fn contains_control_text(&self, text: &str) -> bool {
        self.specials.find(text, &[]).next().is_some()
    }

    /// Entries of the GGUF's token list (the rows the embedding must have).
    pub fn token_count(&self) -> usize {
        self.token_count
    }

    /// Decodes ids to text, leaving out control tokens.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, true).map_err(|e| EngineError::Tokenizer(e.to_string()))
    }

    /// An incremental decoder that yields text only once it is valid UTF-8.
    pub fn decode_stream(&self) -> TextStream<'_> {
        TextStream { inner: self.inner.decode_stream(true) }
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    pub fn bos_id(&self) -> Option<u32> {
        self.bos_id
    }

    pub fn eos_id(&self) -> Option<u32> {
        self.eos_id
    }

    /// Tokens that end generation: EOS, EOT and the end-of-turn markers of known chat formats.
    pub fn stop_ids(&self) -> &[u32] {
        &self.stop_ids
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The control tokens' ids (never spelled by text).
    pub fn control_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.specials.by_first_byte.values().flatten().map(|(_, id)| *id)
    }
}

/// Control tokens by first byte, longest first: finds them leftmost-longest, as `tokenizers` does.
#[derive(Clone)]
struct Specials {
    by_first_byte: HashMap<u8, Vec<(String, u32)>>,
}

impl Specials {
    fn new(tokens: impl Iterator<Item = (String, u32)>) -> Self {
        let mut by_first_byte: HashMap<u8, Vec<(String, u32)>> = HashMap::new();
        for (text, id) in tokens {
            by_first_byte.entry(text.as_bytes()[0]).or_default().push((text, id));
        }
        for list in by_first_byte.values_mut() {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
            list.dedup_by(|a, b| a.0 == b.0);
        }
        Self { by_first_byte }
    }

    /// `(start, len, id)` of each control token in `text` that overlaps no `untrusted` range.
    fn find<'a>(&'a self, text: &'a str, untrusted: &'a [Range<usize>]) -> impl Iterator<Item = (usize, usize, u32)> + 'a {
        let bytes = text.as_bytes();
        let mut at = 0;
        std::iter::from_fn(move || {
            while at < bytes.len() {
                let start = at;
                at += 1;
                let Some(candidates) = self.by_first_byte.get(&bytes[start]) else { continue };
                if !text.is_char_boundary(start) {
                    continue;
                }
                let allowed = |len: usize| untrusted.iter().all(|r| start + len <= r.start || start >= r.end);
                if let Some((token, id)) =
                    candidates.iter().find(|(t, _)| text[start..].starts_with(t.as_str()) && allowed(t.len()))
                {
                    at = start + token.len();
                    return Some((start, token.len(), *id));
                }
            }
            None
        })
    }
}

/// Streaming detokenizer: feed ids, get the text pieces they complete.
pub struct TextStream<'a> {
    inner: tokenizers::tokenizer::DecodeStream<
        'a,
        tokenizers::ModelWrapper,
        NormalizerWrapper,
        PreTokenizerWrapper,
        tokenizers::PostProcessorWrapper,
        DecoderWrapper,
    >,
}

impl TextStream<'_> {
    pub fn step(&mut self, id: u32) -> Result<Option<String>> {
        self.inner.step(id).map_err(|e| EngineError::Tokenizer(e.to_string()))
    }
}

fn byte_level_bpe(gguf: &GgufFile, tokens: &[String], pre: &str) -> Result<tokenizers::Tokenizer> {
    let merges = string_array(gguf, "tokenizer.ggml.merges")?
        .into_iter()
        .map(|m| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| EngineError::Tokenizer(format!("malformed merge `{m}`")))
        })
        .collect::<Result<Vec<_>>>()?;
    let vocab: Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
    let byte_level_only = || ByteLevel::new(false, false, false).into();
    let split = |regex: &str| -> Result<PreTokenizerWrapper> {
        let pattern = SplitPattern::Regex(regex.to_string());
        Split::new(pattern, SplitDelimiterBehavior::Isolated, false)
            .map(Into::into)
            .map_err(|e| EngineError::Tokenizer(format!("bad pre-tokenizer regex: {e}")))
    };
    // As llama.cpp (llama-vocab.cpp): the split regex per `tokenizer.ggml.pre`, and whether a word found
    // whole in the vocabulary skips the merges (tiktoken-style vocabularies).
    let (pre_tokenizer, ignore_merges): (PreTokenizerWrapper, bool) = match pre {
        "default" | "gpt-2" | "gpt2" | "olmo" | "jais" => (PreSequence::new(vec![split(GPT2_REGEX)?, byte_level_only()]).into(), false),
        // These split every digit apart before the GPT-2 regex.
        "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva" => {
            (PreSequence::new(vec![Digits::new(true).into(), split(GPT2_REGEX)?, byte_level_only()]).into(), false)
        }
        "llama3" | "llama-bpe" | "llama-v3" | "falcon3" | "pixtral" => {
            (PreSequence::new(vec![split(LLAMA3_REGEX)?, byte_level_only()]).into(), true)
        }
        "tekken" => (PreSequence::new(vec![split(TEKKEN_REGEX)?, byte_level_only()]).into(), true),
        "qwen2" | "deepseek-r1-qwen" => (PreSequence::new(vec![split(QWEN2_REGEX)?, byte_level_only()]).into(), false),
        other => {
            return Err(EngineError::Tokenizer(format!(
                "the pre-tokenizer `{other}` (tokenizer.ggml.pre) is not supported yet; \
                 supported: default, gpt-2, smollm, starcoder, llama-bpe, tekken, qwen2"
            )))
        }
    };
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .ignore_merges(ignore_merges)
        .build()
        .map_err(|e| EngineError::Tokenizer(format!("cannot build BPE: {e}")))?;
    let mut tokenizer = tokenizers::Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
    tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
    Ok(tokenizer)
}

/// SentencePiece BPE as Hugging Face converts it: merges derived from the piece scores.
fn sentencepiece_bpe(
    gguf: &GgufFile,
    tokens: &[String],
    unk_id: Option<u32>,
    add_space_prefix: bool,
) -> Result<tokenizers::Tokenizer> {
    let scores: Vec<f32> = match gguf.opt_array("tokenizer.ggml.scores")? {
        Some(values) => values
            .iter()
            .map(|v| v.to_f32().ok())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| EngineError::Tokenizer("tokenizer.ggml.scores holds non-floats".into()))?,
        None => (0..tokens.len()).map(|i| -(i as f32)).collect(),
    };
    if scores.len() != tokens.len() {
        return Err(EngineError::Tokenizer(format!("{} tokens but {} scores", tokens.len(), scores.len())));
    }
    // Deriving merges hashes both halves of every split of every piece: quadratic in a piece's length,
    // so a vocabulary of huge pieces would hang the load.
    let work = tokens.iter().fold(0u64, |sum, t| sum.saturating_add((t.len() as u64).saturating_mul(t.chars().count() as u64)));
    if work > MAX_MERGE_WORK {
        return Err(EngineError::Tokenizer(
            "the vocabulary's pieces are far longer than any real tokenizer's; the file is damaged or hostile".into(),
        ));
    }
    let vocab: Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
    let merges = merges_from_scores(tokens, &scores, &vocab);
    let mut builder = BPE::builder().vocab_and_merges(vocab, merges).byte_fallback(true).fuse_unk(true);
    if let Some(unk) = unk_id.and_then(|id| tokens.get(id as usize)) {
        builder = builder.unk_token(unk.clone());
    }
    let bpe = builder.build().map_err(|e| EngineError::Tokenizer(format!("cannot build BPE: {e}")))?;

    let replace = |from: &str, to: &str| {
        Replace::new(from, to).map_err(|e| EngineError::Tokenizer(format!("normalizer: {e}")))
    };
    let mut normalizers: Vec<NormalizerWrapper> = Vec::new();
    if add_space_prefix {
        normalizers.push(Prepend::new("▁".into()).into());
    }
    normalizers.push(replace(" ", "▁")?.into());
    let mut decoders: Vec<DecoderWrapper> =
        vec![replace("▁", " ")?.into(), ByteFallback::default().into(), Fuse::default().into()];
    if add_space_prefix {
        decoders.push(Strip::new(' ', 1, 0).into());
    }
    let mut tokenizer = tokenizers::Tokenizer::new(bpe);
    tokenizer.with_normalizer(Some(tokenizers::normalizers::Sequence::new(normalizers)));
    tokenizer.with_decoder(Some(DecoderSequence::new(decoders)));
    Ok(tokenizer)
}

/// Bytes hashed deriving SentencePiece merges: real vocabularies (256k short pieces) need under 10^8.
const MAX_MERGE_WORK: u64 = 1 << 31;

/// Every split of a piece into two pieces of the vocabulary is a merge; higher-scoring results merge first.
fn merges_from_scores(tokens: &[String], scores: &[f32], vocab: &Vocab) -> Vec<(String, String)> {
    let mut ranked: Vec<(f32, u32, u32, String, String)> = Vec::new();
    for (piece, &score) in tokens.iter().zip(scores) {
        let chars: Vec<(usize, char)> = piece.char_indices().collect();
        for &(split, _) in chars.iter().skip(1) {
            let (left, right) = piece.split_at(split);
            if let (Some(&l), Some(&r)) = (vocab.get(left), vocab.get(right)) {
                ranked.push((score, l, r, left.to_string(), right.to_string()));
            }
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    ranked.into_iter().map(|(_, _, _, l, r)| (l, r)).collect()
}

fn string_array(gguf: &GgufFile, key: &str) -> Result<Vec<String>> {
    gguf.array(key)?
        .iter()
        .map(|v| v.to_string().cloned().ok())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| EngineError::Tokenizer(format!("{key} holds non-strings")))
}

fn value_as_i32(v: &Value) -> Option<i32> {
    match v {
        Value::I32(x) => Some(*x),
        Value::U32(x) => Some(*x as i32),
        Value::I8(x) => Some(*x as i32),
        Value::U8(x) => Some(*x as i32),
        Value::I16(x) => Some(*x as i32),
        Value::U16(x) => Some(*x as i32),
        Value::I64(x) => Some(*x as i32),
        Value::U64(x) => Some(*x as i32),
        _ => None,
    }
}
