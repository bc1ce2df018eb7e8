//! `atelier bench`: prompt processing and decode speed, time to first token and peak memory, measured
//! the way llama-bench measures (pp512 / tg128 from an empty context), so the numbers compare side by side.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use atelier_engine::synth::mix::QuantMix;
use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::{GgufFile, LoadOptions, Model};
use clap::Args;
use serde::Serialize;

use crate::ModelArgs;

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Prompt tokens processed in one batch.
    #[arg(long, default_value_t = 512)]
    pub prompt_tokens: usize,
    /// Tokens generated one at a time.
    #[arg(long, default_value_t = 128)]
    pub gen_tokens: usize,
    /// Runs of each measurement; the report gives the mean and the best.
    #[arg(long, default_value_t = 3)]
    pub repetitions: usize,
    /// Which engine runs the model: Atelier's own (a GGUF file), candle's CPU kernels (a GGUF file, for
    /// comparison) or OpenVINO (an OpenVINO model folder; `--device cpu|gpu|npu`).
    #[arg(long, value_enum, default_value_t = Backend::Atelier)]
    pub backend: Backend,
    #[arg(long)]
    pub json: bool,
    /// Tokens already in the context when prompt and decode speed are measured (llama-bench's -d): how
    /// fast the model stays deep in a manuscript.
    #[arg(long, default_value_t = 0)]
    pub depth: usize,
    /// Also measure the memory read bandwidth and report decode as a fraction of it.
    #[arg(long)]
    pub bandwidth: bool,
    /// What to measure: `speed` (pp/tg from an empty context, as llama-bench) or `writer` (Continue,
    /// Rewrite and a chat question on one long scene: the time to first token a writer sees).
    #[arg(long, value_enum, default_value_t = Scenario::Speed)]
    pub scenario: Scenario,
    /// The writer scenario's prompt size: system prompt, story bible and scene together.
    #[arg(long, default_value_t = 4096)]
    pub scene_tokens: usize,
    /// The writer scenario also writes its prompts' token ids here (JSON), for a replay in llama.cpp.
    #[arg(long)]
    pub tokens_out: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Speed,
    Writer,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Atelier,
    Candle,
    Openvino,
}

#[derive(Serialize)]
struct Rate {
    tokens: usize,
    mean_tokens_per_second: f64,
    best_tokens_per_second: f64,
}

#[derive(Serialize)]
struct Report {
    model: String,
    architecture: String,
    quantization: String,
    backend: String,
    device: String,
    load_ms: f64,
    /// Tokens in the context before each measurement, and how the cache stores them.
    depth: usize,
    kv_cache: String,
    prompt: Rate,
    decode: Rate,
    time_to_first_token_ms: f64,
    peak_rss_mib: f64,
    /// The model file (a GGUF, or an OpenVINO folder's weights).
    file_mib: f64,
    kv_cache_mib: f64,
    /// Peak RSS ÷ (model file + KV cache): the memory target is ≤ 1.2.
    rss_ratio: f64,
    /// What the engine's memory estimate (the catalog's and the load check's) says for this context.
    estimated_mib: f64,
    /// With `--bandwidth`: the machine's read bandwidth (GB/s), and what decode reads per second
    /// (weights plus the key/value cache at the run's mean depth) as GB/s and as a fraction of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    bandwidth: Option<Bandwidth>,
}

#[derive(Serialize)]
struct Bandwidth {
    read_gb_per_second: f64,
    decode_gb_per_second: f64,
    fraction: f64,
}

fn rate(tokens: usize, seconds: &[f64]) -> Rate {
    let rates: Vec<f64> = seconds.iter().map(|s| tokens as f64 / s).collect();
    Rate {
        tokens,
        mean_tokens_per_second: rates.iter().sum::<f64>() / rates.len() as f64,
        best_tokens_per_second: rates.iter().cloned().fold(0.0, f64::max),
    }
}

