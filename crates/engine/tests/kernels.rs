//! Every dispatched CPU kernel against the scalar reference, on random blocks of every type and odd sizes,
//! at every SIMD level this machine has (the scalar level included); and the block layouts against candle's
//! independent port of ggml.

use atelier_engine::cpu::quant::*;
use atelier_engine::cpu::{supported_levels, GemmX8Fn, Kernels, SimdLevel};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use half::f16;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const BLOCK_COUNTS: &[usize] = &[1, 3, 7, 33];

fn random_f32(rng: &mut StdRng, n: usize) -> Vec<f32> {
    // Mostly small values with a few large ones, like real activations.
    (0..n)
        .map(|i| {
            let v: f32 = rng.random_range(-1.0..1.0);
            if i % 37 == 0 { v * 20.0 } else { v }
        })
        .collect()
}

/// Random raw blocks: every bit pattern is a valid encoding except NaN/∞ scales, which we overwrite.
fn random_blocks<T: Copy>(rng: &mut StdRng, n: usize, fix: impl Fn(&mut T, &mut StdRng)) -> Vec<T> {
    let mut bytes = vec![0u8; n * std::mem::size_of::<T>()];
    rng.fill(&mut bytes[..]);
    let mut blocks: Vec<T> = (0..n).map(|i| unsafe { std::ptr::read_unaligned(bytes.as_ptr().add(i * std::mem::size_of::<T>()) as *const T) }).collect();
    for b in &mut blocks {
        fix(b, rng);
    }
    blocks
}

fn scale(rng: &mut StdRng) -> f16 {
    f16::from_f32(rng.random_range(-0.05..0.05))
}

fn levels() -> Vec<Kernels> {
    let levels = supported_levels();
    assert!(levels.contains(&SimdLevel::Scalar));
    println!("testing kernels at {:?}", levels);
    levels.into_iter().map(|l| Kernels::for_level(l).unwrap()).collect()
}

fn assert_close(level: SimdLevel, what: &str, got: f32, want: f32, magnitude: f32) {
    let tolerance = 1e-5 * magnitude.max(1.0);
    assert!((got - want).abs() <= tolerance, "{level:?} {what}: {got} vs scalar {want} (tolerance {tolerance})");
}

fn magnitude(x: &[f32]) -> f32 {
    x.iter().map(|v| v.abs()).sum::<f32>() * 0.05
}

#[test]
fn q4_0_q5_0_q8_0_with_q8_0_activations() {
    let mut rng = StdRng::seed_from_u64(1);
    for kernels in levels() {
        for &n in BLOCK_COUNTS {
            let act = random_f32(&mut rng, n * QK);
            let mut y = vec![BlockQ8_0::default(); n];
            quantize_q8_0(&act, &mut y);
            let m = magnitude(&act);
            let x4 = random_blocks::<BlockQ4_0>(&mut rng, n, |b, r| b.d = scale(r));
            assert_close(kernels.level, "q4_0", unsafe { (kernels.q4_0)(&x4, &y) }, dot_q4_0(&x4, &y), m);
            let x5 = random_blocks::<BlockQ5_0>(&mut rng, n, |b, r| b.d = scale(r));
            assert_close(kernels.level, "q5_0", unsafe { (kernels.q5_0)(&x5, &y) }, dot_q5_0(&x5, &y), m);
            let x8 = random_blocks::<BlockQ8_0>(&mut rng, n, |b, r| b.d = scale(r));
            assert_close(kernels.level, "q8_0", unsafe { (kernels.q8_0)(&x8, &y) }, dot_q8_0(&x8, &y), m * 10.0);
        }
    }
}

