//! The llama-family decoder (llama, mistral3) on the CPU with Atelier's own kernels: weights used in place
//! from the memory-mapped GGUF, an f32 or f16 key/value cache, and threads across weight rows and
//! attention heads.

use std::sync::Arc;

use candle_core::quantized::GgmlDType;
use half::f16;
use half::slice::HalfFloatSliceExt;
use half::vec::HalfBitsVecExt;
use super::{kernels, Kernels};
use super::pool::parallel_for;
use super::matmul::{matmul, matmul_many, QMatrix, Storage};
use super::quant::WeightType;
use crate::config::{self, BlockTensors, KvCacheType, RopeTables, TransformerConfig};
use crate::error::{EngineError, Result};
use crate::gguf::{dtype_name, GgufFile};

struct Layer {
    attn_norm: Vec<f32>,
    wq: QMatrix,
    wk: QMatrix,
    wv: QMatrix,
    wo: QMatrix,
    ffn_norm: Vec<f32>,
    w_gate: QMatrix,
    w_up: QMatrix,
    w_down: QMatrix,
    cache: LayerCache,
}

/// One layer's keys and values, each `[n_kv_head][context][head_dim]`, allocated zeroed (the OS maps
/// pages only as they are written).
enum LayerCache {
    F32 { keys: Vec<f32>, values: Vec<f32> },
    F16 { keys: Vec<f16>, values: Vec<f16> },
}

impl LayerCache {
    fn zeroed(kv: KvCacheType, len: usize) -> Self {
        match kv {
            KvCacheType::F32 => Self::F32 { keys: vec![0.0; len], values: vec![0.0; len] },
            // Zeroed u16s come from calloc (f16s would be written one by one, committing every page).
            KvCacheType::F16 => Self::F16 { keys: vec![0u16; len].reinterpret_into(), values: vec![0u16; len].reinterpret_into() },
        }
    }

    /// Stores one position's key and value rows (of one KV head) at value offset `at`.
    fn store(&mut self, at: usize, key: &[f32], value: &[f32]) {
        let n = key.len();
        match self {
            Self::F32 { keys, values } => {
                keys[at..at + n].copy_from_slice(key);
                values[at..at + n].copy_from_slice(value);
            }
            Self::F16 { keys, values } => {
                keys[at..at + n].convert_from_f32_slice(key);
                values[at..at + n].convert_from_f32_slice(value);
            }
        }
    }

    /// Keys then values, each cut into `per_head` runs of which the first `used` values are returned,
    /// as bytes (what a saved context holds).
    fn slices(&self, per_head: usize, used: usize) -> Vec<&[u8]> {
        fn cut<T: bytemuck::Pod>(buf: &[T], per_head: usize, used: usize) -> impl Iterator<Item = &[u8]> {
            buf.chunks(per_head).map(move |h| bytemuck::cast_slice(&h[..used]))
        }
        match self {
            Self::F32 { keys, values } => cut(keys, per_head, used).chain(cut(values, per_head, used)).collect(),
            Self::F16 { keys, values } => {
                let (k, v): (&[u16], &[u16]) = (keys.reinterpret_cast(), values.reinterpret_cast());
                cut(k, per_head, used).chain(cut(v, per_head, used)).collect()
            }
        }
    }

    fn slices_mut(&mut self, per_head: usize, used: usize) -> Vec<&mut [u8]> {
        fn cut<T: bytemuck::Pod>(buf: &mut [T], per_head: usize, used: usize) -> impl Iterator<Item = &mut [u8]> {
            buf.chunks_mut(per_head).map(move |h| bytemuck::cast_slice_mut(&mut h[..used]))
        }
        match self {
            Self::F32 { keys, values } => cut(keys, per_head, used).chain(cut(values, per_head, used)).collect(),
            Self::F16 { keys, values } => {
                let (k, v): (&mut [u16], &mut [u16]) = (keys.reinterpret_cast_mut(), values.reinterpret_cast_mut());
                cut(k, per_head, used).chain(cut(v, per_head, used)).collect()
            }
        }
    }
}

