//! Random-weight GGUF models of any llama-family shape, with a small byte-level tokenizer: fixtures for
//! tests and stand-ins of real models' shapes (e.g. Ministral 3 3B) for benchmarks.

use candle_core::quantized::GgmlDType;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::Result;
use super::gguf_writer::{GgufWriter, MetaValue};
use super::mix::{QuantMix, TensorRole};

/// Special tokens of the synthetic vocabulary, in id order after the 256 byte tokens.
pub const SPECIAL_TOKENS: &[&str] = &["<s>", "</s>", "<|im_start|>", "<|im_end|>"];

#[derive(Debug, Clone)]
pub struct SyntheticSpec {
    pub architecture: String,
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_ff: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub vocab_size: usize,
    pub context_length: usize,
    pub rope_theta: f32,
    /// (factor, original context) for YaRN.
    pub yarn: Option<(f32, usize)>,
    /// Ministral 3's attention temperature beta.
    pub attention_temperature: Option<f32>,
    pub weight_type: GgmlDType,
    /// Where set, each tensor's type follows llama.cpp's recipe for this file type instead of
    /// `weight_type` (token embeddings included).
    pub mix: Option<QuantMix>,
    pub tied_embeddings: bool,
    pub seed: u64,
    /// Another model's tokenizer and chat template (its `tokenizer.*` metadata, see
    /// [`super::borrowed_tokenizer`]) instead of the small byte-level one: a stand-in then turns text
    /// into as many tokens as a real model does.
    pub tokenizer: Option<Vec<(String, MetaValue)>>,
}

impl SyntheticSpec {
    /// A llama model small enough to build in milliseconds.
    pub fn tiny_llama() -> Self {
        Self {
            architecture: "llama".into(),
            n_layer: 2,
            n_embd: 64,
            n_ff: 128,
            n_head: 4,
            n_kv_head: 2,
            head_dim: 16,
            vocab_size: 300,
            context_length: 256,
            rope_theta: 10_000.0,
            yarn: None,
            attention_temperature: None,
            weight_type: GgmlDType::Q8_0,
            mix: None,
            tied_embeddings: false,
            seed: 1,
            tokenizer: None,
        }
    }

    /// The text model of Ministral 3 3B Instruct (2512), with random weights.
    pub fn ministral3_3b(weight_type: GgmlDType) -> Self {
        Self {
            architecture: "mistral3".into(),
            n_layer: 26,
            n_embd: 3072,
            n_ff: 9216,
            n_head: 32,
            n_kv_head: 8,
            head_dim: 128,
            vocab_size: 131_072,
            context_length: 262_144,
            rope_theta: 1_000_000.0,
            yarn: Some((16.0, 16_384)),
            attention_temperature: Some(0.1),
            weight_type,
            mix: None,
            tied_embeddings: true,
            seed: 3,
            tokenizer: None,
        }
    }

    pub fn write(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.write_with(path, |_| {})
    }

    /// Writes the model after `extra` adds its own metadata or tensors (e.g. a vision tower).
    pub fn write_with(&self, path: impl AsRef<std::path::Path>, extra: impl FnOnce(&mut GgufWriter)) -> Result<()> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut w = GgufWriter::new();
        let arch = self.architecture.as_str();
        let key = |k: &str| format!("{arch}.{k}");
        w.meta("general.architecture", arch)
            .meta("general.name", format!("synthetic {arch} {}L {}d", self.n_layer, self.n_embd))
            .meta(key("block_count"), self.n_layer as u32)
            .meta(key("context_length"), self.context_length as u32)
            .meta(key("embedding_length"), self.n_embd as u32)
            .meta(key("feed_forward_length"), self.n_ff as u32)
            .meta(key("attention.head_count"), self.n_head as u32)
            .meta(key("attention.head_count_kv"), self.n_kv_head as u32)
            .meta(key("attention.key_length"), self.head_dim as u32)
            .meta(key("attention.value_length"), self.head_dim as u32)
            .meta(key("rope.dimension_count"), self.head_dim as u32)
            .meta(key("rope.freq_base"), self.rope_theta)
            .meta(key("attention.layer_norm_rms_epsilon"), 1e-5f32);
        if let Some((factor, original)) = self.yarn {
            w.meta(key("rope.scaling.type"), "yarn")
                .meta(key("rope.scaling.factor"), factor)
                .meta(key("rope.scaling.original_context_length"), original as u32)
                .meta(key("rope.scaling.yarn_beta_fast"), 32.0f32)
                .meta(key("rope.scaling.yarn_beta_slow"), 1.0f32)
                .meta(key("rope.scaling.yarn_log_multiplier"), 1.0f32);
        }
        if let Some(beta) = self.attention_temperature {
            w.meta(key("attention.temperature_scale"), beta);
        }
        match &self.tokenizer {
            Some(borrowed) => super::borrowed_tokenizer::write(&mut w, borrowed, self.vocab_size)?,
            None => self.write_tokenizer(&mut w),
        }

