//! Scalar arithmetic on the block formats, as ggml's reference code does it: quantising activations, dot
//! products of a weight row with quantised activations, the interleaved GEMM, and dequantisation. The SIMD
//! kernels in `x86`/`aarch64` must agree with these; they also run where no SIMD kernel exists.

use half::f16;

use super::blocks::*;

// ---------------------------------------------------------------------------------------------------
// Quantising activations (scalar reference; ggml's *_ref functions).

pub fn quantize_q8_0(x: &[f32], out: &mut [BlockQ8_0]) {
    for (block, xs) in out.iter_mut().zip(x.chunks_exact(QK)) {
        let amax = xs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        block.d = f16::from_f32(d);
        for (q, v) in block.qs.iter_mut().zip(xs) {
            *q = (v * id).round() as i8;
        }
    }
}

pub fn quantize_q8_1(x: &[f32], out: &mut [BlockQ8_1]) {
    for (block, xs) in out.iter_mut().zip(x.chunks_exact(QK)) {
        let amax = xs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let mut sum = 0i32;
        for (q, v) in block.qs.iter_mut().zip(xs) {
            *q = (v * id).round() as i8;
            sum += *q as i32;
        }
        block.d = f16::from_f32(d);
        block.s = f16::from_f32(d * sum as f32);
    }
}

pub fn quantize_q8_k(x: &[f32], out: &mut [BlockQ8K]) {
    for (block, xs) in out.iter_mut().zip(x.chunks_exact(QK_K)) {
        let (mut amax, mut max) = (0.0f32, 0.0f32);
        for &v in xs {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        if amax == 0.0 {
            *block = BlockQ8K::default();
            continue;
        }
        let iscale = -128.0 / max;
        for (q, v) in block.qs.iter_mut().zip(xs) {
            *q = (iscale * v).round().min(127.0) as i8;
        }
        for (j, sum) in block.bsums.iter_mut().enumerate() {
            *sum = block.qs[j * 16..(j + 1) * 16].iter().map(|&q| q as i16).sum();
        }
        block.d = 1.0 / iscale;
    }
}

// ---------------------------------------------------------------------------------------------------
// Dot products of one weight row with one quantised activation row (scalar reference).

pub fn dot_q4_0(x: &[BlockQ4_0], y: &[BlockQ8_0]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(x, y)| {
            let mut sum = 0i32;
            for j in 0..QK / 2 {
                let lo = (x.qs[j] & 0x0F) as i32 - 8;
                let hi = (x.qs[j] >> 4) as i32 - 8;
                sum += lo * y.qs[j] as i32 + hi * y.qs[j + QK / 2] as i32;
            }
            sum as f32 * x.d.to_f32() * y.d.to_f32()
        })
        .sum()
}

pub fn dot_q4_1(x: &[BlockQ4_1], y: &[BlockQ8_1]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(x, y)| {
            let mut sum = 0i32;
            for j in 0..QK / 2 {
                sum += (x.qs[j] & 0x0F) as i32 * y.qs[j] as i32 + (x.qs[j] >> 4) as i32 * y.qs[j + QK / 2] as i32;
            }
            sum as f32 * x.d.to_f32() * y.d.to_f32() + x.m.to_f32() * y.s.to_f32()
        })
        .sum()
}

pub fn dot_q5_0(x: &[BlockQ5_0], y: &[BlockQ8_0]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(x, y)| {
            let qh = u32::from_le_bytes(x.qh);
            let mut sum = 0i32;
            for j in 0..QK / 2 {
                let h0 = (((qh >> j) << 4) & 0x10) as u8;
                let h1 = ((qh >> (j + 12)) & 0x10) as u8;
                let lo = ((x.qs[j] & 0x0F) | h0) as i32 - 16;
                let hi = ((x.qs[j] >> 4) | h1) as i32 - 16;
                sum += lo * y.qs[j] as i32 + hi * y.qs[j + QK / 2] as i32;
            }
            sum as f32 * x.d.to_f32() * y.d.to_f32()
        })
        .sum()
}

