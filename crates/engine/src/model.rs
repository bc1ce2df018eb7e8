//! A loaded model: weights, tokenizer and chat template together, and generation with streaming,
//! stop conditions, cancellation and timings.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tracing::field::Empty;

use crate::backend::candle::CandleTransformer;
use crate::backend::cpu::model::CpuTransformer;
use crate::backend::cpu::pool::ComputePool;
use crate::backend::{cpu, Transformer};
use crate::config::{KvCacheType, TransformerConfig};
use crate::device::{describe, DeviceChoice};
use crate::error::{EngineError, Result};
use crate::gguf::chat_template::{ChatMessage, ChatTemplate};
use crate::gguf::tokenizer::Tokenizer;
use crate::structured::{Grammars, ResponseFormat};
use crate::gguf::{GgufFile, ModelInfo};
use crate::kv_disk::{CacheShape, DiskCache};
use crate::kv_slots::{common_prefix, KvSlots, MIN_PARKED_TOKENS};
use crate::backend::cpu::model::CpuKvCache;
use crate::memory::ModelShape;
use crate::sampling::{Sampler, SamplingParams};
use crate::stop::StopFilter;

/// The context used when the caller does not choose one: the model's own, capped to keep the cache small.
pub const DEFAULT_CONTEXT_CAP: usize = 4096;

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub device: DeviceChoice,
    /// Positions the key/value cache holds; defaults to the model's context, capped at [`DEFAULT_CONTEXT_CAP`].
    pub context_length: Option<usize>,
    /// Refuse models needing more bytes than this; defaults to the memory the OS reports available.
    pub memory_budget: Option<u64>,
    /// Expand quantised weights to f32 (4–8× the memory): exact arithmetic, for reference checks.
    /// Runs on candle.
    pub dequantize: bool,
    /// On the CPU, run candle's kernels instead of Atelier's own (for comparisons).
    pub candle_on_cpu: bool,
    /// CPU threads; all cores when `None`.
    pub threads: Option<usize>,
    /// Bytes for the key/value caches of recent contexts kept beside the active one (Atelier's CPU
    /// kernels); by default two full contexts' worth, at most a quarter of the memory available. 0 keeps
    /// only the active context.
    pub cache_slots_bytes: Option<u64>,
    /// Where contexts' caches are saved between runs (Atelier's CPU kernels): a project reopened later
    /// continues its scene instead of computing it again. `None` saves nothing.
    pub saved_contexts_dir: Option<std::path::PathBuf>,
    /// The most bytes that folder holds (oldest out first); 4 GiB by default.
    pub saved_contexts_bytes: Option<u64>,
    /// How Atelier's CPU kernels store the key/value cache: f16 halves its memory (a 32k-token context
    /// of the 3B model fits in 8 GiB), f32 (the default) is exact. candle and OpenVINO keep their own.
    pub kv_cache: KvCacheType,
}

/// Saved contexts shorter than this are not written: computing them again costs about as much as reading.
const MIN_SAVED_TOKENS: usize = 256;

/// A shareable flag that stops a generation at the next token.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Prompt {
    /// A conversation, rendered with the model's chat template.
    Chat(Vec<ChatMessage>),
    /// Text given to the model as is (completion).
    Raw(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub prompt: Prompt,
    pub max_tokens: usize,
    #[serde(default)]
    pub sampling: SamplingParams,
    /// Generation ends before any of these strings; they are not part of the text.
    #[serde(default)]
    pub stop: Vec<String>,
    /// The shape the reply must have; each step's tokens are masked to it.
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
}

