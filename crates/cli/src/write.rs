//! `atelier generate`, `atelier write ACTION` and `atelier history rerun`: on-device generations through
//! the studio's one generation path, recorded in the library as the app records them.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use atelier_engine::{Generation, LoadOptions, SamplingParams};
use atelier_store::Store;
use atelier_studio::context::ItemState;
use atelier_studio::generation::{self, ContextFor, EventSink, GenerationEvent, GenerationSpec, WriteParams};
use atelier_studio::{ActionInput, ModelHost, Tone, WritingAction};
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::ModelArgs;

#[derive(Args)]
pub struct GenerateArgs {
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
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
pub struct WriteArgs {
    /// continue, rewrite, shorten, expand, brainstorm, critique or custom.
    #[arg(value_parser = parse_action)]
    action: WritingAction,
    /// The library document to work on (Continue follows its end).
    #[arg(long)]
    doc: Option<i64>,
    /// The text to work on, instead of a library document.
    #[arg(long, conflicts_with_all = ["doc", "scene"])]
    text: Option<String>,
    /// The project of `--scene` when the scene is named by its title.
    #[arg(long)]
    project: Option<i64>,
    /// A scene to work on: its binder id (`atelier project show`), or its title with `--project`. The
    /// action reads the earlier scenes of its chapter too, and the run names the project and scene.
    #[arg(long, conflicts_with = "doc")]
    scene: Option<String>,
    /// The selected passage (Rewrite, Shorten and Expand need one).
    #[arg(long)]
    selection: Option<String>,
    /// Rewrite's tone: plainer, vivid, formal or playful.
    #[arg(long, value_parser = parse_tone)]
    tone: Option<Tone>,
    /// The instruction of a `custom` action.
    #[arg(long)]
    instruction: Option<String>,
    /// Seed for sampling (default: drawn, and recorded with the run).
    #[arg(long)]
    seed: Option<u64>,
    /// Leave this context item out of the run: a key from `--show-context` (`entry:12`,
    /// `synopsis:33`, `text`); repeatable.
    #[arg(long = "drop", value_name = "KEY")]
    drop: Vec<String>,
    /// Print the context the model would read (items, reasons, token counts) instead of running it;
    /// with `--json`, the whole view as JSON.
    #[arg(long)]
    show_context: bool,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Clone, Copy)]
pub struct OutputArgs {
    /// Print one JSON object (text, run id, stop reason, token counts, timings) instead of streaming.
    #[arg(long)]
    pub json: bool,
    /// Do not keep this run in the library's history.
    #[arg(long)]
    pub no_history: bool,
}

fn parse_action(name: &str) -> Result<WritingAction, String> {
    WritingAction::parse(name).ok_or_else(|| {
        let names: Vec<&str> = WritingAction::ALL.iter().map(|a| a.name()).collect();
        format!("unknown action `{name}` (one of: {})", names.join(", "))
    })
}

fn parse_tone(name: &str) -> Result<Tone, String> {
    Tone::parse(name).ok_or_else(|| format!("unknown tone `{name}` (plainer, vivid, formal or playful)"))
}

/// The model host with the model of `args` loaded.
pub(crate) fn host(args: &ModelArgs) -> Result<ModelHost> {
    let path = crate::resolve_model(args.model.clone())?;
    let options = LoadOptions { device: args.device, context_length: args.context, threads: args.threads, kv_cache: args.kv_cache, ..Default::default() };
    let host = ModelHost::new();
    host.load(Ok(path.clone()), &options).with_context(|| format!("cannot load {}", path.display()))?;
    Ok(host)
}

pub fn generate(args: GenerateArgs) -> Result<()> {
    let sampling = SamplingParams {
        temperature: args.temperature,
        top_p: args.top_p,
        top_k: args.top_k,
        min_p: args.min_p,
        repetition_penalty: args.repetition_penalty,
        seed: args.seed,
        ..SamplingParams::default()
    };
    let spec = GenerationSpec { system: args.system, raw: args.raw, stop: args.stop, ..GenerationSpec::prompt(args.prompt, args.max_tokens, sampling) };
    let host = host(&args.model)?;
    run(&host, args.output, |host, store, cancel, sink| Box::pin(generation::generate(host, store, spec, None, cancel, sink)))
}

