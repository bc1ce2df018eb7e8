//! `atelier`: the headless twin of the Atelier app, on the same crates.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use atelier_engine::{
    find_default_model, CancelToken, ChatMessage, DeviceChoice, GenerateRequest, GgufFile, LoadOptions, Model, Prompt,
    SamplingParams,
};
use clap::{Args, Parser, Subcommand};

mod bench;
mod fuse;
mod library;

#[derive(Parser)]
#[command(name = "atelier", version, about = "Atelier's private AI writing studio, from the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a reply from the on-device model, streamed to stdout.
    Generate(GenerateArgs),
    /// Show the default model and what a GGUF file holds.
    Models(ModelsArgs),
    /// Measure prompt and decode speed, time to first token and peak memory.
    Bench(bench::BenchArgs),
    /// Write a random-weight GGUF of a real model's shape, for benchmarks.
    Synth(bench::SynthArgs),
    /// Ask a panel of models and fuse their answers with a judge.
    Fuse(fuse::FuseArgs),
    /// Score panel members alone and fused on a question set.
    Eval(fuse::EvalArgs),
    /// Runs, documents and chats in the library: list, search, export.
    #[command(subcommand)]
    History(library::HistoryCommand),
    /// Provider API keys in the OS keychain.
    #[command(subcommand)]
    Keys(library::KeysCommand),
}

#[derive(Args, Clone)]
pub struct ModelArgs {
    /// GGUF model file (default: the embedded SmolLM2 model).
    #[arg(long, short = 'm')]
    pub model: Option<PathBuf>,
    /// Where to run: auto, cpu, cuda or metal.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Positions the model can attend to (default: the model's, at most 4096).
    #[arg(long)]
    pub context: Option<usize>,
    /// CPU threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Args)]
struct GenerateArgs {
    /// What to ask or the text to continue.
    prompt: String,
    #[command(flatten)]
    model: ModelArgs,
    /// A system prompt (chat mode).
    #[arg(long)]
    system: Option<String>,
    /// Feed the prompt to the model as is, without the chat template.
    #[arg(long)]
    raw: bool,
    #[arg(long, default_value_t = 256)]
    max_tokens: usize,
    /// 0 = greedy.
    #[arg(long, default_value_t = 0.7)]
    temperature: f32,
    #[arg(long, default_value_t = 0.95)]
    top_p: f32,
    #[arg(long, default_value_t = 40)]
    top_k: usize,
    #[arg(long, default_value_t = 0.05)]
    min_p: f32,
    #[arg(long, default_value_t = 1.1)]
    repetition_penalty: f32,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Stop before this text (repeatable).
    #[arg(long)]
    stop: Vec<String>,
    /// Print one JSON object (text, stop reason, token counts, timings) instead of streaming.
    #[arg(long)]
    json: bool,
    /// Do not keep this run in the library's history.
    #[arg(long)]
    no_history: bool,
}

#[derive(Args)]
struct ModelsArgs {
    /// A GGUF file to describe (default: the embedded model).
    path: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate(args),
        Command::Models(args) => models(args),
        Command::Bench(args) => bench::run(args),
        Command::Synth(args) => bench::synth(args),
        Command::Fuse(args) => fuse::fuse(args),
        Command::Eval(args) => fuse::eval(args),
        Command::History(command) => library::history(command),
        Command::Keys(command) => library::keys(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn resolve_model(path: Option<PathBuf>) -> Result<PathBuf> {
    match path {
        Some(path) => Ok(path),
        None => Ok(find_default_model()?),
    }
}

fn load(args: &ModelArgs) -> Result<Model> {
    let path = resolve_model(args.model.clone())?;
    let options =
        LoadOptions { device: args.device, context_length: args.context, threads: args.threads, ..Default::default() };
    Model::load(&path, &options).with_context(|| format!("cannot load {}", path.display()))
}

fn generate(args: GenerateArgs) -> Result<()> {
    let mut model = load(&args.model)?;
    let prompt = if args.raw {
        Prompt::Raw(args.prompt.clone())
    } else {
        let mut messages = Vec::new();
        if let Some(system) = &args.system {
            messages.push(ChatMessage::system(system));
        }
        messages.push(ChatMessage::user(&args.prompt));
        Prompt::Chat(messages)
    };
    let request = GenerateRequest {
        prompt,
        max_tokens: args.max_tokens,
        sampling: SamplingParams {
            temperature: args.temperature,
            top_p: args.top_p,
            top_k: args.top_k,
            min_p: args.min_p,
            repetition_penalty: args.repetition_penalty,
            seed: args.seed,
            ..SamplingParams::default()
        },
        stop: args.stop.clone(),
    };
    let history = if args.no_history { None } else { Some(History::start(&args.prompt, model.info().name.clone())?) };
    let cancel = CancelToken::new();
    let mut stdout = std::io::stdout().lock();
    let json = args.json;
    let result = model.generate(&request, &cancel, &mut |chunk| {
        if !json {
            let _ = stdout.write_all(chunk.text.as_bytes());
            let _ = stdout.flush();
        }
    });
    if let Some(history) = history {
        history.finish(&result)?;
    }
    let generation = result?;
    if json {
        let out = serde_json::json!({
            "model": model.info(),
            "device": model.device_name(),
            "load_ms": model.load_duration().as_secs_f64() * 1000.0,
            "text": generation.text,
            "stop_reason": generation.stop_reason,
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
            "timings": generation.timings,
        });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        writeln!(stdout)?;
        let t = &generation.timings;
        eprintln!(
            "[{} tokens, {:.1} tok/s decode, {:.1} tok/s prompt, first token after {:.0} ms, stop: {:?}]",
            generation.completion_tokens,
            t.decode_tokens_per_second,
            t.prompt_tokens_per_second,
            t.time_to_first_token_ms,
            generation.stop_reason
        );
    }
    Ok(())
}

fn models(args: ModelsArgs) -> Result<()> {
    let path = resolve_model(args.path)?;
    let gguf = GgufFile::open(&path)?;
    let info = gguf.info()?;
    let supported = gguf.require_supported_architecture().is_ok();
    if args.json {
        let out = serde_json::json!({ "model": info, "supported": supported });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}", info.name);
        println!("  path          {}", info.path.display());
        println!("  architecture  {}{}", info.architecture, if supported { "" } else { " (not supported)" });
        println!("  quantization  {}", info.quantization);
        println!("  parameters    {:.1} M", info.parameters as f64 / 1e6);
        println!("  file size     {:.1} MiB", info.file_size as f64 / (1 << 20) as f64);
        println!("  context       {}", info.context_length);
    }
    Ok(())
}

/// A generation kept in the library's history, like the app keeps it.
struct History {
    runtime: tokio::runtime::Runtime,
    store: atelier_store::Store,
    run: i64,
    member: i64,
}

impl History {
    /// Records the prompt before the model runs.
    fn start(prompt: &str, model: String) -> Result<Self> {
        use atelier_store::{MemberRole, NewMember, NewRun, RunKind, Store};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (store, run, member) = runtime.block_on(async {
            let store = Store::open_default().await?;
            let run = store.runs().start(RunKind::Generate, &NewRun { prompt: prompt.to_string(), ..Default::default() }).await?;
            let seat = NewMember { position: 0, label: "A".into(), role: MemberRole::Member, round: 0, provider: "local".into(), model };
            let member = store.runs().add_member(run, &seat).await?;
            anyhow::Ok((store, run, member))
        })?;
        Ok(Self { runtime, store, run, member })
    }

