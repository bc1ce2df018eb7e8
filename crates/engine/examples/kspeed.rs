use atelier_engine::cpu::matmul::{matmul, QMatrix, Storage};
use std::time::Instant;
fn main() {
    let (rows, cols) = (1536 * 30, 576);
    let bytes = vec![0x5au8; rows * WeightType::Q4_1.row_bytes(cols)];
    let m = QMatrix::new(WeightType::Q4_1, rows, cols, Storage::owned(&bytes), 0).unwrap();
    let x: Vec<f32> = (0..cols).map(|i| (i as f32).sin()).collect();
    let mut out = vec![0f32; rows];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        pool.install(|| matmul(&m, &x, &mut out));
        let e = t.elapsed().as_secs_f64();
        let blocks = rows * cols / 32;
        println!("big: {:.2} ms, {:.1} cycles/block @2.8GHz, {:.1} GB/s", e * 1e3, e * 2.8e9 / blocks as f64, bytes.len() as f64 / e / 1e9);
    }
    // In-cache: small matrix many times.
    let small_rows = 64;
    let ms = QMatrix::new(WeightType::Q4_1, small_rows, cols, Storage::owned(&bytes[..small_rows * WeightType::Q4_1.row_bytes(cols)]), 0).unwrap();
    let mut o2 = vec![0f32; small_rows];
    let t = Instant::now();
    for _ in 0..10000 { pool.install(|| matmul(&ms, &x, &mut o2)); }
    let e = t.elapsed().as_secs_f64();
    println!("cached: {:.1} cycles/block", e * 2.8e9 / (10000.0 * (small_rows * cols / 32) as f64));
    use atelier_engine::cpu::quant::*;
    let k = atelier_engine::cpu::kernels();
    let xb: Vec<BlockQ4_1> = vec![BlockQ4_1 { d: half::f16::from_f32(0.1), m: half::f16::from_f32(0.01), qs: [0x5a; 16] }; 18];
    let mut yb = vec![BlockQ8_1::default(); 18];
    quantize_q8_1(&x, &mut yb);
    let t = Instant::now();
    let mut s = 0.0;
    for _ in 0..1_000_000 { s += unsafe { (k.q4_1)(std::hint::black_box(&xb), std::hint::black_box(&yb)) }; }
    let e = t.elapsed().as_secs_f64();
    println!("kernel only: {:.2} cycles/block ({s})", e * 2.8e9 / 18e6);
}
#[allow(dead_code)]
fn unused() {}