pub fn dot_q5_1(x: &[BlockQ5_1], y: &[BlockQ8_1]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(x, y)| {
            let qh = u32::from_le_bytes(x.qh);
            let mut sum = 0i32;
            for j in 0..QK / 2 {
                let h0 = (((qh >> j) << 4) & 0x10) as u8;
                let h1 = ((qh >> (j + 12)) & 0x10) as u8;
                let lo = ((x.qs[j] & 0x0F) | h0) as i32;
                let hi = ((x.qs[j] >> 4) | h1) as i32;
                sum += lo * y.qs[j] as i32 + hi * y.qs[j + QK / 2] as i32;
            }
            sum as f32 * x.d.to_f32() * y.d.to_f32() + x.m.to_f32() * y.s.to_f32()
        })
        .sum()
}

pub fn dot_q8_0(x: &[BlockQ8_0], y: &[BlockQ8_0]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(x, y)| {
            let sum: i32 = x.qs.iter().zip(&y.qs).map(|(&a, &b)| a as i32 * b as i32).sum();
            sum as f32 * x.d.to_f32() * y.d.to_f32()
        })
        .sum()
}

pub fn dot_q4_k(x: &[BlockQ4K], y: &[BlockQ8K]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(x, y)| {
            let (mut sum_q, mut sum_m) = (0i32, 0i32);
            for pair in 0..4 {
                let q = &x.qs[pair * 32..pair * 32 + 32];
                let (sc0, m0) = scale_min_k4(2 * pair, &x.scales);
                let (sc1, m1) = scale_min_k4(2 * pair + 1, &x.scales);
                let a = &y.qs[pair * 64..pair * 64 + 64];
                let lo: i32 = (0..32).map(|l| (q[l] & 0x0F) as i32 * a[l] as i32).sum();
                let hi: i32 = (0..32).map(|l| (q[l] >> 4) as i32 * a[l + 32] as i32).sum();
                sum_q += sc0 as i32 * lo + sc1 as i32 * hi;
                let bs = &y.bsums[pair * 4..pair * 4 + 4];
                sum_m += m0 as i32 * (bs[0] + bs[1]) as i32 + m1 as i32 * (bs[2] + bs[3]) as i32;
            }
            y.d * (x.d.to_f32() * sum_q as f32 - x.dmin.to_f32() * sum_m as f32)
        })
        .sum()
}

pub fn dot_q5_k(x: &[BlockQ5K], y: &[BlockQ8K]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(x, y)| {
            let (mut sum_q, mut sum_m) = (0i32, 0i32);
            for pair in 0..4 {
                let q = &x.qs[pair * 32..pair * 32 + 32];
                let (u1, u2) = (1u8 << (2 * pair), 2u8 << (2 * pair));
                let (sc0, m0) = scale_min_k4(2 * pair, &x.scales);
                let (sc1, m1) = scale_min_k4(2 * pair + 1, &x.scales);
                let a = &y.qs[pair * 64..pair * 64 + 64];
                let lo: i32 = (0..32)
                    .map(|l| ((q[l] & 0x0F) + if x.qh[l] & u1 != 0 { 16 } else { 0 }) as i32 * a[l] as i32)
                    .sum();
                let hi: i32 = (0..32)
                    .map(|l| ((q[l] >> 4) + if x.qh[l] & u2 != 0 { 16 } else { 0 }) as i32 * a[l + 32] as i32)
                    .sum();
                sum_q += sc0 as i32 * lo + sc1 as i32 * hi;
                let bs = &y.bsums[pair * 4..pair * 4 + 4];
                sum_m += m0 as i32 * (bs[0] + bs[1]) as i32 + m1 as i32 * (bs[2] + bs[3]) as i32;
            }
            y.d * (x.d.to_f32() * sum_q as f32 - x.dmin.to_f32() * sum_m as f32)
        })
        .sum()
}

