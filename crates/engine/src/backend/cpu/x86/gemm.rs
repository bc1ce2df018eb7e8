//! GEMM tiles over eight interleaved weight rows (the repacked Q4_K, Q5_K, Q6_K, Q4_1, Q4_0, Q5_0 and Q8_0 blocks) × up to
//! four activation rows, for AVX2 and AVX-512 VNNI: the prompt path, where each weight load feeds many tokens.

use std::arch::x86_64::*;

use half::f16;

use super::f16_pair;
use crate::backend::cpu::quant::{BlockQ4Kx8, BlockQ4_0x8, BlockQ4_1x8, BlockQ5Kx8, BlockQ5_0x8, BlockQ6Kx8, BlockQ8K, BlockQ8_0, BlockQ8_0x8, BlockQ8_1};

/// u8 × i8 products summed into eight 32-bit lanes (one per interleaved weight row), accumulated over a
/// few steps and then widened: the one operation that differs between the VNNI and AVX2 GEMM tiles.
trait Int8Dot {
    unsafe fn zero() -> __m256i;
    /// `acc` plus, per 32-bit lane, Σ of four unsigned (weights) × signed (activations) bytes.
    unsafe fn add(acc: __m256i, weights: __m256i, activations: __m256i) -> __m256i;
    /// The accumulator as eight i32.
    unsafe fn finish(acc: __m256i) -> __m256i;
}

/// One `vpdpbusd` per step, accumulating in i32.
struct Vnni;
impl Int8Dot for Vnni {
    #[inline(always)]
    unsafe fn zero() -> __m256i {
        _mm256_setzero_si256()
    }
    #[inline(always)]
    unsafe fn add(acc: __m256i, weights: __m256i, activations: __m256i) -> __m256i {
        _mm256_dpbusd_epi32(acc, weights, activations)
    }
    #[inline(always)]
    unsafe fn finish(acc: __m256i) -> __m256i {
        acc
    }
}

/// `vpmaddubsw` per step, accumulating in i16 lanes, widened once by `vpmaddwd`. Each step adds at most
/// 2 × 15 × 127 = 3,810 per lane for 4-bit weights (a tile runs at most eight steps per accumulator:
/// 30,480) and 2 × 31 × 127 = 7,874 for Q5_0's 5-bit ones (four steps: 31,496), both < 32,767.
struct Avx2;
impl Int8Dot for Avx2 {
    #[inline(always)]
    unsafe fn zero() -> __m256i {
        _mm256_setzero_si256()
    }
    #[inline(always)]
    unsafe fn add(acc: __m256i, weights: __m256i, activations: __m256i) -> __m256i {
        _mm256_add_epi16(acc, _mm256_maddubs_epi16(weights, activations))
    }
    #[inline(always)]
    unsafe fn finish(acc: __m256i) -> __m256i {
        _mm256_madd_epi16(acc, _mm256_set1_epi16(1))
    }
}

/// `vpmaddubsw` then `vpmaddwd` every step, accumulating in i32: for 6-bit weights, whose products
/// (2 × 63 × 127 = 16,002 per lane and step) fit an i16 lane only once, and Q8_0's magnitudes
/// (2 × 128 × 127 = 32,512).
struct Avx2Wide;
impl Int8Dot for Avx2Wide {
    #[inline(always)]
    unsafe fn zero() -> __m256i {
        _mm256_setzero_si256()
    }
    #[inline(always)]
    unsafe fn add(acc: __m256i, weights: __m256i, activations: __m256i) -> __m256i {
        _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(weights, activations), _mm256_set1_epi16(1)))
    }
    #[inline(always)]
    unsafe fn finish(acc: __m256i) -> __m256i {
        acc
    }
}

/// GEMM entry points over tiles of eight interleaved weight rows × four activation rows (the remainder in
/// one smaller tile), for one instruction set.
macro_rules! interleaved_gemm {
    ($features:literal, $dot:ty, $name:ident, $tile:ident, $packed:ty, $act:ty) => {
        #[target_feature(enable = $features)]
        pub unsafe fn $name(x: &[$packed], ys: &[$act], out: &mut [f32]) {
            let m = ys.len() / x.len();
            assert!(out.len() >= 8 * m);
            let mut t = 0;
            while t + 4 <= m {
                $tile::<$dot, 4>(x, ys, t, out);
                t += 4;
            }
            match m - t {
                3 => $tile::<$dot, 3>(x, ys, t, out),
                2 => $tile::<$dot, 2>(x, ys, t, out),
                1 => $tile::<$dot, 1>(x, ys, t, out),
                _ => {}
            }
        }
    };
}

