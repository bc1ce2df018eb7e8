//! `atelier eval fusion` scores panel members alone and fused on a question set; `atelier eval writing`
//! runs writing actions on the on-device model through the same path as the app and checks each answer
//! against what a writer would accept.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use atelier_fusion::client::OutboundClient;
use atelier_fusion::provider::{ChatEvent, ChatMessage, ChatRequest};
use atelier_studio::generation;
use atelier_studio::{ActionInput, Tone, WritingAction};
use clap::Args;
use futures::StreamExt;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::fuse::{build_panel, PanelArgs};

#[derive(Args)]
pub struct EvalArgs {
    /// What to evaluate: `fusion` (a panel on questions or writing prompts), `writing` (writing actions
    /// on passages) or `judge` (the on-device judge's verdicts with and without the grammar).
    pub what: String,
    /// A JSON-lines file. fusion: {"prompt": …, "answer": "…"} or {"prompt": …, "accept": ["…"]}.
    /// writing: {"action": "rewrite", "tone": "vivid", "selection": "…", "text": "…", "instruction": "…",
    /// "accept": ["…"], "reject": ["…"], "min_ratio": 1.2, "max_ratio": 0.8} (ratios: answer words / passage words).
    #[arg(long)]
    pub set: PathBuf,
    #[command(flatten)]
    pub panel: PanelArgs,
    #[arg(long)]
    pub json: bool,
    /// Only the first N items.
    #[arg(long)]
    pub limit: Option<usize>,
    /// fusion on writing prompts: who compares the fused answer with each member's (`local` or
    /// `provider:model`; the default never leaves the device).
    #[arg(long, default_value = "local")]
    pub pairwise_judge: String,
}

pub fn eval(args: EvalArgs) -> Result<()> {
    match args.what.as_str() {
        "fusion" => fusion(args),
        "writing" => writing(args),
        "judge" => crate::eval_judge::run(&args.set, args.limit, &args.panel.model, args.json),
        other => bail!("`atelier eval {other}`: evaluate `fusion`, `writing` or `judge`"),
    }
}

pub(crate) fn items<T: DeserializeOwned>(set: &Path, limit: Option<usize>) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(set).with_context(|| format!("cannot read {}", set.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .take(limit.unwrap_or(usize::MAX))
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("line {} of {}", i + 1, set.display())))
        .collect()
}

#[derive(Deserialize)]
struct Question {
    prompt: String,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    accept: Vec<String>,
}

impl Question {
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

impl Score {
    fn record(&mut self, correct: Option<bool>, cost: f64, elapsed: Duration) {
        self.total += 1;
        self.cost_usd += cost;
        self.mean_latency_ms += elapsed.as_secs_f64() * 1000.0;
        if let Some(correct) = correct {
            self.answered += 1;
            self.correct += usize::from(correct);
        }
    }

    fn close(&mut self) {
        self.accuracy = if self.total > 0 { self.correct as f64 / self.total as f64 } else { 0.0 };
        self.mean_latency_ms /= self.total.max(1) as f64;
    }
}

fn print_scores(scores: &[Score], items: usize, json: bool, correct: &str) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "items": items, "scores": scores }))?);
        return Ok(());
    }
    println!("{:<48} {:>9} {:>9} {:>10} {:>10}", "", correct, "answered", "cost", "latency");
    for s in scores {
        println!(
            "{:<48.48} {:>8.0}% {:>9} {:>9.4}$ {:>8.1} s",
            s.name,
            s.accuracy * 100.0,
            format!("{}/{}", s.answered, s.total),
            s.cost_usd,
            s.mean_latency_ms / 1000.0
        );
    }
    Ok(())
}

fn fusion(args: EvalArgs) -> Result<()> {
    let first_line = std::fs::read_to_string(&args.set).with_context(|| format!("cannot read {}", args.set.display()))?;
    if crate::eval_pairwise::is_writing_set(first_line.lines().find(|l| !l.trim().is_empty()).unwrap_or_default()) {
        return tokio::runtime::Runtime::new()?.block_on(async move {
            let client = OutboundClient::new(Duration::from_secs(10));
            client.set_offline(args.panel.offline);
            let panel = build_panel("", &args.panel, &client)?;
            let report = crate::eval_pairwise::run(panel, &args.set, args.limit, &args.pairwise_judge, &args.panel.model).await?;
            crate::eval_pairwise::print(&report, args.json)
        });
    }
    let questions: Vec<Question> = items(&args.set, args.limit)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let client = OutboundClient::new(Duration::from_secs(10));
        client.set_offline(args.panel.offline);
        let panel = build_panel("", &args.panel, &client)?;
        let seats = atelier_studio::fusion::request(&panel.host, None, &panel.builder, &panel.params).await?;
        let max_tokens = seats.max_tokens;
        let n = seats.members.len();
        let mut scores: Vec<Score> = seats.members.iter().map(|m| Score { name: m.name(), ..Default::default() }).collect();
        scores.push(Score { name: format!("fused ({})", seats.mode.name()), ..Default::default() });
        for (i, question) in questions.iter().enumerate() {
            eprintln!("[{}/{}] {}", i + 1, questions.len(), question.prompt);
            // Each member alone…
            for (k, member) in seats.members.iter().enumerate() {
                let started = Instant::now();
                let request = ChatRequest { messages: vec![ChatMessage::user(&question.prompt)], max_tokens, temperature: 0.2, top_p: None, seed: Some(1), response_format: None };
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
                scores[k].record(ok.then(|| question.is_correct(&text)), cost, started.elapsed());
            }
            // …and the panel fused, through the app's own fusion path.
            let started = Instant::now();
            let params = atelier_studio::fusion::FusionParams { prompt: question.prompt.clone(), seed: Some(i as u64), ..panel.params.clone() };
            let result = atelier_studio::fusion::fuse(&panel.host, None, &panel.builder, &params, CancellationToken::new(), atelier_fusion::events::discard()).await?;
            let outcome = result.outcome;
            scores[n].record(outcome.final_text.as_deref().map(|t| question.is_correct(t)), outcome.cost_usd, started.elapsed());
        }
        scores.iter_mut().for_each(Score::close);
        print_scores(&scores, questions.len(), args.json, "accuracy")
    })
}

