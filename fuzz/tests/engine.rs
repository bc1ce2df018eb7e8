//! Fuzz targets for the on-device engine: model files (GGUF → config → tokenizer → CPU model) and chat
//! templates. Both come from files a user downloads, so any input must give Ok or a clean error: no panic,
//! no abort, no huge allocation, no hang.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use atelier_engine::chat::MAX_OUTPUT;
use atelier_engine::gguf_writer::MetaValue;
use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::transformer::TransformerConfig;
use atelier_engine::{ChatFormat, ChatMessage, ChatTemplate, GgufFile, LoadOptions, Model, Role, Tokenizer};
use atelier_fuzz::{Bytes, Guard, INTERESTING};
use candle_core::quantized::GgmlDType;

/// More than any input here should need: the tiny models take a few MiB.
const ADDRESS_SPACE_HEADROOM: u64 = 2 << 30;

const SMOLLM2: &str = include_str!("../../tests/fixtures/chat_templates/smollm2.jinja");
const MINISTRAL3: &str = include_str!("../../tests/fixtures/chat_templates/ministral-3-reasoning-2512.jinja");
const MISTRAL_SMALL: &str = include_str!("../../tests/fixtures/chat_templates/mistral-small-3.2.jinja");
const MISTRAL_NEMO: &str = include_str!("../../tests/fixtures/chat_templates/mistral-nemo-2407.jinja");
const TEMPLATES: &[&str] = &[SMOLLM2, MINISTRAL3, MISTRAL_SMALL, MISTRAL_NEMO];

fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn crash_path(target: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{target}.abort-input"))
}

// ---------------------------------------------------------------------------------------------------
// 1. GGUF files
// ---------------------------------------------------------------------------------------------------

/// Valid small models the mutations start from: the plain tiny llama, other weight types, a Ministral 3
/// shape (YaRN, attention temperature, tied embeddings), and one with its own chat template.
fn bases() -> &'static [Vec<u8>] {
    static BASES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    BASES.get_or_init(|| {
        let mut specs: Vec<(SyntheticSpec, Option<&str>)> = Vec::new();
        specs.push((SyntheticSpec::tiny_llama(), None));
        for wt in [GgmlDType::Q4_0, GgmlDType::F16, GgmlDType::F32] {
            specs.push((SyntheticSpec { weight_type: wt, ..SyntheticSpec::tiny_llama() }, None));
        }
        specs.push((
            SyntheticSpec {
                architecture: "mistral3".into(),
                yarn: Some((4.0, 64)),
                attention_temperature: Some(0.1),
                tied_embeddings: true,
                ..SyntheticSpec::tiny_llama()
            },
            None,
        ));
        specs.push((SyntheticSpec::tiny_llama(), Some(SMOLLM2)));
        let mut out = Vec::new();
        for (i, (spec, template)) in specs.into_iter().enumerate() {
            let path = scratch().join(format!("base{i}.gguf"));
            let written = spec.write_with(&path, |w| {
                if let Some(t) = template {
                    w.meta("tokenizer.chat_template", MetaValue::from(t));
                }
            });
            if written.is_ok() {
                out.push(std::fs::read(&path).unwrap());
            }
        }
        assert!(!out.is_empty());
        out
    })
}

/// Names whose bytes are found in a base file (metadata keys by suffix, so they match any architecture;
/// tensor names): a mutation writes an interesting value just after one, into its type, length or value.
const NAMES: &[&str] = &[
    "general.architecture",
    "block_count",
    "context_length",
    "embedding_length",
    "feed_forward_length",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.key_length",
    "attention.value_length",
    "rope.dimension_count",
    "rope.freq_base",
    "layer_norm_rms_epsilon",
    "rope.scaling.factor",
    "rope.scaling.original_context_length",
    "attention.temperature_scale",
    "tokenizer.ggml.model",
    "tokenizer.ggml.tokens",
    "tokenizer.ggml.token_type",
    "tokenizer.ggml.merges",
    "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id",
    "tokenizer.chat_template",
    "token_embd.weight",
    "output.weight",
    "output_norm.weight",
    "blk.0.attn_norm.weight",
    "blk.0.attn_q.weight",
    "blk.0.attn_k.weight",
    "blk.0.attn_v.weight",
    "blk.1.attn_output.weight",
    "blk.1.ffn_gate.weight",
    "blk.1.ffn_up.weight",
    "blk.1.ffn_down.weight",
];

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn write_at(file: &mut [u8], at: usize, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        if let Some(slot) = file.get_mut(at + i) {
            *slot = *b;
        }
    }
}

