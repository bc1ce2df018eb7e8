//! `atelier eval judge`: how often the on-device judge's verdict parses with and without the grammar,
//! and what masking costs. For each writing prompt the model writes two answers, then judges them
//! twice — free, and constrained to the verdict's grammar — from the same seed.

use std::path::Path;

use anyhow::Result;
use atelier_engine::{GenerateRequest, Generation, Prompt, SamplingParams};
use atelier_fusion::judge::{judge_format, judge_messages, label, parse_verdict, JudgeTask};
use atelier_fusion::provider::ChatMessage;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::eval_pairwise::WritingPrompt;

/// As the panel's judge gets it.
const JUDGE_MAX_TOKENS: usize = 1024;
const ANSWER_TOKENS: usize = 96;

#[derive(Serialize, Default)]
pub struct JudgeRow {
    pub format: &'static str,
    pub verdicts: usize,
    pub parsed: usize,
    pub parse_rate: f64,
    pub completion_tokens: usize,
    pub decode_ms: f64,
    pub grammar_ms: f64,
    pub decode_tokens_per_second: f64,
    /// What the grammar adds to decode time: grammar time ÷ the rest of the decode.
    pub masking_overhead: f64,
    /// Why the first few unparsed verdicts failed.
    pub failures: Vec<String>,
}

impl JudgeRow {
    fn record(&mut self, generation: &Generation, parsed: Result<(), String>) {
        self.verdicts += 1;
        self.completion_tokens += generation.completion_tokens;
        self.decode_ms += generation.timings.decode_ms;
        self.grammar_ms += generation.timings.grammar_ms;
        match parsed {
            Ok(()) => self.parsed += 1,
            Err(e) if self.failures.len() < 5 => self.failures.push(e),
            Err(_) => {}
        }
    }

    fn close(&mut self) {
        self.parse_rate = self.parsed as f64 / self.verdicts.max(1) as f64;
        self.decode_tokens_per_second = self.completion_tokens as f64 * 1000.0 / self.decode_ms.max(1e-9);
        self.masking_overhead = self.grammar_ms / (self.decode_ms - self.grammar_ms).max(1e-9);
    }
}

pub fn run(set: &Path, limit: Option<usize>, model: &crate::ModelArgs, json: bool) -> Result<()> {
    let prompts: Vec<WritingPrompt> = crate::eval::items(set, limit)?;
    let host = crate::write::host(model)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let (mut free, mut constrained) = (JudgeRow { format: "free", ..Default::default() }, JudgeRow { format: "grammar", ..Default::default() });
    runtime.block_on(async {
        let engine = host.engine().await?;
        let generate = |prompt: Prompt, max_tokens: usize, temperature: f32, seed: u64, response_format| {
            let request = GenerateRequest {
                prompt,
                max_tokens,
                sampling: SamplingParams { temperature, seed, ..SamplingParams::default() },
                stop: Vec::new(),
                response_format,
            };
            engine.generate_stream(request, CancellationToken::new(), |_| {})
        };
        for (i, prompt) in prompts.iter().enumerate() {
            eprintln!("[{}/{}] {}", i + 1, prompts.len(), prompt.id);
            let request = format!("{}\n\nThe passage:\n\n{}", prompt.prompt.trim(), prompt.passage.trim());
            let mut answers = Vec::new();
            for (k, temperature) in [0.7f32, 1.0].into_iter().enumerate() {
                let answer = generate(Prompt::Chat(vec![ChatMessage::user(&request)]), ANSWER_TOKENS, temperature, (i * 2 + k) as u64, None).await?;
                answers.push(answer.text);
            }
            let texts: Vec<&str> = answers.iter().map(String::as_str).collect();
            let labels: Vec<String> = (0..texts.len()).map(label).collect();
            let messages = judge_messages(&request, &texts, JudgeTask::Merge, None);
            for (row, format) in [(&mut free, None), (&mut constrained, Some(judge_format(&labels, JudgeTask::Merge)))] {
                let verdict = generate(Prompt::Chat(messages.clone()), JUDGE_MAX_TOKENS, 0.2, i as u64, format).await?;
                let parsed = parse_verdict(&verdict.text, &labels, JudgeTask::Merge).map(|_| ());
                row.record(&verdict, parsed);
            }
        }
        anyhow::Ok(())
    })?;
    free.close();
    constrained.close();
    let rows = [free, constrained];
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "prompts": prompts.len(), "judges": rows }))?);
        return Ok(());
    }
    println!("on-device judge on {} writing prompts (two answers each, merge verdicts)", prompts.len());
    println!("{:<8} {:>10} {:>10} {:>12} {:>12}", "format", "parsed", "tokens", "decode tok/s", "masking");
    for row in &rows {
        println!(
            "{:<8} {:>9.0}% {:>10} {:>12.1} {:>11.1}%",
            row.format,
            row.parse_rate * 100.0,
            row.completion_tokens,
            row.decode_tokens_per_second,
            row.masking_overhead * 100.0
        );
        for failure in &row.failures {
            println!("         unparsed: {failure}");
        }
    }
    Ok(())
}