/// One context's key/value cache, layer by layer, outside the model: what a cache slot holds.
pub struct CpuKvCache {
    layers: Vec<LayerCache>,
}

pub struct CpuTransformer {
    config: TransformerConfig,
    embedding: QMatrix,
    output: QMatrix,
    norm: Vec<f32>,
    layers: Vec<Layer>,
    rope: RopeTables,
    context_length: usize,
    kv: KvCacheType,
}

pub(crate) fn weight_type(gguf: &GgufFile, name: &str, dtype: GgmlDType) -> Result<WeightType> {
    Ok(match dtype {
        GgmlDType::F32 => WeightType::F32,
        GgmlDType::F16 => WeightType::F16,
        GgmlDType::Q4_0 => WeightType::Q4_0,
        GgmlDType::Q4_1 => WeightType::Q4_1,
        GgmlDType::Q5_0 => WeightType::Q5_0,
        GgmlDType::Q5_1 => WeightType::Q5_1,
        GgmlDType::Q8_0 => WeightType::Q8_0,
        GgmlDType::Q4K => WeightType::Q4K,
        GgmlDType::Q5K => WeightType::Q5K,
        GgmlDType::Q6K => WeightType::Q6K,
        other => {
            return Err(EngineError::UnsupportedTensorType {
                path: gguf.path().to_path_buf(),
                tensor: name.to_string(),
                dtype: dtype_name(other).to_string(),
            })
        }
    })
}

/// Prompt tokens processed together: large enough that the weights are read once per many tokens,
/// small enough that the activations (about 20 floats per token per model dimension) stay a few MiB.
const MICRO_BATCH: usize = 256;

/// Whether every matrix of the model has a CPU kernel (else the candle path runs it).
pub fn supports(gguf: &GgufFile) -> bool {
    gguf.content().tensor_infos.iter().filter(|(n, t)| t.shape.rank() == 2 && !n.starts_with("v.") && !n.starts_with("mm.")).all(
        |(n, t)| weight_type(gguf, n, t.ggml_dtype).is_ok(),
    )
}

fn matrix(gguf: &GgufFile, map: &Arc<memmap2::Mmap>, name: &str) -> Result<QMatrix> {
    load_matrix(gguf, map, name, QMatrix::new)
}

/// The token embeddings and the output head stay as the file has them (see [`QMatrix::untiled`]).
fn head_matrix(gguf: &GgufFile, map: &Arc<memmap2::Mmap>, name: &str) -> Result<QMatrix> {
    load_matrix(gguf, map, name, QMatrix::untiled)
}

type MatrixConstructor = fn(WeightType, usize, usize, Storage, usize) -> Result<QMatrix>;

fn load_matrix(gguf: &GgufFile, map: &Arc<memmap2::Mmap>, name: &str, construct: MatrixConstructor) -> Result<QMatrix> {
    let (dtype, dims, offset) = gguf.tensor_location(name)?;
    let ty = weight_type(gguf, name, dtype)?;
    let [rows, cols] = dims[..] else {
        return Err(EngineError::Corrupt { path: gguf.path().to_path_buf(), detail: format!("`{name}` is not a matrix") });
    };
    let offset = usize::try_from(offset).map_err(|_| corrupt(gguf, format!("`{name}` lies outside the file")))?;
    construct(ty, rows, cols, Storage::Mapped(Arc::clone(map)), offset).map_err(|e| match e {
        EngineError::TensorLayout(detail) => corrupt(gguf, format!("tensor `{name}`: {detail}")),
        other => other,
    })
}

fn corrupt(gguf: &GgufFile, detail: String) -> EngineError {
    EngineError::Corrupt { path: gguf.path().to_path_buf(), detail }
}