/// A base model with up to 16 fuzzer-chosen mutations applied; the options to load it with.
fn mutated_gguf(input: &[u8]) -> (Vec<u8>, LoadOptions) {
    let mut r = Bytes::new(input);
    let bases = bases();
    let mut file = r.pick(bases).clone();
    let flags = r.u8();
    let options = LoadOptions {
        candle_on_cpu: flags & 1 != 0,
        dequantize: flags & 2 != 0,
        context_length: if flags & 4 != 0 { Some(r.u16() as usize) } else { None },
        threads: Some(1),
        memory_budget: Some(512 << 20),
        ..LoadOptions::default()
    };
    let mut ops = 0;
    while !r.is_empty() && ops < 16 {
        ops += 1;
        let len = file.len().max(1);
        match r.u8() % 10 {
            0 => {
                let at = r.u32() as usize % len;
                let n = r.u8() as usize % 8 + 1;
                let bytes = r.take(n);
                write_at(&mut file, at, bytes);
            }
            1 => {
                let at = r.u32() as usize % len;
                let v = *r.pick(INTERESTING);
                write_at(&mut file, at, &v.to_le_bytes());
            }
            2 => {
                let at = r.u32() as usize % len;
                let v = *r.pick(INTERESTING) as u32;
                write_at(&mut file, at, &v.to_le_bytes());
            }
            3 => {
                let at = r.u32() as usize % (file.len() + 1);
                file.truncate(at);
            }
            4 | 5 => {
                // Just after a name: its type (u32), then a value, an array's element type and length, or
                // a tensor's dimension count, dimensions, type and offset.
                let name = r.pick(NAMES);
                let delta = (r.u8() % 16) as usize * 4;
                let wide = r.bool();
                let v = *r.pick(INTERESTING);
                if let Some(at) = find(&file, name.as_bytes()).map(|p| p + name.len() + delta) {
                    if wide {
                        write_at(&mut file, at, &v.to_le_bytes());
                    } else {
                        write_at(&mut file, at, &(v as u32).to_le_bytes());
                    }
                }
            }
            6 => {
                let at = r.u32() as usize % (file.len() + 1);
                let n = r.u8() as usize % 32;
                let bytes = r.take(n).to_vec();
                file.splice(at..at, bytes);
            }
            7 => {
                let at = r.u32() as usize % (file.len() + 1);
                let n = (r.u16() as usize % 4096).min(file.len() - at);
                file.drain(at..at + n);
            }
            8 => {
                let at = r.u32() as usize % len;
                let bit = r.u8() % 8;
                if let Some(b) = file.get_mut(at) {
                    *b ^= 1 << bit;
                }
            }
            _ => {
                // The header: version (u32 at 4), tensor count (u64 at 8), metadata count (u64 at 16).
                let v = *r.pick(INTERESTING);
                match r.u8() % 3 {
                    0 => write_at(&mut file, 4, &(v as u32).to_le_bytes()),
                    1 => write_at(&mut file, 8, &v.to_le_bytes()),
                    _ => write_at(&mut file, 16, &v.to_le_bytes()),
                }
            }
        }
    }
    (file, options)
}