#[test]
fn q4_1_q5_1_with_q8_1_activations() {
    let mut rng = StdRng::seed_from_u64(2);
    for kernels in levels() {
        for &n in BLOCK_COUNTS {
            let act = random_f32(&mut rng, n * QK);
            let mut y = vec![BlockQ8_1::default(); n];
            quantize_q8_1(&act, &mut y);
            let m = magnitude(&act);
            let x4 = random_blocks::<BlockQ4_1>(&mut rng, n, |b, r| {
                b.d = scale(r);
                b.m = scale(r);
            });
            assert_close(kernels.level, "q4_1", unsafe { (kernels.q4_1)(&x4, &y) }, dot_q4_1(&x4, &y), m);
            let x5 = random_blocks::<BlockQ5_1>(&mut rng, n, |b, r| {
                b.d = scale(r);
                b.m = scale(r);
            });
            assert_close(kernels.level, "q5_1", unsafe { (kernels.q5_1)(&x5, &y) }, dot_q5_1(&x5, &y), m);
        }
    }
}

#[test]
fn k_quants_with_q8_k_activations() {
    let mut rng = StdRng::seed_from_u64(3);
    for kernels in levels() {
        for &n in &BLOCK_COUNTS[..3] {
            let act = random_f32(&mut rng, n * QK_K);
            let mut y = vec![BlockQ8K::default(); n];
            quantize_q8_k(&act, &mut y);
            let m = magnitude(&act) * 4.0;
            let x4 = random_blocks::<BlockQ4K>(&mut rng, n, |b, r| {
                b.d = scale(r);
                b.dmin = scale(r);
            });
            assert_close(kernels.level, "q4_k", unsafe { (kernels.q4_k)(&x4, &y) }, dot_q4_k(&x4, &y), m);
            let x5 = random_blocks::<BlockQ5K>(&mut rng, n, |b, r| {
                b.d = scale(r);
                b.dmin = scale(r);
            });
            assert_close(kernels.level, "q5_k", unsafe { (kernels.q5_k)(&x5, &y) }, dot_q5_k(&x5, &y), m);
            let x6 = random_blocks::<BlockQ6K>(&mut rng, n, |b, r| b.d = scale(r));
            assert_close(kernels.level, "q6_k", unsafe { (kernels.q6_k)(&x6, &y) }, dot_q6_k(&x6, &y), m);
        }
    }
}

/// Q4_K repacked into eight-row interleaved blocks: the layout round-trips (dequantised rows equal the
/// originals'), the scalar interleaved GEMM equals the row-by-row dot, and every level's dispatched GEMM
/// equals it for 1..=9 activation rows (full 4-row tiles and every remainder).
#[test]
fn q4_k_interleaved_gemm() {
    let mut rng = StdRng::seed_from_u64(7);
    for &nb in &BLOCK_COUNTS[..3] {
        let rows = random_blocks::<BlockQ4K>(&mut rng, 8 * nb, |b, r| {
            b.d = scale(r);
            b.dmin = scale(r);
        });
        let mut packed = vec![BlockQ4Kx8 { d: [f16::ZERO; 8], dmin: [f16::ZERO; 8], scales: [[0; 8]; 8], mins: [0; 64], qs: [0; QK_K * 4] }; nb];
        repack_q4_k_x8(&rows, &mut packed);
        for r in 0..8 {
            let (mut want, mut got) = (vec![0f32; nb * QK_K], vec![0f32; nb * QK_K]);
            dequantize_q4_k(&rows[r * nb..(r + 1) * nb], &mut want);
            dequantize_q4_k_x8_row(&packed, r, &mut got);
            assert_eq!(got, want, "row {r} of {nb} blocks after repacking");
        }
        let m = 9;
        let act = random_f32(&mut rng, m * nb * QK_K);
        let mut ys = vec![BlockQ8K::default(); m * nb];
        quantize_q8_k(&act, &mut ys);
        let magnitude = magnitude(&act) * 4.0;
        let mut reference = vec![0f32; 8 * m];
        gemm_q4_k_x8(&packed, &ys, &mut reference);
        for t in 0..m {
            for r in 0..8 {
                let want = dot_q4_k(&rows[r * nb..(r + 1) * nb], &ys[t * nb..(t + 1) * nb]);
                assert_close(SimdLevel::Scalar, "q4_k x8 reference", reference[t * 8 + r], want, magnitude);
            }
        }
        for kernels in levels() {
            let Some(gemm) = kernels.q4_k_x8 else { continue };
            for rows_of_activations in 1..=m {
                let mut got = vec![f32::NAN; 8 * rows_of_activations];
                unsafe { gemm(&packed, &ys[..rows_of_activations * nb], &mut got) };
                for (i, (got, want)) in got.iter().zip(&reference).enumerate() {
                    assert_close(kernels.level, &format!("q4_k x8, {rows_of_activations} rows, output {i}"), *got, *want, magnitude);
                }
            }
        }
    }
}