fn vector(gguf: &GgufFile, map: &memmap2::Mmap, name: &str, len: usize) -> Result<Vec<f32>> {
    let (dtype, dims, offset) = gguf.tensor_location(name)?;
    let ty = weight_type(gguf, name, dtype)?;
    if dims.iter().product::<usize>() != len || !matches!(ty, WeightType::F32 | WeightType::F16) {
        return Err(EngineError::Corrupt {
            path: gguf.path().to_path_buf(),
            detail: format!("`{name}` should hold {len} f32/f16 values"),
        });
    }
    let bytes = usize::try_from(offset)
        .ok()
        .and_then(|start| map.get(start..start.checked_add(ty.row_bytes(len))?))
        .ok_or_else(|| corrupt(gguf, format!("`{name}` lies outside the file")))?;
    let mut out = vec![0f32; len];
    super::quant::dequantize_row(ty, bytes, &mut out);
    Ok(out)
}

impl CpuTransformer {
    /// An empty cache of this model's shape; allocated zeroed, so it costs memory only as it fills.
    pub fn empty_cache(&self) -> CpuKvCache {
        let len = self.config.n_kv_head * self.context_length * self.config.head_dim;
        CpuKvCache { layers: (0..self.layers.len()).map(|_| LayerCache::zeroed(self.kv, len)).collect() }
    }

    /// Exchanges the model's cache with `other` (no copy): the model continues `other`'s context.
    pub fn swap_cache(&mut self, other: &mut CpuKvCache) {
        debug_assert_eq!(other.layers.len(), self.layers.len());
        for (layer, cache) in self.layers.iter_mut().zip(&mut other.layers) {
            std::mem::swap(&mut layer.cache, cache);
        }
    }

    /// How the cache stores its values.
    pub fn kv_type(&self) -> KvCacheType {
        self.kv
    }

    /// The first `tokens` positions of the active cache as bytes: per layer its keys then its values,
    /// per KV head (what a saved context holds).
    pub fn cache_slices(&self, tokens: usize) -> impl Iterator<Item = &[u8]> {
        let (per_head, used) = (self.context_length * self.config.head_dim, tokens * self.config.head_dim);
        self.layers.iter().flat_map(move |l| l.cache.slices(per_head, used))
    }

    /// As [`Self::cache_slices`], to be written into (a saved context read back).
    pub fn cache_slices_mut(&mut self, tokens: usize) -> impl Iterator<Item = &mut [u8]> {
        let (per_head, used) = (self.context_length * self.config.head_dim, tokens * self.config.head_dim);
        self.layers.iter_mut().flat_map(move |l| l.cache.slices_mut(per_head, used))
    }

    pub fn load(gguf: &GgufFile, config: TransformerConfig, context_length: usize, kv: KvCacheType) -> Result<Self> {
        let map = Arc::new(gguf.map()?);
        let d = config.n_embd;
        let embedding = head_matrix(gguf, &map, config::TOKEN_EMBD)?;
        // Tied embeddings: the embedding matrix doubles as the output head.
        let output = if gguf.has_tensor(config::OUTPUT) { head_matrix(gguf, &map, config::OUTPUT)? } else { embedding.clone() };
        let norm = vector(gguf, &map, config::OUTPUT_NORM, d)?;
        let cache_len = config.n_kv_head * context_length * config.head_dim;
        let mut layers = Vec::with_capacity(config.n_layer);
        for i in 0..config.n_layer {
            let b = BlockTensors::new(i);
            layers.push(Layer {
                attn_norm: vector(gguf, &map, &b.attn_norm, d)?,
                wq: matrix(gguf, &map, &b.attn_q)?,
                wk: matrix(gguf, &map, &b.attn_k)?,
                wv: matrix(gguf, &map, &b.attn_v)?,
                wo: matrix(gguf, &map, &b.attn_output)?,
                ffn_norm: vector(gguf, &map, &b.ffn_norm, d)?,
                w_gate: matrix(gguf, &map, &b.ffn_gate)?,
                w_up: matrix(gguf, &map, &b.ffn_up)?,
                w_down: matrix(gguf, &map, &b.ffn_down)?,
                cache: LayerCache::zeroed(kv, cache_len),
            });
        }
        let divisors = if gguf.has_tensor(config::ROPE_FREQS) {
            Some(vector(gguf, &map, config::ROPE_FREQS, config.rope_dim / 2)?)
        } else {
            None
        };
        let rope = config.rope_tables(divisors.as_deref(), context_length);
        // Reading a tensor to repack it also maps its neighbours' pages (the kernel's fault-around), some of
        // them already repacked and released: release every repacked range once more, now that all are read.
        for layer in &layers {
            for w in [&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w_gate, &layer.w_up, &layer.w_down] {
                w.release_mapped_copy();
            }
        }
        embedding.release_mapped_copy();
        output.release_mapped_copy();
        Ok(Self { config, embedding, output, norm, layers, rope, context_length, kv })
    }