pub fn dot_q6_k(x: &[BlockQ6K], y: &[BlockQ8K]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(x, y)| {
            let q = q6_k_values(x);
            let mut sum = 0i32;
            for (j, &scale) in x.scales.iter().enumerate() {
                let s: i32 = (j * 16..j * 16 + 16).map(|l| q[l] as i32 * y.qs[l] as i32).sum();
                sum += scale as i32 * s;
            }
            x.d.to_f32() * y.d * sum as f32
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------------
// Dequantisation (embedding rows, tests).

pub fn dequantize_q4_0(x: &[BlockQ4_0], out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let d = b.d.to_f32();
        for j in 0..QK / 2 {
            o[j] = ((b.qs[j] & 0x0F) as i32 - 8) as f32 * d;
            o[j + QK / 2] = ((b.qs[j] >> 4) as i32 - 8) as f32 * d;
        }
    }
}

pub fn dequantize_q4_1(x: &[BlockQ4_1], out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let (d, m) = (b.d.to_f32(), b.m.to_f32());
        for j in 0..QK / 2 {
            o[j] = (b.qs[j] & 0x0F) as f32 * d + m;
            o[j + QK / 2] = (b.qs[j] >> 4) as f32 * d + m;
        }
    }
}

pub fn dequantize_q5_0(x: &[BlockQ5_0], out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let d = b.d.to_f32();
        let qh = u32::from_le_bytes(b.qh);
        for j in 0..QK / 2 {
            let h0 = (((qh >> j) << 4) & 0x10) as u8;
            let h1 = ((qh >> (j + 12)) & 0x10) as u8;
            o[j] = (((b.qs[j] & 0x0F) | h0) as i32 - 16) as f32 * d;
            o[j + QK / 2] = (((b.qs[j] >> 4) | h1) as i32 - 16) as f32 * d;
        }
    }
}

pub fn dequantize_q5_1(x: &[BlockQ5_1], out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let (d, m) = (b.d.to_f32(), b.m.to_f32());
        let qh = u32::from_le_bytes(b.qh);
        for j in 0..QK / 2 {
            let h0 = (((qh >> j) << 4) & 0x10) as u8;
            let h1 = ((qh >> (j + 12)) & 0x10) as u8;
            o[j] = ((b.qs[j] & 0x0F) | h0) as f32 * d + m;
            o[j + QK / 2] = ((b.qs[j] >> 4) | h1) as f32 * d + m;
        }
    }
}

pub fn dequantize_q8_0(x: &[BlockQ8_0], out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let d = b.d.to_f32();
        for (v, &q) in o.iter_mut().zip(&b.qs) {
            *v = q as f32 * d;
        }
    }
}

pub fn dequantize_q4_k(x: &[BlockQ4K], out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK_K)) {
        let (d, min) = (b.d.to_f32(), b.dmin.to_f32());
        for pair in 0..4 {
            let q = &b.qs[pair * 32..pair * 32 + 32];
            let (sc0, m0) = scale_min_k4(2 * pair, &b.scales);
            let (sc1, m1) = scale_min_k4(2 * pair + 1, &b.scales);
            for l in 0..32 {
                o[pair * 64 + l] = d * sc0 as f32 * (q[l] & 0x0F) as f32 - min * m0 as f32;
                o[pair * 64 + 32 + l] = d * sc1 as f32 * (q[l] >> 4) as f32 - min * m1 as f32;
            }
        }
    }
}

pub fn dequantize_q5_k(x: &[BlockQ5K], out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK_K)) {
        let (d, min) = (b.d.to_f32(), b.dmin.to_f32());
        for pair in 0..4 {
            let q = &b.qs[pair * 32..pair * 32 + 32];
            let (u1, u2) = (1u8 << (2 * pair), 2u8 << (2 * pair));
            let (sc0, m0) = scale_min_k4(2 * pair, &b.scales);
            let (sc1, m1) = scale_min_k4(2 * pair + 1, &b.scales);
            for l in 0..32 {
                let lo = (q[l] & 0x0F) + if b.qh[l] & u1 != 0 { 16 } else { 0 };
                let hi = (q[l] >> 4) + if b.qh[l] & u2 != 0 { 16 } else { 0 };
                o[pair * 64 + l] = d * sc0 as f32 * lo as f32 - min * m0 as f32;
                o[pair * 64 + 32 + l] = d * sc1 as f32 * hi as f32 - min * m1 as f32;
            }
        }
    }
}

