//! The llama-family decoder on candle building blocks, for CUDA and Metal (and the CPU, for comparison
//! and f32 reference runs): `llama` GGUFs (SmolLM2, Llama, Mistral 7B, older Ministral) and `mistral3`
//! (Ministral 3: YaRN RoPE and position-dependent attention temperature), as set by [`TransformerConfig`].

use candle_core::quantized::{GgmlDType, QMatMul};
use candle_core::{DType, Device, Module, Tensor, D};

use crate::config::{self, BlockTensors, TransformerConfig};
use crate::error::{EngineError, Result};
use crate::gguf::{dtype_name, GgufFile};

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
        let embedding = gguf.tensor(config::TOKEN_EMBD, device)?;
        let output = if gguf.has_tensor(config::OUTPUT) {
            Linear::load(gguf, config::OUTPUT, device, dequantize)?
        } else {
            let tied = gguf.tensor(config::TOKEN_EMBD, device)?;
            Linear::from_qtensor(gguf, config::TOKEN_EMBD, tied, dequantize)?
        };
        let norm = RmsNorm::load(gguf, config::OUTPUT_NORM, config.rms_eps, device)?;
        let mut layers = Vec::with_capacity(config.n_layer);
        for i in 0..config.n_layer {
            let b = BlockTensors::new(i);
            layers.push(Layer {
                attn_norm: RmsNorm::load(gguf, &b.attn_norm, config.rms_eps, device)?,
                wq: Linear::load(gguf, &b.attn_q, device, dequantize)?,
                wk: Linear::load(gguf, &b.attn_k, device, dequantize)?,
                wv: Linear::load(gguf, &b.attn_v, device, dequantize)?,
                wo: Linear::load(gguf, &b.attn_output, device, dequantize)?,
                ffn_norm: RmsNorm::load(gguf, &b.ffn_norm, config.rms_eps, device)?,
                w_gate: Linear::load(gguf, &b.ffn_gate, device, dequantize)?,
                w_up: Linear::load(gguf, &b.ffn_up, device, dequantize)?,
                w_down: Linear::load(gguf, &b.ffn_down, device, dequantize)?,
                cache: None,
            });
        }
        let divisors = if gguf.has_tensor(config::ROPE_FREQS) {
            Some(gguf.tensor(config::ROPE_FREQS, &Device::Cpu)?.dequantize(&Device::Cpu)?.to_vec1::<f32>()?)
        } else {
            None
        };
        // Built on the host (as the CPU backend builds them), then copied to the device.
        let tables = config.rope_tables(divisors.as_deref(), context_length);
        let cos = Tensor::from_vec(tables.cos, (context_length, tables.half), device)?;
        let sin = Tensor::from_vec(tables.sin, (context_length, tables.half), device)?;
        Ok(Self { config, embedding, layers, norm, output, cos, sin, context_length, device: device.clone() })
    }

    pub fn config(&self) -> &TransformerConfig {
        &self.config
    }

    pub fn context_length(&self) -> usize {
        self.context_length
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
        if self.config.attention_temperature.is_none() {
            return Ok(None);
        }
        let scales: Vec<f32> = (start..start + seq).map(|pos| self.config.query_scale(pos)).collect();
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
