//! `atelier fuse` and `atelier eval fusion`: panels from the command line.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use atelier_fusion::client::OutboundClient;
use atelier_fusion::config::{FusionConfig, PanelBuilder};
use atelier_fusion::events::{EventSink, FusionEvent};
use atelier_fusion::modes::{FusionOutcome, ModeKind};
use atelier_keys::{KeyringStore, SecretStore};
use atelier_store::Store;
use atelier_studio::fusion::FusionParams;
use atelier_studio::ModelHost;
use clap::Args;
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

/// A panel from the command line: the parameters (flags over the panel file) and the builder that
/// seats them (presets plus the panel file's own endpoints, which may never re-point a keyed provider).
pub(crate) struct Panel {
    pub params: FusionParams,
    pub builder: PanelBuilder,
    pub host: ModelHost,
}

fn needs_local(params: &FusionParams) -> bool {
    params.self_fusion.is_some() || params.members.iter().chain(params.judge.iter()).any(|m| m.starts_with("local"))
}

pub(crate) fn build_panel(prompt: &str, panel: &PanelArgs, client: &OutboundClient) -> Result<Panel> {
    let config = match &panel.config {
        Some(path) => FusionConfig::from_toml(&std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)?,
        None => FusionConfig::from_toml("")?,
    };
    let params = FusionParams {
        prompt: prompt.to_string(),
        document_id: None,
        selection: String::new(),
        dropped: Vec::new(),
        members: if panel.members.is_empty() { config.members.clone() } else { panel.members.clone() },
        judge: panel.judge.clone().or(config.judge.clone()),
        mode: {
            let name = panel.mode.clone().unwrap_or(config.mode.clone());
            ModeKind::parse(&name).with_context(|| format!("unknown mode `{name}` (best-of, merge, debate)"))?
        },
        rounds: Some(panel.rounds.unwrap_or(config.rounds)),
        budget_usd: panel.budget_usd.or(config.budget_usd),
        max_tokens: Some(panel.max_tokens.unwrap_or(config.max_tokens)),
        self_fusion: panel.self_fusion,
        personas: Vec::new(),
        seed: panel.seed,
        action: None,
        tone: None,
    };
    if params.members.is_empty() && params.self_fusion.is_none() {
        bail!("no panel: give --member (repeatable), --self-fusion N or --config FILE");
    }
    let host = if needs_local(&params) { crate::write::host(&panel.model)? } else { ModelHost::without_model("no panel seat runs on this computer") };
    let keys: Arc<dyn SecretStore> = Arc::new(KeyringStore::default());
    // A panel file is anyone's: it may add endpoints, never re-point one that has a key.
    let builder = PanelBuilder::new(client.clone(), keys, host.engine_now()).with_panel_providers(&config.providers)?;
    Ok(Panel { params, builder, host })
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
        let panel = build_panel(&args.prompt, &args.panel, &client)?;
        let request = atelier_studio::fusion::request(&panel.host, None, &panel.builder, &panel.params).await?;
        let names = atelier_studio::fusion::seat_names(&request);
        let labels: Vec<String> = names.iter().enumerate().map(|(i, (p, m))| format!("{} {p}:{m}", atelier_fusion::judge::label(i))).collect();
        let (judge_provider, judge_model) = names.last().cloned().unwrap_or_default();
        eprintln!("fusing with {} members ({}), judge {judge_provider}:{judge_model}", request.members.len(), request.mode.name());
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
        let result = atelier_studio::fusion::fuse(&panel.host, store.as_ref(), &panel.builder, &panel.params, cancel, progress(labels)).await?;
        print_outcome(&result.outcome, args.json, result.run_id)?;
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
