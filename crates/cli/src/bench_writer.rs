//! `atelier bench --scenario writer`: what a writer waits for on a long scene. Three requests as the app
//! builds them — Continue at the end of the scene, Rewrite of its last paragraph, then a chat question
//! about it — each timed to its first token on the warm model (cache slots and shared prefixes); again
//! as the app runs them, read ahead while the writer pauses (the scene before Continue, the selected
//! paragraph before Rewrite, the question up to its last word while it is typed); and from an empty
//! cache (what a runtime without prefix reuse does for every request).
//!
//! `--tokens-out FILE` writes the three prompts' token ids, so bench/writer-vs-llamacpp.sh can replay
//! exactly the same tokens through llama.cpp.

use anyhow::{Context, Result};
use atelier_engine::{CancelToken, GenerateRequest, LoadOptions, Model, SamplingParams};
use atelier_studio::context::{self, Sources};
use atelier_studio::generation::{GenerationSpec, CHAT_GUIDANCE};
use atelier_studio::writing::{self, ResolvedAction, Tone, WritingAction};
use serde::Serialize;

use crate::bench::BenchArgs;

#[derive(Serialize)]
struct Step {
    action: &'static str,
    prompt_tokens: usize,
    /// Prompt tokens computed; the rest came from a cache.
    computed_tokens: usize,
    first_token_ms: f64,
    /// The same request from an empty cache.
    cold_first_token_ms: f64,
    /// Read ahead in the background before the click (the app's `prepare_context`): tokens computed
    /// then, how long that took, and what the click then computed and waited for its first token.
    ahead_computed_tokens: usize,
    ahead_ms: f64,
    ready_computed_tokens: usize,
    ready_first_token_ms: f64,
    decode_tokens_per_second: f64,
}

#[derive(Serialize)]
struct Report {
    model: String,
    quantization: String,
    device: String,
    context_length: usize,
    scene_tokens: usize,
    steps: Vec<Step>,
    /// Contexts parked beside the active one at the end, and their cache's MiB.
    parked_contexts: usize,
    parked_mib: f64,
}

#[derive(Serialize)]
struct ReplayRequest {
    action: &'static str,
    tokens: Vec<u32>,
    max_tokens: usize,
}