/// One format interleaved for its GEMM tile: every row reads back unchanged after repacking, the
/// scalar tile reference agrees with the row dot product (within `row_tolerance` × magnitude: the Q4_0
/// and Q5_0 tiles take their offset through Q8_1's f16 activation sum), and every level's tile agrees
/// with the reference, for 1..=9 activation rows (full 4-row tiles and every remainder).
struct Interleaved<S, P, A> {
    name: &'static str,
    /// Values per weight block (and per activation block).
    block: usize,
    quantize: fn(&[f32], &mut [A]),
    seed: u64,
    fix: fn(&mut S, &mut StdRng),
    empty: P,
    repack: fn(&[S], &mut [P]),
    dequantize: fn(&[S], &mut [f32]),
    dequantize_x8_row: fn(&[P], usize, &mut [f32]),
    reference: fn(&[P], &[A], &mut [f32]),
    row_dot: fn(&[S], &[A]) -> f32,
    row_tolerance: f32,
    tile: fn(&Kernels) -> Option<GemmX8Fn<P, A>>,
}

impl<S: Copy, P: Copy, A: Copy + Default> Interleaved<S, P, A> {
    fn check(&self) {
        let mut rng = StdRng::seed_from_u64(self.seed);
        for &nb in BLOCK_COUNTS {
            let rows = random_blocks::<S>(&mut rng, 8 * nb, self.fix);
            let mut packed = vec![self.empty; nb];
            (self.repack)(&rows, &mut packed);
            for r in 0..8 {
                let (mut want, mut got) = (vec![0f32; nb * self.block], vec![0f32; nb * self.block]);
                (self.dequantize)(&rows[r * nb..(r + 1) * nb], &mut want);
                (self.dequantize_x8_row)(&packed, r, &mut got);
                assert_eq!(got, want, "{}: row {r} of {nb} blocks after repacking", self.name);
            }
            let m = 9;
            let act = random_f32(&mut rng, m * nb * self.block);
            let mut ys = vec![A::default(); m * nb];
            (self.quantize)(&act, &mut ys);
            let mut reference = vec![0f32; 8 * m];
            (self.reference)(&packed, &ys, &mut reference);
            for t in 0..m {
                let magnitude = magnitude(&act[t * nb * self.block..(t + 1) * nb * self.block]);
                for r in 0..8 {
                    let want = (self.row_dot)(&rows[r * nb..(r + 1) * nb], &ys[t * nb..(t + 1) * nb]);
                    let got = reference[t * 8 + r];
                    let tolerance = self.row_tolerance * magnitude.max(1.0);
                    assert!((got - want).abs() <= tolerance, "{} x8 reference, row {r}: {got} vs row dot {want} (tolerance {tolerance})", self.name);
                }
            }
            // Relative to the outputs too: Q6_K's scales make them large, and a fused multiply-add rounds
            // differently from the reference's multiply then add.
            let magnitude = magnitude(&act).max(reference.iter().fold(0f32, |m, v| m.max(v.abs())));
            for kernels in levels() {
                let Some(gemm) = (self.tile)(&kernels) else { continue };
                for rows_of_activations in 1..=m {
                    let mut got = vec![f32::NAN; 8 * rows_of_activations];
                    unsafe { gemm(&packed, &ys[..rows_of_activations * nb], &mut got) };
                    for (i, (got, want)) in got.iter().zip(&reference).enumerate() {
                        assert_close(kernels.level, &format!("{} x8, {rows_of_activations} rows, output {i}", self.name), *got, *want, magnitude);
                    }
                }
            }
        }
    }
}

