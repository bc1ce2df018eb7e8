//! Attention's weighted sum over a tile of values, its accumulator held in registers: one body, compiled
//! per instruction set (a scalar reference, AVX2+FMA, NEON) and dispatched through the kernel table,
//! instead of an axpy call (a load and a store of the output) per key. Both attention paths (the
//! prompt's blocked one and decode's per-query one) use it: a prompt computed whole or continued from
//! the cache gives the same bits.

/// Keys (and values) a tile holds.
pub const TILE: usize = 64;

/// Values' dimensions accumulated at once: eight AVX2 (four AVX-512, sixteen NEON) registers.
const LANES: usize = 64;

#[inline(always)]
fn madd<const FUSED: bool>(a: f32, b: f32, acc: f32) -> f32 {
    // `mul_add` is one instruction only where FMA is enabled; the scalar reference multiplies and adds.
    if FUSED {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

/// `dst += Σ_j weights[j] · value_j`, the values `dst.len()` wide, one after another in `values`.
#[inline(always)]
fn values_body<const FUSED: bool>(weights: &[f32], values: &[f32], dst: &mut [f32]) {
    let width = dst.len();
    if width == 0 {
        return;
    }
    for (at, dst) in (0..width).step_by(LANES).zip(dst.chunks_mut(LANES)) {
        if dst.len() == LANES {
            let mut acc = [0f32; LANES];
            acc.copy_from_slice(dst);
            for (&w, row) in weights.iter().zip(values.chunks_exact(width)) {
                for (a, &v) in acc.iter_mut().zip(&row[at..at + LANES]) {
                    *a = madd::<FUSED>(w, v, *a);
                }
            }
            dst.copy_from_slice(&acc);
        } else {
            for (&w, row) in weights.iter().zip(values.chunks_exact(width)) {
                for (a, &v) in dst.iter_mut().zip(&row[at..]) {
                    *a = madd::<FUSED>(w, v, *a);
                }
            }
        }
    }
}

pub fn values_scalar(weights: &[f32], values: &[f32], dst: &mut [f32]) {
    values_body::<false>(weights, values, dst)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn values_avx2(weights: &[f32], values: &[f32], dst: &mut [f32]) {
    values_body::<true>(weights, values, dst)
}

#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "neon")]
pub unsafe fn values_neon(weights: &[f32], values: &[f32], dst: &mut [f32]) {
    values_body::<true>(weights, values, dst)
}