    pub fn config(&self) -> &TransformerConfig {
        &self.config
    }

    pub fn context_length(&self) -> usize {
        self.context_length
    }

    pub fn vocab_size(&self) -> usize {
        self.output.rows
    }

    /// Runs `tokens` at positions `start..` and returns the logits of every position (`all_logits`) or the last.
    /// Long prompts run in micro-batches of [`MICRO_BATCH`] tokens, which bounds the activation memory.
    pub fn forward(&mut self, tokens: &[u32], start: usize, all_logits: bool) -> Result<Vec<f32>> {
        Ok(self.forward_unless(tokens, start, all_logits, &|| false)?.expect("a run that is never stopped finishes"))
    }

    /// As [`Self::forward`], asking `stop` before each layer: `None` once it says yes. The positions'
    /// cache entries are then written for some layers only, so they must not count as cached.
    pub fn forward_unless(&mut self, tokens: &[u32], start: usize, all_logits: bool, stop: &dyn Fn() -> bool) -> Result<Option<Vec<f32>>> {
        if tokens.is_empty() {
            return Err(EngineError::EmptyPrompt);
        }
        if start + tokens.len() > self.context_length {
            return Err(EngineError::ContextOverflow { prompt_tokens: start + tokens.len(), context_length: self.context_length });
        }
        let mut logits = Vec::new();
        let chunks = tokens.len().div_ceil(MICRO_BATCH);
        for (i, chunk) in tokens.chunks(MICRO_BATCH).enumerate() {
            let Some(out) = self.forward_batch(chunk, start + i * MICRO_BATCH, all_logits, stop)? else { return Ok(None) };
            if all_logits {
                logits.extend_from_slice(&out);
            } else if i + 1 == chunks {
                logits = out;
            }
        }
        Ok(Some(logits))
    }

