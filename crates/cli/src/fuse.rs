//! `atelier fuse` and `atelier eval fusion`: panels from the command line.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use atelier_engine::{LoadOptions, Model};
use atelier_fusion::client::OutboundClient;
use atelier_fusion::config::{FusionConfig, MemberConfig, PanelBuilder};
use atelier_fusion::events::{EventSink, FusionEvent};
use atelier_fusion::local::{LocalEngine, LocalProvider};
use atelier_fusion::modes::{run, FusionOutcome, FusionRequest, Mode};
use atelier_fusion::panel::MemberSpec;
use atelier_fusion::persist::{RunRecorder, StoreLedger};
use atelier_fusion::provider::{ChatEvent, ChatMessage, ChatRequest};
use atelier_keys::{KeyringStore, SecretStore};
use atelier_store::{NewRun, RunKind, Store};
use clap::Args;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::ModelArgs;

#[derive(Args, Clone)]
pub struct PanelArgs {
    /// A panel member: `local`, `local@TEMPERATURE` or `provider:model` (repeatable; 1–8).
    #[arg(long = "member")]
    pub members: Vec<String>,
    /// The judge: `local` or `provider:model` (default: the first member).
    #[arg(long)]
    pub judge: Option<String>,
    /// best-of, merge or debate.
    #[arg(long)]
    pub mode: Option<String>,
    /// Debate rounds.
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Refuse runs estimated above this, and stop members when it is spent (USD).
    #[arg(long)]
    pub budget_usd: Option<f64>,
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// A TOML panel file (members, judge, mode, budget, extra providers and prices).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Offline self-fusion: N samples of the on-device model, judged by it.
    #[arg(long)]
    pub self_fusion: Option<usize>,
    /// Refuse every network request.
    #[arg(long)]
    pub offline: bool,
    /// Seed of the judge's anonymising shuffle.
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Args)]
pub struct FuseArgs {
    pub prompt: String,
    #[command(flatten)]
    pub panel: PanelArgs,
    /// Print the whole outcome (members, verdict, usage, timings) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not keep this run in the library's history.
    #[arg(long)]
    pub no_history: bool,
}

pub(crate) struct Panel {
    pub members: Vec<MemberSpec>,
    pub judge: MemberSpec,
    pub mode: Mode,
    pub budget: Option<f64>,
    pub max_tokens: usize,
}

fn needs_local(panel: &PanelArgs, config: &FusionConfig) -> bool {
    panel.self_fusion.is_some()
        || panel.members.iter().chain(&config.members).chain(panel.judge.iter()).chain(config.judge.iter()).any(|m| m.starts_with("local"))
        || (panel.members.is_empty() && config.members.is_empty())
}

pub(crate) fn build_panel(panel: &PanelArgs, client: &OutboundClient) -> Result<Panel> {
    let config = match &panel.config {
        Some(path) => FusionConfig::from_toml(&std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)?,
        None => FusionConfig::from_toml("")?,
    };
    let local = if needs_local(panel, &config) {
        let path = crate::resolve_model(panel.model.model.clone())?;
        let options = LoadOptions { device: panel.model.device, context_length: panel.model.context, threads: panel.model.threads, ..Default::default() };
        let model = Model::load(&path, &options).with_context(|| format!("cannot load {}", path.display()))?;
        Some(Arc::new(LocalEngine::new(model)))
    } else {
        None
    };
    let keys: Arc<dyn SecretStore> = Arc::new(KeyringStore::default());
    // A panel file is anyone's: it may add endpoints, never re-point one that has a key.
    let builder = PanelBuilder::new(client.clone(), keys, local.clone()).with_panel_providers(&config.providers)?;
    let mode = match &panel.mode {
        Some(name) => Mode::parse(name, panel.rounds.unwrap_or(config.rounds)).with_context(|| format!("unknown mode `{name}` (best-of, merge, debate)"))?,
        None => Mode::parse(&config.mode, panel.rounds.unwrap_or(config.rounds)).context("bad mode in the panel file")?,
    };
    let members = match panel.self_fusion {
        Some(n) => builder.self_fusion_panel(n)?,
        None => {
            let names = if panel.members.is_empty() { config.members.clone() } else { panel.members.clone() };
            if names.is_empty() {
                bail!("no panel: give --member (repeatable), --self-fusion N or --config FILE");
            }
            names.iter().map(|n| Ok(builder.seat(&MemberConfig::parse(n)?)?)).collect::<Result<Vec<_>>>()?
        }
    };
    let judge = match panel.judge.clone().or(config.judge.clone()) {
        Some(j) => builder.seat(&MemberConfig::parse(&j)?)?,
        None if panel.self_fusion.is_some() => {
            MemberSpec::new(Arc::new(LocalProvider::persona(local.clone().expect("loaded"), 0.2, Some("an impartial editor"))))
        }
        None => members[0].clone(),
    };
    Ok(Panel { members, judge, mode, budget: panel.budget_usd.or(config.budget_usd), max_tokens: panel.max_tokens.unwrap_or(config.max_tokens) })
}

