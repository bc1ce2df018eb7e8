//! The decoder's settings, read once from GGUF metadata and shared by both backends (candle and the CPU
//! kernels): hyperparameters, the tensor names and shapes they imply, RoPE/YaRN tables, the query scale.

use crate::error::{EngineError, Result};
use crate::gguf::GgufFile;

/// How the key/value cache stores its values. f16 halves its memory (llama.cpp's default), at a
/// small cost in accuracy measured in tests/smollm2_reference.rs; Atelier's CPU kernels honour it, the
/// candle and OpenVINO paths keep their own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum KvCacheType {
    #[default]
    F32,
    F16,
}

impl KvCacheType {
    pub const ALL: [Self; 2] = [Self::F32, Self::F16];

    pub fn value_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
        }
    }
}

impl std::str::FromStr for KvCacheType {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            other => Err(EngineError::InvalidOption(format!("unknown key/value cache type `{other}`: f32 or f16"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    None,
    /// Positions divided by `factor`.
    Linear { factor: f64 },
    /// YaRN (Peng et al. 2023) as in `transformers`' `_compute_yarn_parameters`.
    Yarn {
        factor: f64,
        original_context: usize,
        beta_fast: f64,
        beta_slow: f64,
        mscale: f64,
        mscale_all_dim: f64,
        /// Extra cos/sin scale (`rope.scaling.attn_factor`).
        attn_factor: f64,
    },
}

/// Queries scaled by `1 + beta · ln(1 + floor(pos / original_context))` (Ministral 3's `llama_4_scaling_beta`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionTemperature {
    pub beta: f64,
    pub original_context: usize,
}

/// Tensor names of GGUF's llama layout, the one place both backends and the shape check spell them.
pub const TOKEN_EMBD: &str = "token_embd.weight";
/// Absent when the embeddings are tied (the embedding matrix doubles as the output head).
pub const OUTPUT: &str = "output.weight";
pub const OUTPUT_NORM: &str = "output_norm.weight";
/// Llama 3 style per-frequency RoPE divisors, where present.
pub const ROPE_FREQS: &str = "rope_freqs.weight";

/// The names of block `i`'s tensors.
#[derive(Debug, Clone)]
pub struct BlockTensors {
    pub attn_norm: String,
    pub attn_q: String,
    pub attn_k: String,
    pub attn_v: String,
    pub attn_output: String,
    pub ffn_norm: String,
    pub ffn_gate: String,
    pub ffn_up: String,
    pub ffn_down: String,
}

impl BlockTensors {
    pub fn new(i: usize) -> Self {
        let p = |s: &str| format!("blk.{i}.{s}.weight");
        Self {
            attn_norm: p("attn_norm"),
            attn_q: p("attn_q"),
            attn_k: p("attn_k"),
            attn_v: p("attn_v"),
            attn_output: p("attn_output"),
            ffn_norm: p("ffn_norm"),
            ffn_gate: p("ffn_gate"),
            ffn_up: p("ffn_up"),
            ffn_down: p("ffn_down"),
        }
    }
}

/// cos/sin of every position × rotary frequency (`[position][rope_dim / 2]`), already scaled by the YaRN
/// attention factor.
pub struct RopeTables {
    pub cos: Vec<f32>,
    pub sin: Vec<f32>,
    /// Frequencies per position (`rope_dim / 2`).
    pub half: usize,
}

/// Longest context a file may claim (10M-token models exist; 2^32 is a corrupt header).
pub const MAX_CONTEXT: usize = 1 << 24;

#[derive(Debug, Clone, PartialEq)]
pub struct TransformerConfig {
    pub architecture: String,
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_ff: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub rope_dim: usize,
    pub rope_theta: f64,
    pub rms_eps: f64,
    /// The context the model was trained for.
    pub train_context: usize,
    pub rope_scaling: RopeScaling,
    pub attention_temperature: Option<AttentionTemperature>,
}

impl TransformerConfig {
    pub fn from_gguf(gguf: &GgufFile) -> Result<Self> {
        let arch = gguf.require_supported_architecture()?;
        let key = |k: &str| format!("{arch}.{k}");
        let n_embd = gguf.usize(&key("embedding_length"))?;
        let n_head = gguf.usize(&key("attention.head_count"))?;
        let n_kv_head = gguf.opt_usize(&key("attention.head_count_kv"))?.unwrap_or(n_head);
        let head_dim = gguf.opt_usize(&key("attention.key_length"))?.unwrap_or(n_embd / n_head.max(1));
        let rope_dim = gguf.opt_usize(&key("rope.dimension_count"))?.unwrap_or(head_dim);
        let train_context = gguf.opt_usize(&key("context_length"))?.unwrap_or(2048);
        let n_layer = gguf.usize(&key("block_count"))?;
        let n_ff = gguf.usize(&key("feed_forward_length"))?;
        let bad = |detail: String| EngineError::BadHyperparameter { path: gguf.path().to_path_buf(), detail };
        // Bounded here, before anything is sized from them; the tensor shapes then pin them exactly.
        if n_embd == 0 || n_ff == 0 {
            return Err(bad(format!("embedding length {n_embd} and feed-forward length {n_ff} must both be positive")));
        }
        if n_head == 0 || n_kv_head == 0 || n_head % n_kv_head != 0 {
            return Err(bad(format!("{n_head} attention heads cannot share {n_kv_head} key/value heads")));
        }
        if head_dim == 0 || n_head.checked_mul(head_dim).is_none() {
            return Err(bad(format!("key length {head_dim} with {n_head} heads")));
        }
        // Zero would divide by zero in the rotary tables (found by the gguf_load fuzz target).
        if rope_dim == 0 || rope_dim > head_dim || rope_dim % 2 != 0 {
            return Err(bad(format!("rotary dimension {rope_dim} does not fit head size {head_dim}")));
        }
        if n_layer == 0 {
            return Err(bad("block count 0: the model has no layers".into()));
        }
        if train_context > MAX_CONTEXT {
            return Err(bad(format!("context length {train_context} (at most {MAX_CONTEXT} is accepted)")));
        }

        let factor = gguf.opt_f64(&key("rope.scaling.factor"))?;
        let scaling_type = gguf.opt_string(&key("rope.scaling.type"));
        let rope_scaling = match (scaling_type.as_deref(), factor) {
            (Some("yarn"), Some(factor)) if factor > 1.0 => RopeScaling::Yarn {
                factor,
                original_context: gguf
                    .opt_usize(&key("rope.scaling.original_context_length"))?
                    .unwrap_or((train_context as f64 / factor) as usize),
                beta_fast: gguf.opt_f64(&key("rope.scaling.yarn_beta_fast"))?.unwrap_or(32.0),
                beta_slow: gguf.opt_f64(&key("rope.scaling.yarn_beta_slow"))?.unwrap_or(1.0),
                // GGUF stores `mscale_all_dim` as the log multiplier and not `mscale`, which
                // llama.cpp takes to be 1; so do we.
                mscale: 1.0,
                mscale_all_dim: gguf.opt_f64(&key("rope.scaling.yarn_log_multiplier"))?.unwrap_or(0.0),
                attn_factor: gguf.opt_f64(&key("rope.scaling.attn_factor"))?.unwrap_or(1.0),
            },
            (Some("linear"), Some(factor)) if factor > 1.0 => RopeScaling::Linear { factor },
            _ => RopeScaling::None,
        };
        let attention_temperature = match gguf.opt_f64(&key("attention.temperature_scale"))? {
            Some(beta) if beta != 0.0 => Some(AttentionTemperature {
                beta,
                // llama.cpp divides positions by the YaRN original context.
                original_context: gguf.opt_usize(&key("rope.scaling.original_context_length"))?.unwrap_or(train_context),
            }),
            _ => None,
        };
        let rope_theta = gguf.opt_f64(&key("rope.freq_base"))?.unwrap_or(10_000.0);
        let rms_eps = gguf.opt_f64(&key("attention.layer_norm_rms_epsilon"))?.unwrap_or(1e-5);
        if !(rope_theta.is_finite() && rope_theta > 0.0) || !(rms_eps.is_finite() && rms_eps >= 0.0) {
            return Err(bad(format!("rope base {rope_theta} / norm epsilon {rms_eps}")));
        }
        let config = Self {
            n_layer,
            n_embd,
            n_ff,
            n_head,
            n_kv_head,
            head_dim,
            rope_dim,
            rope_theta,
            rms_eps,
            train_context,
            rope_scaling,
            attention_temperature,
            architecture: arch,
        };
        config.check_tensor_shapes(gguf)?;
        Ok(config)
    }

    /// Every tensor the decoder reads has the shape the settings imply; returns the vocabulary size
    /// (rows of `token_embd.weight`). Both backends index by these settings, so this guards both.
    pub fn check_tensor_shapes(&self, gguf: &GgufFile) -> Result<usize> {
        let path = gguf.path();
        let dims = |name: &str| -> Result<Vec<usize>> { Ok(gguf.tensor_location(name)?.1) };
        let expect = |name: &str, want: &[usize]| -> Result<()> {
            let found = dims(name)?;
            if found != want {
                return Err(EngineError::TensorShape {
                    path: path.to_path_buf(),
                    tensor: name.to_string(),
                    found: format!("{found:?}"),
                    expected: format!("{want:?}"),
                });
            }
            Ok(())
        };
        let (d, ff) = (self.n_embd, self.n_ff);
        let (q_dim, kv_dim) = (self.n_head * self.head_dim, self.n_kv_head * self.head_dim);
        let vocab = match dims(TOKEN_EMBD)?[..] {
            [vocab, _] if vocab > 0 => vocab,
            _ => 1, // fails just below with the expected shape
        };
        expect(TOKEN_EMBD, &[vocab, d])?;
        if gguf.has_tensor(OUTPUT) {
            expect(OUTPUT, &[vocab, d])?;
        }
        expect(OUTPUT_NORM, &[d])?;
        // Every block has nine tensors, so a file cannot hold more blocks than tensors.
        let tensors = gguf.content().tensor_infos.len();
        if self.n_layer > tensors {
            return Err(EngineError::BadHyperparameter {
                path: path.to_path_buf(),
                detail: format!("block count {} (the file has {tensors} tensors)", self.n_layer),
            });
        }
        for i in 0..self.n_layer {
            let b = BlockTensors::new(i);
            expect(&b.attn_norm, &[d])?;
            expect(&b.ffn_norm, &[d])?;
            expect(&b.attn_q, &[q_dim, d])?;
            expect(&b.attn_k, &[kv_dim, d])?;
            expect(&b.attn_v, &[kv_dim, d])?;
            expect(&b.attn_output, &[d, q_dim])?;
            expect(&b.ffn_gate, &[ff, d])?;
            expect(&b.ffn_up, &[ff, d])?;
            expect(&b.ffn_down, &[d, ff])?;
        }
        if gguf.has_tensor(ROPE_FREQS) {
            expect(ROPE_FREQS, &[self.rope_dim / 2])?;
        }
        Ok(vocab)
    }

    /// Bytes of a key/value cache of `kv` values holding `context` positions; saturates (so it never
    /// fits) on overflow.
    pub fn kv_cache_bytes(&self, context: usize, kv: KvCacheType) -> u64 {
        [2, self.n_layer, self.n_kv_head, self.head_dim, context, kv.value_bytes()]
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64))
            .unwrap_or(u64::MAX)
    }