/// Every stage the app runs on a model file, each of which must fail cleanly.
fn exercise_gguf(path: &Path, options: &LoadOptions) {
    if let Ok(gguf) = GgufFile::open(path) {
        let _ = gguf.architecture();
        let _ = gguf.info();
        let _ = gguf.tensor_bytes();
        let _ = gguf.parameter_count();
        if let Ok(config) = TransformerConfig::from_gguf(&gguf) {
            let _ = config.check_tensor_shapes(&gguf);
        }
        if let Ok(tokenizer) = Tokenizer::from_gguf(&gguf) {
            if let Ok(ids) = tokenizer.encode("the cat <|im_start|>user\nhé 🐈<|im_end|>", true) {
                let _ = tokenizer.decode(&ids);
            }
            let _ = tokenizer.decode(&[0, 1, u32::MAX, tokenizer.token_count() as u32]);
        }
    }
    if let Ok(mut model) = Model::load(path, options) {
        let tokens: Vec<u32> = model.tokenizer().encode("the cat", false).unwrap_or_default();
        // crashes/candle-rope-dimension-count-zero: a rotary dimension of 0 used to load and then panic in
        // candle's rotary embedding; the load refuses it now.
        if !tokens.is_empty() {
            let _ = model.logits(&tokens);
        }
    }
}

#[test]
fn gguf_load() {
    atelier_fuzz::limit_address_space(ADDRESS_SPACE_HEADROOM);
    let guard = Guard::new(crash_path("gguf_load"));
    let path = scratch().join("fuzz.gguf");
    bases();
    bolero::check!().with_test_time(atelier_fuzz::test_time()).with_max_len(256).for_each(|input: &[u8]| {
        guard.run(input, || {
            let (file, options) = mutated_gguf(input);
            std::fs::write(&path, &file).unwrap();
            exercise_gguf(&path, &options);
            // The input itself as a file (garbage, or a whole GGUF in a crashes/ file).
            std::fs::write(&path, input).unwrap();
            exercise_gguf(&path, &options);
        })
    });
}

// ---------------------------------------------------------------------------------------------------
// 2. Chat templates
// ---------------------------------------------------------------------------------------------------

/// Jinja pieces the mutations splice into a real template: control flow, the variables the app sets,
/// recursion, big loops, huge strings, filters, tokens.
const SNIPPETS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{%- ",
    " -%}",
    "{% for message in messages %}",
    "{% endfor %}",
    "{% if loop.first %}",
    "{% if messages[0]['role'] == 'system' %}",
    "{% else %}",
    "{% endif %}",
    "{{ message['content'] }}",
    "{{ messages[-1]['content'] }}",
    "{{ messages[1000]['content'] }}",
    "{{ bos_token }}",
    "{{ eos_token }}",
    "{% set ns = namespace(x=0) %}{% set ns.x = ns.x + 1 %}",
    "{{ raise_exception('no') }}",
    "{{ strftime_now('%Y-%m-%d %H:%M:%S %Z %%') }}",
    "{{ strftime_now('%') }}",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{{ 'ab' * 100000000 }}",
    "{% for i in range(100000000) %}x{% endfor %}",
    "{% for a in range(10000) %}{% for b in range(10000) %}{{ a }}{% endfor %}{% endfor %}",
    "{{ range(999999999)|list|length }}",
    "{{ messages|tojson }}",
    "{{ messages|tojson(indent=4) }}",
    "{{ message['content']|trim|upper|replace('', 'yy') }}",
    "{{ message.content.split('x') }}",
    "{{ '%s %d' % ('a', 1) }}",
    "{{ 1 / 0 }}",
    "{{ 9223372036854775807 + 1 }}",
    "{{ -9223372036854775808 // -1 }}",
    "{{ [1,2,3][::-1] }}",
    "{{ 'x'[1:0:-9223372036854775807] }}",
    "{% include 'other' %}",
    "{% extends 'base' %}",
    "{% break %}",
    "{% continue %}",
    "{{ loop.index0 }}",
    "{{ tools }}",
    "{{ add_generation_prompt }}",
    "[INST]",
    "[/INST]",
    "[SYSTEM_PROMPT]",
    "<|im_start|>",
    "<|im_end|>",
    "\u{e000}",
    "\u{0}",
    "'",
    "\"",
    "{{ message['content'][0] }}",
    "{{ (messages|length) % 2 }}",
    "{% filter upper %}x{% endfilter %}",
    "{{ message|items|list }}",
    "{{ dict(a=1)|dictsort }}",
    "{{ 'é'|center(1000000000) }}",
];