    fn finish(self, result: &atelier_engine::Result<atelier_engine::Generation>) -> Result<()> {
        use atelier_store::{MemberFinish, RunFinish, RunStatus};
        self.runtime.block_on(async {
            let runs = self.store.runs();
            match result {
                Ok(g) => {
                    runs.append_output(self.member, &g.text).await?;
                    let status = if g.stop_reason == atelier_engine::StopReason::Cancelled { RunStatus::Cancelled } else { RunStatus::Completed };
                    let (p, c) = (g.prompt_tokens as i64, g.completion_tokens as i64);
                    let t = &g.timings;
                    let member = MemberFinish {
                        prompt_tokens: Some(p),
                        completion_tokens: Some(c),
                        cost_usd: Some(0.0),
                        latency_ms: Some(t.total_ms as i64),
                        first_token_ms: Some(t.time_to_first_token_ms as i64),
                        ..MemberFinish::new(status)
                    };
                    runs.finish_member(self.member, &member).await?;
                    runs.finish(self.run, &RunFinish { final_text: Some(g.text.clone()), prompt_tokens: p, completion_tokens: c, ..RunFinish::new(status) }).await?;
                }
                Err(e) => {
                    let message = e.to_string();
                    runs.finish_member(self.member, &MemberFinish::failed(message.clone())).await?;
                    runs.finish(self.run, &RunFinish::failed(message)).await?;
                }
            }
            anyhow::Ok(())
        })
    }
}
