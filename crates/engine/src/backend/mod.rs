//! The two implementations of the decoder, behind one interface: Atelier's own CPU kernels (`cpu`) and
//! candle (`candle`: CUDA, Metal, and the CPU for comparisons). Both read the same [`TransformerConfig`].
//! With the `openvino` feature, a third runs OpenVINO model folders (`crate::openvino`).

pub mod candle;
pub mod cpu;

use candle_core::DType;

use crate::config::{KvCacheType, TransformerConfig};
use crate::error::Result;
use candle::CandleTransformer;
use cpu::model::CpuTransformer;

/// Where the decoder runs: Atelier's own CPU kernels, or candle (GPUs, and the CPU for comparison).
pub enum Transformer {
    Cpu(CpuTransformer),
    Candle(CandleTransformer),
    /// An OpenVINO model folder on the OpenVINO runtime (NPU, Intel GPU, CPU).
    #[cfg(feature = "openvino")]
    OpenVino(crate::openvino::transformer::OpenVinoTransformer),
}

impl Transformer {
    pub fn config(&self) -> &TransformerConfig {
        match self {
            Self::Cpu(t) => t.config(),
            Self::Candle(t) => t.config(),
            #[cfg(feature = "openvino")]
            Self::OpenVino(t) => t.config(),
        }
    }

    pub fn context_length(&self) -> usize {
        match self {
            Self::Cpu(t) => t.context_length(),
            Self::Candle(t) => t.context_length(),
            #[cfg(feature = "openvino")]
            Self::OpenVino(t) => t.context_length(),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Cpu(_) => "atelier-cpu",
            Self::Candle(_) => "candle",
            #[cfg(feature = "openvino")]
            Self::OpenVino(_) => "openvino",
        }
    }

    /// Whether the cache can be cut back to a shorter prefix; OpenVINO's state can only grow or start over.
    pub fn can_truncate_cache(&self) -> bool {
        match self {
            #[cfg(feature = "openvino")]
            Self::OpenVino(_) => false,
            _ => true,
        }
    }

    /// Whether a multi-token run can continue the cache; the NPU's LLM mode restarts it on every prefill.
    pub fn can_extend_cache(&self) -> bool {
        match self {
            #[cfg(feature = "openvino")]
            Self::OpenVino(t) => t.can_extend_cache(),
            _ => true,
        }
    }

    /// How the key/value cache stores its values (candle and OpenVINO: f32, as far as memory goes).
    pub fn kv_type(&self) -> KvCacheType {
        match self {
            Self::Cpu(t) => t.kv_type(),
            _ => KvCacheType::F32,
        }
    }

    /// A fresh cache for a slot, where the backend can swap caches (Atelier's CPU kernels).
    pub fn empty_cache(&self) -> Option<cpu::model::CpuKvCache> {
        match self {
            Self::Cpu(t) => Some(t.empty_cache()),
            _ => None,
        }
    }

    /// Exchanges the active cache with a slot's; only called where [`Self::empty_cache`] gave one.
    pub fn swap_cache(&mut self, cache: &mut cpu::model::CpuKvCache) {
        if let Self::Cpu(t) = self {
            t.swap_cache(cache);
        }
    }

    /// Forgets the key/value cache (a new conversation). The CPU cache is simply overwritten.
    pub fn clear_cache(&mut self) {
        match self {
            Self::Candle(t) => t.clear_cache(),
            #[cfg(feature = "openvino")]
            Self::OpenVino(t) => t.clear_cache(),
            Self::Cpu(_) => {}
        }
    }

    /// Runs `tokens` at positions `start..start+len` and returns logits: `len × vocab` values when
    /// `all_logits`, else the `vocab` values of the last position. Positions before `start` must be cached.
    pub fn forward(&mut self, tokens: &[u32], start: usize, all_logits: bool) -> Result<Vec<f32>> {
        match self {
            Self::Cpu(t) => t.forward(tokens, start, all_logits),
            Self::Candle(t) => Ok(t.forward(tokens, start, all_logits)?.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?),
            #[cfg(feature = "openvino")]
            Self::OpenVino(t) => t.forward(tokens, start, all_logits),
        }
    }

    /// As [`Self::forward`], but Atelier's CPU kernels ask `stop` before each layer and give up (`None`)
    /// once it says yes; the other backends run the call whole.
    pub fn forward_unless(&mut self, tokens: &[u32], start: usize, all_logits: bool, stop: &dyn Fn() -> bool) -> Result<Option<Vec<f32>>> {
        match self {
            Self::Cpu(t) => t.forward_unless(tokens, start, all_logits, stop),
            _ => self.forward(tokens, start, all_logits).map(Some),
        }
    }
}