// As `quant::gemm_q4_k_x8` / `quant::gemm_q4_1_x8`: each 32-byte load of quants is unpacked
// once and feeds four activation rows (lanes are weight rows, the activation word is broadcast); Q4_K's
// 6-bit scales are applied once per 32-value sub-block.
interleaved_gemm!("avx2,fma,f16c,avx512f,avx512vl,avx512vnni", Vnni, gemm_q4_k_x8_vnni, tile_q4_k_x8, BlockQ4Kx8, BlockQ8K);
interleaved_gemm!("avx2,fma,f16c", Avx2, gemm_q4_k_x8_avx2, tile_q4_k_x8, BlockQ4Kx8, BlockQ8K);
// Q5_K's fifth bit doubles the products: in i16 they would overflow over a sub-block, so AVX2 widens each step.
interleaved_gemm!("avx2,fma,f16c,avx512f,avx512vl,avx512vnni", Vnni, gemm_q5_k_x8_vnni, tile_q4_k_x8, BlockQ5Kx8, BlockQ8K);
interleaved_gemm!("avx2,fma,f16c", Avx2Wide, gemm_q5_k_x8_avx2, tile_q4_k_x8, BlockQ5Kx8, BlockQ8K);
interleaved_gemm!("avx2,fma,f16c,avx512f,avx512vl,avx512vnni", Vnni, gemm_q6_k_x8_vnni, tile_q6_k_x8, BlockQ6Kx8, BlockQ8K);
interleaved_gemm!("avx2,fma,f16c", Avx2Wide, gemm_q6_k_x8_avx2, tile_q6_k_x8, BlockQ6Kx8, BlockQ8K);
interleaved_gemm!("avx2,fma,f16c,avx512f,avx512vl,avx512vnni", Vnni, gemm_q4_1_x8_vnni, tile_32x8, BlockQ4_1x8, BlockQ8_1);
interleaved_gemm!("avx2,fma,f16c", Avx2, gemm_q4_1_x8_avx2, tile_32x8, BlockQ4_1x8, BlockQ8_1);

/// An interleaved format of 32-value blocks whose value is d × q + m (Q4_1), d × (q - 8) (Q4_0) or
/// d × (q - 16) (Q5_0): what differs between their tiles.
trait Packed32x8 {
    fn quants(&self) -> &[u8; 128];
    fn scales(&self) -> &[f16; 8];
    /// The unsigned quants of 32-byte load `k` (0..4) of `bits`: low nibbles (values 4k..4k+4 of each
    /// row) and high nibbles (values 16+4k..), with any fifth bit added.
    #[inline(always)]
    unsafe fn values(&self, _k: usize, bits: __m256i) -> (__m256i, __m256i) {
        nibbles(bits)
    }
    #[inline(always)]
    unsafe fn d(&self) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(self.scales().as_ptr() as *const __m128i))
    }
    /// Each row's offset, multiplied by the activation block's s = d × Σq.
    unsafe fn m(&self, d: __m256) -> __m256;
}

#[inline(always)]
unsafe fn nibbles(bits: __m256i) -> (__m256i, __m256i) {
    let m4 = _mm256_set1_epi8(0x0F);
    (_mm256_and_si256(bits, m4), _mm256_and_si256(_mm256_srli_epi16::<4>(bits), m4))
}

impl Packed32x8 for BlockQ4_1x8 {
    #[inline(always)]
    fn quants(&self) -> &[u8; 128] {
        &self.qs
    }
    #[inline(always)]
    fn scales(&self) -> &[f16; 8] {
        &self.d
    }
    #[inline(always)]
    unsafe fn m(&self, _: __m256) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(self.m.as_ptr() as *const __m128i))
    }
}

impl Packed32x8 for BlockQ4_0x8 {
    #[inline(always)]
    fn quants(&self) -> &[u8; 128] {
        &self.qs
    }
    #[inline(always)]
    fn scales(&self) -> &[f16; 8] {
        &self.d
    }
    #[inline(always)]
    unsafe fn m(&self, d: __m256) -> __m256 {
        _mm256_mul_ps(d, _mm256_set1_ps(-8.0))
    }
}