impl GenerateRequest {
    pub fn chat(user_message: impl Into<String>) -> Self {
        Self {
            prompt: Prompt::Chat(vec![ChatMessage::user(user_message)]),
            max_tokens: 256,
            sampling: SamplingParams::default(),
            stop: Vec::new(),
            response_format: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its turn.
    EndOfTurn,
    StopString,
    MaxTokens,
    /// The context is full.
    ContextFull,
    Cancelled,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Timings {
    /// Prompt tokens actually computed (the rest came from the cache).
    pub prompt_tokens_processed: usize,
    pub prompt_ms: f64,
    pub prompt_tokens_per_second: f64,
    pub time_to_first_token_ms: f64,
    pub decode_ms: f64,
    pub decode_tokens_per_second: f64,
    pub total_ms: f64,
    /// Of the decode, the time spent masking tokens to the response format (0 without one).
    #[serde(default)]
    pub grammar_ms: f64,
}

/// One streamed piece of the reply, with the progress so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chunk<'a> {
    pub text: &'a str,
    pub completion_tokens: usize,
    /// Decode speed since the first token.
    pub tokens_per_second: f64,
    pub time_to_first_token_ms: f64,
    /// The prompt's tokens, and how many of them came from the cache rather than being computed.
    pub prompt_tokens: usize,
    pub cached_tokens: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub stop_reason: StopReason,
    pub timings: Timings,
}

/// What [`Model::prepare`] did: of the prompt's tokens, how many it found cached and how many it
/// computed, in how long, and whether a cancel stopped it first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Prepared {
    pub prompt_tokens: usize,
    pub cached_tokens: usize,
    pub computed_tokens: usize,
    pub ms: f64,
    pub cancelled: bool,
}

/// About how long one step of a preparation runs: the most work a stop throws away. A request waits
/// at most one layer of it (Atelier's CPU kernels check between layers; other backends finish the step).
pub const PREPARE_STEP: Duration = Duration::from_millis(1000);

pub struct Model {
    info: ModelInfo,
    tokenizer: Tokenizer,
    template: ChatTemplate,
    transformer: Transformer,
    device_name: String,
    load_duration: Duration,
    /// Tokens whose keys/values sit in the cache, so a continued conversation skips them.
    cached_tokens: Vec<u32>,
    /// The most tokens the active cache has held (what its memory costs once parked).
    cached_high_water: usize,
    /// Recent contexts kept beside the active one.
    slots: KvSlots<CpuKvCache>,
    /// Contexts saved on disk, for the next time.
    disk: Option<DiskCache>,
    pool: Threads,
    /// The vocabulary as a token trie for structured output, built on the first request that needs it.
    grammars: Option<Grammars>,
    /// The last prompt rendered and tokenised, so `prompt_tokens` then `generate` renders it once.
    last_prompt: Mutex<Option<(Prompt, Arc<Vec<u32>>)>>,
    #[cfg(test)]
    renders: std::sync::atomic::AtomicUsize,
}

/// How the model's work is spread over CPU threads.
enum Threads {
    /// Atelier's CPU kernels: a spinning pool sized to the request (or all cores).
    Compute(ComputePool),
    /// candle with a chosen thread count.
    Rayon(rayon::ThreadPool),
    /// candle on rayon's global pool (GPU runs, or the CPU with the default count).
    Global,
}

impl Model {
    pub fn load(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Self> {
        let path = path.as_ref();
        let span = tracing::info_span!("model_load", path = %path.display(), architecture = Empty, device = Empty).entered();
        if crate::openvino::is_ir_dir(path) {
            return crate::openvino::load(path, options);
        }
        if options.device == DeviceChoice::Npu && path.exists() {
            return Err(crate::openvino::npu_needs_openvino_model(path));
        }
        let started = Instant::now();
        let mut gguf = GgufFile::open(path)?;
        let config = TransformerConfig::from_gguf(&gguf)?;
        span.record("architecture", config.architecture.as_str());
        let tokenizer = Tokenizer::from_gguf(&gguf)?;
        let token_text = |id: Option<u32>| id.and_then(|id| tokenizer.id_to_token(id)).unwrap_or_default();
        let template = ChatTemplate::new(
            gguf.opt_string("tokenizer.chat_template"),
            token_text(tokenizer.bos_id()),
            token_text(tokenizer.eos_id()),
            |t| tokenizer.token_to_id(t).is_some(),
        )?;
        let vocab = config.check_tensor_shapes(&gguf)?;
        if vocab != tokenizer.token_count() {
            return Err(EngineError::TensorShape {
                path: gguf.path().to_path_buf(),
                tensor: "token_embd.weight".into(),
                found: format!("{vocab} rows"),
                expected: format!("one row per token of the vocabulary ({})", tokenizer.token_count()),
            });
        }
        let context_length = options
            .context_length
            .unwrap_or_else(|| config.train_context.min(DEFAULT_CONTEXT_CAP))
            .max(16);
        let device = options.device.resolve()?;
        span.record("device", tracing::field::debug(&device));
        let use_own_kernels =
            device.is_cpu() && !options.dequantize && !options.candle_on_cpu && cpu::model::supports(&gguf);
        if device.is_cpu() {
            let weights = if options.dequantize { gguf.parameter_count().saturating_mul(4) } else { gguf.tensor_bytes() };
            let kv = if use_own_kernels { options.kv_cache } else { KvCacheType::F32 };
            let needed = ModelShape::of_config(&config, weights).estimate_with(Some(context_length), kv).total;
            check_memory(needed, options.memory_budget.or_else(available_memory))?;
        }
        let info = gguf.info()?;
        let transformer = if use_own_kernels {
            Transformer::Cpu(CpuTransformer::load(&gguf, config, context_length, options.kv_cache)?)
        } else {
            Transformer::Candle(CandleTransformer::load(&mut gguf, config, context_length, &device, options.dequantize)?)
        };
        let threads = options.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        });
        let pool = match &transformer {
            Transformer::Cpu(_) => Threads::Compute(ComputePool::new(threads)?),
            // candle schedules on rayon: a pool of the requested size, else rayon's global one.
            Transformer::Candle(_) => match options.threads {
                Some(n) => Threads::Rayon(
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(n.max(1))
                        .build()
                        .map_err(|e| EngineError::Device(format!("cannot start {n} CPU threads: {e}")))?,
                ),
                None => Threads::Global,
            },
            #[cfg(feature = "openvino")]
            Transformer::OpenVino(_) => Threads::Global,
        };
        let device_name = match &pool {
            Threads::Compute(pool) => format!("CPU ({} threads, {})", pool.threads(), cpu::kernels().level.name()),
            Threads::Rayon(pool) => format!("CPU ({} threads)", pool.current_num_threads()),
            Threads::Global => describe(&device),
        };
        let load_duration = started.elapsed();
        let slots = slots_for(&transformer, options);
        let disk = match (&transformer, &options.saved_contexts_dir) {
            // The cache is only a cache: a model that cannot be fingerprinted loads without it.
            (Transformer::Cpu(t), Some(dir)) => match crate::kv_disk::fingerprint(path) {
                Ok(fingerprint) => Some(DiskCache::new(
                    dir.clone(),
                    fingerprint,
                    CacheShape::of(t.config(), context_length, t.kv_type()),
                    options.saved_contexts_bytes.unwrap_or(4 << 30),
                )),
                Err(e) => {
                    tracing::warn!(error = %e, "contexts will not be saved for this model");
                    None
                }
            },
            _ => None,
        };
        tracing::info!(
            path = %path.display(),
            architecture = transformer.config().architecture.as_str(),
            backend = transformer.backend_name(),
            device = %device_name,
            context_length,
            load_ms = ms(load_duration),
            "model loaded"
        );
        Ok(Self {
            info,
            tokenizer,
            template,
            device_name,
            transformer,
            pool,
            load_duration,
            cached_tokens: Vec::new(),
            cached_high_water: 0,
            slots,
            disk,
            grammars: None,
            last_prompt: Mutex::new(None),
            #[cfg(test)]
            renders: Default::default(),
        })
    }