    fn forward_batch(&mut self, tokens: &[u32], start: usize, all_logits: bool, stop: &dyn Fn() -> bool) -> Result<Option<Vec<f32>>> {
        let seq = tokens.len();
        let c = &self.config;
        let (d, hd, n_head, n_kv) = (c.n_embd, c.head_dim, c.n_head, c.n_kv_head);
        let (q_dim, kv_dim) = (n_head * hd, n_kv * hd);
        let eps = c.rms_eps as f32;

        let mut x = vec![0f32; seq * d];
        for (t, &token) in tokens.iter().enumerate() {
            if token as usize >= self.embedding.rows {
                return Err(EngineError::Tokenizer(format!("token id {token} is outside the vocabulary")));
            }
            self.embedding.dequantize_row(token as usize, &mut x[t * d..(t + 1) * d]);
        }
        let q_scales: Vec<f32> = (start..start + seq).map(|pos| c.query_scale(pos)).collect();
        let mut h = vec![0f32; seq * d];
        let mut q = vec![0f32; seq * q_dim];
        let mut k = vec![0f32; seq * kv_dim];
        let mut v = vec![0f32; seq * kv_dim];
        let mut attn = vec![0f32; seq * q_dim];
        let mut proj = vec![0f32; seq * d];
        let n_ff = c.n_ff;
        let mut gate = vec![0f32; seq * n_ff];
        let mut up = vec![0f32; seq * n_ff];

        for layer in &mut self.layers {
            if stop() {
                return Ok(None);
            }
            rms_norm(&x, &layer.attn_norm, eps, &mut h);
            matmul_many(&[&layer.wq, &layer.wk, &layer.wv], &h, &mut [&mut q, &mut k, &mut v]);
            for t in 0..seq {
                let pos = start + t;
                let half = self.rope.half;
                let (cos, sin) = (&self.rope.cos[pos * half..(pos + 1) * half], &self.rope.sin[pos * half..(pos + 1) * half]);
                for head in q[t * q_dim..(t + 1) * q_dim].chunks_exact_mut(hd) {
                    rotate_pairs(head, cos, sin);
                    if q_scales[t] != 1.0 {
                        head.iter_mut().for_each(|v| *v *= q_scales[t]);
                    }
                }
                for head in k[t * kv_dim..(t + 1) * kv_dim].chunks_exact_mut(hd) {
                    rotate_pairs(head, cos, sin);
                }
                for kvh in 0..n_kv {
                    let row = t * kv_dim + kvh * hd..t * kv_dim + (kvh + 1) * hd;
                    layer.cache.store((kvh * self.context_length + pos) * hd, &k[row.clone()], &v[row]);
                }
            }
            let shape = AttentionShape { seq, start, n_head, n_kv, hd, context: self.context_length };
            match &layer.cache {
                LayerCache::F32 { keys, values } => attention(&q, keys, values, &mut attn, shape),
                LayerCache::F16 { keys, values } => attention(&q, keys, values, &mut attn, shape),
            }
            matmul(&layer.wo, &attn, &mut proj);
            add_in_place(&mut x, &proj);

            rms_norm(&x, &layer.ffn_norm, eps, &mut h);
            matmul_many(&[&layer.w_gate, &layer.w_up], &h, &mut [&mut gate, &mut up]);
            for (g, u) in gate.iter_mut().zip(&up) {
                *g = *g / (1.0 + (-*g).exp()) * u;
            }
            matmul(&layer.w_down, &gate, &mut proj);
            add_in_place(&mut x, &proj);
        }

        let rows = if all_logits { seq } else { 1 };
        let last = &x[(seq - rows) * d..];
        let mut normed = vec![0f32; rows * d];
        rms_norm(last, &self.norm, eps, &mut normed);
        let mut logits = vec![0f32; rows * self.output.rows];
        matmul(&self.output, &normed, &mut logits);
        Ok(Some(logits))
    }

}

/// GGUF's llama layout: rotate the pairs (x₂ᵢ, x₂ᵢ₊₁) of the first `2·len(cos)` dims.
#[inline]
fn rotate_pairs(x: &mut [f32], cos: &[f32], sin: &[f32]) {
    for (i, (c, s)) in cos.iter().zip(sin).enumerate() {
        let (a, b) = (x[2 * i], x[2 * i + 1]);
        x[2 * i] = a * c - b * s;
        x[2 * i + 1] = a * s + b * c;
    }
}

fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let d = weight.len();
    for (row, out) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
        let mean_square = row.iter().map(|v| v * v).sum::<f32>() / d as f32;
        let scale = 1.0 / (mean_square + eps).sqrt();
        for ((o, v), w) in out.iter_mut().zip(row).zip(weight) {
            *o = v * scale * w;
        }
    }
}

fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    // A method, so closures capture the whole (Sync) wrapper rather than its raw-pointer field.
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// Query positions attended together: every key and value row is read once for all of them (and for all
/// the heads that share it), instead of once per query and head.
const QUERY_BLOCK: usize = 16;
/// Keys (and values) met by every query of a block in turn: 64 rows of a 128-wide head are 32 KiB.
const KEY_TILE: usize = super::attention_tiles::TILE;

/// What one layer's attention runs over: `seq` queries at positions `start..`, the heads, and the cache's
/// length per KV head.
#[derive(Clone, Copy)]
struct AttentionShape {
    seq: usize,
    start: usize,
    n_head: usize,
    n_kv: usize,
    hd: usize,
    context: usize,
}

/// What a key/value cache holds: f32 as computed, or f16. Both attention paths take the same dot
/// product per key and the same values tile, so they compute the same bits.
trait CacheValue: Copy + Send + Sync {
    /// q·row, in f32 (an f16 row widened inside the kernel).
    unsafe fn dot(k: &Kernels, q: &[f32], row: &[Self]) -> f32;
    /// The rows as f32: themselves, or converted into `scratch` (once per tile, for all its queries).
    fn as_f32<'a>(rows: &'a [Self], scratch: &'a mut Vec<f32>) -> &'a [f32];
}

