//! Row kernels: one weight row · one activation row for every format (AVX2 + FMA + F16C; AVX-512 VNNI for
//! the 32-value formats), the f32/f16 dot products of attention, and the activation quantisers.

use std::arch::x86_64::*;

use half::f16;

use super::f16_pair;
use crate::backend::cpu::quant::{BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8K, BlockQ8_0, BlockQ8_1, QK_K};

#[inline(always)]
unsafe fn hsum_f32x8(x: __m256) -> f32 {
    let mut r = _mm256_extractf128_ps::<1>(x);
    r = _mm_add_ps(r, _mm256_castps256_ps128(x));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    _mm_cvtss_f32(r)
}

/// 32 nibbles → 32 bytes: low nibbles in the low lane (values 0..16), high nibbles in the high lane.
#[inline(always)]
unsafe fn nibbles_to_bytes(p: *const u8) -> __m256i {
    let tmp = _mm_loadu_si128(p as *const __m128i);
    let bytes = _mm256_insertf128_si256::<1>(_mm256_castsi128_si256(tmp), _mm_srli_epi16::<4>(tmp));
    _mm256_and_si256(_mm256_set1_epi8(0x0F), bytes)
}

/// 32 bits → 32 bytes of 0xFF (bit set) or 0x00.
#[inline(always)]
unsafe fn bits_to_bytes(p: *const u8) -> __m256i {
    let x32 = u32::from_le_bytes(std::ptr::read_unaligned(p as *const [u8; 4]));
    let shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(x32 as i32), shuffle);
    let bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1))
}

/// Σ pairs of unsigned × signed bytes, as 8 floats (AVX2: maddubs then madd).
#[inline(always)]
unsafe fn mul_sum_us8_avx2(ax: __m256i, sy: __m256i) -> __m256 {
    let dot = _mm256_maddubs_epi16(ax, sy);
    _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_set1_epi16(1), dot))
}

/// The same in one VNNI instruction.
#[inline(always)]
unsafe fn mul_sum_us8_vnni(ax: __m256i, sy: __m256i) -> __m256 {
    _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy))
}

/// Sums `d·q` over block pairs with two independent accumulators (one FMA chain would cap the loop at
/// its 4-cycle latency per block); `$body` yields (d, q, scales) for one block, `scales` lane 1 being the
/// block's offset term (m·s) where the format has one.
macro_rules! dual_accumulate {
    ($x:ident, $y:ident, |$xb:ident, $yb:ident| $body:expr) => {{
        let n = $x.len().min($y.len());
        let mut acc = [_mm256_setzero_ps(); 2];
        let mut offsets = [_mm_setzero_ps(); 2];
        let mut i = 0;
        while i + 1 < n {
            for lane in 0..2 {
                let ($xb, $yb) = ($x.get_unchecked(i + lane), $y.get_unchecked(i + lane));
                let (d, q, scales): (__m256, __m256, __m128) = $body;
                acc[lane] = _mm256_fmadd_ps(d, q, acc[lane]);
                offsets[lane] = _mm_add_ps(offsets[lane], scales);
            }
            i += 2;
        }
        if i < n {
            let ($xb, $yb) = ($x.get_unchecked(i), $y.get_unchecked(i));
            let (d, q, scales): (__m256, __m256, __m128) = $body;
            acc[0] = _mm256_fmadd_ps(d, q, acc[0]);
            offsets[0] = _mm_add_ps(offsets[0], scales);
        }
        let offsets = _mm_add_ps(offsets[0], offsets[1]);
        hsum_f32x8(_mm256_add_ps(acc[0], acc[1])) + _mm_cvtss_f32(_mm_movehdup_ps(offsets))
    }};
}

