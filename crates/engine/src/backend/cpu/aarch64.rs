//! aarch64 NEON kernels (baseline NEON, no dotprod extension) for the most common 32-value formats,
//! f32 vectors and f16 rows; the others use the scalar reference. Checked against `quant` under qemu.

#![allow(clippy::missing_safety_doc)]

use std::arch::aarch64::*;

use half::f16;
use half::slice::HalfFloatSliceExt;

use super::quant::{BlockQ4_0, BlockQ4_1, BlockQ8_0, BlockQ8_1};

/// Σ of the 16 products of two signed byte vectors, as 4 partial i32 sums.
#[inline(always)]
unsafe fn mul_sum_i8(a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    let hi = vmull_high_s8(a, b);
    vaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi))
}

#[target_feature(enable = "neon")]
pub unsafe fn dot_q4_0_neon(x: &[BlockQ4_0], y: &[BlockQ8_0]) -> f32 {
    let mut acc = vdupq_n_f32(0.0);
    let mask = vdupq_n_u8(0x0F);
    let eight = vdupq_n_s8(8);
    for (x, y) in x.iter().zip(y) {
        let v = vld1q_u8(x.qs.as_ptr());
        let lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, mask)), eight);
        let hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8::<4>(v)), eight);
        let y0 = vld1q_s8(y.qs.as_ptr());
        let y1 = vld1q_s8(y.qs.as_ptr().add(16));
        let s = vaddq_s32(mul_sum_i8(lo, y0), mul_sum_i8(hi, y1));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), x.d.to_f32() * y.d.to_f32());
    }
    vaddvq_f32(acc)
}

#[target_feature(enable = "neon")]
pub unsafe fn dot_q4_1_neon(x: &[BlockQ4_1], y: &[BlockQ8_1]) -> f32 {
    let mut acc = vdupq_n_f32(0.0);
    let mut offsets = 0.0f32;
    let mask = vdupq_n_u8(0x0F);
    for (x, y) in x.iter().zip(y) {
        offsets += x.m.to_f32() * y.s.to_f32();
        let v = vld1q_u8(x.qs.as_ptr());
        let lo = vreinterpretq_s8_u8(vandq_u8(v, mask));
        let hi = vreinterpretq_s8_u8(vshrq_n_u8::<4>(v));
        let y0 = vld1q_s8(y.qs.as_ptr());
        let y1 = vld1q_s8(y.qs.as_ptr().add(16));
        let s = vaddq_s32(mul_sum_i8(lo, y0), mul_sum_i8(hi, y1));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), x.d.to_f32() * y.d.to_f32());
    }
    vaddvq_f32(acc) + offsets
}

#[target_feature(enable = "neon")]
pub unsafe fn dot_q8_0_neon(x: &[BlockQ8_0], y: &[BlockQ8_0]) -> f32 {
    let mut acc = vdupq_n_f32(0.0);
    for (x, y) in x.iter().zip(y) {
        let s = vaddq_s32(
            mul_sum_i8(vld1q_s8(x.qs.as_ptr()), vld1q_s8(y.qs.as_ptr())),
            mul_sum_i8(vld1q_s8(x.qs.as_ptr().add(16)), vld1q_s8(y.qs.as_ptr().add(16))),
        );
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), x.d.to_f32() * y.d.to_f32());
    }
    vaddvq_f32(acc)
}

#[target_feature(enable = "neon")]
pub unsafe fn dot_f32_neon(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let mut acc = [vdupq_n_f32(0.0); 4];
    let mut i = 0;
    while i + 16 <= n {
        for (k, a) in acc.iter_mut().enumerate() {
            *a = vfmaq_f32(*a, vld1q_f32(x.as_ptr().add(i + 4 * k)), vld1q_f32(y.as_ptr().add(i + 4 * k)));
        }
        i += 16;
    }
    let mut total = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
    while i < n {
        total += x[i] * y[i];
        i += 1;
    }
    total
}

/// f16 values widened 64 at a time on the stack (`half` converts with the CPU's fp16 instructions where
/// it has them), each run then through `run` (an f32 kernel).
#[inline(always)]
fn widened(x: &[f16], mut run: impl FnMut(usize, &[f32])) {
    let mut wide = [0f32; 64];
    for (chunk, start) in x.chunks(64).zip((0..).step_by(64)) {
        let wide = &mut wide[..chunk.len()];
        chunk.convert_to_f32_slice(wide);
        run(start, wide);
    }
}

#[target_feature(enable = "neon")]
pub unsafe fn dot_f16_neon(x: &[f16], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let mut total = 0.0;
    widened(&x[..n], |at, wide| total += dot_f32_neon(wide, &y[at..at + wide.len()]));
    total
}