impl CacheValue for f32 {
    unsafe fn dot(k: &Kernels, q: &[f32], row: &[f32]) -> f32 {
        (k.f32)(q, row)
    }
    fn as_f32<'a>(rows: &'a [f32], _: &'a mut Vec<f32>) -> &'a [f32] {
        rows
    }
}

impl CacheValue for f16 {
    unsafe fn dot(k: &Kernels, q: &[f32], row: &[f16]) -> f32 {
        (k.f16)(row, q)
    }
    fn as_f32<'a>(rows: &'a [f16], scratch: &'a mut Vec<f32>) -> &'a [f32] {
        scratch.resize(rows.len(), 0.0);
        rows.convert_to_f32_slice(scratch);
        scratch
    }
}

/// Causal attention of `seq` queries (at positions `start..`) over the cached keys/values. Prompts run
/// blocked: one task per (block of [`QUERY_BLOCK`] positions, KV head), so the cache streams through
/// the cores once per block rather than once per query — what keeps long contexts fast.
fn attention<T: CacheValue>(q: &[f32], k_cache: &[T], v_cache: &[T], out: &mut [f32], shape: AttentionShape) {
    let AttentionShape { seq, start, n_head, n_kv, hd, context } = shape;
    if seq < 4 {
        return attention_per_query(q, k_cache, v_cache, out, shape);
    }
    let n_rep = n_head / n_kv;
    let scale = 1.0 / (hd as f32).sqrt();
    let out_ptr = SendPtr(out.as_mut_ptr());
    let k = kernels();
    let task = |job: usize| {
        let (block, kvh) = (job / n_kv, job % n_kv);
        let (t0, t1) = (block * QUERY_BLOCK, ((block + 1) * QUERY_BLOCK).min(seq));
        // Row `(t - t0) * n_rep + rep` is query position `t` of head `kvh * n_rep + rep`.
        let rows = (t1 - t0) * n_rep;
        let span = start + t1;
        let keys = &k_cache[kvh * context * hd..];
        let values = &v_cache[kvh * context * hd..];
        let query = |t: usize, rep: usize| {
            let head = kvh * n_rep + rep;
            &q[(t * n_head + head) * hd..(t * n_head + head + 1) * hd]
        };
        let mut scores = vec![0f32; rows * span];
        let mut scratch = Vec::new();
        // A tile of keys stays in L1 while every row of the block meets it. The scores are the decode
        // path's dot products, so a prompt computed whole or continued from the cache gives the same bits.
        for tile in (0..span).step_by(KEY_TILE) {
            for t in t0..t1 {
                let seen = (start + t + 1).min(tile + KEY_TILE);
                for rep in 0..n_rep {
                    let (query, row) = (query(t, rep), (t - t0) * n_rep + rep);
                    for j in tile..seen {
                        // SAFETY: the kernels table holds functions this CPU supports.
                        scores[row * span + j] = unsafe { T::dot(k, query, &keys[j * hd..(j + 1) * hd]) } * scale;
                    }
                }
            }
        }
        for (row, scores) in scores.chunks_exact_mut(span).enumerate() {
            softmax_in_place(&mut scores[..start + t0 + row / n_rep + 1]);
        }
        // SAFETY: each (position, head) of this block is written by this task only.
        let dst = |t: usize, rep: usize| unsafe {
            std::slice::from_raw_parts_mut(out_ptr.get().add((t * n_head + kvh * n_rep + rep) * hd), hd)
        };
        for t in t0..t1 {
            for rep in 0..n_rep {
                dst(t, rep).iter_mut().for_each(|v| *v = 0.0);
            }
        }
        for tile in (0..span).step_by(KEY_TILE) {
            let tile_values = T::as_f32(&values[tile * hd..(tile + KEY_TILE).min(span) * hd], &mut scratch);
            for t in t0..t1 {
                let seen = (start + t + 1).min(tile + KEY_TILE);
                if seen <= tile {
                    continue;
                }
                for rep in 0..n_rep {
                    let (dst, row) = (dst(t, rep), (t - t0) * n_rep + rep);
                    unsafe { (k.attn_values)(&scores[row * span + tile..row * span + seen], tile_values, dst) };
                }
            }
        }
    };
    parallel_for(seq.div_ceil(QUERY_BLOCK) * n_kv, task);
}