/// Kernels for the 32-value formats, instantiated for AVX2 and for AVX-512 VNNI.
macro_rules! block32_kernels {
    ($features:literal, $mul_sum_us8:ident, $q4_0:ident, $q4_1:ident, $q5_0:ident, $q5_1:ident, $q8_0:ident) => {
        #[target_feature(enable = $features)]
        pub unsafe fn $q4_0(x: &[BlockQ4_0], y: &[BlockQ8_0]) -> f32 {
            dual_accumulate!(x, y, |x, y| {
                let scales = _mm_mul_ps(f16_pair(&x.d), f16_pair(&y.d));
                let qx = _mm256_sub_epi8(nibbles_to_bytes(x.qs.as_ptr()), _mm256_set1_epi8(8));
                let qy = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
                let q = $mul_sum_us8(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
                // Lane 1 of `scales` mixes d with the next bytes: no offset term here.
                (_mm256_broadcastss_ps(scales), q, _mm_setzero_ps())
            })
        }

        #[target_feature(enable = $features)]
        pub unsafe fn $q4_1(x: &[BlockQ4_1], y: &[BlockQ8_1]) -> f32 {
            dual_accumulate!(x, y, |x, y| {
                // [d_x·d_y, m·s]: the block's scale and its offset term in one multiply.
                let scales = _mm_mul_ps(f16_pair(&x.d), f16_pair(&y.d));
                let qx = nibbles_to_bytes(x.qs.as_ptr());
                let qy = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
                (_mm256_broadcastss_ps(scales), $mul_sum_us8(qx, qy), scales)
            })
        }

        #[target_feature(enable = $features)]
        pub unsafe fn $q5_0(x: &[BlockQ5_0], y: &[BlockQ8_0]) -> f32 {
            dual_accumulate!(x, y, |x, y| {
                let scales = _mm_mul_ps(f16_pair(&x.d), f16_pair(&y.d));
                // A clear high bit means value − 16: OR in 0xF0 (two's complement) where the bit is 0.
                let high = _mm256_andnot_si256(bits_to_bytes(x.qh.as_ptr()), _mm256_set1_epi8(0xF0u8 as i8));
                let qx = _mm256_or_si256(nibbles_to_bytes(x.qs.as_ptr()), high);
                let qy = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
                let q = $mul_sum_us8(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
                (_mm256_broadcastss_ps(scales), q, _mm_setzero_ps())
            })
        }

        #[target_feature(enable = $features)]
        pub unsafe fn $q5_1(x: &[BlockQ5_1], y: &[BlockQ8_1]) -> f32 {
            dual_accumulate!(x, y, |x, y| {
                let scales = _mm_mul_ps(f16_pair(&x.d), f16_pair(&y.d));
                let high = _mm256_and_si256(bits_to_bytes(x.qh.as_ptr()), _mm256_set1_epi8(0x10));
                let qx = _mm256_or_si256(nibbles_to_bytes(x.qs.as_ptr()), high);
                let qy = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
                (_mm256_broadcastss_ps(scales), $mul_sum_us8(qx, qy), scales)
            })
        }

        #[target_feature(enable = $features)]
        pub unsafe fn $q8_0(x: &[BlockQ8_0], y: &[BlockQ8_0]) -> f32 {
            dual_accumulate!(x, y, |x, y| {
                let scales = _mm_mul_ps(f16_pair(&x.d), f16_pair(&y.d));
                let qx = _mm256_loadu_si256(x.qs.as_ptr() as *const __m256i);
                let qy = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
                let q = $mul_sum_us8(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
                (_mm256_broadcastss_ps(scales), q, _mm_setzero_ps())
            })
        }
    };
}

block32_kernels!("avx2,fma,f16c", mul_sum_us8_avx2, dot_q4_0_avx2, dot_q4_1_avx2, dot_q5_0_avx2, dot_q5_1_avx2, dot_q8_0_avx2);
block32_kernels!(
    "avx2,fma,f16c,avx512f,avx512vl,avx512vnni",
    mul_sum_us8_vnni,
    dot_q4_0_vnni,
    dot_q4_1_vnni,
    dot_q5_0_vnni,
    dot_q5_1_vnni,
    dot_q8_0_vnni
);

/// Q4_K/Q5_K scales and mins (6 bits each, packed in 12 bytes) as 8 + 8 u8 in 16 bytes.
#[inline(always)]
unsafe fn unpack_scales_mins(scales: &[u8; 12]) -> __m128i {
    const KMASK1: u32 = 0x3f3f3f3f;
    const KMASK2: u32 = 0x0f0f0f0f;
    const KMASK3: u32 = 0x03030303;
    let mut u = [0u32; 4];
    for (i, chunk) in scales.chunks_exact(4).enumerate() {
        u[i] = u32::from_le_bytes(chunk.try_into().unwrap());
    }
    u[3] = ((u[2] >> 4) & KMASK2) | (((u[1] >> 6) & KMASK3) << 4);
    let uaux = u[1] & KMASK1;
    u[1] = (u[2] & KMASK2) | (((u[0] >> 6) & KMASK3) << 4);
    u[2] = uaux;
    u[0] &= KMASK1;
    _mm_set_epi32(u[3] as i32, u[2] as i32, u[1] as i32, u[0] as i32)
}

/// Broadcast 16-bit scale `i` of an 8-scale lane to every 16-bit slot.
#[inline(always)]
unsafe fn scale_shuffle_k4(i: i32) -> __m256i {
    _mm256_set1_epi16((((2 * i + 1) << 8) | (2 * i)) as i16)
}

/// Σ over the 8 (min × 32-value sum) products, from the block's bsums.
#[inline(always)]
unsafe fn mins_dot_bsums(mins_and_scales: __m256i, bsums: &[i16; 16]) -> __m128i {
    let q8sums = _mm256_loadu_si256(bsums.as_ptr() as *const __m256i);
    let q8s = _mm_hadd_epi16(_mm256_extracti128_si256::<0>(q8sums), _mm256_extracti128_si256::<1>(q8sums));
    _mm_madd_epi16(_mm256_extracti128_si256::<1>(mins_and_scales), q8s)
}

#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_q4_k_avx2(x: &[BlockQ4K], y: &[BlockQ8K]) -> f32 {
    let m4 = _mm256_set1_epi8(0x0F);
    let mut acc = _mm256_setzero_ps();
    let mut acc_m = _mm_setzero_ps();
    for (x, y) in x.iter().zip(y) {
        let dd = f16_pair(&x.d);
        let d = y.d * _mm_cvtss_f32(dd);
        let dmin = -y.d * _mm_cvtss_f32(_mm_movehdup_ps(dd));
        let mins_and_scales = _mm256_cvtepu8_epi16(unpack_scales_mins(&x.scales));
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(mins_dot_bsums(mins_and_scales, &y.bsums)), acc_m);
        let sc128 = _mm256_extracti128_si256::<0>(mins_and_scales);
        let scales = _mm256_set_m128i(sc128, sc128);
        let mut sumi = _mm256_setzero_si256();
        let mut q4 = x.qs.as_ptr();
        let mut q8 = y.qs.as_ptr();
        for j in 0..(QK_K / 64) as i32 {
            let scale_l = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j));
            let scale_h = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 1));
            let bits = _mm256_loadu_si256(q4 as *const __m256i);
            q4 = q4.add(32);
            let lo = _mm256_and_si256(bits, m4);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(bits), m4);
            let q8l = _mm256_loadu_si256(q8 as *const __m256i);
            let q8h = _mm256_loadu_si256(q8.add(32) as *const __m256i);
            q8 = q8.add(64);
            let pl = _mm256_madd_epi16(scale_l, _mm256_maddubs_epi16(lo, q8l));
            let ph = _mm256_madd_epi16(scale_h, _mm256_maddubs_epi16(hi, q8h));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(pl, ph));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
    hsum_f32x8(acc) + _mm_cvtss_f32(acc_m)
}