    /// Inverse frequencies of the rotary embedding and the factor that scales cos/sin.
    pub fn rope_frequencies(&self) -> (Vec<f32>, f32) {
        let dim = self.rope_dim;
        let base = self.rope_theta;
        let extrapolation: Vec<f64> = (0..dim / 2).map(|i| 1.0 / base.powf((2 * i) as f64 / dim as f64)).collect();
        match self.rope_scaling {
            RopeScaling::None => (extrapolation.iter().map(|&f| f as f32).collect(), 1.0),
            RopeScaling::Linear { factor } => (extrapolation.iter().map(|&f| (f / factor) as f32).collect(), 1.0),
            RopeScaling::Yarn { factor, original_context, beta_fast, beta_slow, mscale, mscale_all_dim, attn_factor } => {
                let correction_dim = |rotations: f64| {
                    (dim as f64 * (original_context as f64 / (rotations * 2.0 * std::f64::consts::PI)).ln())
                        / (2.0 * base.ln())
                };
                let low = correction_dim(beta_fast).floor().max(0.0);
                let high = correction_dim(beta_slow).ceil().min(dim as f64 - 1.0);
                let span = if low == high { 0.001 } else { high - low };
                let inv_freq = extrapolation
                    .iter()
                    .enumerate()
                    .map(|(i, &extra)| {
                        let ramp = ((i as f64 - low) / span).clamp(0.0, 1.0);
                        let extrapolation_weight = 1.0 - ramp;
                        let interpolated = extra / factor;
                        (interpolated * (1.0 - extrapolation_weight) + extra * extrapolation_weight) as f32
                    })
                    .collect();
                let get_mscale = |scale: f64, m: f64| if scale <= 1.0 { 1.0 } else { 0.1 * m * scale.ln() + 1.0 };
                let attention_factor = if mscale_all_dim != 0.0 {
                    get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)
                } else {
                    get_mscale(factor, 1.0)
                } * attn_factor;
                (inv_freq, attention_factor as f32)
            }
        }
    }
    /// The cos/sin tables of positions `0..context_length`; `divisors` are the file's per-frequency
    /// divisors ([`ROPE_FREQS`]), where it has them.
    pub fn rope_tables(&self, divisors: Option<&[f32]>, context_length: usize) -> RopeTables {
        let (mut inv_freq, attention_factor) = self.rope_frequencies();
        if let Some(divisors) = divisors {
            for (f, d) in inv_freq.iter_mut().zip(divisors) {
                *f /= d;
            }
        }
        let half = inv_freq.len();
        let mut cos = vec![0f32; context_length * half];
        let mut sin = vec![0f32; context_length * half];
        for pos in 0..context_length {
            for (i, f) in inv_freq.iter().enumerate() {
                let angle = pos as f32 * f;
                cos[pos * half + i] = angle.cos() * attention_factor;
                sin[pos * half + i] = angle.sin() * attention_factor;
            }
        }
        RopeTables { cos, sin, half }
    }

    /// The factor queries at `pos` are multiplied by: 1 unless the model has an attention temperature.
    pub fn query_scale(&self, pos: usize) -> f32 {
        match self.attention_temperature {
            Some(t) => (1.0 + t.beta * (1.0 + (pos / t.original_context.max(1)) as f64).ln()) as f32,
            None => 1.0,
        }
    }
}
