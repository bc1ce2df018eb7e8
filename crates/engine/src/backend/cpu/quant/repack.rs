//! Repacking at load: eight rows of Q4_K or Q4_1 blocks interleaved into one tile block, so that the GEMM
//! kernels' vector lanes are weight rows (see [`BlockQ4Kx8`], [`BlockQ4_1x8`] for the layouts).

use super::blocks::*;

/// Interleaves eight rows of `nb` Q4_K blocks each (`rows[r * nb + b]`) into `nb` [`BlockQ4Kx8`].
pub fn repack_q4_k_x8(rows: &[BlockQ4K], out: &mut [BlockQ4Kx8]) {
    let nb = out.len();
    assert_eq!(rows.len(), 8 * nb);
    for (b, packed) in out.iter_mut().enumerate() {
        for r in 0..8 {
            let x = &rows[r * nb + b];
            packed.d[r] = x.d;
            packed.dmin[r] = x.dmin;
            for s in 0..8 {
                (packed.scales[s][r], packed.mins[q4_k_x8_min_index(s, r)]) = scale_min_k4(s, &x.scales);
            }
            for j in 0..4 {
                for k in 0..8 {
                    let to = 256 * j + 32 * k + 4 * r;
                    packed.qs[to..to + 4].copy_from_slice(&x.qs[32 * j + 4 * k..32 * j + 4 * k + 4]);
                }
            }
        }
    }
}

/// Interleaves eight rows of `nb` Q4_1 blocks each (`rows[r * nb + b]`) into `nb` [`BlockQ4_1x8`].
pub fn repack_q4_1_x8(rows: &[BlockQ4_1], out: &mut [BlockQ4_1x8]) {
    let nb = out.len();
    assert_eq!(rows.len(), 8 * nb);
    for (b, packed) in out.iter_mut().enumerate() {
        for r in 0..8 {
            let x = &rows[r * nb + b];
            packed.d[r] = x.d;
            packed.m[r] = x.m;
            for k in 0..4 {
                packed.qs[32 * k + 4 * r..32 * k + 4 * r + 4].copy_from_slice(&x.qs[4 * k..4 * k + 4]);
            }
        }
    }
}
