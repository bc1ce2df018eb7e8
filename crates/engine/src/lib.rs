//! Atelier's on-device inference engine: llama-family GGUF models run by Atelier's own CPU kernels or, on
//! CUDA/Metal, by candle (`backend`), with one set of settings (`config`); the tokenizer and chat template
//! rebuilt from the file's own metadata (`gguf`); sampling, stop strings, streaming, cancellation and
//! timings (`model`). `openvino` runs OpenVINO model folders (Intel NPU and GPU) on the OpenVINO runtime. `synth` writes GGUF files for tests and benchmarks and is not used for inference.

pub mod backend;
pub mod config;
pub mod default_model;
pub mod device;
pub mod error;
pub mod gguf;
mod kv_disk;
mod kv_slots;
pub mod machine;
pub mod memory;
pub mod model;
pub mod openvino;
pub mod sampling;
mod stop;
pub mod structured;
pub mod synth;

// Paths callers already name, from before the modules moved.
pub use backend::cpu;
pub use gguf::chat_template as chat;
pub use gguf::tokenizer;
pub use synth::{gguf_writer, synthetic};

/// The decoder's former module, kept for callers that name it.
pub mod transformer {
    pub use crate::backend::candle::CandleTransformer;
    pub use crate::backend::Transformer;
    pub use crate::config::{AttentionTemperature, RopeScaling, TransformerConfig, MAX_CONTEXT};
}

pub use default_model::{find_default_model, DEFAULT_MODEL_FILE};
pub use device::DeviceChoice;
pub use error::{EngineError, Result};
pub use gguf::chat_template::{ChatFormat, ChatMessage, ChatTemplate, Role};
pub use gguf::tokenizer::{Tokenizer, TokenizerKind};
pub use gguf::{GgufFile, ModelInfo};
pub use config::KvCacheType;
pub use memory::{MemoryEstimate, ModelShape};
pub use model::{CancelToken, Chunk, GenerateRequest, Generation, LoadOptions, Model, Prepared, Prompt, StopReason, Timings, PREPARE_STEP};
pub use sampling::SamplingParams;
pub use structured::ResponseFormat;
