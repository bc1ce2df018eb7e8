//! `atelier eval fusion` on writing prompts: every member alone and the fused panel answer each prompt,
//! then a separate judge compares the fused answer with each member's in both orders. Reports
//! win/tie/loss per member with a 95 % interval, cost and latency.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use atelier_fusion::compare::{compare, PairOutcome};
use atelier_fusion::provider::{ChatMessage, ChatRequest};
use atelier_fusion::stats::wilson;
use atelier_fusion::{MemberConfig, MemberSpec};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::fuse::Panel;

/// One bundled writing prompt.
#[derive(Deserialize)]
pub struct WritingPrompt {
    pub id: String,
    pub kind: String,
    pub prompt: String,
    pub passage: String,
}

impl WritingPrompt {
    fn request(&self) -> String {
        format!("{}\n\nThe passage:\n\n{}", self.prompt.trim(), self.passage.trim())
    }
}

/// Whether a set holds writing prompts (a `passage` to work on) rather than questions.
pub fn is_writing_set(first_line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(first_line).map(|v| v.get("passage").is_some()).unwrap_or(false)
}

#[derive(Serialize, Default, Clone)]
pub struct MemberRow {
    pub member: String,
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
    /// Comparisons the judge's replies could not decide (unreadable in either order).
    pub undecided: usize,
    /// The fused answer's win rate against this member, ties counted half, with its 95 % interval.
    pub fused_win_rate: f64,
    pub low: f64,
    pub high: f64,
    pub member_cost_usd: f64,
    pub member_mean_latency_ms: f64,
}

#[derive(Serialize)]
pub struct PairwiseReport {
    pub prompts: usize,
    pub judge: String,
    pub fused_cost_usd: f64,
    pub fused_mean_latency_ms: f64,
    pub judge_cost_usd: f64,
    /// Pairwise replies that parsed, of all asked.
    pub judge_replies_parsed: usize,
    pub judge_replies: usize,
    pub members: Vec<MemberRow>,
}

async fn answer_alone(member: &MemberSpec, request: &str, max_tokens: usize) -> (Option<String>, f64) {
    let chat = ChatRequest {
        messages: vec![ChatMessage::user(request)],
        max_tokens,
        temperature: 0.7,
        top_p: None,
        seed: Some(1),
        response_format: None,
    };
    match atelier_fusion::compare::complete(member, chat).await {
        (Ok(text), cost) => ((!text.trim().is_empty()).then_some(text), cost),
        (Err(e), cost) => {
            eprintln!("  {}: {e}", member.name());
            (None, cost)
        }
    }
}

/// The pairwise judge: `judge` as a member string (default: the on-device model, so nothing leaves the
/// device unless asked).
async fn pairwise_judge(panel: &mut Panel, judge: &str, model: &crate::ModelArgs) -> Result<MemberSpec> {
    let config = MemberConfig::parse(judge)?;
    if config.provider == "local" && panel.builder.local.is_none() {
        panel.host = crate::write::host(model)?;
        panel.builder.local = Some(panel.host.engine().await?);
    }
    Ok(panel.builder.seat(&config)?)
}

