//! The `llama` path on the embedded model against two references (tests/fixtures/smollm2_logits.json, made
//! by tests/reference/smollm2_logits.py):
//! - transformers on the dequantised (f32) weights: the architecture must match exactly (≤ 1e-3);
//! - llama.cpp as it runs the Q4_1 file: both quantise activations to 8 bits with their own rounding, which
//!   over 30 layers moves logits by up to ~2 (transformers-f32 vs llama.cpp differ by 1.9 themselves), so
//!   the documented tolerance for quantised weights is on the ranking and the typical error.

mod common;

use atelier_engine::{LoadOptions, Model};

struct Reference {
    tokens: Vec<u32>,
    /// Per position: (token id, llama.cpp logit, transformers f32 logit).
    positions: Vec<Vec<(usize, f32, f32)>>,
}

fn reference() -> Reference {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("smollm2_logits.json")).unwrap()).unwrap();
    let tokens = v["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
    let positions = v["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let ids = p["ids"].as_array().unwrap();
            let lc = p["llama_cpp"].as_array().unwrap();
            let tf = p["transformers_f32"].as_array().unwrap();
            (0..ids.len())
                .map(|i| (ids[i].as_u64().unwrap() as usize, lc[i].as_f64().unwrap() as f32, tf[i].as_f64().unwrap() as f32))
                .collect()
        })
        .collect();
    Reference { tokens, positions }
}

fn logits(dequantize: bool, tokens: &[u32]) -> Vec<Vec<f32>> {
    let options = LoadOptions { context_length: Some(512), dequantize, ..Default::default() };
    Model::load(common::default_model(), &options).unwrap().logits(tokens).unwrap()
}

#[test]
fn dequantised_weights_match_transformers_exactly() {
    let r = reference();
    let ours = logits(true, &r.tokens);
    let worst = r
        .positions
        .iter()
        .enumerate()
        .flat_map(|(p, ids)| ids.iter().map(move |&(id, _, tf)| (p, id, tf)))
        .map(|(p, id, tf)| (ours[p][id] - tf).abs())
        .fold(0.0f32, f32::max);
    println!("f32 weights: max |Δlogit| vs transformers {worst:e}");
    assert!(worst <= 1e-3, "differs from transformers by {worst}");
}

#[test]
fn quantised_weights_agree_with_llama_cpp() {
    let r = reference();
    let ours = logits(false, &r.tokens);
    let (mut worst, mut total, mut reference_gap, mut count) = (0.0f32, 0.0f32, 0.0f32, 0usize);
    let (mut clear, mut same_top) = (0usize, 0usize);
    for (p, ids) in r.positions.iter().enumerate() {
        for &(id, lc, tf) in ids {
            let d = (ours[p][id] - lc).abs();
            worst = worst.max(d);
            total += d;
            reference_gap += (tf - lc).abs();
            count += 1;
        }
        // Where llama.cpp's choice is clear (top two a logit apart), ours must be the same.
        if ids[0].1 - ids[1].1 > 1.0 {
            clear += 1;
            if atelier_engine::sampling::argmax(&ours[p]) as usize == ids[0].0 {
                same_top += 1;
            }
        }
    }
    let mean = total / count as f32;
    let gap = reference_gap / count as f32;
    println!(
        "Q4_1: vs llama.cpp mean |Δ| {mean:.3} (transformers-f32 vs llama.cpp: {gap:.3}), max {worst:.3}, \
         same argmax at {same_top}/{clear} clear positions"
    );
    // No further from llama.cpp than the exact f32 reference is: quantisation noise, not a bug.
    assert!(mean <= gap * 1.25, "mean |Δlogit| {mean} vs the references' own gap {gap}");
    assert!(worst <= 2.5, "max |Δlogit| {worst}");
    assert!(clear >= 20, "too few clear positions ({clear}) to judge the ranking");
    assert_eq!(same_top, clear, "argmax differs where llama.cpp is clear");
}

/// The f16 key/value cache (half the memory) against the exact f32 one, same weights, through both
/// attention paths: the prompt's blocked one (over several key tiles and micro-batches) and decode's one
/// query at a time. Rounding keys and values to f16 moves this small model's logits by about 0.15 on
/// average (its attention has large keys): less than Atelier and llama.cpp already differ on the same
/// Q4_1 file (0.21, max 1.2, in the test above). Documented tolerance: mean |Δlogit| ≤ 0.25, max ≤ 2,
/// the same argmax wherever the f32 cache's top two are half a logit apart.
#[test]
fn an_f16_cache_costs_less_accuracy_than_two_engines_differ_by_and_keeps_the_ranking() {
    use atelier_engine::KvCacheType;
    let load = |kv_cache| {
        let options = LoadOptions { context_length: Some(512), kv_cache, ..Default::default() };
        Model::load(common::default_model(), &options).unwrap()
    };
    let (mut exact, mut compact) = (load(KvCacheType::F32), load(KvCacheType::F16));
    assert_eq!(compact.kv_cache_bytes() * 2, exact.kv_cache_bytes());
    let text = "The fog lifted slowly over the harbour, and the first boats went out. ".repeat(10)
        + "Mara counted the masts from the sea wall, as her father had, and named each one aloud. "
        + &"The keeper climbed the stairs at dusk and lit the lamp that had not failed in forty years. ".repeat(8);
    let tokens = exact.tokenizer().encode(&text, true).unwrap();
    // Past one 256-token micro-batch: the second attends to keys the first stored.
    assert!(tokens.len() > 300, "{} tokens: too short to cross a micro-batch", tokens.len());
    let (prefix, rest) = tokens.split_at(tokens.len() - 24);
    let runs = [
        ("prompt", exact.logits(&tokens).unwrap(), compact.logits(&tokens).unwrap()),
        ("decode", exact.logits_continuing(prefix, rest).unwrap(), compact.logits_continuing(prefix, rest).unwrap()),
    ];
    for (path, want, got) in runs {
        let (mut worst, mut total, mut count, mut clear, mut same_top) = (0.0f32, 0.0f32, 0usize, 0usize, 0usize);
        for (w, g) in want.iter().zip(&got) {
            for (a, b) in w.iter().zip(g) {
                worst = worst.max((a - b).abs());
                total += (a - b).abs();
                count += 1;
            }
            let mut sorted = w.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            if sorted[0] - sorted[1] > 0.5 {
                clear += 1;
                same_top += usize::from(atelier_engine::sampling::argmax(w) == atelier_engine::sampling::argmax(g));
            }
        }
        let mean = total / count as f32;
        println!("f16 cache, {path} path over {} positions: max |Δlogit| {worst:.4}, mean {mean:.5}, same argmax at {same_top}/{clear} clear positions", want.len());
        assert!(worst <= 2.0 && mean <= 0.25, "{path}: max {worst}, mean {mean}");
        assert!(worst > 0.0, "{path}: not one logit moved: the cache is not f16");
        assert!(clear * 2 >= want.len(), "{path}: too few clear positions ({clear}) to judge the ranking");
        assert_eq!(same_top, clear, "{path}: the f16 cache changed a clear choice");
    }
}