pub fn dequantize_q6_k(x: &[BlockQ6K], out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK_K)) {
        let q = q6_k_values(b);
        let d = b.d.to_f32();
        for (l, v) in o.iter_mut().enumerate() {
            *v = d * b.scales[l / 16] as f32 * q[l] as f32;
        }
    }
}

/// Dequantises one row of `cols` values stored as `ty`.
pub fn dequantize_row(ty: WeightType, row: &[u8], out: &mut [f32]) {
    // SAFETY: rows come from `QMatrix`, which checked sizes and alignment at load.
    unsafe {
        match ty {
            WeightType::F32 => {
                for (o, b) in out.iter_mut().zip(row.chunks_exact(4)) {
                    *o = f32::from_le_bytes(b.try_into().unwrap());
                }
            }
            WeightType::F16 => {
                for (o, b) in out.iter_mut().zip(row.chunks_exact(2)) {
                    *o = f16::from_le_bytes(b.try_into().unwrap()).to_f32();
                }
            }
            WeightType::Q4_0 => dequantize_q4_0(as_blocks(row), out),
            WeightType::Q4_1 => dequantize_q4_1(as_blocks(row), out),
            WeightType::Q5_0 => dequantize_q5_0(as_blocks(row), out),
            WeightType::Q5_1 => dequantize_q5_1(as_blocks(row), out),
            WeightType::Q8_0 => dequantize_q8_0(as_blocks(row), out),
            WeightType::Q4K => dequantize_q4_k(as_blocks(row), out),
            WeightType::Q5K => dequantize_q5_k(as_blocks(row), out),
            WeightType::Q6K => dequantize_q6_k(as_blocks(row), out),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The eight-row interleaved blocks: the GEMM tiles' reference, and a row read back (embedding lookup).

/// Row `r` (0..8) of interleaved blocks as f32 values (the embedding lookup of a repacked matrix).
pub fn dequantize_q4_k_x8_row(x: &[BlockQ4Kx8], r: usize, out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK_K)) {
        k_quant_x8_row(b, r, |_, _| (0, 0), o);
    }
}

/// Row `r` (0..8) of interleaved Q5_K blocks as f32 values.
pub fn dequantize_q5_k_x8_row(x: &[BlockQ5Kx8], r: usize, out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK_K)) {
        k_quant_x8_row(&b.low, r, |j, l| q5_k_x8_fifth_bits(b, r, j, l), o);
    }
}

/// One row of a Q4_K-shaped interleaved super-block; `fifth(j, l)` gives the 16s to add to values
/// `64j + l` and `64j + 32 + l` (Q5_K's fifth bits, none for Q4_K).
fn k_quant_x8_row(b: &BlockQ4Kx8, r: usize, fifth: impl Fn(usize, usize) -> (u8, u8), o: &mut [f32]) {
    let (d, min) = (b.d[r].to_f32(), b.dmin[r].to_f32());
    for j in 0..4 {
        let (sc0, m0) = (b.scales[2 * j][r] as f32, b.mins[q4_k_x8_min_index(2 * j, r)] as f32);
        let (sc1, m1) = (b.scales[2 * j + 1][r] as f32, b.mins[q4_k_x8_min_index(2 * j + 1, r)] as f32);
        for k in 0..8 {
            for i in 0..4 {
                let q = b.qs[256 * j + 32 * k + 4 * r + i];
                let (lo, hi) = fifth(j, 4 * k + i);
                o[64 * j + 4 * k + i] = d * sc0 * ((q & 0x0F) + lo) as f32 - min * m0;
                o[64 * j + 32 + 4 * k + i] = d * sc1 * ((q >> 4) + hi) as f32 - min * m1;
            }
        }
    }
}

/// The 16s Q5_K's fifth bits add to values `64j + l` and `64j + 32 + l` of row `r`.
fn q5_k_x8_fifth_bits(b: &BlockQ5Kx8, r: usize, j: usize, l: usize) -> (u8, u8) {
    let h = b.qh[32 * (l / 4) + 4 * r + l % 4];
    (((h >> (2 * j)) & 1) << 4, ((h >> (2 * j + 1)) & 1) << 4)
}