const TOKENS: &[&str] = &["<s>", "</s>", "<|im_start|>", "<|im_end|>", "[INST]", "[/INST]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]"];

fn messages_from(r: &mut Bytes, count: usize) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    for i in 0..count {
        let role = match r.u8() % 4 {
            0 => Role::System,
            1 => Role::Assistant,
            _ if i % 2 == 0 => Role::User,
            _ => Role::Assistant,
        };
        let n = r.u8() as usize % 48;
        let mut content = String::from_utf8_lossy(r.take(n)).into_owned();
        if r.u8() % 4 == 0 {
            content.push_str(*r.pick(TOKENS));
        }
        out.push(ChatMessage { role, content });
    }
    out
}

fn check_template(template: &ChatTemplate, messages: &[ChatMessage]) {
    let input: usize = messages.iter().map(|m| m.content.len()).sum();
    if let Ok(text) = template.render(messages) {
        assert!(text.len() <= MAX_OUTPUT + 2 * input + 64, "rendered {} bytes from {input}", text.len());
    }
    if let Ok(prompt) = template.render_prompt(messages, |s| TOKENS.iter().any(|t| s.contains(t))) {
        for range in &prompt.content_ranges {
            assert!(prompt.text.get(range.clone()).is_some(), "content range {range:?} is not within the text");
        }
    }
}

/// A template from the input: `RAW\n<template>\0<message>\0<message>…` (a message's first byte picks
/// its role), else a real template with snippets spliced in and fuzzer-chosen messages.
fn exercise_template(input: &[u8]) {
    let has_token = |t: &str| TOKENS.contains(&t);
    if let Some(raw) = input.strip_prefix(b"RAW\n") {
        let mut parts = raw.split(|b| *b == 0);
        let source = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        let messages: Vec<ChatMessage> = parts
            .enumerate()
            .map(|(i, p)| {
                let role = match p.first() {
                    Some(b's') => Role::System,
                    Some(b'a') => Role::Assistant,
                    Some(b'u') => Role::User,
                    _ if i % 2 == 0 => Role::User,
                    _ => Role::Assistant,
                };
                ChatMessage { role, content: String::from_utf8_lossy(p.get(1..).unwrap_or_default()).into_owned() }
            })
            .collect();
        if let Ok(template) = ChatTemplate::new(Some(source), "<s>".into(), "</s>".into(), has_token) {
            check_template(&template, &messages);
        }
        return;
    }
    let mut r = Bytes::new(input);
    let choice = r.u8() as usize % (TEMPLATES.len() + 4);
    let count = r.u8() as usize % 6;
    let template = if choice < TEMPLATES.len() {
        let mut source = TEMPLATES[choice].to_string();
        for _ in 0..(r.u8() % 6) {
            let at = r.u16() as usize % (source.len() + 1);
            let at = (0..=at).rev().find(|&i| source.is_char_boundary(i)).unwrap_or(0);
            match r.u8() % 3 {
                0 => {
                    let end = (at + r.u8() as usize).min(source.len());
                    let end = (end..=source.len()).find(|&i| source.is_char_boundary(i)).unwrap_or(source.len());
                    source.replace_range(at..end, "");
                }
                _ => source.insert_str(at, *r.pick(SNIPPETS)),
            }
        }
        match ChatTemplate::new(Some(source), "<s>".into(), "</s>".into(), has_token) {
            Ok(t) => t,
            Err(_) => return,
        }
    } else {
        let format = [ChatFormat::MistralV7, ChatFormat::MistralV3, ChatFormat::ChatMl, ChatFormat::Plain][choice - TEMPLATES.len()].clone();
        ChatTemplate::with_format(format, "<s>".into(), "</s>".into())
    };
    let messages = messages_from(&mut r, count);
    check_template(&template, &messages);
}

#[test]
fn chat_template() {
    atelier_fuzz::limit_address_space(ADDRESS_SPACE_HEADROOM);
    let guard = Guard::new(crash_path("chat_template"));
    bolero::check!().with_test_time(atelier_fuzz::test_time()).with_max_len(16 << 10).for_each(|input: &[u8]| {
        guard.run(input, || exercise_template(input))
    });
}