/// Byte `i` of each row's group of four gets 0x10 where bit `first + i` of the row's `qh` word is set:
/// the word's byte `first / 8` copied to the group's four bytes, then one bit tested per byte.
#[inline(always)]
unsafe fn fifth_bits(qh: __m256i, first: usize) -> __m256i {
    let byte = (first / 8) as i8;
    let pick = _mm256_add_epi8(_mm256_setr_epi8(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12, 0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12), _mm256_set1_epi8(byte));
    let bit = if first % 8 == 0 { _mm256_set1_epi32(0x0804_0201) } else { _mm256_set1_epi32(0x8040_2010u32 as i32) };
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(qh, pick), bit), bit);
    _mm256_and_si256(set, _mm256_set1_epi8(0x10))
}

impl Packed32x8 for BlockQ5_0x8 {
    #[inline(always)]
    fn quants(&self) -> &[u8; 128] {
        &self.qs
    }
    #[inline(always)]
    fn scales(&self) -> &[f16; 8] {
        &self.d
    }
    #[inline(always)]
    unsafe fn values(&self, k: usize, bits: __m256i) -> (__m256i, __m256i) {
        let (lo, hi) = nibbles(bits);
        let qh = _mm256_loadu_si256(self.qh.as_ptr() as *const __m256i);
        (_mm256_or_si256(lo, fifth_bits(qh, 4 * k)), _mm256_or_si256(hi, fifth_bits(qh, 16 + 4 * k)))
    }
    #[inline(always)]
    unsafe fn m(&self, d: __m256) -> __m256 {
        _mm256_mul_ps(d, _mm256_set1_ps(-16.0))
    }
}

interleaved_gemm!("avx2,fma,f16c,avx512f,avx512vl,avx512vnni", Vnni, gemm_q4_0_x8_vnni, tile_32x8, BlockQ4_0x8, BlockQ8_1);
interleaved_gemm!("avx2,fma,f16c", Avx2, gemm_q4_0_x8_avx2, tile_32x8, BlockQ4_0x8, BlockQ8_1);
interleaved_gemm!("avx2,fma,f16c,avx512f,avx512vl,avx512vnni", Vnni, gemm_q5_0_x8_vnni, tile_32x8, BlockQ5_0x8, BlockQ8_1);
interleaved_gemm!("avx2,fma,f16c", Avx2, gemm_q5_0_x8_avx2, tile_32x8, BlockQ5_0x8, BlockQ8_1);

#[inline(always)]
unsafe fn tile_32x8<D: Int8Dot, const N: usize>(x: &[impl Packed32x8], ys: &[BlockQ8_1], t0: usize, out: &mut [f32]) {
    let nb = x.len();
    let mut acc = [_mm256_setzero_ps(); N];
    for (b, xb) in x.iter().enumerate() {
        let y: [&BlockQ8_1; N] = std::array::from_fn(|i| ys.get_unchecked((t0 + i) * nb + b));
        // Low and high nibbles in separate chains: twice the vpdpbusd in flight.
        let mut dot_lo = [D::zero(); N];
        let mut dot_hi = [D::zero(); N];
        for k in 0..4 {
            let bits = _mm256_loadu_si256(xb.quants().as_ptr().add(32 * k) as *const __m256i);
            let (lo, hi) = xb.values(k, bits);
            for i in 0..N {
                let a = y[i].qs.as_ptr().add(4 * k);
                dot_lo[i] = D::add(dot_lo[i], lo, _mm256_set1_epi32(std::ptr::read_unaligned(a as *const i32)));
                dot_hi[i] = D::add(dot_hi[i], hi, _mm256_set1_epi32(std::ptr::read_unaligned(a.add(16) as *const i32)));
            }
        }
        let d = xb.d();
        let m = xb.m(d);
        for i in 0..N {
            // [d, s] of the activation block: its scale and d × Σq for the weights' offset term.
            let ds = f16_pair(&y[i].d);
            let dot = _mm256_cvtepi32_ps(_mm256_add_epi32(D::finish(dot_lo[i]), D::finish(dot_hi[i])));
            acc[i] = _mm256_fmadd_ps(dot, _mm256_mul_ps(d, _mm256_broadcastss_ps(ds)), acc[i]);
            acc[i] = _mm256_fmadd_ps(m, _mm256_broadcastss_ps(_mm_movehdup_ps(ds)), acc[i]);
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        _mm256_storeu_ps(out.as_mut_ptr().add((t0 + i) * 8), *acc);
    }
}

/// Eight u8 as eight f32.
#[inline(always)]
unsafe fn u8x8_to_ps(p: &[u8; 8]) -> __m256 {
    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p.as_ptr() as *const __m128i)))
}

