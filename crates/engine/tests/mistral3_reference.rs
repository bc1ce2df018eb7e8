//! Ministral 3 (`mistral3`): the engine's logits on a tiny random-weight model against transformers'
//! Ministral3ForCausalLM (golden logits made by tests/reference/mistral3_reference.py, which also checked
//! llama.cpp agrees with transformers to 6e-5).

mod common;

use atelier_engine::config::RopeScaling;
use atelier_engine::{LoadOptions, Model};

struct Golden {
    tokens: Vec<u32>,
    vocab: usize,
    logits: Vec<f32>,
}

fn golden() -> Golden {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("mistral3-tiny.json")).unwrap()).unwrap();
    let tokens: Vec<u32> = meta["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
    let vocab = meta["shape"][1].as_u64().unwrap() as usize;
    let bytes = std::fs::read(common::fixture("mistral3-tiny.logits.f32")).unwrap();
    let logits: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    assert_eq!(logits.len(), tokens.len() * vocab);
    Golden { tokens, vocab, logits }
}

fn load() -> Model {
    Model::load(common::fixture("mistral3-tiny.gguf"), &LoadOptions::default()).unwrap()
}

/// Max |Δ| per position range.
fn max_diff(ours: &[Vec<f32>], golden: &Golden, range: std::ops::Range<usize>) -> f32 {
    range
        .flat_map(|p| ours[p].iter().zip(&golden.logits[p * golden.vocab..(p + 1) * golden.vocab]).map(|(a, b)| (a - b).abs()))
        .fold(0.0, f32::max)
}

#[test]
fn hyperparameters_come_from_the_gguf() {
    let model = load();
    let c = model.config();
    assert_eq!(c.architecture, "mistral3");
    assert_eq!((c.n_layer, c.n_embd, c.n_head, c.n_kv_head, c.head_dim), (2, 64, 4, 2, 16));
    assert_eq!(c.rope_theta, 1e6);
    match c.rope_scaling {
        RopeScaling::Yarn { factor, original_context, beta_fast, beta_slow, .. } => {
            assert_eq!((factor, original_context, beta_fast, beta_slow), (16.0, 16, 32.0, 1.0));
        }
        ref other => panic!("expected YaRN, got {other:?}"),
    }
    let t = c.attention_temperature.expect("attention temperature");
    assert!((t.beta - 0.1).abs() < 1e-6 && t.original_context == 16);
}

#[test]
fn logits_match_transformers_within_1e_3_at_short_and_yarn_scaled_positions() {
    let golden = golden();
    let mut model = load();
    let ours = model.logits(&golden.tokens).unwrap();
    let short = max_diff(&ours, &golden, 0..16);
    let long = max_diff(&ours, &golden, 16..golden.tokens.len());
    println!("max |Δlogit| positions 0-15: {short:e}, 16-199: {long:e}");
    assert!(short <= 1e-3, "positions 0-15 differ by {short}");
    assert!(long <= 1e-3, "positions 16-199 differ by {long}");
}

#[test]
fn incremental_decoding_matches_the_reference_too() {
    // Prefill 100 tokens, then feed the rest one at a time through the cache.
    let golden = golden();
    let mut model = load();
    let prefix = 100;
    let mut ours = model.logits(&golden.tokens[..prefix]).unwrap();
    ours.extend(model.logits_continuing(&golden.tokens[..prefix], &golden.tokens[prefix..]).unwrap());
    let diff = max_diff(&ours, &golden, 0..golden.tokens.len());
    assert!(diff <= 1e-3, "incremental logits differ by {diff}");
}
