//! Structured output: a JSON Schema or a Lark grammar becomes a token mask at every step (llguidance), so
//! a reply that must parse — the judge's verdict, the continuity checker's list — parses by construction.
//! The token trie is built once per model from the tokenizer's own vocabulary.

use std::sync::Arc;

use llguidance::api::{ParserLimits, TopLevelGrammar};
use llguidance::toktrie::{self, SimpleVob, TokEnv, TokRxInfo, TokTrie, TokenizerEnv};
use llguidance::{Matcher, ParserFactory};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::gguf::tokenizer::{Tokenizer, TokenizerKind};

/// What shape the reply must have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// One JSON value valid against the schema (as OpenAI's `response_format: json_schema`).
    JsonSchema {
        /// A short name for the schema (sent to servers that ask for one).
        name: String,
        schema: serde_json::Value,
    },
    /// A Lark grammar in llguidance's dialect (it may embed `%json { … }`).
    Lark { grammar: String },
}

impl ResponseFormat {
    pub fn json_schema(name: impl Into<String>, schema: serde_json::Value) -> Self {
        Self::JsonSchema { name: name.into(), schema }
    }

    fn grammar(&self) -> TopLevelGrammar {
        match self {
            Self::JsonSchema { schema, .. } => TopLevelGrammar::from_json_schema(schema.clone()),
            Self::Lark { grammar } => TopLevelGrammar::from_lark(grammar.clone()),
        }
    }
}

/// Compiles response formats for one tokenizer; cheap to share.
pub struct Grammars {
    factory: ParserFactory,
    vocab: usize,
}

impl Grammars {
    pub fn new(tokenizer: &Tokenizer) -> Result<Self> {
        let env = TrieEnv::new(tokenizer)?;
        let vocab = env.trie.vocab_size();
        let env: TokEnv = Arc::new(env);
        let mut factory = ParserFactory::new_simple(&env).map_err(|e| EngineError::Grammar(format!("token trie: {e}")))?;
        factory.quiet();
        // The defaults bound a step's work; a smaller grammar cap keeps a hostile schema from costing memory.
        *factory.limits_mut() = ParserLimits { max_grammar_size: 200_000, ..ParserLimits::default() };
        Ok(Self { factory, vocab })
    }

    /// A fresh constraint for one reply, or a clear error when the format does not compile.
    pub fn constrain(&self, format: &ResponseFormat) -> Result<Constraint> {
        let parser = self.factory.create_parser(format.grammar()).map_err(|e| EngineError::Grammar(e.to_string()))?;
        let matcher = Matcher::new(Ok(parser));
        if let Some(e) = matcher.get_error() {
            return Err(EngineError::Grammar(e));
        }
        Ok(Constraint { matcher, vocab: self.vocab, spent: std::time::Duration::ZERO })
    }
}

/// The state of one constrained reply.
pub struct Constraint {
    matcher: Matcher,
    vocab: usize,
    /// Time spent computing masks and advancing the grammar (the overhead of constraining).
    spent: std::time::Duration,
}

impl Constraint {
    /// Sets every logit the grammar forbids to −∞. `end_ids` (the model's end-of-turn tokens) stay allowed
    /// only where the grammar may end. Errs when no token at all is allowed.
    pub fn mask(&mut self, logits: &mut [f32], end_ids: &[u32]) -> Result<()> {
        let started = std::time::Instant::now();
        let result = self.mask_inner(logits, end_ids);
        self.spent += started.elapsed();
        result
    }

    fn mask_inner(&mut self, logits: &mut [f32], end_ids: &[u32]) -> Result<()> {
        let mask: SimpleVob = self.matcher.compute_mask().map_err(|e| EngineError::Grammar(self.explain(e)))?;
        let may_end = self.matcher.is_accepting().unwrap_or(false);
        let mut allowed_any = false;
        for (id, logit) in logits.iter_mut().enumerate() {
            let allowed = if end_ids.contains(&(id as u32)) { may_end } else { id < self.vocab && mask.is_allowed(id as u32) };
            if allowed {
                allowed_any |= logit.is_finite();
            } else {
                *logit = f32::NEG_INFINITY;
            }
        }
        if !allowed_any {
            return Err(EngineError::Grammar("the response format admits no further text here".into()));
        }
        Ok(())
    }

    /// Feeds the sampled token; true when the grammar is complete and nothing more may follow.
    pub fn advance(&mut self, token: u32) -> Result<bool> {
        let started = std::time::Instant::now();
        let consumed = self.matcher.consume_token(token).map_err(|e| EngineError::Grammar(self.explain(e)));
        self.spent += started.elapsed();
        consumed?;
        Ok(self.matcher.is_stopped())
    }