/// One writing task and what its answer must (and must not) contain.
#[derive(Deserialize)]
struct Task {
    action: String,
    #[serde(default)]
    tone: Option<String>,
    #[serde(default)]
    instruction: Option<String>,
    #[serde(default)]
    selection: String,
    /// The document (Continue follows its end).
    #[serde(default)]
    text: String,
    #[serde(default)]
    accept: Vec<String>,
    #[serde(default)]
    reject: Vec<String>,
    /// The answer has at least this many words per word of the passage (Expand).
    #[serde(default)]
    min_ratio: Option<f64>,
    /// The answer has at most this many words per word of the passage (Shorten).
    #[serde(default)]
    max_ratio: Option<f64>,
}

/// Openers the system prompt forbids: a writer wants the text, not a preamble.
const PREAMBLES: [&str; 4] = ["here is", "here's", "sure,", "certainly"];

impl Task {
    fn input(&self) -> Result<ActionInput> {
        let action = WritingAction::parse(&self.action).with_context(|| format!("unknown action `{}`", self.action))?;
        let tone = self.tone.as_deref().map(|t| Tone::parse(t).with_context(|| format!("unknown tone `{t}`"))).transpose()?;
        Ok(ActionInput {
            action: Some(action),
            tone,
            instruction: self.instruction.clone(),
            selection: self.selection.clone(),
            before: self.text.clone(),
            document: self.text.clone(),
            dropped: Vec::new(),
        })
    }

    /// Why the answer fails the task, if it does.
    fn failures(&self, answer: &str) -> Vec<String> {
        let lower = answer.to_lowercase();
        let mut failures = Vec::new();
        if answer.trim().is_empty() {
            failures.push("empty answer".to_string());
        }
        if let Some(opener) = PREAMBLES.iter().find(|p| lower.trim_start().starts_with(*p)) {
            failures.push(format!("starts with a preamble (`{opener}`)"));
        }
        if !self.accept.is_empty() && !self.accept.iter().any(|a| lower.contains(&a.to_lowercase())) {
            failures.push(format!("none of {:?}", self.accept));
        }
        failures.extend(self.reject.iter().filter(|r| lower.contains(&r.to_lowercase())).map(|r| format!("contains `{r}`")));
        let passage = if self.selection.trim().is_empty() { &self.text } else { &self.selection };
        let ratio = answer.split_whitespace().count() as f64 / passage.split_whitespace().count().max(1) as f64;
        if self.min_ratio.is_some_and(|min| ratio < min) {
            failures.push(format!("{ratio:.2}× the passage's length, under {:.2}×", self.min_ratio.unwrap_or_default()));
        }
        if self.max_ratio.is_some_and(|max| ratio > max) {
            failures.push(format!("{ratio:.2}× the passage's length, over {:.2}×", self.max_ratio.unwrap_or_default()));
        }
        failures
    }
}

fn writing(args: EvalArgs) -> Result<()> {
    let tasks: Vec<Task> = items(&args.set, args.limit)?;
    let host = crate::write::host(&args.panel.model)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let mut scores: Vec<Score> = Vec::new();
        for (i, task) in tasks.iter().enumerate() {
            let input = task.input()?;
            let name = input.action.map(WritingAction::name).unwrap_or_default().to_string();
            let started = Instant::now();
            let sampling = generation::sampling(Some(0.7), Some(args.panel.seed.unwrap_or(0) + i as u64))?;
            let sink: generation::EventSink = std::sync::Arc::new(|_| {});
            let result = generation::write(&host, None, &input, sampling, None, CancellationToken::new(), sink).await;
            let verdict = match &result {
                Ok(g) => {
                    let failures = task.failures(&g.text);
                    eprintln!("[{}/{}] {name}: {}", i + 1, tasks.len(), if failures.is_empty() { "pass".into() } else { failures.join("; ") });
                    Some(failures.is_empty())
                }
                Err(e) => {
                    eprintln!("[{}/{}] {name}: error: {e}", i + 1, tasks.len());
                    None
                }
            };
            let index = scores.iter().position(|s| s.name == name).unwrap_or_else(|| {
                scores.push(Score { name: name.clone(), ..Default::default() });
                scores.len() - 1
            });
            scores[index].record(verdict, 0.0, started.elapsed());
        }
        scores.iter_mut().for_each(Score::close);
        print_scores(&scores, tasks.len(), args.json, "pass")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(line: &str) -> Task {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn a_writing_answer_is_checked_for_preamble_words_and_length() {
        let shorten = task(r#"{"action":"shorten","selection":"one two three four five six seven eight nine ten","max_ratio":0.8,"reject":["ten"]}"#);
        assert!(shorten.failures("one two three four five").is_empty());
        let failures = shorten.failures("Here is the shorter one: one two three four five six seven eight nine ten");
        assert_eq!(failures.len(), 3, "{failures:?}");
        let expand = task(r#"{"action":"expand","selection":"The rain fell.","min_ratio":2.0,"accept":["rain"]}"#);
        assert!(expand.failures("The rain fell hard on the tin roof, loud as drums all night.").is_empty());
        assert_eq!(expand.failures("Snow.").len(), 2);
        assert!(task(r#"{"action":"rewrite","tone":"loud","selection":"x"}"#).input().is_err());
    }
}