#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_q5_k_avx2(x: &[BlockQ5K], y: &[BlockQ8K]) -> f32 {
    let m4 = _mm256_set1_epi8(0x0F);
    let mut acc = _mm256_setzero_ps();
    let mut acc_m = _mm_setzero_ps();
    for (x, y) in x.iter().zip(y) {
        let dd = f16_pair(&x.d);
        let d = y.d * _mm_cvtss_f32(dd);
        let dmin = -y.d * _mm_cvtss_f32(_mm_movehdup_ps(dd));
        let mins_and_scales = _mm256_cvtepu8_epi16(unpack_scales_mins(&x.scales));
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(mins_dot_bsums(mins_and_scales, &y.bsums)), acc_m);
        let sc128 = _mm256_extracti128_si256::<0>(mins_and_scales);
        let scales = _mm256_set_m128i(sc128, sc128);
        let hbits = _mm256_loadu_si256(x.qh.as_ptr() as *const __m256i);
        let mut hmask = _mm256_set1_epi8(1);
        let mut sumi = _mm256_setzero_si256();
        let mut q5 = x.qs.as_ptr();
        let mut q8 = y.qs.as_ptr();
        for j in 0..(QK_K / 64) as i32 {
            let scale_0 = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j));
            let scale_1 = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 1));
            let bits = _mm256_loadu_si256(q5 as *const __m256i);
            q5 = q5.add(32);
            let shift0 = _mm_cvtsi32_si128(2 * j);
            let shift1 = _mm_cvtsi32_si128(2 * j + 1);
            let high0 = _mm256_slli_epi16::<4>(_mm256_srl_epi16(_mm256_and_si256(hbits, hmask), shift0));
            let q5_0 = _mm256_add_epi8(_mm256_and_si256(bits, m4), high0);
            hmask = _mm256_slli_epi16::<1>(hmask);
            let high1 = _mm256_slli_epi16::<4>(_mm256_srl_epi16(_mm256_and_si256(hbits, hmask), shift1));
            let q5_1 = _mm256_add_epi8(_mm256_and_si256(_mm256_srli_epi16::<4>(bits), m4), high1);
            hmask = _mm256_slli_epi16::<1>(hmask);
            let q8_0 = _mm256_loadu_si256(q8 as *const __m256i);
            let q8_1 = _mm256_loadu_si256(q8.add(32) as *const __m256i);
            q8 = q8.add(64);
            let p0 = _mm256_madd_epi16(scale_0, _mm256_maddubs_epi16(q5_0, q8_0));
            let p1 = _mm256_madd_epi16(scale_1, _mm256_maddubs_epi16(q5_1, q8_1));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
    hsum_f32x8(acc) + _mm_cvtss_f32(acc_m)
}

