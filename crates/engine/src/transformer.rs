//! The llama-family decoder on candle building blocks: `llama` GGUFs (SmolLM2, Llama, Mistral 7B,
//! older Ministral) and `mistral3` (Ministral 3: YaRN RoPE and position-dependent attention temperature).
//! Every hyperparameter comes from the GGUF metadata.

use candle_core::quantized::{GgmlDType, QMatMul};
use candle_core::{DType, Device, Module, Tensor, D};

use crate::error::{EngineError, Result};
use crate::gguf::{dtype_name, GgufFile};

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
        let vocab = match dims("token_embd.weight")?[..] {
            [vocab, _] if vocab > 0 => vocab,
            _ => 1, // fails just below with the expected shape
        };
        expect("token_embd.weight", &[vocab, d])?;
        if gguf.has_tensor("output.weight") {
            expect("output.weight", &[vocab, d])?;
        }
        expect("output_norm.weight", &[d])?;
        // Every block has nine tensors, so a file cannot hold more blocks than tensors.
        let tensors = gguf.content().tensor_infos.len();
        if self.n_layer > tensors {
            return Err(EngineError::BadHyperparameter {
                path: path.to_path_buf(),
                detail: format!("block count {} (the file has {tensors} tensors)", self.n_layer),
            });
        }
        for i in 0..self.n_layer {
            let p = |s: &str| format!("blk.{i}.{s}.weight");
            expect(&p("attn_norm"), &[d])?;
            expect(&p("ffn_norm"), &[d])?;
            expect(&p("attn_q"), &[q_dim, d])?;
            expect(&p("attn_k"), &[kv_dim, d])?;
            expect(&p("attn_v"), &[kv_dim, d])?;
            expect(&p("attn_output"), &[d, q_dim])?;
            expect(&p("ffn_gate"), &[ff, d])?;
            expect(&p("ffn_up"), &[ff, d])?;
            expect(&p("ffn_down"), &[d, ff])?;
        }
        if gguf.has_tensor("rope_freqs.weight") {
            expect("rope_freqs.weight", &[self.rope_dim / 2])?;
        }
        Ok(vocab)
    }

    /// Bytes of an f32 key/value cache holding `context` positions; saturates (so it never fits) on overflow.
    pub fn kv_cache_bytes(&self, context: usize) -> u64 {
        [2, self.n_layer, self.n_kv_head, self.head_dim, context, 4]
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
}

struct RmsNorm {
    weight: Tensor,
    eps: f32,
}

impl RmsNorm {
    fn load(gguf: &mut GgufFile, name: &str, eps: f64, device: &Device) -> Result<Self> {
        let weight = gguf.tensor(name, device)?.dequantize(device)?;
        Ok(Self { weight, eps: eps as f32 })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::ops::rms_norm(x, &self.weight, self.eps)?)
    }
}

/// A weight matrix applied as `x · Wᵀ`, kept in its quantised form unless `dequantize`.
struct Linear {
    inner: QMatMul,
}

impl Linear {
    fn load(gguf: &mut GgufFile, name: &str, device: &Device, dequantize: bool) -> Result<Self> {
        let tensor = gguf.tensor(name, device)?;
        Self::from_qtensor(gguf, name, tensor, dequantize)
    }

    fn from_qtensor(gguf: &GgufFile, name: &str, tensor: candle_core::quantized::QTensor, dequantize: bool) -> Result<Self> {
        if tensor.dtype() == GgmlDType::Q8_1 || tensor.dtype() == GgmlDType::Q8K {
            return Err(EngineError::UnsupportedTensorType {
                path: gguf.path().to_path_buf(),
                tensor: name.to_string(),
                dtype: dtype_name(tensor.dtype()).to_string(),
            });
        }
        if dequantize {
            return Ok(Self { inner: QMatMul::Tensor(tensor.dequantize(&tensor.device())?) });
        }
        Ok(Self { inner: QMatMul::from_qtensor(tensor)? })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.inner.forward(x)?)
    }
}

struct KvCache {
    k: Tensor,
    v: Tensor,
}

struct Layer {
    attn_norm: RmsNorm,
    wq: Linear,
    wk: Linear,
    wv: Linear,
    wo: Linear,
    ffn_norm: RmsNorm,
    w_gate: Linear,
    w_up: Linear,
    w_down: Linear,
    cache: Option<KvCache>,
}

/// Where the decoder runs: Atelier's own CPU kernels, or candle (GPUs, and the CPU for comparison).
pub enum Transformer {
    Cpu(crate::cpu::model::CpuTransformer),
    Candle(CandleTransformer),
}

impl Transformer {
    pub fn config(&self) -> &TransformerConfig {
        match self {
            Self::Cpu(t) => t.config(),
            Self::Candle(t) => &t.config,
        }
    }

    pub fn context_length(&self) -> usize {
        match self {
            Self::Cpu(t) => t.context_length(),
            Self::Candle(t) => t.context_length,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Cpu(_) => "atelier-cpu",
            Self::Candle(_) => "candle",
        }
    }