/// Progress on stderr while the panel works.
fn progress(labels: Vec<String>) -> EventSink {
    Arc::new(move |event| match event {
        FusionEvent::MemberFinished { member, round, usage, latency_ms, .. } => eprintln!(
            "  ✓ {} {}round {round}: {} tokens, {:.1} s",
            labels.get(member).map(String::as_str).unwrap_or("?"),
            if round == 0 { "" } else { "debate " },
            usage.completion_tokens,
            latency_ms as f64 / 1000.0
        ),
        FusionEvent::MemberFailed { member, error, .. } => eprintln!("  ✗ {}: {error}", labels.get(member).map(String::as_str).unwrap_or("?")),
        FusionEvent::MemberRetrying { member, delay_ms, reason, .. } => {
            eprintln!("  ↻ {}: {reason}; retrying in {:.1} s", labels.get(member).map(String::as_str).unwrap_or("?"), delay_ms as f64 / 1000.0)
        }
        FusionEvent::JudgeStarted { pass, .. } => eprintln!("  ⚖ judge pass {}", pass + 1),
        FusionEvent::JudgeFailed { error, .. } => eprintln!("  ⚖ judge: {error}"),
        _ => {}
    })
}

pub fn fuse(args: FuseArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let client = OutboundClient::new(Duration::from_secs(10));
        client.set_offline(args.panel.offline);
        let store = if args.no_history { None } else { Some(Store::open_default().await?) };
        // The prompt is in the library before any model sees it.
        let run_id = match &store {
            Some(store) => Some(
                store
                    .runs()
                    .start(RunKind::Fusion, &NewRun { prompt: args.prompt.clone(), mode: args.panel.mode.clone(), seed: args.panel.seed.map(|s| s as i64), ..Default::default() })
                    .await?,
            ),
            None => None,
        };
        let client = match (&store, run_id) {
            (Some(store), Some(run)) => client.with_ledger(StoreLedger::new(store.clone(), Some(run))),
            _ => client,
        };
        let panel = match build_panel(&args.panel, &client) {
            Ok(panel) => panel,
            Err(e) => {
                if let (Some(store), Some(run)) = (&store, run_id) {
                    store.runs().finish(run, &atelier_store::RunFinish::failed(e.to_string())).await?;
                }
                return Err(e);
            }
        };
        let mut request = FusionRequest::new(vec![ChatMessage::user(&args.prompt)], panel.members, panel.judge, panel.mode);
        request.budget_usd = panel.budget;
        request.max_tokens = panel.max_tokens;
        if let Some(seed) = args.panel.seed {
            request.seed = seed;
        }
        let mut names: Vec<(String, String)> =
            request.members.iter().map(|m| (m.provider.id().to_string(), m.provider.model().to_string())).collect();
        names.push((request.judge.provider.id().to_string(), request.judge.provider.model().to_string()));
        let labels: Vec<String> = names.iter().enumerate().map(|(i, (p, m))| format!("{} {p}:{m}", atelier_fusion::judge::label(i))).collect();
        eprintln!("fusing with {} members ({}), judge {}:{}", request.members.len(), request.mode.name(), names.last().unwrap().0, names.last().unwrap().1);
        let recorder = match (&store, run_id) {
            (Some(store), Some(run)) => Some(RunRecorder::start(store.clone(), run, names)),
            _ => None,
        };
        let sink = match &recorder {
            Some(r) => r.sink(progress(labels)),
            None => progress(labels),
        };
        let cancel = CancellationToken::new();
        {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("stopping…");
                    cancel.cancel();
                }
            });
        }
        let result = run(request, cancel, sink).await;
        if let Some(recorder) = recorder {
            recorder.finish(result.as_ref().map_err(|e| e.to_string())).await?;
        }
        let outcome = result?;
        print_outcome(&outcome, args.json, run_id)?;
        Ok(())
    })
}