/// 16-byte shuffle that repeats scale byte 2i eight times, then 2i+1 eight times.
#[inline(always)]
unsafe fn scale_shuffle_q6(i: i32) -> __m128i {
    let lo = (2 * i) as i8;
    let hi = (2 * i + 1) as i8;
    _mm_set_epi8(hi, hi, hi, hi, hi, hi, hi, hi, lo, lo, lo, lo, lo, lo, lo, lo)
}

#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_q6_k_avx2(x: &[BlockQ6K], y: &[BlockQ8K]) -> f32 {
    let m4 = _mm256_set1_epi8(0x0F);
    let m2 = _mm256_set1_epi8(3);
    let m32s = _mm256_set1_epi8(32);
    let mut acc = _mm256_setzero_ps();
    for (x, y) in x.iter().zip(y) {
        // Q6_K's d is the block's last field: read it as the high half of the preceding 4 bytes.
        let d = y.d * _mm_cvtss_f32(_mm_movehdup_ps(f16_pair((&x.d as *const f16).sub(1))));
        let scales = _mm_loadu_si128(x.scales.as_ptr() as *const __m128i);
        let mut sumi = _mm256_setzero_si256();
        let mut q4 = x.ql.as_ptr();
        let mut qh = x.qh.as_ptr();
        let mut q8 = y.qs.as_ptr();
        for j in 0..(QK_K / 128) as i32 {
            let is = 4 * j;
            let scale = |k: i32| _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, scale_shuffle_q6(is + k)));
            let bits1 = _mm256_loadu_si256(q4 as *const __m256i);
            let bits2 = _mm256_loadu_si256(q4.add(32) as *const __m256i);
            q4 = q4.add(64);
            let bits_h = _mm256_loadu_si256(qh as *const __m256i);
            qh = qh.add(32);
            let h0 = _mm256_slli_epi16::<4>(_mm256_and_si256(bits_h, m2));
            let h1 = _mm256_slli_epi16::<4>(_mm256_and_si256(_mm256_srli_epi16::<2>(bits_h), m2));
            let h2 = _mm256_slli_epi16::<4>(_mm256_and_si256(_mm256_srli_epi16::<4>(bits_h), m2));
            let h3 = _mm256_slli_epi16::<4>(_mm256_and_si256(_mm256_srli_epi16::<6>(bits_h), m2));
            let v0 = _mm256_or_si256(_mm256_and_si256(bits1, m4), h0);
            let v1 = _mm256_or_si256(_mm256_and_si256(bits2, m4), h1);
            let v2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16::<4>(bits1), m4), h2);
            let v3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16::<4>(bits2), m4), h3);
            let mut sum4 = _mm256_setzero_si256();
            for (k, v) in [v0, v1, v2, v3].into_iter().enumerate() {
                let a = _mm256_loadu_si256(q8.add(32 * k) as *const __m256i);
                // (v − 32)·a = v·a − 32·a, with v unsigned for maddubs.
                let p = _mm256_sub_epi16(_mm256_maddubs_epi16(v, a), _mm256_maddubs_epi16(m32s, a));
                sum4 = _mm256_add_epi32(sum4, _mm256_madd_epi16(scale(k as i32), p));
            }
            q8 = q8.add(128);
            sumi = _mm256_add_epi32(sumi, sum4);
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    hsum_f32x8(acc)
}