pub fn run(args: BenchArgs) -> Result<()> {
    if args.scenario == Scenario::Writer {
        if args.backend != Backend::Atelier {
            bail!("the writer scenario runs on Atelier's own engine (--backend atelier)");
        }
        return crate::bench_writer::run(&args);
    }
    let path = crate::resolve_model(args.model.model.clone())?;
    let openvino_folder = atelier_engine::openvino::is_ir_dir(&path);
    match (args.backend, openvino_folder) {
        (Backend::Openvino, false) => bail!(
            "--backend openvino runs an OpenVINO model folder, and {} is not one: convert it with scripts/export-openvino.sh (see docs/npu.md)",
            path.display()
        ),
        (Backend::Atelier | Backend::Candle, true) => {
            bail!("{} is an OpenVINO model folder: bench it with --backend openvino", path.display())
        }
        _ => {}
    }
    let context = args.model.context.unwrap_or(args.depth + args.prompt_tokens + args.gen_tokens + 8);
    let options = LoadOptions {
        device: args.model.device,
        context_length: Some(context),
        threads: args.model.threads,
        candle_on_cpu: args.backend == Backend::Candle,
        kv_cache: args.model.kv_cache,
        ..Default::default()
    };
    let started = Instant::now();
    let mut model = Model::load(&path, &options).with_context(|| format!("cannot load {}", path.display()))?;
    let estimated = if openvino_folder {
        atelier_engine::ModelShape::of_config(model.config(), model.info().file_size)
    } else {
        atelier_engine::ModelShape::of_gguf(&GgufFile::open(&path)?)?
    }
    .estimate_with(Some(context), model.kv_cache_type())
    .total as f64;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let vocab = model.tokenizer().vocab_size().max(2) as u32;
    // Deterministic pseudo-random tokens (speed does not depend on which tokens).
    let tokens: Vec<u32> = (0..(args.depth + args.prompt_tokens.max(args.gen_tokens)) as u64)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 7) % vocab as u64) as u32)
        .collect();

    // Warm-up: touches every weight page and the cache once.
    model.reset();
    model.eval(&tokens[..args.prompt_tokens.min(16).max(1)], 0)?;
    // At depth, the context is filled once: each measurement writes the positions after it again.
    let depth = args.depth;
    let (fill, rest) = tokens.split_at(depth);
    if depth > 0 {
        model.reset();
        model.eval(fill, 0)?;
    }

    let repetitions = args.repetitions.max(1);
    let mut prompt_seconds = Vec::new();
    let mut ttft_ms = f64::MAX;
    for _ in 0..repetitions {
        if depth == 0 {
            model.reset();
        }
        let t = Instant::now();
        let logits = model.eval(&rest[..args.prompt_tokens], depth)?;
        let _first = atelier_engine::sampling::argmax(&logits);
        let elapsed = t.elapsed().as_secs_f64();
        ttft_ms = ttft_ms.min(elapsed * 1000.0);
        prompt_seconds.push(elapsed);
    }
    let mut decode_seconds = Vec::new();
    for _ in 0..repetitions {
        if depth == 0 {
            model.reset();
        }
        let t = Instant::now();
        for (pos, &token) in rest[..args.gen_tokens].iter().enumerate() {
            model.eval(&[token], depth + pos)?;
        }
        decode_seconds.push(t.elapsed().as_secs_f64());
    }

    let info = model.info().clone();
    let mib = |b: f64| b / (1024.0 * 1024.0);
    let peak_rss = peak_rss_bytes().unwrap_or(0) as f64;
    let kv = model.kv_cache_bytes() as f64;
    let mut report = Report {
        model: info.name.clone(),
        architecture: info.architecture.clone(),
        quantization: info.quantization.clone(),
        backend: model.backend_name().to_string(),
        device: model.device_name().to_string(),
        load_ms,
        depth,
        kv_cache: model.kv_cache_type().name().to_string(),
        prompt: rate(args.prompt_tokens, &prompt_seconds),
        decode: rate(args.gen_tokens, &decode_seconds),
        time_to_first_token_ms: ttft_ms,
        peak_rss_mib: mib(peak_rss),
        file_mib: mib(info.file_size as f64),
        kv_cache_mib: mib(kv),
        rss_ratio: peak_rss / (info.file_size as f64 + kv),
        estimated_mib: mib(estimated),
        bandwidth: None,
    };
    if args.bandwidth {
        let threads = args.model.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        let read = crate::bandwidth::read_bandwidth(threads);
        // Each decoded token reads every weight once and the cache up to its position.
        let per_token = info.file_size as f64 + model.config().kv_cache_bytes(depth + args.gen_tokens / 2, model.kv_cache_type()) as f64;
        let decode = per_token * report.decode.best_tokens_per_second;
        report.bandwidth = Some(Bandwidth { read_gb_per_second: read / 1e9, decode_gb_per_second: decode / 1e9, fraction: decode / read });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{} ({}, {}) on {} [{}]", report.model, report.architecture, report.quantization, report.device, report.backend);
        if depth > 0 {
            println!("  at depth {depth}: {depth} tokens already in the context ({} key/value cache)", report.kv_cache);
        }
        println!("  prompt  pp{:<5} {:>8.1} tok/s (best {:.1})", args.prompt_tokens, report.prompt.mean_tokens_per_second, report.prompt.best_tokens_per_second);
        println!("  decode  tg{:<5} {:>8.1} tok/s (best {:.1})", args.gen_tokens, report.decode.mean_tokens_per_second, report.decode.best_tokens_per_second);
        println!("  first token after {:.0} ms for a {}-token prompt; load {:.0} ms", report.time_to_first_token_ms, args.prompt_tokens, report.load_ms);
        println!(
            "  peak RSS {:.0} MiB = {:.2} × (model file {:.0} MiB + KV cache {:.0} MiB)",
            report.peak_rss_mib, report.rss_ratio, report.file_mib, report.kv_cache_mib
        );
        println!("  estimated {:.0} MiB for a {context}-token context (the catalog's figure); measured ÷ estimated = {:.2}", report.estimated_mib, report.peak_rss_mib / report.estimated_mib);
        if let Some(b) = &report.bandwidth {
            println!(
                "  decode reads {:.1} GB/s of the {:.1} GB/s this machine reads with these threads: {:.0} % of the memory limit",
                b.decode_gb_per_second,
                b.read_gb_per_second,
                b.fraction * 100.0
            );
        }
    }
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