/// Q8_1 activations as Q8_0 (the same quants and scale, without the sum): what the row dot of Q4_0 and
/// Q5_0 takes.
fn as_q8_0(ys: &[BlockQ8_1]) -> Vec<BlockQ8_0> {
    ys.iter().map(|y| BlockQ8_0 { d: y.d, qs: y.qs }).collect()
}

/// Q4_1 (the embedded model's format) interleaved the same way, checked the same way.
#[test]
fn q4_1_interleaved_gemm() {
    Interleaved {
        name: "q4_1",
        block: QK,
        quantize: quantize_q8_1,
        seed: 8,
        fix: |b: &mut BlockQ4_1, r| {
            b.d = scale(r);
            b.m = scale(r);
        },
        empty: BlockQ4_1x8 { d: [f16::ZERO; 8], m: [f16::ZERO; 8], qs: [0; QK * 4] },
        repack: repack_q4_1_x8,
        dequantize: dequantize_q4_1,
        dequantize_x8_row: dequantize_q4_1_x8_row,
        reference: gemm_q4_1_x8,
        row_dot: dot_q4_1,
        row_tolerance: 1e-5,
        tile: |k| k.q4_1_x8,
    }
    .check();
}

/// Q4_0 and Q5_0 (most of llama.cpp's Q4_K_M of a model whose rows are no multiple of 256).
#[test]
fn q4_0_and_q5_0_interleaved_gemm() {
    Interleaved {
        name: "q4_0",
        block: QK,
        quantize: quantize_q8_1,
        seed: 9,
        fix: |b: &mut BlockQ4_0, r| b.d = scale(r),
        empty: BlockQ4_0x8 { d: [f16::ZERO; 8], qs: [0; QK * 4] },
        repack: repack_q4_0_x8,
        dequantize: dequantize_q4_0,
        dequantize_x8_row: dequantize_q4_0_x8_row,
        reference: gemm_q4_0_x8,
        row_dot: |x, ys| dot_q4_0(x, &as_q8_0(ys)),
        row_tolerance: 1e-2,
        tile: |k| k.q4_0_x8,
    }
    .check();
    Interleaved {
        name: "q5_0",
        block: QK,
        quantize: quantize_q8_1,
        seed: 10,
        fix: |b: &mut BlockQ5_0, r| b.d = scale(r),
        empty: BlockQ5_0x8 { d: [f16::ZERO; 8], qh: [0; 8], qs: [0; QK * 4] },
        repack: repack_q5_0_x8,
        dequantize: dequantize_q5_0,
        dequantize_x8_row: dequantize_q5_0_x8_row,
        reference: gemm_q5_0_x8,
        row_dot: |x, ys| dot_q5_0(x, &as_q8_0(ys)),
        row_tolerance: 1e-2,
        tile: |k| k.q5_0_x8,
    }
    .check();
}

/// Q6_K (the output head and half the `ffn_down` of a Q4_K_M file), as compact as Q6_K itself.
#[test]
fn q6_k_interleaved_gemm() {
    Interleaved {
        name: "q6_k",
        block: QK_K,
        quantize: quantize_q8_k,
        seed: 11,
        fix: |b: &mut BlockQ6K, r| b.d = scale(r),
        empty: BlockQ6Kx8 { d: [f16::ZERO; 8], scales: [0; 128], ql: [0; QK_K * 4], qh: [0; QK_K * 2] },
        repack: repack_q6_k_x8,
        dequantize: dequantize_q6_k,
        dequantize_x8_row: dequantize_q6_k_x8_row,
        reference: gemm_q6_k_x8,
        row_dot: dot_q6_k,
        row_tolerance: 1e-4,
        tile: |k| k.q6_k_x8,
    }
    .check();
}