/// Attention weights from scores: exponentials of each less the largest, divided by their sum.
fn softmax_in_place(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    let inv = 1.0 / sum;
    scores.iter_mut().for_each(|s| *s *= inv);
}

/// Causal attention of a few queries (decode) over the cached keys/values, one task per (query, head):
/// as many tasks as heads keeps every thread busy.
fn attention_per_query<T: CacheValue>(q: &[f32], k_cache: &[T], v_cache: &[T], out: &mut [f32], shape: AttentionShape) {
    let AttentionShape { seq, start, n_head, n_kv, hd, context } = shape;
    let n_rep = n_head / n_kv;
    let scale = 1.0 / (hd as f32).sqrt();
    let out_ptr = SendPtr(out.as_mut_ptr());
    let k = kernels();
    let task = |job: usize| {
        let (t, head) = (job / n_head, job % n_head);
        let kvh = head / n_rep;
        let len = start + t + 1;
        let query = &q[(t * n_head + head) * hd..(t * n_head + head + 1) * hd];
        let keys = &k_cache[kvh * context * hd..];
        let values = &v_cache[kvh * context * hd..];
        let mut scores = vec![0f32; len];
        for (j, s) in scores.iter_mut().enumerate() {
            // SAFETY: the kernels table holds functions this CPU supports.
            *s = unsafe { T::dot(k, query, &keys[j * hd..(j + 1) * hd]) } * scale;
        }
        softmax_in_place(&mut scores);
        // SAFETY: each (t, head) writes its own `hd` outputs.
        let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add((t * n_head + head) * hd), hd) };
        dst.iter_mut().for_each(|v| *v = 0.0);
        let mut scratch = Vec::new();
        for tile in (0..len).step_by(KEY_TILE) {
            let end = (tile + KEY_TILE).min(len);
            let tile_values = T::as_f32(&values[tile * hd..end * hd], &mut scratch);
            unsafe { (k.attn_values)(&scores[tile..end], tile_values, dst) };
        }
    };
    parallel_for(seq * n_head, task);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attention over an f16 cache is attention over the f32 values those f16s hold (to rounding: the f16
    /// dot sums in its own order); and the prompt's blocked path gives the very bits decode's per-query
    /// path gives (so a prompt continued from the cache samples what one computed whole does), with the
    /// kernels this CPU runs.
    #[test]
    fn attention_over_an_f16_cache_is_attention_over_its_values() {
        let (n_head, n_kv, hd, context) = (6, 2, 64, 200);
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
        };
        let rounded: Vec<f16> = (0..2 * n_kv * context * hd).map(|_| f16::from_f32(next())).collect();
        let (keys16, values16) = rounded.split_at(n_kv * context * hd);
        let widen = |v: &[f16]| v.iter().map(|x| x.to_f32()).collect::<Vec<f32>>();
        let (keys32, values32) = (widen(keys16), widen(values16));
        for (seq, start) in [(1, 150), (3, 100), (40, 130), (70, 0)] {
            let q: Vec<f32> = (0..seq * n_head * hd).map(|_| next()).collect();
            let shape = AttentionShape { seq, start, n_head, n_kv, hd, context };
            let (mut want, mut got) = (vec![0f32; seq * n_head * hd], vec![0f32; seq * n_head * hd]);
            attention(&q, &keys32, &values32, &mut want, shape);
            attention(&q, keys16, values16, &mut got, shape);
            let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "{seq} queries at {start}: the f16 cache is off its values by {worst}");
            let mut per_query = vec![0f32; seq * n_head * hd];
            attention_per_query(&q, keys16, values16, &mut per_query, shape);
            assert!(per_query == got, "{seq} queries at {start}: the two paths differ");
            assert!(want.iter().any(|v| v.abs() > 0.01), "the output is not trivially zero");
        }
    }
}