/// Q4_K and Q5_K, interleaved alike: Q5_K adds a fifth bit to each quant.
trait KQuantX8 {
    const FIFTH_BIT: bool;
    fn low(&self) -> &BlockQ4Kx8;
    /// The 16s of load `k` of chunk `j`: for the low nibbles' values and the high nibbles'.
    #[inline(always)]
    unsafe fn fifth_bits(&self, _j: usize, _k: usize) -> (__m256i, __m256i) {
        (_mm256_setzero_si256(), _mm256_setzero_si256())
    }
}

impl KQuantX8 for BlockQ4Kx8 {
    const FIFTH_BIT: bool = false;
    #[inline(always)]
    fn low(&self) -> &BlockQ4Kx8 {
        self
    }
}

impl KQuantX8 for BlockQ5Kx8 {
    const FIFTH_BIT: bool = true;
    #[inline(always)]
    fn low(&self) -> &BlockQ4Kx8 {
        &self.low
    }
    #[inline(always)]
    unsafe fn fifth_bits(&self, j: usize, k: usize) -> (__m256i, __m256i) {
        let qh = _mm256_loadu_si256(self.qh.as_ptr().add(32 * k) as *const __m256i);
        let bit = |b: usize| {
            let mask = _mm256_set1_epi8(1 << b);
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, mask), mask), _mm256_set1_epi8(0x10))
        };
        (bit(2 * j), bit(2 * j + 1))
    }
}

/// Whether `x`'s format has a fifth bit: known when the tile is compiled, so the test folds away.
#[inline(always)]
fn has_fifth_bit<X: KQuantX8>(_: &[X]) -> bool {
    X::FIFTH_BIT
}

#[inline(always)]
unsafe fn tile_q4_k_x8<D: Int8Dot, const N: usize>(x: &[impl KQuantX8], ys: &[BlockQ8K], t0: usize, out: &mut [f32]) {
    let nb = x.len();
    let m4 = _mm256_set1_epi8(0x0F);
    let mut acc = [_mm256_setzero_ps(); N];
    for (b, packed) in x.iter().enumerate() {
        let xb = packed.low();
        let y: [&BlockQ8K; N] = std::array::from_fn(|i| ys.get_unchecked((t0 + i) * nb + b));
        // Σ over sub-blocks of scale × (quants · activations), per weight row (lane) and activation row.
        let mut scaled = [_mm256_setzero_ps(); N];
        for j in 0..4 {
            let mut dot_lo = [D::zero(); N];
            let mut dot_hi = [D::zero(); N];
            let q = xb.qs.as_ptr().add(256 * j);
            for k in 0..8 {
                let bits = _mm256_loadu_si256(q.add(32 * k) as *const __m256i);
                let mut lo = _mm256_and_si256(bits, m4);
                let mut hi = _mm256_and_si256(_mm256_srli_epi16::<4>(bits), m4);
                if has_fifth_bit(x) {
                    let (lo16, hi16) = packed.fifth_bits(j, k);
                    lo = _mm256_or_si256(lo, lo16);
                    hi = _mm256_or_si256(hi, hi16);
                }
                for i in 0..N {
                    let a = y[i].qs.as_ptr().add(64 * j + 4 * k);
                    let a_lo = _mm256_set1_epi32(std::ptr::read_unaligned(a as *const i32));
                    let a_hi = _mm256_set1_epi32(std::ptr::read_unaligned(a.add(32) as *const i32));
                    dot_lo[i] = D::add(dot_lo[i], lo, a_lo);
                    dot_hi[i] = D::add(dot_hi[i], hi, a_hi);
                }
            }
            let (sc_lo, sc_hi) = (u8x8_to_ps(&xb.scales[2 * j]), u8x8_to_ps(&xb.scales[2 * j + 1]));
            for i in 0..N {
                scaled[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(D::finish(dot_lo[i])), sc_lo, scaled[i]);
                scaled[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(D::finish(dot_hi[i])), sc_hi, scaled[i]);
            }
        }
        // Mins: Σ_s min[s][row] × (sum of the activation's sub-block s), two sub-blocks per madd.
        let mins: [__m256i; 4] =
            std::array::from_fn(|p| _mm256_cvtepu8_epi16(_mm_loadu_si128(xb.mins.as_ptr().add(16 * p) as *const __m128i)));
        let d = _mm256_cvtph_ps(_mm_loadu_si128(xb.d.as_ptr() as *const __m128i));
        let dmin = _mm256_cvtph_ps(_mm_loadu_si128(xb.dmin.as_ptr() as *const __m128i));
        for i in 0..N {
            let bsums = _mm256_loadu_si256(y[i].bsums.as_ptr() as *const __m256i);
            // Eight sub-block sums as i16, then each adjacent pair broadcast as one i32.
            let sub = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256::<1>(bsums));
            let sub = _mm256_broadcastsi128_si256(sub);
            let mut m = _mm256_madd_epi16(mins[0], _mm256_shuffle_epi32::<0x00>(sub));
            m = _mm256_add_epi32(m, _mm256_madd_epi16(mins[1], _mm256_shuffle_epi32::<0x55>(sub)));
            m = _mm256_add_epi32(m, _mm256_madd_epi16(mins[2], _mm256_shuffle_epi32::<0xAA>(sub)));
            m = _mm256_add_epi32(m, _mm256_madd_epi16(mins[3], _mm256_shuffle_epi32::<0xFF>(sub)));
            let block = _mm256_fmsub_ps(d, scaled[i], _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(m)));
            acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d), block, acc[i]);
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        _mm256_storeu_ps(out.as_mut_ptr().add((t0 + i) * 8), *acc);
    }
}

