//! `atelier`: the headless twin of the Atelier app, on the same crates.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use atelier_engine::{find_default_model, DeviceChoice, GgufFile};
use clap::{Args, Parser, Subcommand};

mod bandwidth;
mod bench;
mod bench_writer;
mod bible;
mod eval;
mod eval_judge;
mod eval_pairwise;
mod fuse;
mod library;
mod models;
mod project;
mod write;

#[derive(Parser)]
#[command(name = "atelier", version, about = "Atelier's private AI writing studio, from the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a reply from the on-device model, streamed to stdout.
    Generate(write::GenerateArgs),
    /// Run a writing action (continue, rewrite, shorten, expand, brainstorm, critique, custom) on a
    /// library document or on text, as the app's writing panel does.
    Write(write::WriteArgs),
    /// Show what a GGUF file holds; the catalog with what fits this machine; download a catalog model.
    Models(ModelsArgs),
    /// Measure prompt and decode speed, time to first token and peak memory.
    Bench(bench::BenchArgs),
    /// Write a random-weight GGUF of a real model's shape, for benchmarks.
    Synth(bench::SynthArgs),
    /// Ask a panel of models and fuse their answers with a judge.
    Fuse(fuse::FuseArgs),
    /// Score panel members alone and fused on a question set.
    Eval(eval::EvalArgs),
    /// Runs, documents and chats in the library: list, search, export.
    #[command(subcommand)]
    History(library::HistoryCommand),
    /// Projects: new, list, show, import a manuscript, export one.
    #[command(subcommand)]
    Project(project::ProjectCommand),
    /// The story bible: add, list, show (with the scenes that mention an entry), delete.
    #[command(subcommand)]
    Bible(bible::BibleCommand),
    /// Provider API keys in the OS keychain.
    #[command(subcommand)]
    Keys(library::KeysCommand),
}

#[derive(Args, Clone)]
pub struct ModelArgs {
    /// GGUF model file, or an OpenVINO model folder (default: the embedded SmolLM2 model).
    #[arg(long, short = 'm')]
    pub model: Option<PathBuf>,
    /// Where to run: auto, cpu, cuda (or gpu), metal, or npu (OpenVINO models).
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Positions the model can attend to (default: the model's, at most 4096).
    #[arg(long)]
    pub context: Option<usize>,
    /// CPU threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// How the key/value cache stores its values: f32 (exact) or f16 (half the memory).
    #[arg(long, default_value = "f32")]
    pub kv_cache: atelier_engine::KvCacheType,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct ModelsArgs {
    #[command(subcommand)]
    command: Option<models::ModelsCommand>,
    /// A GGUF file or an OpenVINO folder to describe (default: the embedded model).
    path: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Quiet unless RUST_LOG asks: then the crates' spans and events go to stderr, with span timings.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match cli.command {
        Command::Generate(args) => write::generate(args),
        Command::Write(args) => write::write(args),
        Command::Models(args) => models(args),
        Command::Bench(args) => bench::run(args),
        Command::Synth(args) => bench::synth(args),
        Command::Fuse(args) => fuse::fuse(args),
        Command::Eval(args) => eval::eval(args),
        Command::History(command) => library::history(command),
        Command::Project(command) => project::project(command),
        Command::Bible(command) => bible::bible(command),
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

fn models(args: ModelsArgs) -> Result<()> {
    if let Some(command) = args.command {
        return models::run(command);
    }
    let path = resolve_model(args.path)?;
    let (info, supported, format) = if atelier_engine::openvino::is_ir_dir(&path) {
        // Described from its own files; this build runs it only with the OpenVINO backend.
        let info = atelier_engine::openvino::ir::IrDirectory::open(&path)?.info()?;
        (info, atelier_engine::openvino::COMPILED_IN, "OpenVINO")
    } else {
        let gguf = GgufFile::open(&path)?;
        (gguf.info()?, gguf.require_supported_architecture().is_ok(), "GGUF")
    };
    if args.json {
        let out = serde_json::json!({ "model": info, "supported": supported, "format": format });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}", info.name);
        println!("  path          {}", info.path.display());
        println!("  format        {format}");
        println!("  architecture  {}{}", info.architecture, if supported { "" } else { " (not supported)" });
        println!("  quantization  {}", info.quantization);
        println!("  parameters    {:.1} M", info.parameters as f64 / 1e6);
        println!("  file size     {:.1} MiB", info.file_size as f64 / (1 << 20) as f64);
        println!("  context       {}", info.context_length);
    }
    Ok(())
}