/// Scalar reference of the interleaved GEMM: `out[t * 8 + r]` = row `r` · activation row `t`, for the
/// `ys.len() / x.len()` activation rows in `ys`.
pub fn gemm_q4_k_x8(x: &[BlockQ4Kx8], ys: &[BlockQ8K], out: &mut [f32]) {
    gemm_k_quant_x8(x.len(), ys, out, |b| &x[b], |_, _, _, _| 0);
}

/// Scalar reference of the interleaved Q5_K GEMM.
pub fn gemm_q5_k_x8(x: &[BlockQ5Kx8], ys: &[BlockQ8K], out: &mut [f32]) {
    gemm_k_quant_x8(x.len(), ys, out, |b| &x[b].low, |b, r, j, l| {
        let (lo, hi) = q5_k_x8_fifth_bits(&x[b], r, j, l % 32);
        if l < 32 { lo } else { hi }
    });
}

/// Q4_K-shaped GEMM; `fifth(block, row, j, l)` is the 16 added to value `64j + l` (0 for Q4_K).
fn gemm_k_quant_x8<'a>(nb: usize, ys: &[BlockQ8K], out: &mut [f32], block: impl Fn(usize) -> &'a BlockQ4Kx8, fifth: impl Fn(usize, usize, usize, usize) -> u8) {
    for (t, y) in ys.chunks_exact(nb).enumerate() {
        for r in 0..8 {
            let mut sum = 0f32;
            for (bi, y) in y.iter().enumerate() {
                let b = block(bi);
                let (mut sum_q, mut sum_m) = (0i32, 0i32);
                for s in 0..8 {
                    let (j, high) = (s / 2, s % 2 == 1);
                    let mut dot = 0i32;
                    for k in 0..8 {
                        for i in 0..4 {
                            let q = b.qs[256 * j + 32 * k + 4 * r + i];
                            let l = 32 * high as usize + 4 * k + i;
                            let q = if high { q >> 4 } else { q & 0x0F } + fifth(bi, r, j, l);
                            dot += q as i32 * y.qs[64 * j + l] as i32;
                        }
                    }
                    sum_q += b.scales[s][r] as i32 * dot;
                    sum_m += b.mins[q4_k_x8_min_index(s, r)] as i32 * (y.bsums[2 * s] + y.bsums[2 * s + 1]) as i32;
                }
                sum += y.d * (b.d[r].to_f32() * sum_q as f32 - b.dmin[r].to_f32() * sum_m as f32);
            }
            out[t * 8 + r] = sum;
        }
    }
}

/// Row `r` (0..8) of interleaved Q4_1 blocks as f32 values.
pub fn dequantize_q4_1_x8_row(x: &[BlockQ4_1x8], r: usize, out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let (d, m) = (b.d[r].to_f32(), b.m[r].to_f32());
        for k in 0..4 {
            for i in 0..4 {
                let q = b.qs[32 * k + 4 * r + i];
                o[4 * k + i] = (q & 0x0F) as f32 * d + m;
                o[16 + 4 * k + i] = (q >> 4) as f32 * d + m;
            }
        }
    }
}

/// Scalar reference of the interleaved Q4_1 GEMM: `out[t * 8 + r]` = row `r` · activation row `t`.
pub fn gemm_q4_1_x8(x: &[BlockQ4_1x8], ys: &[BlockQ8_1], out: &mut [f32]) {
    let nb = x.len();
    for (t, y) in ys.chunks_exact(nb).enumerate() {
        for r in 0..8 {
            let mut sum = 0f32;
            for (b, y) in x.iter().zip(y) {
                let mut dot = 0i32;
                for k in 0..4 {
                    for i in 0..4 {
                        let q = b.qs[32 * k + 4 * r + i];
                        dot += (q & 0x0F) as i32 * y.qs[4 * k + i] as i32 + (q >> 4) as i32 * y.qs[16 + 4 * k + i] as i32;
                    }
                }
                sum += dot as f32 * b.d[r].to_f32() * y.d.to_f32() + b.m[r].to_f32() * y.s.to_f32();
            }
            out[t * 8 + r] = sum;
        }
    }
}