pub fn write(args: WriteArgs) -> Result<()> {
    let host = host(&args.model)?;
    if args.show_context {
        return show_context(&host, &args);
    }
    let sampling = generation::sampling(None, args.seed)?;
    run(&host, args.output, move |host, store, cancel, sink| {
        Box::pin(async move {
            let (input, document_id) = action_input(&args, store).await?;
            generation::write(host, store, &input, sampling, document_id, cancel, sink).await
        })
    })
}

/// The action `args` ask for, on the text of their document or scene (or their `--text`), and that
/// document.
async fn action_input(args: &WriteArgs, store: Option<&Store>) -> atelier_studio::Result<(ActionInput, Option<i64>)> {
    let document_id = match &args.scene {
        Some(scene) => {
            let store = store.ok_or_else(|| atelier_studio::StudioError::Invalid("--scene needs the library (drop --no-history)".into()))?;
            Some(scene_document(store, args.project, scene).await?)
        }
        None if args.project.is_some() => return Err(atelier_studio::StudioError::Invalid("--project names the project of --scene: give the scene too".into())),
        None => args.doc,
    };
    let text = match (document_id, &args.text) {
        (Some(id), _) => {
            let store = store.ok_or_else(|| atelier_studio::StudioError::Invalid("--doc needs the library (drop --no-history)".into()))?;
            store.documents().get(id).await?.body
        }
        (None, Some(text)) => text.clone(),
        (None, None) => String::new(),
    };
    let input = ActionInput {
        action: Some(args.action),
        tone: args.tone,
        instruction: args.instruction.clone(),
        selection: args.selection.clone().unwrap_or_default(),
        before: text.clone(),
        document: text,
        dropped: args.drop.iter().map(|key| key.trim().to_string()).filter(|key| !key.is_empty()).collect(),
    };
    Ok((input, document_id))
}

/// `atelier write … --show-context`: what the model would read for the action, item by item, and
/// nothing run.
fn show_context(host: &ModelHost, args: &WriteArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = if args.output.no_history { None } else { Some(Store::open_default().await?) };
        let (input, document_id) = action_input(args, store.as_ref()).await?;
        let view = generation::preview(host, store.as_ref(), &ContextFor::Write(WriteParams { input, document_id, seed: None })).await?;
        for key in args.drop.iter().filter(|key| !view.items.iter().any(|i| i.key == key.trim())) {
            eprintln!("warning: --drop {key}: this action's context has no such item");
        }
        let mut stdout = std::io::stdout().lock();
        if args.output.json {
            writeln!(stdout, "{}", serde_json::to_string_pretty(&view)?)?;
            return Ok(());
        }
        writeln!(stdout, "{:<40} {:<32} {:>7}  {:<11} {}", "item", "reason", "tokens", "state", "goes to")?;
        for item in &view.items {
            let state = match item.state {
                ItemState::Included => "included",
                ItemState::Dropped => "dropped",
                ItemState::OverBudget => "over budget",
            };
            writeln!(
                stdout,
                "{:<40} {:<32} {:>7}  {:<11} {}",
                crate::bible::clip(&item.label, 40),
                crate::bible::clip(&item.reason, 32),
                item.tokens,
                state,
                if item.cloud { "cloud ok" } else { "device" }
            )?;
        }
        let keys: Vec<&str> = view.items.iter().filter(|i| i.optional).map(|i| i.key.as_str()).collect();
        writeln!(
            stdout,
            "\n{} tokens of a {}-token budget (context length {}, {} kept for the answer)",
            view.tokens, view.budget, view.context_length, view.answer_tokens
        )?;
        if !keys.is_empty() {
            writeln!(stdout, "keys for --drop: {}", keys.join(", "))?;
        }
        Ok(())
    })
}