pub fn run(args: &BenchArgs) -> Result<()> {
    let path = crate::resolve_model(args.model.model.clone())?;
    let scene_tokens = args.scene_tokens;
    let context_length = args.model.context.unwrap_or(scene_tokens + 1024);
    let options = LoadOptions { device: args.model.device, context_length: Some(context_length), threads: args.model.threads, kv_cache: args.model.kv_cache, ..Default::default() };
    let mut model = Model::load(&path, &options).with_context(|| format!("cannot load {}", path.display()))?;
    let requests = scenario(&model, scene_tokens, args.gen_tokens)?;
    let tokens: Vec<Vec<u32>> = requests.iter().map(|(_, r, _)| model.prompt_tokens(&r.prompt)).collect::<Result<_, _>>()?;
    if let Some(out) = &args.tokens_out {
        let replay: Vec<ReplayRequest> =
            requests.iter().zip(&tokens).map(|((action, r, _), t)| ReplayRequest { action, tokens: t.clone(), max_tokens: r.max_tokens }).collect();
        std::fs::write(out, serde_json::to_vec(&replay)?).with_context(|| format!("cannot write {}", out.display()))?;
    }
    // Warm-up: maps the weights' pages, so the first request is not also timing the disk.
    model.eval(&tokens[0][..tokens[0].len().min(16)], 0)?;
    model.reset();

    let cancel = CancelToken::new();
    let mut warm = Vec::new();
    for (_, request, _) in &requests {
        warm.push(model.generate(request, &cancel, &mut |_| {})?);
    }
    let (parked_contexts, parked_bytes) = model.parked_contexts();
    // As the app runs them: each request read ahead (what the writer has set up by the pause before
    // the click), then clicked.
    model.reset();
    let mut ready = Vec::new();
    for (_, request, ahead) in &requests {
        let prepared = model.prepare(&ahead.prompt, &cancel)?;
        ready.push((prepared, model.generate(request, &cancel, &mut |_| {})?));
    }
    let mut steps = Vec::new();
    for ((((action, request, _), generation), (prepared, after)), prompt) in requests.iter().zip(&warm).zip(&ready).zip(&tokens) {
        model.reset();
        let cold = model.generate(request, &cancel, &mut |_| {})?;
        steps.push(Step {
            action,
            prompt_tokens: prompt.len(),
            computed_tokens: generation.timings.prompt_tokens_processed,
            first_token_ms: generation.timings.time_to_first_token_ms,
            cold_first_token_ms: cold.timings.time_to_first_token_ms,
            ahead_computed_tokens: prepared.computed_tokens,
            ahead_ms: prepared.ms,
            ready_computed_tokens: after.timings.prompt_tokens_processed,
            ready_first_token_ms: after.timings.time_to_first_token_ms,
            decode_tokens_per_second: generation.timings.decode_tokens_per_second,
        });
    }
    let info = model.info();
    let report = Report {
        model: info.name.clone(),
        quantization: info.quantization.clone(),
        device: model.device_name().to_string(),
        context_length,
        scene_tokens: tokens[0].len(),
        steps,
        parked_contexts,
        parked_mib: parked_bytes as f64 / 1048576.0,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("writer scenario: {} ({}) on {}, {}-token context", report.model, report.quantization, report.device, context_length);
    println!(
        "  {:<9} {:>7} | {:>9} {:>11} | {:>17} {:>9} {:>11} | {:>11} {:>9}",
        "action", "prompt", "computed", "first token", "read ahead", "computed", "first token", "cold start", "speed-up"
    );
    for s in &report.steps {
        println!(
            "  {:<9} {:>7} | {:>9} {:>9.2} s | {:>6} in {:>7.2} s {:>9} {:>9.2} s | {:>9.2} s {:>8.1}×",
            s.action,
            s.prompt_tokens,
            s.computed_tokens,
            s.first_token_ms / 1000.0,
            s.ahead_computed_tokens,
            s.ahead_ms / 1000.0,
            s.ready_computed_tokens,
            s.ready_first_token_ms / 1000.0,
            s.cold_first_token_ms / 1000.0,
            s.cold_first_token_ms / s.ready_first_token_ms.max(1e-3)
        );
    }
    println!("  (cache only | read ahead while the writer pauses, then the click | from an empty cache)");
    println!("  parked beside the active context at the end: {} ({:.0} MiB)", report.parked_contexts, report.parked_mib);
    Ok(())
}

/// Continue, Rewrite of the last paragraph, then a chat question, on a scene of about `scene_tokens`
/// tokens under a story bible: built by the studio's own prompt code. Each comes with what the app
/// reads ahead of it: the request itself, but for the chat the question without its last word (it is
/// still being typed at the last pause).
fn scenario(model: &Model, scene_tokens: usize, answer_tokens: usize) -> Result<Vec<(&'static str, GenerateRequest, GenerateRequest)>> {
    let count = |text: &str| model.tokenizer().encode_plain(text).map(|ids| ids.len()).unwrap_or(text.len());
    let system = format!("{}\n\n## Story bible — facts of this book; never contradict them\n\n{}", writing::SYSTEM_PROMPT, BIBLE);
    let budget = scene_tokens.saturating_sub(count(&system) + context::PROMPT_OVERHEAD_TOKENS);
    let mut paragraphs = Vec::new();
    let mut prose = Prose(0x9e37_79b9_7f4a_7c15);
    let mut used = 0;
    while used < budget {
        let paragraph = prose.paragraph();
        used += count(&paragraph) + 1;
        paragraphs.push(paragraph);
    }
    let last = paragraphs.pop().unwrap_or_default();
    let before_last = paragraphs.join("\n\n");
    let scene = format!("{before_last}\n\n{last}");
    let sampling = SamplingParams::greedy();
    let action = |action, tone, text: &str, selection: &str| ResolvedAction {
        action,
        tone,
        instruction: None,
        text: text.to_string(),
        truncated: false,
        selection: selection.to_string(),
        max_tokens: answer_tokens,
    };
    let continue_it = GenerationSpec::action(action(WritingAction::Continue, None, &scene, ""), sampling.clone()).with_context(system.clone(), Vec::new());
    let rewrite = GenerationSpec::action(action(WritingAction::Rewrite, Some(Tone::Vivid), &before_last, &last), sampling.clone())
        .with_context(system.clone(), Vec::new());
    let chat = |question: &str| -> Result<GenerateRequest> {
        let instruction = format!("{CHAT_GUIDANCE}\n\n{question}");
        let planned = context::plan(
            &context::Request {
                system: &system,
                instruction: &instruction,
                selection_heading: "",
                selection: "",
                text: &scene,
                text_budget: scene_tokens,
                answer_tokens,
                reserved: 0,
                dropped: &[],
            },
            &Sources::default(),
            model.context_length(),
            &count,
        )?;
        let spec = GenerationSpec { kind: Some("chat".into()), ..GenerationSpec::prompt(planned.prompt, answer_tokens, sampling.clone()) };
        Ok(spec.with_context(planned.system, Vec::new()).request())
    };
    let question = "Why does Mara refuse to light the lamp in this scene?";
    let typed = &question[..question.rfind(' ').unwrap_or(0)];
    Ok(vec![
        ("continue", continue_it.request(), continue_it.request()),
        ("rewrite", rewrite.request(), rewrite.request()),
        ("chat", chat(question)?, chat(typed)?),
    ])
}

const BIBLE: &str = "### Mara (character)\nThe lighthouse keeper's daughter, twenty-six. Grey eyes; a burn scar on her left palm from the fire of 1911. \
Speaks little, counts things when afraid.\n\n### Saltmouth (place)\nA fishing town on a cold northern coast; the lighthouse stands on the Tooth, \
a rock cut off at high tide.\n\n### The lamp (object)\nA first-order Fresnel lens, lit by paraffin; Mara's father tended it for thirty years \
and has not climbed the stairs since the wreck.";

/// Plausible prose from a fixed seed: the speed does not depend on the words, but the tokenizer's
/// behaviour on real text (merges, punctuation) does.
struct Prose(u64);

impl Prose {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn paragraph(&mut self) -> String {
        const SUBJECTS: [&str; 8] = ["Mara", "Her father", "The wind", "The sea", "A gull", "The old lamp", "Someone below", "The harbour"];
        const VERBS: [&str; 8] = ["watched", "waited for", "turned towards", "remembered", "listened to", "counted", "ignored", "followed"];
        const OBJECTS: [&str; 8] =
            ["the grey water", "the stairs", "the boats coming in", "the long night", "the broken shutter", "the bell", "the light on the rocks", "her own hands"];
        const TAILS: [&str; 6] = [".", ", and said nothing.", " until the tide turned.", ", as she always had.", " while the rain came on.", "; it was late."];
        let sentences = 4 + self.next(4);
        let mut out = Vec::with_capacity(sentences);
        for _ in 0..sentences {
            out.push(format!("{} {} {}{}", SUBJECTS[self.next(8)], VERBS[self.next(8)], OBJECTS[self.next(8)], TAILS[self.next(6)]));
        }
        out.join(" ")
    }
}