        let (d, ff, hd) = (self.n_embd, self.n_ff, self.head_dim);
        let q_dim = self.n_head * hd;
        let kv_dim = self.n_kv_head * hd;
        let n = self.n_layer;
        let tied = self.tied_embeddings;
        // A matrix's type: the one weight type, or the mix's for its role, layer and row length.
        let ty = |role: TensorRole, layer: usize, cols: usize| match self.mix {
            Some(mix) => mix.tensor_type(role, layer, n, cols, tied),
            None => self.weight_type,
        };
        // Embeddings: unit variance so attention is far from uniform (it would hide RoPE bugs).
        let embd_type = match self.mix {
            Some(_) => ty(TensorRole::TokenEmbedding, 0, d),
            None if self.weight_type == GgmlDType::F32 => GgmlDType::F32,
            None => GgmlDType::Q8_0,
        };
        let embd: Vec<f32> = (0..self.vocab_size * d).map(|_| normal(&mut rng)).collect();
        w.tensor("token_embd.weight", &[self.vocab_size, d], embd, embd_type)?;
        if !tied {
            random_matrix(&mut w, &mut rng, "output.weight".into(), self.vocab_size, d, ty(TensorRole::Output, 0, d))?;
        }
        random_norm(&mut w, &mut rng, "output_norm.weight".into(), d)?;
        for i in 0..n {
            let p = |s: &str| format!("blk.{i}.{s}.weight");
            random_norm(&mut w, &mut rng, p("attn_norm"), d)?;
            random_norm(&mut w, &mut rng, p("ffn_norm"), d)?;
            let other = ty(TensorRole::Other, i, d);
            random_matrix(&mut w, &mut rng, p("attn_q"), q_dim, d, other)?;
            random_matrix(&mut w, &mut rng, p("attn_k"), kv_dim, d, other)?;
            random_matrix(&mut w, &mut rng, p("attn_v"), kv_dim, d, ty(TensorRole::AttentionValue, i, d))?;
            random_matrix(&mut w, &mut rng, p("attn_output"), d, q_dim, ty(TensorRole::Other, i, q_dim))?;
            random_matrix(&mut w, &mut rng, p("ffn_gate"), ff, d, other)?;
            random_matrix(&mut w, &mut rng, p("ffn_up"), ff, d, other)?;
            random_matrix(&mut w, &mut rng, p("ffn_down"), d, ff, ty(TensorRole::FeedForwardDown, i, ff))?;
        }
        extra(&mut w);
        w.write(path)
    }

    /// Byte-level BPE over the 256 GPT-2 byte symbols, a few merges, chat specials, and filler up to `vocab_size`.
    fn write_tokenizer(&self, w: &mut GgufWriter) {
        let mut tokens: Vec<String> = gpt2_byte_symbols().into_iter().map(String::from).collect();
        let mut types = vec![1i32; tokens.len()];
        for special in SPECIAL_TOKENS {
            tokens.push(special.to_string());
            types.push(3);
        }
        let merges = ["Ġ t", "h e", "Ġt he", "i n", "e r"];
        for m in merges {
            tokens.push(m.replace(' ', ""));
            types.push(1);
        }
        while tokens.len() < self.vocab_size {
            tokens.push(format!("<unused{}>", tokens.len()));
            types.push(5);
        }
        tokens.truncate(self.vocab_size.max(256 + SPECIAL_TOKENS.len() + merges.len()));
        types.truncate(tokens.len());
        let id = |t: &str| SPECIAL_TOKENS.iter().position(|s| *s == t).map(|i| (256 + i) as u32).unwrap();
        w.meta("tokenizer.ggml.model", "gpt2")
            .meta("tokenizer.ggml.pre", "default")
            .meta("tokenizer.ggml.tokens", MetaValue::Strings(tokens))
            .meta("tokenizer.ggml.token_type", MetaValue::I32s(types))
            .meta("tokenizer.ggml.merges", MetaValue::Strings(merges.iter().map(|m| m.to_string()).collect()))
            .meta("tokenizer.ggml.bos_token_id", id("<s>"))
            .meta("tokenizer.ggml.eos_token_id", id("<|im_end|>"))
            .meta("tokenizer.ggml.add_bos_token", false);
    }
}

/// GPT-2's reversible byte → printable-character map, in byte order.
pub fn gpt2_byte_symbols() -> Vec<char> {
    let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
    let mut extra = 0;
    (0u32..256)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).unwrap()
            } else {
                extra += 1;
                char::from_u32(255 + extra).unwrap()
            }
        })
        .collect()
}

/// Weights ~ N(0, (1.5/√fan_in)²): larger than training inits, so every feature visibly moves the logits.
fn random_matrix(w: &mut GgufWriter, rng: &mut StdRng, name: String, rows: usize, cols: usize, dtype: GgmlDType) -> Result<()> {
    let scale = 1.5 / (cols as f32).sqrt();
    let values = (0..rows * cols).map(|_| normal(rng) * scale).collect();
    w.tensor(name, &[rows, cols], values, dtype)?;
    Ok(())
}

fn random_norm(w: &mut GgufWriter, rng: &mut StdRng, name: String, dim: usize) -> Result<()> {
    let values = (0..dim).map(|_| 1.0 + 0.1 * normal(rng)).collect();
    w.tensor(name, &[dim], values, GgmlDType::F32)?;
    Ok(())
}

fn normal(rng: &mut StdRng) -> f32 {
    // Box–Muller.
    let u1: f32 = rng.random::<f32>().max(f32::MIN_POSITIVE);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}