    /// A model whose parts another loader made (an OpenVINO folder); the runtime schedules its own threads.
    #[cfg_attr(not(feature = "openvino"), allow(dead_code))]
    pub(crate) fn from_parts(
        info: ModelInfo,
        tokenizer: Tokenizer,
        template: ChatTemplate,
        transformer: Transformer,
        device_name: String,
        load_duration: Duration,
    ) -> Self {
        tracing::info!(
            path = %info.path.display(),
            architecture = transformer.config().architecture.as_str(),
            backend = transformer.backend_name(),
            device = %device_name,
            context_length = transformer.context_length(),
            load_ms = ms(load_duration),
            "model loaded"
        );
        Self {
            info,
            tokenizer,
            template,
            transformer,
            device_name,
            load_duration,
            cached_tokens: Vec::new(),
            cached_high_water: 0,
            slots: KvSlots::new(0, 1),
            disk: None,
            pool: Threads::Global,
            grammars: None,
            last_prompt: Mutex::new(None),
            #[cfg(test)]
            renders: Default::default(),
        }
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Which implementation runs the model: "atelier-cpu" (own kernels), "candle" or "openvino".
    pub fn backend_name(&self) -> &'static str {
        self.transformer.backend_name()
    }

    fn forward(&mut self, tokens: &[u32], start: usize, all_logits: bool) -> Result<Vec<f32>> {
        forward_in(&mut self.transformer, &self.pool, tokens, start, all_logits)
    }

    pub fn config(&self) -> &TransformerConfig {
        self.transformer.config()
    }

