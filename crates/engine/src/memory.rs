//! How much memory a model takes once loaded, from the shape its GGUF header declares: the one estimate
//! the load check, the model catalog and the hardware-fit verdicts all use.

use serde::{Deserialize, Serialize};

use crate::config::{KvCacheType, TransformerConfig};
use crate::error::Result;
use crate::gguf::GgufFile;
use crate::model::DEFAULT_CONTEXT_CAP;

/// Scratch space beyond weights and cache (activations, logits).
pub const WORKING_MEMORY: u64 = 64 << 20;

/// What sizes a loaded model, as a GGUF header declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelShape {
    /// Bytes of the text model's tensors (the file minus its header and any vision tower).
    pub weight_bytes: u64,
    /// `<arch>.block_count`.
    pub layers: u32,
    /// `<arch>.attention.head_count_kv`.
    pub kv_heads: u32,
    /// `<arch>.attention.key_length`.
    pub head_dim: u32,
    /// `<arch>.rope.dimension_count`.
    pub rope_dim: u32,
    /// `<arch>.context_length`: the context the model was trained for.
    pub train_context: u32,
}

/// A loaded model's memory, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MemoryEstimate {
    /// The context the estimate is for.
    pub context_length: u32,
    pub weights: u64,
    /// Keys and values of every position.
    pub kv_cache: u64,
    /// cos and sin of every position.
    pub rope_tables: u64,
    pub working: u64,
    pub total: u64,
}

impl ModelShape {
    pub fn of_config(config: &TransformerConfig, weight_bytes: u64) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            weight_bytes,
            layers: clamp(config.n_layer),
            kv_heads: clamp(config.n_kv_head),
            head_dim: clamp(config.head_dim),
            rope_dim: clamp(config.rope_dim),
            train_context: clamp(config.train_context),
        }
    }

    /// The shape of a GGUF on disk (its header only; no tensor is read).
    pub fn of_gguf(gguf: &GgufFile) -> Result<Self> {
        Ok(Self::of_config(&TransformerConfig::from_gguf(gguf)?, gguf.tensor_bytes()))
    }

    /// The context a load uses when none is chosen: the model's own, capped at [`DEFAULT_CONTEXT_CAP`].
    pub fn default_context(&self) -> usize {
        (self.train_context as usize).min(DEFAULT_CONTEXT_CAP).max(16)
    }

    /// Memory once loaded with `context_length` positions (the default context when `None`), with
    /// quantised weights kept as they are (the CPU and GPU paths both do).
    pub fn estimate(&self, context_length: Option<usize>) -> MemoryEstimate {
        self.estimate_with(context_length, KvCacheType::F32)
    }

    /// As [`Self::estimate`], with the key/value cache holding `kv` values.
    pub fn estimate_with(&self, context_length: Option<usize>, kv: KvCacheType) -> MemoryEstimate {
        let context = context_length.unwrap_or_else(|| self.default_context()).max(16);
        let kv_cache = [2, self.layers as u64, self.kv_heads as u64, self.head_dim as u64, context as u64, kv.value_bytes() as u64]
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n))
            .unwrap_or(u64::MAX);
        let rope_tables = (context as u64).saturating_mul(self.rope_dim as u64 * 4);
        let total = self.weight_bytes.saturating_add(kv_cache).saturating_add(rope_tables).saturating_add(WORKING_MEMORY);
        MemoryEstimate {
            context_length: u32::try_from(context).unwrap_or(u32::MAX),
            weights: self.weight_bytes,
            kv_cache,
            rope_tables,
            working: WORKING_MEMORY,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ministral3_3b() -> ModelShape {
        ModelShape { weight_bytes: 2_000_000_000, layers: 26, kv_heads: 8, head_dim: 128, rope_dim: 128, train_context: 262_144 }
    }

    #[test]
    fn the_default_context_is_capped() {
        let shape = ministral3_3b();
        assert_eq!(shape.default_context(), DEFAULT_CONTEXT_CAP);
        let small = ModelShape { train_context: 2048, ..shape };
        assert_eq!(small.default_context(), 2048);
    }

    #[test]
    fn the_estimate_adds_its_parts() {
        let e = ministral3_3b().estimate(Some(4096));
        // 2 (k and v) × 26 layers × 8 heads × 128 × 4096 positions × 4 bytes.
        assert_eq!(e.kv_cache, 872_415_232);
        assert_eq!(e.rope_tables, 4096 * 128 * 4);
        assert_eq!(e.total, e.weights + e.kv_cache + e.rope_tables + e.working);
        // Twice the context, twice the cache.
        assert_eq!(ministral3_3b().estimate(Some(8192)).kv_cache, 2 * e.kv_cache);
        assert_eq!(ministral3_3b().estimate_with(Some(4096), KvCacheType::F16).kv_cache * 2, e.kv_cache);
    }

    #[test]
    fn a_32k_context_of_the_3b_model_fits_in_8_gib_with_an_f16_cache() {
        // The catalog's shape of the real Q4_K_M download.
        let shape = ModelShape { weight_bytes: 2_138_615_808, ..ministral3_3b() };
        assert!(shape.estimate_with(Some(32_768), KvCacheType::F16).total < 8 << 30);
        assert!(shape.estimate_with(Some(32_768), KvCacheType::F32).total > 8 << 30, "f32 alone would not fit");
    }

    #[test]
    fn absurd_shapes_saturate_instead_of_overflowing() {
        let shape = ModelShape { weight_bytes: u64::MAX, layers: u32::MAX, kv_heads: u32::MAX, head_dim: u32::MAX, rope_dim: u32::MAX, train_context: u32::MAX };
        assert_eq!(shape.estimate(None).total, u64::MAX);
    }
}
