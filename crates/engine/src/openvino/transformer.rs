//! The decoder on the OpenVINO runtime: the folder's stateful IR (the key/value cache lives inside the
//! infer request), fed as OpenVINO GenAI's LLMPipeline feeds it — `input_ids`, `attention_mask`,
//! `position_ids`, `beam_idx` — and returning logits like the engine's own backends, so tokenising,
//! sampling, stop strings, streaming and cancellation stay the engine's.

use openvino::{CompiledModel, Core, ElementType, InferRequest, RwPropertyKey, Shape, Tensor};

use crate::config::TransformerConfig;
use crate::error::{EngineError, Result};

use super::ir::{IrDirectory, MODEL_BIN, MODEL_XML};
use super::runtime::device_type;

/// The CPU device's arithmetic: f32 (the default), bf16 or f16.
pub const CPU_PRECISION_ENV: &str = "ATELIER_OPENVINO_CPU_PRECISION";
/// The longest prompt an NPU-compiled model takes in one prefill (OpenVINO GenAI's own default).
const NPU_MAX_PROMPT: usize = 1024;
/// Room kept for the reply on an NPU, whose shapes are fixed at compile time.
const NPU_MIN_RESPONSE: usize = 256;

pub struct OpenVinoTransformer {
    config: TransformerConfig,
    compiled: CompiledModel,
    /// Holds the cache; a fresh request is an empty cache (the C API cannot reset or trim one).
    request: Option<InferRequest>,
    /// Positions the request's cache holds.
    position: usize,
    context_length: usize,
    /// The longest first run: the whole context, except on the NPU (its static prefill shape).
    max_prompt: usize,
    is_npu: bool,
    vocab: usize,
    has_position_ids: bool,
    has_beam_idx: bool,
    device: String,
}

/// How the runtime compiles the model for a device.
pub struct CompileOptions<'a> {
    /// OpenVINO's device name: "CPU", "GPU.0", "NPU".
    pub device: &'a str,
    pub threads: Option<usize>,
    pub context_length: usize,
    /// Where compiled blobs are kept between runs (an NPU compile takes minutes the first time).
    pub cache_dir: Option<&'a std::path::Path>,
}