/// Value `4k + i` (low nibble) and `16 + 4k + i` (high nibble) of row `r` of an interleaved 32-value
/// block, as unsigned quants (the offset not yet taken).
#[inline]
fn nibbles_x8(qs: &[u8; QK * 4], r: usize, k: usize, i: usize) -> (u8, u8) {
    let q = qs[32 * k + 4 * r + i];
    (q & 0x0F, q >> 4)
}

/// Row `r` (0..8) of interleaved Q4_0 blocks as f32 values.
pub fn dequantize_q4_0_x8_row(x: &[BlockQ4_0x8], r: usize, out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let d = b.d[r].to_f32();
        for k in 0..4 {
            for i in 0..4 {
                let (lo, hi) = nibbles_x8(&b.qs, r, k, i);
                o[4 * k + i] = (lo as i32 - 8) as f32 * d;
                o[16 + 4 * k + i] = (hi as i32 - 8) as f32 * d;
            }
        }
    }
}

/// Row `r` (0..8) of interleaved Q5_0 blocks as f32 values.
pub fn dequantize_q5_0_x8_row(x: &[BlockQ5_0x8], r: usize, out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let d = b.d[r].to_f32();
        for k in 0..4 {
            for i in 0..4 {
                let (lo, hi) = q5_0_x8_values(b, r, k, i);
                o[4 * k + i] = (lo as i32 - 16) as f32 * d;
                o[16 + 4 * k + i] = (hi as i32 - 16) as f32 * d;
            }
        }
    }
}

#[inline]
fn q5_0_x8_values(b: &BlockQ5_0x8, r: usize, k: usize, i: usize) -> (u8, u8) {
    let (lo, hi) = nibbles_x8(&b.qs, r, k, i);
    let bit = |j: usize| (((b.qh[r] >> j) & 1) << 4) as u8;
    (lo | bit(4 * k + i), hi | bit(16 + 4 * k + i))
}

/// Value `v` (0..32) of row `r` of an interleaved Q8_0 block.
#[inline]
fn q8_0_x8_value(b: &BlockQ8_0x8, r: usize, v: usize) -> i8 {
    b.qs[32 * (v / 4) + 4 * r + v % 4]
}

/// Row `r` (0..8) of interleaved Q8_0 blocks as f32 values.
pub fn dequantize_q8_0_x8_row(x: &[BlockQ8_0x8], r: usize, out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK)) {
        let d = b.d[r].to_f32();
        for (v, o) in o.iter_mut().enumerate() {
            *o = q8_0_x8_value(b, r, v) as f32 * d;
        }
    }
}

/// Scalar reference of the interleaved Q8_0 GEMM: `out[t * 8 + r]` = row `r` · activation row `t`.
pub fn gemm_q8_0_x8(x: &[BlockQ8_0x8], ys: &[BlockQ8_0], out: &mut [f32]) {
    let nb = x.len();
    for (t, y) in ys.chunks_exact(nb).enumerate() {
        for r in 0..8 {
            let mut sum = 0f32;
            for (b, y) in x.iter().zip(y) {
                let dot: i32 = (0..QK).map(|v| q8_0_x8_value(b, r, v) as i32 * y.qs[v] as i32).sum();
                sum += dot as f32 * (b.d[r].to_f32() * y.d.to_f32());
            }
            out[t * 8 + r] = sum;
        }
    }
}

/// Scalar reference of the interleaved Q4_0 GEMM (activations as Q8_1, whose sum term takes the offset).
pub fn gemm_q4_0_x8(x: &[BlockQ4_0x8], ys: &[BlockQ8_1], out: &mut [f32]) {
    gemm_offset_x8(x.len(), ys, out, |b, r, k, i| nibbles_x8(&x[b].qs, r, k, i), |b, r| x[b].d[r].to_f32(), -8.0);
}