    /// Time spent in the grammar so far.
    pub fn spent(&self) -> std::time::Duration {
        self.spent
    }

    fn explain(&self, error: impl std::fmt::Display) -> String {
        self.matcher.get_error().unwrap_or_else(|| error.to_string())
    }
}

/// The tokenizer as llguidance sees it: each token's bytes, control tokens marked as special.
struct TrieEnv {
    trie: TokTrie,
    tokenizer: Tokenizer,
}

impl TrieEnv {
    fn new(tokenizer: &Tokenizer) -> Result<Self> {
        let control: std::collections::HashSet<u32> = tokenizer.control_ids().collect();
        let byte_map = gpt2_byte_map();
        let words: Vec<Vec<u8>> = (0..tokenizer.vocab_size() as u32)
            .map(|id| token_bytes(tokenizer, id, control.contains(&id), &byte_map))
            .collect();
        // An end id outside the vocabulary (a damaged file) is no end token for the grammar: the model's
        // stop ids are handled apart, in `Constraint::mask`.
        let eos = tokenizer.stop_ids().iter().copied().chain(tokenizer.eos_id()).find(|&id| (id as usize) < words.len()).unwrap_or(toktrie::INVALID_TOKEN);
        let mut info = TokRxInfo::new(words.len() as u32, eos);
        info.tok_bos = tokenizer.bos_id();
        let trie = TokTrie::from(&info, &words);
        Ok(Self { trie, tokenizer: tokenizer.clone() })
    }
}

impl TokenizerEnv for TrieEnv {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }

    fn tokenize_bytes(&self, bytes: &[u8]) -> Vec<toktrie::TokenId> {
        // Control text in the bytes is plain text here: only the model's own sampling emits control tokens.
        self.tokenizer.encode_plain(&String::from_utf8_lossy(bytes)).unwrap_or_default()
    }
}

const MAX_TOKEN_BYTES: usize = 1000;

/// The bytes a token stands for: GPT-2's byte-to-character map undone for byte-level BPE, `▁` and
/// `<0xAB>` pieces for SentencePiece; control tokens get llguidance's special marker so no grammar
/// can spell them.
fn token_bytes(tokenizer: &Tokenizer, id: u32, is_control: bool, byte_map: &[Option<u8>]) -> Vec<u8> {
    let Some(piece) = tokenizer.id_to_token(id) else { return Vec::new() };
    // The trie holds tokens of at most 1,024 bytes; a longer one (a hostile vocabulary) is left out.
    if piece.len() > MAX_TOKEN_BYTES {
        return Vec::new();
    }
    if is_control {
        let mut bytes = vec![TokTrie::SPECIAL_TOKEN_MARKER];
        bytes.extend_from_slice(piece.as_bytes());
        return bytes;
    }
    match tokenizer.kind() {
        TokenizerKind::ByteLevelBpe => {
            let bytes: Option<Vec<u8>> = piece.chars().map(|c| byte_map.get(c as usize).copied().flatten()).collect();
            // Not a byte-level piece (an added token): its text as is.
            bytes.unwrap_or_else(|| piece.into_bytes())
        }
        TokenizerKind::SentencePiece => {
            if let Some(hex) = piece.strip_prefix("<0x").and_then(|p| p.strip_suffix('>')) {
                if let Ok(byte) = u8::from_str_radix(hex, 16) {
                    return vec![byte];
                }
            }
            piece.replace('\u{2581}', " ").into_bytes()
        }
    }
}

/// GPT-2's reversible map, indexed by character: printable Latin-1 bytes stand for themselves, the other
/// 68 bytes are shifted to U+0100….
fn gpt2_byte_map() -> Vec<Option<u8>> {
    let printable = |b: usize| (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    let mut map = vec![None; 0x100 + 68];
    let mut shifted = 0x100;
    for b in 0..=255usize {
        if printable(b) {
            map[b] = Some(b as u8);
        } else {
            map[shifted] = Some(b as u8);
            shifted += 1;
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_map_is_gpt2s() {
        let map = gpt2_byte_map();
        assert_eq!(map['a' as usize], Some(b'a'));
        assert_eq!(map[0x120], Some(b' '));
        assert_eq!(map[0x10A], Some(b'\n'));
        assert_eq!(map[0x100], Some(0));
        assert_eq!(map[0xAD], None);
        let all: std::collections::HashSet<u8> = map.iter().flatten().copied().collect();
        assert_eq!(all.len(), 256);
    }
}