/// Sub-block scales of pair `p` (sub-blocks 2p and 2p + 1) of eight rows, as i16 `[row][2]`.
#[inline(always)]
unsafe fn q6_k_scale_pairs(xb: &BlockQ6Kx8, p: usize) -> __m256i {
    _mm256_cvtepi8_epi16(_mm_loadu_si128(xb.scales.as_ptr().add(16 * p) as *const __m128i))
}

/// One sub-block's scale of each row (the even or the odd one of `pairs`) as eight i32.
#[inline(always)]
unsafe fn q6_k_scales(pairs: __m256i, odd: bool) -> __m256i {
    if odd {
        _mm256_srai_epi32::<16>(pairs)
    } else {
        _mm256_srai_epi32::<16>(_mm256_slli_epi32::<16>(pairs))
    }
}

// As `quant::gemm_q6_k_x8`: the four low bits unpacked like Q4_K's, the two top bits from one `qh` load
// per two `ql` loads; the sum over a sub-block is scaled in i32 (exact), and the -32 offset is taken
// once per block from the activations' sub-block sums.
#[inline(always)]
unsafe fn tile_q6_k_x8<D: Int8Dot, const N: usize>(x: &[BlockQ6Kx8], ys: &[BlockQ8K], t0: usize, out: &mut [f32]) {
    let nb = x.len();
    let m4 = _mm256_set1_epi8(0x0F);
    let top = _mm256_set1_epi8(0x30);
    let mut acc = [_mm256_setzero_ps(); N];
    for (b, xb) in x.iter().enumerate() {
        let y: [&BlockQ8K; N] = std::array::from_fn(|i| ys.get_unchecked((t0 + i) * nb + b));
        let mut total = [_mm256_setzero_si256(); N];
        for j in 0..4 {
            let (pairs_lo, pairs_hi) = (q6_k_scale_pairs(xb, 2 * j), q6_k_scale_pairs(xb, 2 * j + 1));
            for half in 0..2 {
                let mut dot_lo = [D::zero(); N];
                let mut dot_hi = [D::zero(); N];
                let mut qh = _mm256_setzero_si256();
                for k in 4 * half..4 * half + 4 {
                    if k % 2 == 0 {
                        qh = _mm256_loadu_si256(xb.qh.as_ptr().add(128 * j + 32 * (k / 2)) as *const __m256i);
                    }
                    let (lo_top, hi_top) = if k % 2 == 0 {
                        (_mm256_and_si256(_mm256_slli_epi16::<4>(qh), top), _mm256_and_si256(_mm256_slli_epi16::<2>(qh), top))
                    } else {
                        (_mm256_and_si256(qh, top), _mm256_and_si256(_mm256_srli_epi16::<2>(qh), top))
                    };
                    let bits = _mm256_loadu_si256(xb.ql.as_ptr().add(256 * j + 32 * k) as *const __m256i);
                    let lo = _mm256_or_si256(_mm256_and_si256(bits, m4), lo_top);
                    let hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16::<4>(bits), m4), hi_top);
                    for i in 0..N {
                        let a = y[i].qs.as_ptr().add(64 * j + 4 * k);
                        dot_lo[i] = D::add(dot_lo[i], lo, _mm256_set1_epi32(std::ptr::read_unaligned(a as *const i32)));
                        dot_hi[i] = D::add(dot_hi[i], hi, _mm256_set1_epi32(std::ptr::read_unaligned(a.add(32) as *const i32)));
                    }
                }
                // Sub-blocks 4j + half (low nibbles) and 4j + 2 + half (high nibbles).
                let (scale_lo, scale_hi) = (q6_k_scales(pairs_lo, half == 1), q6_k_scales(pairs_hi, half == 1));
                for i in 0..N {
                    total[i] = _mm256_add_epi32(total[i], _mm256_mullo_epi32(D::finish(dot_lo[i]), scale_lo));
                    total[i] = _mm256_add_epi32(total[i], _mm256_mullo_epi32(D::finish(dot_hi[i]), scale_hi));
                }
            }
        }
        let d = _mm256_cvtph_ps(_mm_loadu_si128(xb.d.as_ptr() as *const __m128i));
        for i in 0..N {
            // 32 × Σ_g scale[g] × (the activation's sub-block sum g), two sub-blocks per madd.
            let bsums = y[i].bsums.as_ptr() as *const i32;
            let mut offset = _mm256_setzero_si256();
            for p in 0..8 {
                let pair = _mm256_set1_epi32(std::ptr::read_unaligned(bsums.add(p)));
                offset = _mm256_add_epi32(offset, _mm256_madd_epi16(q6_k_scale_pairs(xb, p), pair));
            }
            let block = _mm256_sub_epi32(total[i], _mm256_slli_epi32::<5>(offset));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block), _mm256_mul_ps(d, _mm256_set1_ps(y[i].d)), acc[i]);
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        _mm256_storeu_ps(out.as_mut_ptr().add((t0 + i) * 8), *acc);
    }
}