impl OpenVinoTransformer {
    pub fn load(core: &mut Core, dir: &IrDirectory, options: &CompileOptions<'_>) -> Result<Self> {
        let runtime = |what: &str, e: openvino::InferenceError| EngineError::OpenVino(format!("{what}: {e}"));
        let bad = |detail: String| EngineError::OpenVinoModel { path: dir.path.clone(), detail };
        let (xml, bin) = (dir.path.join(MODEL_XML), dir.path.join(MODEL_BIN));
        let path_str = |p: &std::path::Path| p.to_str().map(str::to_string).ok_or_else(|| bad(format!("{} is not a UTF-8 path", p.display())));
        let model = core
            .read_model_from_file(&path_str(&xml)?, &path_str(&bin)?)
            .map_err(|e| bad(format!("{MODEL_XML} cannot be read ({e})")))?;
        let inputs = names(model.get_inputs_len().ok(), |i| model.get_input_by_index(i).ok().and_then(|n| n.get_name().ok()));
        let outputs = names(model.get_outputs_len().ok(), |i| model.get_output_by_index(i).ok().and_then(|n| n.get_name().ok()));
        for required in ["input_ids", "attention_mask"] {
            if !inputs.iter().any(|n| n == required) {
                return Err(bad(format!("the model has no `{required}` input (inputs: {}); export it with optimum-cli for text generation", inputs.join(", "))));
            }
        }
        if !outputs.iter().any(|n| n == "logits") {
            return Err(bad(format!("the model has no `logits` output (outputs: {})", outputs.join(", "))));
        }
        if inputs.iter().any(|n| n.starts_with("past_key_values")) {
            return Err(bad("the model takes its key/value cache as inputs; export it stateful (optimum-cli's default)".into()));
        }
        let device = device_type(options.device);
        let family = options.device.split('.').next().unwrap_or(options.device);
        let set = |core: &mut Core, key: &str, value: &str| {
            core.set_property(&device, &RwPropertyKey::Other(key.to_string().into()), value)
                .map_err(|e| EngineError::OpenVino(format!("{} does not take {key}={value}: {e}", options.device)))
        };
        if let Some(cache) = options.cache_dir {
            if std::fs::create_dir_all(cache).is_ok() {
                if let Some(cache) = cache.to_str() {
                    set(core, "CACHE_DIR", cache)?;
                }
            }
        }
        match family {
            "CPU" => {
                if let Some(threads) = options.threads {
                    set(core, "INFERENCE_NUM_THREADS", &threads.max(1).to_string())?;
                }
                // f32 arithmetic and cache, as the engine's own reference-checked path: the plugin's default
                // on CPUs with bf16 (AVX-512 BF16, AMX) moves logits by up to ~1 on the reference fixture.
                // ATELIER_OPENVINO_CPU_PRECISION=bf16 trades that for speed (docs/npu.md has both).
                let precision = std::env::var(CPU_PRECISION_ENV).ok().filter(|p| ["f32", "bf16", "f16"].contains(&p.as_str()));
                let precision = precision.as_deref().unwrap_or("f32");
                set(core, "INFERENCE_PRECISION_HINT", precision)?;
                set(core, "KV_CACHE_PRECISION", precision)?;
            }
            // The NPU plugin's LLM mode (what OpenVINO GenAI turns on): static prefill and decode shapes.
            "NPU" => {
                let prompt = npu_max_prompt(options.context_length);
                set(core, "NPU_USE_NPUW", "YES")?;
                set(core, "NPUW_LLM", "YES")?;
                set(core, "NPUW_LLM_MAX_PROMPT_LEN", &prompt.to_string())?;
                set(core, "NPUW_LLM_MIN_RESPONSE_LEN", &NPU_MIN_RESPONSE.to_string())?;
            }
            _ => {}
        }
        let compiled = core.compile_model(&model, device).map_err(|e| runtime(&format!("compiling for {}", options.device), e))?;
        let config = dir.transformer_config()?;
        let vocab = dir.vocab_size().unwrap_or(0);
        let is_npu = family == "NPU";
        // The NPU's cache is exactly its static prompt plus response lengths.
        let (context_length, max_prompt) = if is_npu {
            let prompt = npu_max_prompt(options.context_length);
            (prompt + NPU_MIN_RESPONSE, prompt)
        } else {
            (options.context_length, options.context_length)
        };
        Ok(Self {
            config,
            compiled,
            request: None,
            position: 0,
            context_length,
            max_prompt,
            is_npu,
            vocab,
            has_position_ids: inputs.iter().any(|n| n == "position_ids"),
            has_beam_idx: inputs.iter().any(|n| n == "beam_idx"),
            device: options.device.to_string(),
        })
    }