/// Scalar reference of the interleaved Q5_0 GEMM (activations as Q8_1).
pub fn gemm_q5_0_x8(x: &[BlockQ5_0x8], ys: &[BlockQ8_1], out: &mut [f32]) {
    gemm_offset_x8(x.len(), ys, out, |b, r, k, i| q5_0_x8_values(&x[b], r, k, i), |b, r| x[b].d[r].to_f32(), -16.0);
}

/// `out[t * 8 + r]` = Σ_blocks d × (Σ q·a × d_y + offset × s_y) for formats whose value is d × (q + offset).
fn gemm_offset_x8(
    nb: usize,
    ys: &[BlockQ8_1],
    out: &mut [f32],
    values: impl Fn(usize, usize, usize, usize) -> (u8, u8),
    d: impl Fn(usize, usize) -> f32,
    offset: f32,
) {
    for (t, y) in ys.chunks_exact(nb).enumerate() {
        for r in 0..8 {
            let mut sum = 0f32;
            for (b, y) in y.iter().enumerate() {
                let mut dot = 0i32;
                for k in 0..4 {
                    for i in 0..4 {
                        let (lo, hi) = values(b, r, k, i);
                        dot += lo as i32 * y.qs[4 * k + i] as i32 + hi as i32 * y.qs[16 + 4 * k + i] as i32;
                    }
                }
                sum += d(b, r) * (dot as f32 * y.d.to_f32() + offset * y.s.to_f32());
            }
            out[t * 8 + r] = sum;
        }
    }
}

/// Value `64j + 4k + i` (`high`: `64j + 32 + 4k + i`) of row `r` of an interleaved Q6_K block, unsigned
/// (0..64; the weight is d × scale × (q - 32)).
#[inline]
fn q6_k_x8_value(b: &BlockQ6Kx8, r: usize, j: usize, k: usize, i: usize, high: bool) -> u8 {
    let low = b.ql[256 * j + 32 * k + 4 * r + i];
    let low = if high { low >> 4 } else { low & 0x0F };
    let top = b.qh[128 * j + 32 * (k / 2) + 4 * r + i] >> (4 * (k % 2) + 2 * high as usize);
    low | ((top & 3) << 4)
}

/// Row `r` (0..8) of interleaved Q6_K blocks as f32 values.
pub fn dequantize_q6_k_x8_row(x: &[BlockQ6Kx8], r: usize, out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK_K)) {
        let d = b.d[r].to_f32();
        for j in 0..4 {
            for k in 0..8 {
                for i in 0..4 {
                    for high in [false, true] {
                        let v = 64 * j + 32 * high as usize + 4 * k + i;
                        let scale = b.scales[q4_k_x8_min_index(v / 16, r)] as f32;
                        o[v] = d * scale * (q6_k_x8_value(b, r, j, k, i, high) as i32 - 32) as f32;
                    }
                }
            }
        }
    }
}

/// Scalar reference of the interleaved Q6_K GEMM: `out[t * 8 + r]` = row `r` · activation row `t`.
/// The offset of 32 is taken once per sub-block through the activations' sums.
pub fn gemm_q6_k_x8(x: &[BlockQ6Kx8], ys: &[BlockQ8K], out: &mut [f32]) {
    let nb = x.len();
    for (t, y) in ys.chunks_exact(nb).enumerate() {
        for r in 0..8 {
            let mut sum = 0f32;
            for (b, y) in x.iter().zip(y) {
                let mut total = 0i32;
                for g in 0..16 {
                    let (j, high, half) = (g / 4, (g / 2) % 2 == 1, g % 2);
                    let mut dot = 0i32;
                    for k in 4 * half..4 * half + 4 {
                        for i in 0..4 {
                            let v = 64 * j + 32 * high as usize + 4 * k + i;
                            dot += q6_k_x8_value(b, r, j, k, i, high) as i32 * y.qs[v] as i32;
                        }
                    }
                    let scale = b.scales[q4_k_x8_min_index(g, r)] as i32;
                    total += scale * (dot - 32 * y.bsums[g] as i32);
                }
                sum += b.d[r].to_f32() * y.d * total as f32;
            }
            out[t * 8 + r] = sum;
        }
    }
}