interleaved_gemm!("avx2,fma,f16c,avx512f,avx512vl,avx512vnni", Vnni, gemm_q8_0_x8_vnni, tile_q8_0_x8, BlockQ8_0x8, BlockQ8_0);
interleaved_gemm!("avx2,fma,f16c", Avx2Wide, gemm_q8_0_x8_avx2, tile_q8_0_x8, BlockQ8_0x8, BlockQ8_0);

// As `quant::gemm_q8_0_x8`: both sides are signed, so each product is taken as |w| × (a with w's sign)
// (`vpsignb`), unsigned × signed as the dot instructions want, exact for every i8 value.
#[inline(always)]
unsafe fn tile_q8_0_x8<D: Int8Dot, const N: usize>(x: &[BlockQ8_0x8], ys: &[BlockQ8_0], t0: usize, out: &mut [f32]) {
    let nb = x.len();
    let mut acc = [_mm256_setzero_ps(); N];
    for (b, xb) in x.iter().enumerate() {
        let y: [&BlockQ8_0; N] = std::array::from_fn(|i| ys.get_unchecked((t0 + i) * nb + b));
        // Even and odd loads in separate chains: twice the dot products in flight.
        let mut dot = [[D::zero(); N]; 2];
        for k in 0..8 {
            let w = _mm256_loadu_si256(xb.qs.as_ptr().add(32 * k) as *const __m256i);
            let magnitude = _mm256_sign_epi8(w, w);
            for i in 0..N {
                let a = _mm256_set1_epi32(std::ptr::read_unaligned(y[i].qs.as_ptr().add(4 * k) as *const i32));
                dot[k % 2][i] = D::add(dot[k % 2][i], magnitude, _mm256_sign_epi8(a, w));
            }
        }
        let d = _mm256_cvtph_ps(_mm_loadu_si128(xb.d.as_ptr() as *const __m128i));
        for i in 0..N {
            let sum = _mm256_cvtepi32_ps(_mm256_add_epi32(D::finish(dot[0][i]), D::finish(dot[1][i])));
            acc[i] = _mm256_fmadd_ps(sum, _mm256_mul_ps(d, _mm256_broadcastss_ps(f16_pair(&y[i].d))), acc[i]);
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        _mm256_storeu_ps(out.as_mut_ptr().add((t0 + i) * 8), *acc);
    }
}