#[derive(Args)]
pub struct SynthArgs {
    /// Where to write the GGUF.
    pub output: std::path::PathBuf,
    /// Shape: `ministral3-3b` (Ministral 3 3B's text model) or `tiny`.
    #[arg(long, default_value = "ministral3-3b")]
    pub shape: String,
    /// Weight type: q4_0, q4_1, q8_0, q4_k, q5_k, q6_k, f16.
    #[arg(long, default_value = "q4_k")]
    pub weights: String,
    /// Instead of one weight type, llama.cpp's per-tensor mix for a file type: q4_k_m, q5_k_m or q8_0
    /// (as its quantiser writes a download of that type).
    #[arg(long)]
    pub mix: Option<String>,
    /// Another GGUF whose tokenizer and chat template the stand-in takes (e.g. the embedded model), so
    /// real text makes as many tokens as it does for a real model; default: a small byte-level one.
    #[arg(long)]
    pub tokenizer_from: Option<std::path::PathBuf>,
}

/// `atelier synth`: writes a random-weight GGUF of a real model's shape (for benchmarks).
pub fn synth(args: SynthArgs) -> Result<()> {
    use candle_core::quantized::GgmlDType;
    let weight_type = match args.weights.to_ascii_lowercase().as_str() {
        "q4_0" => GgmlDType::Q4_0,
        "q4_1" => GgmlDType::Q4_1,
        "q8_0" => GgmlDType::Q8_0,
        "q4_k" => GgmlDType::Q4K,
        "q5_k" => GgmlDType::Q5K,
        "q6_k" => GgmlDType::Q6K,
        "f16" => GgmlDType::F16,
        other => anyhow::bail!("unknown weight type `{other}`"),
    };
    let mix = match args.mix.as_deref() {
        Some(name) => Some(QuantMix::parse(name).ok_or_else(|| anyhow::anyhow!("unknown mix `{name}` (q4_k_m, q5_k_m, q8_0)"))?),
        None => None,
    };
    let spec = match args.shape.as_str() {
        "ministral3-3b" => SyntheticSpec { mix, ..SyntheticSpec::ministral3_3b(weight_type) },
        "tiny" => SyntheticSpec { weight_type, mix, ..SyntheticSpec::tiny_llama() },
        other => anyhow::bail!("unknown shape `{other}` (ministral3-3b, tiny)"),
    };
    let tokenizer = match &args.tokenizer_from {
        Some(path) => Some(atelier_engine::synth::borrowed_tokenizer::read(path).with_context(|| format!("cannot read the tokenizer of {}", path.display()))?),
        None => None,
    };
    let spec = SyntheticSpec { tokenizer, ..spec };
    let types = match mix {
        Some(mix) => format!("{mix:?} mix"),
        None => format!("{weight_type:?}"),
    };
    eprintln!("writing {} ({} layers × {} wide, {types}) …", args.output.display(), spec.n_layer, spec.n_embd);
    spec.write(&args.output)?;
    let info = GgufFile::open(&args.output)?.info()?;
    eprintln!("wrote {:.0} MiB, {:.2} B parameters", info.file_size as f64 / 1048576.0, info.parameters as f64 / 1e9);
    Ok(())
}
