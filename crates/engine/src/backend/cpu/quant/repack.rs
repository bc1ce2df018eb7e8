//! Repacking at load: eight rows of Q4_K, Q5_K, Q6_K, Q4_1, Q4_0, Q5_0 or Q8_0 blocks interleaved into one tile block, so
//! that the GEMM kernels' vector lanes are weight rows (see [`BlockQ4Kx8`], [`BlockQ4_1x8`] for the layouts).

use super::blocks::*;

/// For each of the `out.len()` packed blocks, hands `put` the block and each of the eight rows' blocks
/// at that position (`rows[r * nb + b]`).
fn interleave_rows<S, P>(rows: &[S], out: &mut [P], mut put: impl FnMut(&mut P, usize, &S)) {
    let nb = out.len();
    assert_eq!(rows.len(), 8 * nb);
    for (b, packed) in out.iter_mut().enumerate() {
        for r in 0..8 {
            put(packed, r, &rows[r * nb + b]);
        }
    }
}

/// Interleaves eight rows of `nb` Q4_K blocks each (`rows[r * nb + b]`) into `nb` [`BlockQ4Kx8`].
pub fn repack_q4_k_x8(rows: &[BlockQ4K], out: &mut [BlockQ4Kx8]) {
    interleave_rows(rows, out, |packed, r, x| put_k_quant_row(packed, r, x.d, x.dmin, &x.scales, &x.qs));
}

/// Row `r`'s scales, mins and four low bits of a Q4_K or Q5_K super-block at their interleaved places.
fn put_k_quant_row(packed: &mut BlockQ4Kx8, r: usize, d: half::f16, dmin: half::f16, scales: &[u8; 12], qs: &[u8; QK_K / 2]) {
    packed.d[r] = d;
    packed.dmin[r] = dmin;
    for s in 0..8 {
        (packed.scales[s][r], packed.mins[q4_k_x8_min_index(s, r)]) = scale_min_k4(s, scales);
    }
    for j in 0..4 {
        for k in 0..8 {
            let to = 256 * j + 32 * k + 4 * r;
            packed.qs[to..to + 4].copy_from_slice(&qs[32 * j + 4 * k..32 * j + 4 * k + 4]);
        }
    }
}

/// Interleaves eight rows of `nb` Q5_K blocks each into `nb` [`BlockQ5Kx8`].
pub fn repack_q5_k_x8(rows: &[BlockQ5K], out: &mut [BlockQ5Kx8]) {
    interleave_rows(rows, out, |packed, r, x| {
        put_k_quant_row(&mut packed.low, r, x.d, x.dmin, &x.scales, &x.qs);
        for k in 0..8 {
            packed.qh[32 * k + 4 * r..32 * k + 4 * r + 4].copy_from_slice(&x.qh[4 * k..4 * k + 4]);
        }
    });
}

/// Interleaves eight rows of `nb` Q4_1 blocks each (`rows[r * nb + b]`) into `nb` [`BlockQ4_1x8`].
pub fn repack_q4_1_x8(rows: &[BlockQ4_1], out: &mut [BlockQ4_1x8]) {
    interleave_rows(rows, out, |packed, r, x| {
        packed.d[r] = x.d;
        packed.m[r] = x.m;
        interleave_nibbles(&x.qs, r, &mut packed.qs);
    });
}

/// The nibbles of one 32-value block (`qs` of 16 bytes) at their interleaved place for row `r`.
fn interleave_nibbles(qs: &[u8; QK / 2], r: usize, out: &mut [u8; QK * 4]) {
    for k in 0..4 {
        out[32 * k + 4 * r..32 * k + 4 * r + 4].copy_from_slice(&qs[4 * k..4 * k + 4]);
    }
}

/// Interleaves eight rows of `nb` Q4_0 blocks each into `nb` [`BlockQ4_0x8`].
pub fn repack_q4_0_x8(rows: &[BlockQ4_0], out: &mut [BlockQ4_0x8]) {
    interleave_rows(rows, out, |packed, r, x| {
        packed.d[r] = x.d;
        interleave_nibbles(&x.qs, r, &mut packed.qs);
    });
}

/// Interleaves eight rows of `nb` Q5_0 blocks each into `nb` [`BlockQ5_0x8`].
pub fn repack_q5_0_x8(rows: &[BlockQ5_0], out: &mut [BlockQ5_0x8]) {
    interleave_rows(rows, out, |packed, r, x| {
        packed.d[r] = x.d;
        packed.qh[r] = u32::from_le_bytes(x.qh);
        interleave_nibbles(&x.qs, r, &mut packed.qs);
    });
}

/// Interleaves eight rows of `nb` Q8_0 blocks each into `nb` [`BlockQ8_0x8`].
pub fn repack_q8_0_x8(rows: &[BlockQ8_0], out: &mut [BlockQ8_0x8]) {
    interleave_rows(rows, out, |packed, r, x| {
        packed.d[r] = x.d;
        for k in 0..QK / 4 {
            packed.qs[32 * k + 4 * r..32 * k + 4 * r + 4].copy_from_slice(&x.qs[4 * k..4 * k + 4]);
        }
    });
}

/// Interleaves eight rows of `nb` Q6_K blocks each into `nb` [`BlockQ6Kx8`].
pub fn repack_q6_k_x8(rows: &[BlockQ6K], out: &mut [BlockQ6Kx8]) {
    interleave_rows(rows, out, |packed, r, x| {
        packed.d[r] = x.d;
        for (g, &scale) in x.scales.iter().enumerate() {
            packed.scales[q4_k_x8_min_index(g, r)] = scale;
        }
        let u = q6_k_values(x).map(|q| (q + 32) as u8);
        for j in 0..4 {
            for k in 0..8 {
                for i in 0..4 {
                    let (lo, hi) = (u[64 * j + 4 * k + i], u[64 * j + 32 + 4 * k + i]);
                    packed.ql[256 * j + 32 * k + 4 * r + i] = (lo & 0x0F) | (hi << 4);
                    let top = (lo >> 4) | ((hi >> 4) << 2);
                    let at = 128 * j + 32 * (k / 2) + 4 * r + i;
                    packed.qh[at] = if k % 2 == 0 { top } else { packed.qh[at] | (top << 4) };
                }
            }
        }
    });
}