/// Q5_K (most of a Q5_K_M file): Q4_K's layout with a fifth bit, one `qh` load per eight `qs` loads.
#[test]
fn q5_k_interleaved_gemm() {
    Interleaved {
        name: "q5_k",
        block: QK_K,
        quantize: quantize_q8_k,
        seed: 13,
        fix: |b: &mut BlockQ5K, r| {
            b.d = scale(r);
            b.dmin = scale(r);
        },
        empty: BlockQ5Kx8 {
            low: BlockQ4Kx8 { d: [f16::ZERO; 8], dmin: [f16::ZERO; 8], scales: [[0; 8]; 8], mins: [0; 64], qs: [0; QK_K * 4] },
            qh: [0; QK_K],
        },
        repack: repack_q5_k_x8,
        dequantize: dequantize_q5_k,
        dequantize_x8_row: dequantize_q5_k_x8_row,
        reference: gemm_q5_k_x8,
        row_dot: dot_q5_k,
        row_tolerance: 1e-4,
        tile: |k| k.q5_k_x8,
    }
    .check();
}

/// Q8_0 (llama.cpp's Q8_0 downloads, and a Q4_K_M's Q6_K tensors whose rows are no multiple of 256):
/// random quants include -128, whose magnitude the tile's sign trick must still take exactly.
#[test]
fn q8_0_interleaved_gemm() {
    Interleaved {
        name: "q8_0",
        block: QK,
        quantize: quantize_q8_0,
        seed: 12,
        fix: |b: &mut BlockQ8_0, r| b.d = scale(r),
        empty: BlockQ8_0x8 { d: [f16::ZERO; 8], qs: [0; QK * 8] },
        repack: repack_q8_0_x8,
        dequantize: dequantize_q8_0,
        dequantize_x8_row: dequantize_q8_0_x8_row,
        reference: gemm_q8_0_x8,
        row_dot: dot_q8_0,
        row_tolerance: 1e-5,
        tile: |k| k.q8_0_x8,
    }
    .check();
}

#[test]
fn float_dots_at_odd_lengths() {
    let mut rng = StdRng::seed_from_u64(4);
    for kernels in levels() {
        for n in [1, 7, 8, 33, 100, 257] {
            let x = random_f32(&mut rng, n);
            let y = random_f32(&mut rng, n);
            let want: f32 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
            assert_close(kernels.level, "f32", unsafe { (kernels.f32)(&x, &y) }, want, magnitude(&x) * 10.0);
            let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
            let want_h: f32 = xh.iter().zip(&y).map(|(a, b)| a.to_f32() * b).sum();
            assert_close(kernels.level, "f16", unsafe { (kernels.f16)(&xh, &y) }, want_h, magnitude(&x) * 10.0);
        }
    }
}

/// The values tile: every output element takes one multiply-add per key, in key order (fused where the
/// level has FMA), exactly; widths that are no multiple of 64 included.
#[test]
fn the_values_tile_adds_each_weighted_value_in_order() {
    let mut rng = StdRng::seed_from_u64(6);
    for kernels in levels() {
        let fused = kernels.level != SimdLevel::Scalar;
        for width in [64, 128, 80, 256, 7, 70] {
            for keys in [1, 5, 64] {
                let weights = random_f32(&mut rng, keys);
                let values = random_f32(&mut rng, keys * width);
                let start = random_f32(&mut rng, width);
                let mut want = start.clone();
                for (j, &w) in weights.iter().enumerate() {
                    for (y, &v) in want.iter_mut().zip(&values[j * width..(j + 1) * width]) {
                        *y = if fused { w.mul_add(v, *y) } else { *y + w * v };
                    }
                }
                let mut got = start.clone();
                unsafe { (kernels.attn_values)(&weights, &values, &mut got) };
                assert_eq!(got, want, "{:?}: width {width}, {keys} keys", kernels.level);
            }
        }
    }
}