    pub fn config(&self) -> &TransformerConfig {
        &self.config
    }

    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// False on the NPU: its LLM mode runs every multi-token input as a fresh prefill.
    pub fn can_extend_cache(&self) -> bool {
        !self.is_npu
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn clear_cache(&mut self) {
        self.request = None;
        self.position = 0;
    }

    /// As [`crate::backend::Transformer::forward`]. The cache can only grow: `start` is 0 (a new
    /// sequence) or the number of positions already run.
    pub fn forward(&mut self, tokens: &[u32], start: usize, all_logits: bool) -> Result<Vec<f32>> {
        if tokens.is_empty() {
            return Err(EngineError::OpenVino("nothing to run: no tokens".into()));
        }
        if start + tokens.len() > self.context_length {
            return Err(EngineError::ContextOverflow { prompt_tokens: start + tokens.len(), context_length: self.context_length });
        }
        if start == 0 && tokens.len() > self.max_prompt {
            return Err(EngineError::OpenVino(format!(
                "the prompt is {} tokens but the {} compiles prompts of at most {}; shorten it or raise the context length",
                tokens.len(),
                self.device,
                self.max_prompt
            )));
        }
        if start > 0 && tokens.len() > 1 && !self.can_extend_cache() {
            return Err(EngineError::OpenVino(format!("the {} cannot continue its cache with {} tokens at once", self.device, tokens.len())));
        }
        if start == 0 {
            self.clear_cache();
        } else if start != self.position || self.request.is_none() {
            return Err(EngineError::OpenVino(format!(
                "the cache holds {} positions but the model was asked to continue at {start}",
                self.position
            )));
        }
        let result = self.run(tokens, start, all_logits);
        if result.is_err() {
            self.clear_cache();
        }
        result
    }

    fn run(&mut self, tokens: &[u32], start: usize, all_logits: bool) -> Result<Vec<f32>> {
        let runtime = |what: &str, e: openvino::InferenceError| EngineError::OpenVino(format!("{what}: {e}"));
        if self.request.is_none() {
            self.request = Some(self.compiled.create_infer_request().map_err(|e| runtime("creating a request", e))?);
        }
        let request = self.request.as_mut().expect("created above");
        let len = tokens.len();
        let ids: Vec<i64> = tokens.iter().map(|&t| i64::from(t)).collect();
        request.set_tensor("input_ids", &tensor_i64(&[1, len], &ids)?).map_err(|e| runtime("input_ids", e))?;
        request
            .set_tensor("attention_mask", &tensor_i64(&[1, start + len], &vec![1; start + len])?)
            .map_err(|e| runtime("attention_mask", e))?;
        if self.has_position_ids {
            let positions: Vec<i64> = (start..start + len).map(|p| p as i64).collect();
            request.set_tensor("position_ids", &tensor_i64(&[1, len], &positions)?).map_err(|e| runtime("position_ids", e))?;
        }
        if self.has_beam_idx {
            let mut beam = Tensor::new(ElementType::I32, &shape(&[1])?).map_err(|e| runtime("beam_idx", e))?;
            beam.get_data_mut::<i32>().map_err(|e| runtime("beam_idx", e))?[0] = 0;
            request.set_tensor("beam_idx", &beam).map_err(|e| runtime("beam_idx", e))?;
        }
        request.infer().map_err(|e| runtime(&format!("running on {}", self.device), e))?;
        let logits = request.get_tensor("logits").map_err(|e| runtime("logits", e))?;
        let dims = logits.get_shape().map_err(|e| runtime("logits shape", e))?.get_dimensions().to_vec();
        let rows = dims.get(1).copied().unwrap_or(0).max(0) as usize;
        let vocab = dims.last().copied().unwrap_or(0).max(0) as usize;
        let batch = dims.first().copied().unwrap_or(0);
        if dims.len() != 3 || batch != 1 || rows == 0 || vocab == 0 || (self.vocab != 0 && vocab != self.vocab) {
            return Err(EngineError::OpenVino(format!("the model returned logits of shape {dims:?} for {len} tokens")));
        }
        let values: Vec<f32> = match logits.get_element_type().map_err(|e| runtime("logits type", e))? {
            ElementType::F32 => logits.get_data::<f32>().map_err(|e| runtime("logits", e))?.to_vec(),
            ElementType::F16 => logits.get_data::<half::f16>().map_err(|e| runtime("logits", e))?.iter().map(|v| v.to_f32()).collect(),
            other => return Err(EngineError::OpenVino(format!("the model returned {other:?} logits"))),
        };
        if values.len() != rows.saturating_mul(vocab) {
            return Err(EngineError::OpenVino(format!("the model returned {} logits for shape {dims:?}", values.len())));
        }
        self.position = start + len;
        if all_logits {
            if rows != len {
                return Err(EngineError::OpenVino(format!("the model returned {rows} rows of logits for {len} tokens")));
            }
            Ok(values)
        } else {
            Ok(values[(rows - 1) * vocab..rows * vocab].to_vec())
        }
    }
}

/// The NPU's static prompt length for a context: what is left after the response room, within its limits.
fn npu_max_prompt(context_length: usize) -> usize {
    context_length.saturating_sub(NPU_MIN_RESPONSE).clamp(16, NPU_MAX_PROMPT)
}

fn names(count: Option<usize>, name: impl Fn(usize) -> Option<String>) -> Vec<String> {
    (0..count.unwrap_or(0)).filter_map(name).collect()
}

fn shape(dims: &[usize]) -> Result<Shape> {
    let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    Shape::new(&dims).map_err(|e| EngineError::OpenVino(format!("shape {dims:?}: {e}")))
}

fn tensor_i64(dims: &[usize], values: &[i64]) -> Result<Tensor> {
    let mut tensor = Tensor::new(ElementType::I64, &shape(dims)?).map_err(|e| EngineError::OpenVino(format!("tensor: {e}")))?;
    tensor.get_data_mut::<i64>().map_err(|e| EngineError::OpenVino(format!("tensor: {e}")))?.copy_from_slice(values);
    Ok(tensor)
}