/// The document of the scene named by binder id, or by title within `project`.
async fn scene_document(store: &Store, project: Option<i64>, scene: &str) -> atelier_studio::Result<i64> {
    use atelier_studio::StudioError;
    let node = match (scene.parse::<i64>(), project) {
        (Ok(id), _) => store.binder().get(id).await?,
        (Err(_), Some(project)) => {
            let tree = store.projects().tree(project).await?;
            let mut matching = tree.nodes.into_iter().filter(|n| n.kind == atelier_store::NodeKind::Scene && n.title.eq_ignore_ascii_case(scene.trim()));
            match (matching.next(), matching.next()) {
                (Some(node), None) => node,
                (None, _) => return Err(StudioError::NotFound(format!("project {project} has no scene titled {scene:?}"))),
                (Some(_), Some(_)) => return Err(StudioError::Invalid(format!("project {project} has several scenes titled {scene:?}: give its id"))),
            }
        }
        (Err(_), None) => return Err(StudioError::Invalid("a scene named by title needs --project".into())),
    };
    if let Some(project) = project.filter(|&p| p != node.project_id) {
        return Err(StudioError::Invalid(format!("binder item {} is in project {}, not {project}", node.id, node.project_id)));
    }
    node.document_id.ok_or_else(|| StudioError::Invalid(format!("binder item {} is a {:?}, not a scene", node.id, node.kind).to_lowercase()))
}

/// Runs library run `id` again: the same action on the same text, with the same sampling and seed.
pub fn rerun(id: i64, model: &ModelArgs, output: OutputArgs) -> Result<()> {
    let host = host(model)?;
    run(&host, OutputArgs { no_history: false, ..output }, move |host, store, cancel, sink| {
        Box::pin(async move {
            let store = store.ok_or_else(|| atelier_studio::StudioError::Invalid("a re-run needs the library".into()))?;
            generation::rerun(host, store, id, cancel, sink).await
        })
    })
}

type Job<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = atelier_studio::Result<Generation>> + 'a>>;

/// Streams (or collects) a generation on `host`, with Ctrl-C stopping it at the next token.
fn run(host: &ModelHost, output: OutputArgs, job: impl for<'a> FnOnce(&'a ModelHost, Option<&'a Store>, CancellationToken, EventSink) -> Job<'a>) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = if output.no_history { None } else { Some(Store::open_default().await?) };
        let cancel = CancellationToken::new();
        let on_ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_ctrl_c.cancel();
            }
        });
        let run_id = Arc::new(std::sync::Mutex::new(None));
        let sink: EventSink = {
            let run_id = Arc::clone(&run_id);
            Arc::new(move |event| match event {
                GenerationEvent::Started { run_id: id } => *run_id.lock().unwrap() = id,
                GenerationEvent::Text { text, .. } if !output.json => {
                    let mut stdout = std::io::stdout().lock();
                    let _ = stdout.write_all(text.as_bytes());
                    let _ = stdout.flush();
                }
                _ => {}
            })
        };
        let generation = job(host, store.as_ref(), cancel, sink).await?;
        let run_id = *run_id.lock().unwrap();
        print(host, &generation, run_id, output.json)
    })
}

fn print(host: &ModelHost, generation: &Generation, run_id: Option<i64>, json: bool) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    if json {
        let status = host.status();
        let out = serde_json::json!({
            "run_id": run_id,
            "model": status.info,
            "device": status.device,
            "load_ms": status.load_ms,
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
            "[{} tokens, {:.1} tok/s decode, {:.1} tok/s prompt, first token after {:.0} ms, stop: {:?}{}]",
            generation.completion_tokens,
            t.decode_tokens_per_second,
            t.prompt_tokens_per_second,
            t.time_to_first_token_ms,
            generation.stop_reason,
            run_id.map(|id| format!(", run {id}")).unwrap_or_default()
        );
    }
    Ok(())
}