fn print_outcome(outcome: &FusionOutcome, json: bool, run_id: Option<i64>) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    if json {
        let mut value = serde_json::to_value(outcome)?;
        value["run_id"] = serde_json::json!(run_id);
        writeln!(stdout, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    match &outcome.final_text {
        Some(text) => writeln!(stdout, "{text}")?,
        None => {
            for m in outcome.members.iter().filter(|m| m.succeeded()) {
                writeln!(stdout, "--- {}:{} ---\n{}\n", m.provider, m.model, m.text)?;
            }
        }
    }
    eprintln!(
        "[{}{} · {} + {} tokens · ${:.4} · {:.1} s]",
        outcome.status.name(),
        outcome.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default(),
        outcome.prompt_tokens,
        outcome.completion_tokens,
        outcome.cost_usd,
        outcome.timings.wall_ms / 1000.0
    );
    Ok(())
}

#[derive(Args)]
pub struct EvalArgs {
    /// What to evaluate (only `fusion` for now).
    pub what: String,
    /// A JSON-lines file: {"prompt": …, "answer": "…"} or {"prompt": …, "accept": ["…", …]}.
    #[arg(long)]
    pub set: PathBuf,
    #[command(flatten)]
    pub panel: PanelArgs,
    #[arg(long)]
    pub json: bool,
    /// Only the first N items.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Deserialize)]
struct Item {
    prompt: String,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    accept: Vec<String>,
}

impl Item {
    fn is_correct(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.answer.iter().chain(&self.accept).any(|a| text.contains(&a.to_lowercase()))
    }
}

#[derive(Serialize, Default, Clone)]
struct Score {
    name: String,
    correct: usize,
    answered: usize,
    total: usize,
    accuracy: f64,
    cost_usd: f64,
    mean_latency_ms: f64,
}

pub fn eval(args: EvalArgs) -> Result<()> {
    if args.what != "fusion" {
        bail!("`atelier eval {}`: only `fusion` can be evaluated", args.what);
    }
    let text = std::fs::read_to_string(&args.set).with_context(|| format!("cannot read {}", args.set.display()))?;
    let items: Vec<Item> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("line {} of {}", i + 1, args.set.display())))
        .collect::<Result<_>>()?;
    let items: Vec<Item> = items.into_iter().take(args.limit.unwrap_or(usize::MAX)).collect();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let client = OutboundClient::new(Duration::from_secs(10));
        client.set_offline(args.panel.offline);
        let panel = build_panel(&args.panel, &client)?;
        let n = panel.members.len();
        let mut scores: Vec<Score> = panel.members.iter().map(|m| Score { name: m.name(), ..Default::default() }).collect();
        scores.push(Score { name: format!("fused ({})", panel.mode.name()), ..Default::default() });
        for (i, item) in items.iter().enumerate() {
            eprintln!("[{}/{}] {}", i + 1, items.len(), item.prompt);
            // Each member alone…
            for (k, member) in panel.members.iter().enumerate() {
                let started = Instant::now();
                let request = ChatRequest { messages: vec![ChatMessage::user(&item.prompt)], max_tokens: panel.max_tokens, temperature: 0.2, top_p: None, seed: Some(1) };
                let mut stream = member.provider.stream_chat(request, CancellationToken::new());
                let (mut text, mut ok, mut cost) = (String::new(), false, 0.0);
                while let Some(event) = stream.next().await {
                    match event {
                        Ok(ChatEvent::Delta(t)) => text.push_str(&t),
                        Ok(ChatEvent::Usage(u)) => cost = u.cost_usd.unwrap_or(0.0),
                        Ok(ChatEvent::Done) => ok = true,
                        Err(e) => eprintln!("  {}: {e}", member.name()),
                    }
                }
                record(&mut scores[k], item, ok.then_some(text.as_str()), cost, started.elapsed());
            }
            // …and the panel fused.
            let started = Instant::now();
            let mut request = FusionRequest::new(vec![ChatMessage::user(&item.prompt)], panel.members.clone(), panel.judge.clone(), panel.mode);
            request.max_tokens = panel.max_tokens;
            request.budget_usd = panel.budget;
            request.seed = i as u64;
            let outcome = run(request, CancellationToken::new(), atelier_fusion::events::discard()).await?;
            record(&mut scores[n], item, outcome.final_text.as_deref(), outcome.cost_usd, started.elapsed());
        }
        for s in &mut scores {
            s.accuracy = if s.total > 0 { s.correct as f64 / s.total as f64 } else { 0.0 };
            s.mean_latency_ms /= s.total.max(1) as f64;
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "items": items.len(), "scores": scores }))?);
        } else {
            println!("{:<48} {:>9} {:>9} {:>10} {:>10}", "", "accuracy", "answered", "cost", "latency");
            for s in &scores {
                println!(
                    "{:<48.48} {:>8.0}% {:>9} {:>9.4}$ {:>8.1} s",
                    s.name,
                    s.accuracy * 100.0,
                    format!("{}/{}", s.answered, s.total),
                    s.cost_usd,
                    s.mean_latency_ms / 1000.0
                );
            }
        }
        Ok(())
    })
}

fn record(score: &mut Score, item: &Item, answer: Option<&str>, cost: f64, elapsed: Duration) {
    score.total += 1;
    score.cost_usd += cost;
    score.mean_latency_ms += elapsed.as_secs_f64() * 1000.0;
    if let Some(text) = answer {
        score.answered += 1;
        if item.is_correct(text) {
            score.correct += 1;
        }
    }
}