#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_f32_avx2(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (k, a) in acc.iter_mut().enumerate() {
            let xv = _mm256_loadu_ps(x.as_ptr().add(i + 8 * k));
            let yv = _mm256_loadu_ps(y.as_ptr().add(i + 8 * k));
            *a = _mm256_fmadd_ps(xv, yv, *a);
        }
        i += 32;
    }
    while i + 8 <= n {
        acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x.as_ptr().add(i)), _mm256_loadu_ps(y.as_ptr().add(i)), acc[0]);
        i += 8;
    }
    let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut total = hsum_f32x8(sum);
    while i < n {
        total += x[i] * y[i];
        i += 1;
    }
    total
}

#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_f16_avx2(x: &[f16], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let mut acc = [_mm256_setzero_ps(); 2];
    let mut i = 0;
    while i + 16 <= n {
        for (k, a) in acc.iter_mut().enumerate() {
            let xv = _mm256_cvtph_ps(_mm_loadu_si128(x.as_ptr().add(i + 8 * k) as *const __m128i));
            *a = _mm256_fmadd_ps(xv, _mm256_loadu_ps(y.as_ptr().add(i + 8 * k)), *a);
        }
        i += 16;
    }
    let mut total = hsum_f32x8(_mm256_add_ps(acc[0], acc[1]));
    while i < n {
        total += x[i].to_f32() * y[i];
        i += 1;
    }
    total
}

/// Quantises activations to Q8_0 (as ggml's AVX2 path: round half to even).
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn quantize_q8_0_avx2(x: &[f32], out: &mut [BlockQ8_0]) {
    for (block, xs) in out.iter_mut().zip(x.chunks_exact(32)) {
        let (d, q) = quantize_32(xs.as_ptr());
        block.d = f16::from_f32(d);
        _mm256_storeu_si256(block.qs.as_mut_ptr() as *mut __m256i, q);
    }
}

#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn quantize_q8_1_avx2(x: &[f32], out: &mut [BlockQ8_1]) {
    for (block, xs) in out.iter_mut().zip(x.chunks_exact(32)) {
        let (d, q) = quantize_32(xs.as_ptr());
        block.d = f16::from_f32(d);
        _mm256_storeu_si256(block.qs.as_mut_ptr() as *mut __m256i, q);
        // Σ of the 32 signed bytes.
        let sum16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
        let sum32 = _mm256_madd_epi16(sum16, _mm256_set1_epi16(1));
        let s = _mm_add_epi32(_mm256_castsi256_si128(sum32), _mm256_extracti128_si256::<1>(sum32));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        block.s = f16::from_f32(d * _mm_cvtsi128_si32(s) as f32);
    }
}

/// One 32-value block: scale and the 32 rounded values packed in order.
#[inline(always)]
unsafe fn quantize_32(x: *const f32) -> (f32, __m256i) {
    let v = [_mm256_loadu_ps(x), _mm256_loadu_ps(x.add(8)), _mm256_loadu_ps(x.add(16)), _mm256_loadu_ps(x.add(24))];
    let sign_bit = _mm256_set1_ps(-0.0);
    let mut max_abs = _mm256_andnot_ps(sign_bit, v[0]);
    for vi in &v[1..] {
        max_abs = _mm256_max_ps(max_abs, _mm256_andnot_ps(sign_bit, *vi));
    }
    let mut m4 = _mm_max_ps(_mm256_extractf128_ps::<1>(max_abs), _mm256_castps256_ps128(max_abs));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    let max_scalar = _mm_cvtss_f32(m4);
    let d = max_scalar / 127.0;
    let id = if max_scalar != 0.0 { 127.0 / max_scalar } else { 0.0 };
    let mul = _mm256_set1_ps(id);
    let mut ints = [_mm256_setzero_si256(); 4];
    for (int, vi) in ints.iter_mut().zip(&v) {
        let r = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(*vi, mul));
        *int = _mm256_cvtps_epi32(r);
    }
    // Pack 4×8 i32 → 32 i8; the packs interleave lanes, the final permute restores the order.
    let i01 = _mm256_packs_epi32(ints[0], ints[1]);
    let i23 = _mm256_packs_epi32(ints[2], ints[3]);
    let packed = _mm256_packs_epi16(i01, i23);
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    (d, _mm256_permutevar8x32_epi32(packed, order))
}
