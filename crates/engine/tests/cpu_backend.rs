//! Atelier's CPU path against candle's, for every weight type it supports: one matrix product at a time
//! (tight: the only difference is how each rounds the 8-bit activations), and whole random-weight models
//! written by the tests' own GGUF writer (loose for quantised weights: activation quantisation is a step
//! function, so a rounding flip in one layer moves later layers by a quantisation step).

use atelier_engine::cpu::matmul::{matmul, QMatrix, Storage};
use atelier_engine::cpu::quant::WeightType;
use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::{LoadOptions, Model};
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TYPES: [(GgmlDType, WeightType); 10] = [
    (GgmlDType::F32, WeightType::F32),
    (GgmlDType::F16, WeightType::F16),
    (GgmlDType::Q4_0, WeightType::Q4_0),
    (GgmlDType::Q4_1, WeightType::Q4_1),
    (GgmlDType::Q5_0, WeightType::Q5_0),
    (GgmlDType::Q5_1, WeightType::Q5_1),
    (GgmlDType::Q8_0, WeightType::Q8_0),
    (GgmlDType::Q4K, WeightType::Q4K),
    (GgmlDType::Q5K, WeightType::Q5K),
    (GgmlDType::Q6K, WeightType::Q6K),
];

/// Each product against exact arithmetic (f64 over the dequantised weights): the error may not exceed what
/// rounding the activations to 8 bits can cause, Σ|w|·(block max/254), a bound candle meets as well.
#[test]
fn matrix_products_are_exact_up_to_activation_rounding_for_every_weight_type() {
    let mut rng = StdRng::seed_from_u64(9);
    let cols = 512;
    // 96 rows: Q4_K runs repacked in eight-row tiles where the CPU has that GEMM (9 activation rows: two
    // full tiles and a remainder); 100 rows: the row-by-row path.
    for (rows, m) in [(96, 1), (96, 9), (100, 5)] {
        for (candle_type, ours) in TYPES {
            let w: Vec<f32> = (0..rows * cols).map(|_| rng.random_range(-1.0..1.0)).collect();
            let x: Vec<f32> = (0..m * cols).map(|_| rng.random_range(-2.0..2.0)).collect();
            let q = QTensor::quantize(&Tensor::from_vec(w, (rows, cols), &Device::Cpu).unwrap(), candle_type).unwrap();
            let bytes = q.data().unwrap().into_owned();
            let wq: Vec<f32> = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            let xt = Tensor::from_vec(x.clone(), (m, cols), &Device::Cpu).unwrap();
            let candle: Vec<f32> = QMatMul::from_qtensor(q).unwrap().forward(&xt).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            let matrix = QMatrix::new(ours, rows, cols, Storage::owned(&bytes), 0).unwrap();
            let mut got = vec![0f32; m * rows];
            matmul(&matrix, &x, &mut got);

            let block = ours.activation().block_len().max(1);
            let quantised = !matches!(ours, WeightType::F32 | WeightType::F16);
            for t in 0..m {
                let xs = &x[t * cols..(t + 1) * cols];
                for r in 0..rows {
                    let ws = &wq[r * cols..(r + 1) * cols];
                    let exact: f64 = ws.iter().zip(xs).map(|(a, b)| *a as f64 * *b as f64).sum();
                    let mut bound = 1e-4 * ws.iter().map(|v| v.abs()).sum::<f32>() as f64;
                    if quantised {
                        for (wb, xb) in ws.chunks(block).zip(xs.chunks(block)) {
                            let amax = xb.iter().fold(0.0f32, |a, v| a.max(v.abs())) as f64;
                            bound += wb.iter().map(|v| v.abs() as f64).sum::<f64>() * amax / 254.0;
                        }
                    }
                    let (ours_v, candle_v) = (got[t * rows + r] as f64, candle[t * rows + r] as f64);
                    assert!((ours_v - exact).abs() <= bound, "{ours:?} m={m} [{t},{r}]: {ours_v} vs exact {exact} (bound {bound})");
                    assert!((candle_v - exact).abs() <= bound, "candle {ours:?} [{t},{r}] outside the bound too");
                }
            }
        }
    }
}

fn spec(weight_type: GgmlDType) -> SyntheticSpec {
    // Dimensions that are multiples of 256, as k-quants need.
    SyntheticSpec {
        n_embd: 256,
        n_ff: 512,
        n_head: 8,
        n_kv_head: 4,
        head_dim: 32,
        weight_type,
        ..SyntheticSpec::tiny_llama()
    }
}

fn max_relative_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    let scale = b.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
}

#[test]
fn own_kernels_agree_with_candle_for_every_weight_type() {
    let dir = tempfile::tempdir().unwrap();
    for (ty, _) in TYPES {
        let path = dir.path().join(format!("{ty:?}.gguf"));
        spec(ty).write(&path).unwrap();
        let mut ours = Model::load(&path, &LoadOptions::default()).unwrap();
        let mut candle = Model::load(&path, &LoadOptions { candle_on_cpu: true, ..Default::default() }).unwrap();
        assert_eq!(ours.backend_name(), "atelier-cpu");
        assert_eq!(candle.backend_name(), "candle");
        let tokens: Vec<u32> = (0..40).map(|i| (i * 37 + 11) % 300).collect();
        let a = ours.logits(&tokens).unwrap();
        let b = candle.logits(&tokens).unwrap();
        let diff = max_relative_diff(&a, &b);
        println!("{ty:?}: max |Δ| / max |logit| = {diff:e}");
        // f32/f16 weights are exact; quantised ones within a few activation-quantisation steps.
        let tolerance = if matches!(ty, GgmlDType::F32 | GgmlDType::F16) { 1e-4 } else { 0.1 };
        assert!(diff <= tolerance, "{ty:?}: relative difference {diff}");
        // The decode path (one token at a time through the cache) agrees with the batch.
        let incremental = ours.logits_continuing(&tokens[..30], &tokens[30..]).unwrap();
        let diff = max_relative_diff(&incremental, &a[30..]);
        assert!(diff <= 1e-3, "{ty:?}: incremental vs batch {diff}");
    }
}

#[test]
fn a_chosen_thread_count_gives_the_same_logits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q4k.gguf");
    spec(GgmlDType::Q4K).write(&path).unwrap();
    let tokens: Vec<u32> = (0..24).map(|i| (i * 13 + 5) % 300).collect();
    let all = Model::load(&path, &LoadOptions::default()).unwrap().logits(&tokens).unwrap();
    let mut one = Model::load(&path, &LoadOptions { threads: Some(1), ..Default::default() }).unwrap();
    assert!(one.device_name().contains("1 threads"), "{}", one.device_name());
    assert_eq!(one.logits(&tokens).unwrap(), all);
}

#[test]
fn a_prompt_longer_than_a_micro_batch_agrees_with_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f32.gguf");
    SyntheticSpec { context_length: 640, ..spec(GgmlDType::F32) }.write(&path).unwrap();
    // 600 tokens: three micro-batches of ours (the last one partial) against candle's single batch.
    let tokens: Vec<u32> = (0..600).map(|i| (i * 37 + 11) % 300).collect();
    let options = LoadOptions { context_length: Some(640), ..Default::default() };
    let ours = Model::load(&path, &options).unwrap().logits(&tokens).unwrap();
    let candle = Model::load(&path, &LoadOptions { candle_on_cpu: true, ..options }).unwrap().logits(&tokens).unwrap();
    assert_eq!(ours.len(), 600);
    let diff = max_relative_diff(&ours, &candle);
    assert!(diff <= 1e-4, "micro-batched vs one batch: {diff}");
}