    /// Forgets the key/value cache (a new conversation). The CPU cache is simply overwritten.
    pub fn clear_cache(&mut self) {
        if let Self::Candle(t) = self {
            t.clear_cache();
        }
    }

    /// Runs `tokens` at positions `start..start+len` and returns logits: `len × vocab` values when
    /// `all_logits`, else the `vocab` values of the last position. Positions before `start` must be cached.
    pub fn forward(&mut self, tokens: &[u32], start: usize, all_logits: bool) -> Result<Vec<f32>> {
        match self {
            Self::Cpu(t) => t.forward(tokens, start, all_logits),
            Self::Candle(t) => Ok(t.forward(tokens, start, all_logits)?.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?),
        }
    }
}

pub struct CandleTransformer {
    config: TransformerConfig,
    embedding: candle_core::quantized::QTensor,
    layers: Vec<Layer>,
    norm: RmsNorm,
    output: Linear,
    cos: Tensor,
    sin: Tensor,
    context_length: usize,
    device: Device,
}

impl CandleTransformer {
    /// Loads every weight onto `device`, with room for `context_length` positions.
    pub fn load(
        gguf: &mut GgufFile,
        config: TransformerConfig,
        context_length: usize,
        device: &Device,
        dequantize: bool,
    ) -> Result<Self> {
        let embedding = gguf.tensor("token_embd.weight", device)?;
        // Tied embeddings: no `output.weight`, the embedding matrix doubles as the output head.
        let output = if gguf.has_tensor("output.weight") {
            Linear::load(gguf, "output.weight", device, dequantize)?
        } else {
            let tied = gguf.tensor("token_embd.weight", device)?;
            Linear::from_qtensor(gguf, "token_embd.weight", tied, dequantize)?
        };
        let norm = RmsNorm::load(gguf, "output_norm.weight", config.rms_eps, device)?;
        let mut layers = Vec::with_capacity(config.n_layer);
        for i in 0..config.n_layer {
            let p = |s: &str| format!("blk.{i}.{s}.weight");
            layers.push(Layer {
                attn_norm: RmsNorm::load(gguf, &p("attn_norm"), config.rms_eps, device)?,
                wq: Linear::load(gguf, &p("attn_q"), device, dequantize)?,
                wk: Linear::load(gguf, &p("attn_k"), device, dequantize)?,
                wv: Linear::load(gguf, &p("attn_v"), device, dequantize)?,
                wo: Linear::load(gguf, &p("attn_output"), device, dequantize)?,
                ffn_norm: RmsNorm::load(gguf, &p("ffn_norm"), config.rms_eps, device)?,
                w_gate: Linear::load(gguf, &p("ffn_gate"), device, dequantize)?,
                w_up: Linear::load(gguf, &p("ffn_up"), device, dequantize)?,
                w_down: Linear::load(gguf, &p("ffn_down"), device, dequantize)?,
                cache: None,
            });
        }
        let (mut inv_freq, attention_factor) = config.rope_frequencies();
        // Llama 3 style GGUFs carry per-frequency divisors.
        if gguf.has_tensor("rope_freqs.weight") {
            let factors = gguf.tensor("rope_freqs.weight", &Device::Cpu)?.dequantize(&Device::Cpu)?.to_vec1::<f32>()?;
            for (f, d) in inv_freq.iter_mut().zip(factors) {
                *f /= d;
            }
        }
        let half = inv_freq.len();
        let inv_freq = Tensor::from_vec(inv_freq, (1, half), device)?;
        let positions = Tensor::arange(0u32, context_length as u32, device)?.to_dtype(DType::F32)?.reshape((context_length, 1))?;
        let angles = positions.matmul(&inv_freq)?;
        let cos = (angles.cos()? * attention_factor as f64)?;
        let sin = (angles.sin()? * attention_factor as f64)?;
        Ok(Self { config, embedding, layers, norm, output, cos, sin, context_length, device: device.clone() })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Forgets the key/value cache (a new conversation).
    pub fn clear_cache(&mut self) {
        for layer in &mut self.layers {
            layer.cache = None;
        }
    }

    /// Runs `tokens` placed at positions `start..start+len` and returns logits, `[len, vocab]` when
    /// `all_logits` else `[vocab]` for the last position. Positions before `start` must be cached.
    pub fn forward(&mut self, tokens: &[u32], start: usize, all_logits: bool) -> Result<Tensor> {
        let seq = tokens.len();
        if seq == 0 {
            return Err(EngineError::EmptyPrompt);
        }
        if start + seq > self.context_length {
            return Err(EngineError::ContextOverflow { prompt_tokens: start + seq, context_length: self.context_length });
        }
        let ids = Tensor::new(tokens, &self.device)?;
        let mut x = self.embedding.embedding(&ids)?;
        let cos = self.cos.narrow(0, start, seq)?;
        let sin = self.sin.narrow(0, start, seq)?;
        let mask = causal_mask(seq, start, &self.device)?;
        let q_scale = self.query_scale(start, seq)?;
        let cfg = &self.config;
        let context_length = self.context_length;
        for layer in &mut self.layers {
            let residual = &x;
            let h = layer.attn_norm.forward(&x)?;
            let h = attention(layer, cfg, &h, start, &cos, &sin, mask.as_ref(), q_scale.as_ref(), context_length)?;
            let x1 = (h + residual)?;
            let h = layer.ffn_norm.forward(&x1)?;
            let gate = candle_nn::ops::silu(&layer.w_gate.forward(&h)?)?;
            let up = layer.w_up.forward(&h)?;
            let h = layer.w_down.forward(&(gate * up)?)?;
            x = (h + x1)?;
        }
        let x = if all_logits { x } else { x.narrow(0, seq - 1, 1)? };
        let x = self.norm.forward(&x)?;
        let logits = self.output.forward(&x)?;
        if all_logits {
            Ok(logits)
        } else {
            Ok(logits.squeeze(0)?)
        }
    }

    fn query_scale(&self, start: usize, seq: usize) -> Result<Option<Tensor>> {
        let Some(t) = self.config.attention_temperature else { return Ok(None) };
        let scales: Vec<f32> = (start..start + seq)
            .map(|pos| (1.0 + t.beta * (1.0 + (pos / t.original_context.max(1)) as f64).ln()) as f32)
            .collect();
        Ok(Some(Tensor::from_vec(scales, (1, seq, 1), &self.device)?))
    }
}

#[allow(clippy::too_many_arguments)]
fn attention(
    layer: &mut Layer,
    cfg: &TransformerConfig,
    x: &Tensor,
    start: usize,
    cos: &Tensor,
    sin: &Tensor,
    mask: Option<&Tensor>,
    q_scale: Option<&Tensor>,
    context_length: usize,
) -> Result<Tensor> {
    let seq = x.dim(0)?;
    let (n_head, n_kv, hd) = (cfg.n_head, cfg.n_kv_head, cfg.head_dim);
    let heads = |t: Tensor, n: usize| -> Result<Tensor> { Ok(t.reshape((seq, n, hd))?.transpose(0, 1)?.contiguous()?) };
    let q = heads(layer.wq.forward(x)?, n_head)?;
    let k = heads(layer.wk.forward(x)?, n_kv)?;
    let v = heads(layer.wv.forward(x)?, n_kv)?;
    let q = rotate(&q, cos, sin, cfg.rope_dim)?;
    let k = rotate(&k, cos, sin, cfg.rope_dim)?;
    let q = match q_scale {
        Some(scale) => q.broadcast_mul(scale)?,
        None => q,
    };

    let cache = match &mut layer.cache {
        Some(cache) => cache,
        None => layer.cache.insert(KvCache {
            k: Tensor::zeros((n_kv, context_length, hd), DType::F32, x.device())?,
            v: Tensor::zeros((n_kv, context_length, hd), DType::F32, x.device())?,
        }),
    };
    cache.k.slice_set(&k, 1, start)?;
    cache.v.slice_set(&v, 1, start)?;
    let total = start + seq;
    let k_all = cache.k.narrow(1, 0, total)?;
    let v_all = cache.v.narrow(1, 0, total)?;

    // Grouped-query attention without copying K/V: the query heads that share a K/V head are stacked.
    let n_rep = n_head / n_kv;
    let q = q.reshape((n_kv, n_rep * seq, hd))?;
    let scores = (q.matmul(&k_all.t()?)? * (1.0 / (hd as f64).sqrt()))?;
    let scores = match mask {
        Some(mask) => scores.reshape((n_kv, n_rep, seq, total))?.broadcast_add(mask)?.reshape((n_kv, n_rep * seq, total))?,
        None => scores,
    };
    let probs = candle_nn::ops::softmax_last_dim(&scores)?;
    let out = probs.matmul(&v_all.contiguous()?)?;
    let out = out.reshape((n_head, seq, hd))?.transpose(0, 1)?.reshape((seq, n_head * hd))?;
    layer.wo.forward(&out)
}

/// Interleaved-pair RoPE (GGUF's llama layout) over the first `rope_dim` dims of each head.
fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor, rope_dim: usize) -> Result<Tensor> {
    let hd = x.dim(D::Minus1)?;
    let x4 = x.unsqueeze(0)?;
    if rope_dim == hd {
        return Ok(candle_nn::rotary_emb::rope_i(&x4, cos, sin)?.squeeze(0)?);
    }
    let rotated = candle_nn::rotary_emb::rope_i(&x4.narrow(D::Minus1, 0, rope_dim)?.contiguous()?, cos, sin)?;
    let pass = x4.narrow(D::Minus1, rope_dim, hd - rope_dim)?;
    Ok(Tensor::cat(&[rotated, pass], D::Minus1)?.squeeze(0)?)
}

fn causal_mask(seq: usize, start: usize, device: &Device) -> Result<Option<Tensor>> {
    if seq == 1 {
        return Ok(None);
    }
    let total = start + seq;
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| (0..total).map(move |j| if j > start + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Ok(Some(Tensor::from_vec(mask, (seq, total), device)?))
}