pub async fn run(mut panel: Panel, set: &Path, limit: Option<usize>, judge: &str, model: &crate::ModelArgs) -> Result<PairwiseReport> {
    let prompts: Vec<WritingPrompt> = crate::eval::items(set, limit)?;
    let judge = pairwise_judge(&mut panel, judge, model).await?;
    let seats = atelier_studio::fusion::request(&panel.host, None, &panel.builder, &panel.params).await?;
    let mut rows: Vec<MemberRow> = seats.members.iter().map(|m| MemberRow { member: m.name(), ..Default::default() }).collect();
    let (mut fused_cost, mut fused_ms, mut judge_cost, mut parsed, mut asked) = (0.0, 0.0, 0.0, 0usize, 0usize);
    for (i, prompt) in prompts.iter().enumerate() {
        eprintln!("[{}/{}] {} ({})", i + 1, prompts.len(), prompt.id, prompt.kind);
        let request = prompt.request();
        let started = Instant::now();
        let params = atelier_studio::fusion::FusionParams {
            prompt: prompt.prompt.clone(),
            selection: prompt.passage.clone(),
            seed: Some(i as u64),
            ..panel.params.clone()
        };
        let fused = atelier_studio::fusion::fuse(&panel.host, None, &panel.builder, &params, CancellationToken::new(), atelier_fusion::events::discard()).await?;
        fused_ms += started.elapsed().as_secs_f64() * 1000.0;
        fused_cost += fused.outcome.cost_usd;
        let fused_text = fused.outcome.final_text.unwrap_or_default();
        for (k, member) in seats.members.iter().enumerate() {
            let started = Instant::now();
            let (alone, cost) = answer_alone(member, &request, seats.max_tokens).await;
            rows[k].member_mean_latency_ms += started.elapsed().as_secs_f64() * 1000.0;
            rows[k].member_cost_usd += cost;
            let outcome = match (fused_text.trim().is_empty(), alone) {
                // The fused run gave nothing: the member wins by default, and vice versa.
                (true, Some(_)) => Some(PairOutcome::Loss),
                (false, None) => Some(PairOutcome::Win),
                (true, None) => None,
                (false, Some(alone)) => {
                    let comparison = compare(&judge, &request, &fused_text, &alone, i as u64).await;
                    judge_cost += comparison.cost_usd;
                    parsed += comparison.parsed;
                    asked += 2;
                    comparison.outcome
                }
            };
            match outcome {
                Some(PairOutcome::Win) => rows[k].wins += 1,
                Some(PairOutcome::Tie) => rows[k].ties += 1,
                Some(PairOutcome::Loss) => rows[k].losses += 1,
                None => rows[k].undecided += 1,
            }
        }
    }
    for row in &mut rows {
        let decided = (row.wins + row.ties + row.losses) as f64;
        let score = row.wins as f64 + 0.5 * row.ties as f64;
        row.fused_win_rate = if decided > 0.0 { score / decided } else { 0.0 };
        (row.low, row.high) = wilson(score, decided);
        row.member_mean_latency_ms /= prompts.len().max(1) as f64;
    }
    Ok(PairwiseReport {
        prompts: prompts.len(),
        judge: judge.name(),
        fused_cost_usd: fused_cost,
        fused_mean_latency_ms: fused_ms / prompts.len().max(1) as f64,
        judge_cost_usd: judge_cost,
        judge_replies_parsed: parsed,
        judge_replies: asked,
        members: rows,
    })
}

pub fn print(report: &PairwiseReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    println!("fused vs each member on {} writing prompts, judged by {} in both orders", report.prompts, report.judge);
    println!("{:<44} {:>5} {:>5} {:>5} {:>9} {:>15} {:>10} {:>10}", "member", "win", "tie", "loss", "fused", "95 % interval", "cost", "latency");
    for row in &report.members {
        println!(
            "{:<44.44} {:>5} {:>5} {:>5} {:>8.0}% {:>6.0}% – {:>4.0}% {:>9.4}$ {:>8.1} s",
            row.member,
            row.wins,
            row.ties,
            row.losses,
            row.fused_win_rate * 100.0,
            row.low * 100.0,
            row.high * 100.0,
            row.member_cost_usd,
            row.member_mean_latency_ms / 1000.0
        );
    }
    println!(
        "{:<44.44} {:>45} {:>9.4}$ {:>8.1} s",
        "fused panel",
        "",
        report.fused_cost_usd,
        report.fused_mean_latency_ms / 1000.0
    );
    println!("judge: {:.4}$, {} of {} replies read", report.judge_cost_usd, report.judge_replies_parsed, report.judge_replies);
    Ok(())
}