#[test]
fn activation_quantisers_agree_with_the_reference() {
    let mut rng = StdRng::seed_from_u64(5);
    for kernels in levels() {
        let act = random_f32(&mut rng, 8 * QK_K);
        let (mut a, mut b) = (vec![BlockQ8_0::default(); 64], vec![BlockQ8_0::default(); 64]);
        quantize_q8_0(&act, &mut a);
        unsafe { (kernels.quantize_q8_0)(&act, &mut b) };
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.d, y.d);
            // SIMD rounds ties to even, the reference away from zero: at most one step apart.
            assert!(x.qs.iter().zip(&y.qs).all(|(p, q)| (*p as i16 - *q as i16).abs() <= 1), "{:?}", kernels.level);
        }
        let (mut a, mut b) = (vec![BlockQ8_1::default(); 64], vec![BlockQ8_1::default(); 64]);
        quantize_q8_1(&act, &mut a);
        unsafe { (kernels.quantize_q8_1)(&act, &mut b) };
        for (x, y) in a.iter().zip(&b) {
            let sum: i32 = y.qs.iter().map(|&q| q as i32).sum();
            assert!((y.s.to_f32() - y.d.to_f32() * sum as f32).abs() <= 1e-2 * y.s.to_f32().abs().max(1e-3));
            assert_eq!(x.d, y.d);
        }
        let (mut a, mut b) = (vec![BlockQ8K::default(); 8], vec![BlockQ8K::default(); 8]);
        quantize_q8_k(&act, &mut a);
        unsafe { (kernels.quantize_q8_k)(&act, &mut b) };
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.d, y.d);
            assert_eq!(x.bsums, y.bsums);
        }
    }
}

/// Our block layouts and dequantisation equal candle's (an independent port of ggml's reference code).
#[test]
fn dequantisation_matches_candle_for_every_type() {
    let mut rng = StdRng::seed_from_u64(6);
    let types = [
        (GgmlDType::Q4_0, WeightType::Q4_0),
        (GgmlDType::Q4_1, WeightType::Q4_1),
        (GgmlDType::Q5_0, WeightType::Q5_0),
        (GgmlDType::Q5_1, WeightType::Q5_1),
        (GgmlDType::Q8_0, WeightType::Q8_0),
        (GgmlDType::Q4K, WeightType::Q4K),
        (GgmlDType::Q5K, WeightType::Q5K),
        (GgmlDType::Q6K, WeightType::Q6K),
        (GgmlDType::F16, WeightType::F16),
    ];
    for (candle_type, ours) in types {
        let cols = 3 * QK_K;
        let values = random_f32(&mut rng, 2 * cols);
        let tensor = Tensor::from_vec(values, (2, cols), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&tensor, candle_type).unwrap();
        let bytes = q.data().unwrap().into_owned();
        let want: Vec<f32> = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let row_bytes = ours.row_bytes(cols);
        assert_eq!(bytes.len(), 2 * row_bytes, "{ours:?} row size");
        // Copy into u32-aligned storage, as the loader guarantees.
        let mut aligned = vec![0u32; bytes.len().div_ceil(4)];
        let view = unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr() as *mut u8, bytes.len()) };
        view.copy_from_slice(&bytes);
        let mut got = vec![0f32; 2 * cols];
        for r in 0..2 {
            dequantize_row(ours, &view[r * row_bytes..(r + 1) * row_bytes], &mut got[r * cols..(r + 1) * cols]);
        }
        assert_eq!(got, want, "{ours:?}");
    }
}