    /// The structured-output compiler for this model's vocabulary (built once).
    fn grammars(&mut self) -> Result<&Grammars> {
        if self.grammars.is_none() {
            let started = Instant::now();
            self.grammars = Some(Grammars::new(&self.tokenizer)?);
            tracing::debug!(ms = ms(started.elapsed()), "token trie built");
        }
        Ok(self.grammars.as_ref().expect("built above"))
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    pub fn chat_template(&self) -> &ChatTemplate {
        &self.template
    }

    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    pub fn context_length(&self) -> usize {
        self.transformer.context_length()
    }

    pub fn load_duration(&self) -> Duration {
        self.load_duration
    }

    /// The prompt's token ids as the model will see them. A chat's message contents never become control
    /// tokens (a message that says `<|im_start|>` is text); a raw prompt's control-token text does.
    pub fn prompt_tokens(&self, prompt: &Prompt) -> Result<Vec<u32>> {
        Ok(self.prompt_ids(prompt, false)?.to_vec())
    }

    /// Renders and tokenises `prompt`, or reuses the result of the `prompt_tokens` call just before;
    /// `take` uses it up (a template may print today's date, so a later request renders afresh).
    fn prompt_ids(&self, prompt: &Prompt, take: bool) -> Result<Arc<Vec<u32>>> {
        let mut last = self.last_prompt.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cached, ids)) = last.as_ref() {
            if cached == prompt {
                let ids = Arc::clone(ids);
                if take {
                    *last = None;
                }
                return Ok(ids);
            }
        }
        #[cfg(test)]
        self.renders.fetch_add(1, Ordering::SeqCst);
        let (text, untrusted) = match prompt {
            Prompt::Chat(messages) => {
                let rendered = self.template.render_prompt(messages, |t| self.tokenizer.contains_control_text(t))?;
                (rendered.text, rendered.content_ranges)
            }
            Prompt::Raw(text) => (text.clone(), Vec::new()),
        };
        if text.is_empty() {
            return Err(EngineError::EmptyPrompt);
        }
        let ids = Arc::new(self.tokenizer.encode_guarded(&text, &untrusted, true)?);
        *last = if take { None } else { Some((prompt.clone(), Arc::clone(&ids))) };
        Ok(ids)
    }

    /// Logits at every position of `tokens`, computed from an empty cache (for reference checks).
    pub fn logits(&mut self, tokens: &[u32]) -> Result<Vec<Vec<f32>>> {
        self.transformer.clear_cache();
        self.cached_tokens.clear();
        let logits = self.forward(tokens, 0, true)?;
        self.transformer.clear_cache();
        let vocab = logits.len() / tokens.len();
        Ok(logits.chunks_exact(vocab).map(<[f32]>::to_vec).collect())
    }

    /// Empties the key/value cache and forgets the parked contexts: the next evaluation starts a new
    /// sequence and computes its whole prompt.
    pub fn reset(&mut self) {
        self.transformer.clear_cache();
        self.cached_tokens.clear();
        self.slots.clear();
    }

    /// Contexts kept beside the active one, and the bytes their caches hold.
    pub fn parked_contexts(&self) -> (usize, u64) {
        (self.slots.len(), self.slots.bytes())
    }

    /// Before a request: continue the parked context that shares the most of `prompt`, when it shares
    /// more than the active one, else a saved one read from disk; and park the active context if the
    /// request would overwrite most of it.
    fn switch_context(&mut self, prompt: &[u32]) {
        if !self.slots.enabled() && self.disk.is_none() {
            return;
        }
        let active = common_prefix(&self.cached_tokens, prompt);
        if let Some((index, _)) = self.slots.best_match(prompt, active) {
            let slot = self.slots.touch(index);
            self.transformer.swap_cache(&mut slot.cache);
            std::mem::swap(&mut self.cached_tokens, &mut slot.tokens);
            std::mem::swap(&mut self.cached_high_water, &mut slot.high_water);
            self.slots.enforce_budget();
            return;
        }
        let saved = self.saved_match(prompt, active);
        let worth_parking = self.slots.enabled() && self.cached_tokens.len() >= MIN_PARKED_TOKENS && active * 2 < self.cached_tokens.len();
        if saved.is_none() && !worth_parking {
            return;
        }
        self.park_active();
        if let (Some(saved), Some(disk), Transformer::Cpu(t)) = (saved, &self.disk, &mut self.transformer) {
            match disk.load(&saved, t.cache_slices_mut(saved.tokens.len())) {
                Ok(()) => {
                    self.cached_high_water = self.cached_high_water.max(saved.tokens.len());
                    self.cached_tokens = saved.tokens;
                }
                Err(e) => tracing::warn!(error = %e, "a saved context could not be read; computing it again"),
            }
        }
    }

    /// Parks the active context (when it is worth keeping) and leaves an empty cache active.
    fn park_active(&mut self) {
        if !self.slots.would_keep(self.cached_tokens.len(), self.cached_high_water) {
            // Nowhere to keep it: the active buffers are simply overwritten.
            self.cached_tokens.clear();
            return;
        }
        let fresh = self.slots.reclaim_for(self.cached_high_water).or_else(|| self.transformer.empty_cache().map(|c| (c, 0)));
        match fresh {
            Some((mut cache, high_water)) => {
                self.transformer.swap_cache(&mut cache);
                let tokens = std::mem::take(&mut self.cached_tokens);
                let parked_high_water = std::mem::replace(&mut self.cached_high_water, high_water);
                self.slots.park(tokens, cache, parked_high_water);
            }
            None => self.cached_tokens.clear(),
        }
    }

    /// The saved context on disk sharing the most of `prompt`, when it beats the active cache's `active`.
    fn saved_match(&self, prompt: &[u32], active: usize) -> Option<crate::kv_disk::Saved> {
        // Reading a file costs about what computing a few hundred tokens does: worth it only for more.
        let disk = self.disk.as_ref().filter(|_| prompt.len() >= active + MIN_SAVED_TOKENS)?;
        disk.list()
            .into_iter()
            .map(|saved| (common_prefix(&saved.tokens, prompt), saved))
            .filter(|(shared, _)| *shared >= active + MIN_SAVED_TOKENS)
            .max_by_key(|(shared, _)| *shared)
            .map(|(_, saved)| saved)
    }

    /// Saves the active context to disk for a later run, unless it is short or saved already; whether
    /// it wrote one. The app calls this when the model has been idle a moment.
    pub fn save_context(&self) -> Result<bool> {
        let (Some(disk), Transformer::Cpu(t)) = (&self.disk, &self.transformer) else { return Ok(false) };
        let tokens = &self.cached_tokens;
        if tokens.len() < MIN_SAVED_TOKENS || disk.contains(tokens) {
            return Ok(false);
        }
        let Some(path) = disk.save(tokens, t.cache_slices(tokens.len()))? else { return Ok(false) };
        tracing::info!(path = %path.display(), tokens = tokens.len(), "context saved");
        Ok(true)
    }

    /// Runs `tokens` at positions `start..` through the model and returns the last position's logits
    /// (benchmarks and tools; positions before `start` must have been evaluated).
    pub fn eval(&mut self, tokens: &[u32], start: usize) -> Result<Vec<f32>> {
        self.cached_tokens.clear();
        self.forward(tokens, start, false)
    }

    /// How the key/value cache stores its values (f16 only where Atelier's CPU kernels run).
    pub fn kv_cache_type(&self) -> KvCacheType {
        self.transformer.kv_type()
    }

    /// Bytes of the key/value cache at the current context length.
    pub fn kv_cache_bytes(&self) -> u64 {
        self.config().kv_cache_bytes(self.context_length(), self.transformer.kv_type())
    }

    /// Logits for `rest` fed one token at a time after `prefix` is prefilled: the decode path, for checks.
    pub fn logits_continuing(&mut self, prefix: &[u32], rest: &[u32]) -> Result<Vec<Vec<f32>>> {
        self.transformer.clear_cache();
        self.cached_tokens.clear();
        self.forward(prefix, 0, false)?;
        let mut out = Vec::with_capacity(rest.len());
        for (i, &token) in rest.iter().enumerate() {
            out.push(self.forward(&[token], prefix.len() + i, false)?);
        }
        self.transformer.clear_cache();
        Ok(out)
    }

    /// Computes `prompt` into the cache ahead of its request, all but its last token (which the request
    /// computes for its logits), so that pressing the button costs only what changed since. Works in
    /// steps of about [`PREPARE_STEP`], keeping each finished step: a cancel stops it before the next
    /// layer (Atelier's CPU kernels) or step (other backends), and what the finished steps computed stays.
    pub fn prepare(&mut self, prompt: &Prompt, cancel: &CancelToken) -> Result<Prepared> {
        let _span = tracing::info_span!("prepare", backend = self.backend_name()).entered();
        let prompt = self.prompt_ids(prompt, false)?;
        // A cache that cannot be cut back would be stuck with a guess that turned out wrong.
        if !self.transformer.can_truncate_cache() || !self.transformer.can_extend_cache() {
            return Ok(Prepared { prompt_tokens: prompt.len(), cached_tokens: 0, computed_tokens: 0, ms: 0.0, cancelled: false });
        }
        if prompt.len() >= self.context_length() {
            return Err(EngineError::ContextOverflow { prompt_tokens: prompt.len(), context_length: self.context_length() });
        }
        self.switch_context(&prompt);
        let target = prompt.len() - 1;
        let cached = self.reuse_cached(&prompt, target);
        let started = Instant::now();
        let mut done = cached;
        // The first step is short, to learn the speed at this depth; the next are sized from it.
        let mut step = 8;
        let mut cancelled = false;
        while done < target {
            if cancel.is_cancelled() {
                cancelled = true;
                break;
            }
            let end = (done + step).min(target);
            let step_started = Instant::now();
            let stop = || cancel.is_cancelled();
            let (transformer, tokens) = (&mut self.transformer, &prompt[done..end]);
            match on_threads(&self.pool, || transformer.forward_unless(tokens, done, false, &stop)) {
                Ok(Some(_)) => {}
                // Stopped between two layers: this step's positions are half written and not kept.
                Ok(None) => {
                    cancelled = true;
                    break;
                }
                Err(e) => {
                    self.cached_tokens.clear();
                    return Err(e);
                }
            }
            self.cached_tokens.extend_from_slice(tokens);
            self.cached_high_water = self.cached_high_water.max(self.cached_tokens.len());
            let per_token = step_started.elapsed().as_secs_f64() / (end - done) as f64;
            // Steps long enough that reading the weights once per step costs little; what a stop throws
            // away is at most one step's work.
            step = ((PREPARE_STEP.as_secs_f64() / per_token.max(1e-6)) as usize).clamp(16, 256);
            done = end;
        }
        let prepared = Prepared { prompt_tokens: prompt.len(), cached_tokens: cached, computed_tokens: done - cached, ms: ms(started.elapsed()), cancelled };
        tracing::info!(
            prompt_tokens = prepared.prompt_tokens,
            cached_tokens = prepared.cached_tokens,
            computed_tokens = prepared.computed_tokens,
            ms = prepared.ms,
            cancelled,
            "context prepared"
        );
        Ok(prepared)
    }

    /// Keeps the cached tokens `prompt` starts with, at most `limit` of them, and drops the rest: how
    /// many are kept (none where the backend cannot continue or cut its cache).
    fn reuse_cached(&mut self, prompt: &[u32], limit: usize) -> usize {
        let mut reused = common_prefix(&self.cached_tokens, prompt).min(limit);
        if (reused < self.cached_tokens.len() && !self.transformer.can_truncate_cache()) || (reused > 0 && !self.transformer.can_extend_cache()) {
            reused = 0;
        }
        self.cached_tokens.truncate(reused);
        reused
    }

    /// Generates a reply, calling `on_chunk` with each new piece of text as soon as it is complete UTF-8.
    pub fn generate(
        &mut self,
        request: &GenerateRequest,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(Chunk<'_>),
    ) -> Result<Generation> {
        let _span = tracing::info_span!("generate", backend = self.backend_name(), max_tokens = request.max_tokens).entered();
        let result = self.generate_inner(request, cancel, on_chunk);
        if result.is_err() {
            // The cache may hold a half-written step; start clean next time.
            self.cached_tokens.clear();
        }
        result
    }

    fn generate_inner(
        &mut self,
        request: &GenerateRequest,
        cancel: &CancelToken,
        on_chunk: &mut dyn FnMut(Chunk<'_>),
    ) -> Result<Generation> {
        let started = Instant::now();
        let mut sampler = Sampler::new(request.sampling.clone())?;
        // A format that does not compile fails here, before any prompt work.
        let mut constraint = match &request.response_format {
            Some(format) => Some(self.grammars()?.constrain(format)?),
            None => None,
        };
        if cancel.is_cancelled() {
            return Ok(Generation {
                text: String::new(),
                prompt_tokens: 0,
                completion_tokens: 0,
                stop_reason: StopReason::Cancelled,
                timings: Timings::default(),
            });
        }
        // Rendering, tokenising and the prefill: what the time to first token is made of.
        let prompt_span = tracing::info_span!("prompt", prompt_tokens = Empty, cached_tokens = Empty).entered();
        let prompt = self.prompt_ids(&request.prompt, true)?;
        prompt_span.record("prompt_tokens", prompt.len());
        // Rendering is bounded but may take a moment: a cancel during it stops here.
        if cancel.is_cancelled() {
            return Ok(Generation {
                text: String::new(),
                prompt_tokens: prompt.len(),
                completion_tokens: 0,
                stop_reason: StopReason::Cancelled,
                timings: Timings::default(),
            });
        }
        let context = self.context_length();
        if prompt.len() >= context {
            return Err(EngineError::ContextOverflow { prompt_tokens: prompt.len(), context_length: context });
        }
        self.switch_context(&prompt);
        // At least one prompt token must run to produce logits.
        let reused = self.reuse_cached(&prompt, prompt.len() - 1);
        prompt_span.record("cached_tokens", reused);
        let max_tokens = request.max_tokens.min(context - prompt.len());
        let mut stop_filter = StopFilter::new(&request.stop);
        let mut stream = self.tokenizer.decode_stream();
        let stop_ids = self.tokenizer.stop_ids().to_vec();

        let mut logits = forward_in(&mut self.transformer, &self.pool, &prompt[reused..], reused, false)?;
        self.cached_tokens.extend_from_slice(&prompt[reused..]);
        self.cached_high_water = self.cached_high_water.max(self.cached_tokens.len());
        let prompt_elapsed = started.elapsed();
        drop(prompt_span);
        let decode_span = tracing::info_span!("decode", completion_tokens = Empty, stop_reason = Empty).entered();

        let mut history = prompt.to_vec();
        let mut completion_tokens = 0usize;
        let mut first_token_at: Option<Duration> = None;
        let emit = |on_chunk: &mut dyn FnMut(Chunk<'_>), text: &str, completion_tokens: usize, first: Option<Duration>| {
            let ttft = first.unwrap_or_default();
            let since_first = started.elapsed().saturating_sub(ttft).as_secs_f64();
            let tokens_per_second =
                if since_first > 0.0 { completion_tokens.saturating_sub(1) as f64 / since_first } else { 0.0 };
            on_chunk(Chunk { text, completion_tokens, tokens_per_second, time_to_first_token_ms: ms(ttft), prompt_tokens: prompt.len(), cached_tokens: reused });
        };
        let mut stop_reason = if max_tokens == 0 { StopReason::MaxTokens } else { StopReason::ContextFull };
        while completion_tokens < max_tokens {
            if cancel.is_cancelled() {
                stop_reason = StopReason::Cancelled;
                break;
            }
            if let Some(constraint) = constraint.as_mut() {
                constraint.mask(&mut logits, &stop_ids)?;
            }
            let next = sampler.sample(&mut logits, &history);
            first_token_at.get_or_insert_with(|| started.elapsed());
            if stop_ids.contains(&next) {
                stop_reason = StopReason::EndOfTurn;
                break;
            }
            let complete = match constraint.as_mut() {
                Some(constraint) => constraint.advance(next)?,
                None => false,
            };
            history.push(next);
            completion_tokens += 1;
            if let Some(piece) = stream.step(next)? {
                let (ready, hit) = stop_filter.push(&piece);
                if !ready.is_empty() {
                    emit(on_chunk, &ready, completion_tokens, first_token_at);
                }
                if hit {
                    stop_reason = StopReason::StopString;
                    break;
                }
            }
            if complete {
                // The grammar admits nothing more: the reply is whole, as if the model had ended its turn.
                stop_reason = StopReason::EndOfTurn;
                break;
            }
            if completion_tokens == max_tokens {
                stop_reason = if max_tokens == request.max_tokens { StopReason::MaxTokens } else { StopReason::ContextFull };
                break;
            }
            logits = forward_in(&mut self.transformer, &self.pool, &[next], history.len() - 1, false)?;
            self.cached_tokens.push(next);
            self.cached_high_water = self.cached_high_water.max(self.cached_tokens.len());
        }
        let rest = stop_filter.finish();
        if !rest.is_empty() {
            emit(on_chunk, &rest, completion_tokens, first_token_at);
        }
        decode_span.record("completion_tokens", completion_tokens);
        decode_span.record("stop_reason", tracing::field::debug(stop_reason));
        drop(decode_span);

        let total = started.elapsed();
        let ttft = first_token_at.unwrap_or(total);
        let decode = total.saturating_sub(ttft);
        let processed = prompt.len() - reused;
        let per_second = |n: usize, d: Duration| if d.as_secs_f64() > 0.0 { n as f64 / d.as_secs_f64() } else { 0.0 };
        let timings = Timings {
            prompt_tokens_processed: processed,
            prompt_ms: ms(prompt_elapsed),
            prompt_tokens_per_second: per_second(processed, prompt_elapsed),
            time_to_first_token_ms: ms(ttft),
            decode_ms: ms(decode),
            decode_tokens_per_second: per_second(completion_tokens.saturating_sub(1), decode),
            total_ms: ms(total),
            grammar_ms: constraint.as_ref().map(|c| ms(c.spent())).unwrap_or(0.0),
        };
        // Self-contained (a log bridge drops span fields): enough to tell a slow prefill from a slow decode.
        tracing::info!(
            backend = self.transformer.backend_name(),
            prompt_tokens = prompt.len(),
            prompt_tokens_processed = processed,
            prompt_ms = timings.prompt_ms,
            prompt_tokens_per_second = timings.prompt_tokens_per_second,
            time_to_first_token_ms = timings.time_to_first_token_ms,
            completion_tokens,
            decode_ms = timings.decode_ms,
            decode_tokens_per_second = timings.decode_tokens_per_second,
            total_ms = timings.total_ms,
            stop_reason = ?stop_reason,
            "generation finished"
        );
        Ok(Generation { text: stop_filter.into_text(), prompt_tokens: prompt.len(), completion_tokens, stop_reason, timings })
    }
}

/// Runs the decoder with its threads.
fn forward_in(transformer: &mut Transformer, pool: &Threads, tokens: &[u32], start: usize, all_logits: bool) -> Result<Vec<f32>> {
    on_threads(pool, || transformer.forward(tokens, start, all_logits))
}

/// Runs `work` on the model's threads.
fn on_threads<R: Send>(pool: &Threads, work: impl FnOnce() -> R + Send) -> R {
    match pool {
        Threads::Compute(pool) => pool.run(work),
        Threads::Rayon(pool) => pool.install(work),
        Threads::Global => work(),
    }
}

pub(crate) fn check_memory(needed: u64, available: Option<u64>) -> Result<()> {
    match available {
        Some(available) if needed > available => {
            Err(EngineError::InsufficientMemory { needed_mib: needed >> 20, available_mib: available >> 20 })
        }
        _ => Ok(()),
    }
}

/// Memory the OS could give us now (Linux `MemAvailable`); `None` where unknown.
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The slots' budget: what the options say, else two full contexts' caches within a quarter of the
/// memory available; none where the backend cannot swap caches.
fn slots_for(transformer: &Transformer, options: &LoadOptions) -> KvSlots<CpuKvCache> {
    let per_token = transformer.config().kv_cache_bytes(1, transformer.kv_type());
    let budget = match transformer {
        Transformer::Cpu(_) => options.cache_slots_bytes.unwrap_or_else(|| {
            let two_contexts = transformer.config().kv_cache_bytes(transformer.context_length(), transformer.kv_type()).saturating_mul(2);
            available_memory().map_or(two_contexts, |free| two_contexts.min(free / 4))
        }),
        _ => 0,
    };
    KvSlots::new(budget, per_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_check_refuses_what_does_not_fit() {
        assert!(check_memory(10 << 20, Some(20 << 20)).is_ok());
        assert!(check_memory(10 << 20, None).is_ok());
        let err = check_memory(30 << 20, Some(20 << 20)).unwrap_err();
        assert!(matches!(err, EngineError::InsufficientMemory { needed_mib: 30, available_mib: 20 }));
    }

    #[test]
    fn a_prompt_is_rendered_once_per_request() {
        let file = tempfile::Builder::new().suffix(".gguf").tempfile().unwrap();
        crate::synth::synthetic::SyntheticSpec::tiny_llama().write(file.path()).unwrap();
        let mut model = Model::load(file.path(), &LoadOptions::default()).unwrap();
        let mut request = GenerateRequest::chat("Once upon a time");
        request.max_tokens = 2;
        let counted = model.prompt_tokens(&request.prompt).unwrap().len();
        let generation = model.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap();
        assert_eq!(generation.prompt_tokens, counted);
        assert_eq!(model.renders.load(Ordering::SeqCst), 1);
        // The next request is rendered afresh (the template may print the date).
        model.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap();
        assert_eq!(model.renders.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn common_prefix_counts_shared_tokens() {
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2, 4, 5]), 2);
        assert_eq!(common_prefix(&[], &[1]), 0);
    }
}
