//! GGUF block formats (bit-compatible with ggml) and their scalar reference arithmetic: quantising
//! activations, dot products of a weight row with quantised activations, and dequantisation.
//! The SIMD kernels in `x86`/`aarch64` must agree with these.

use half::f16;

pub const QK: usize = 32;
pub const QK_K: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockQ4_0 {
    pub d: f16,
    pub qs: [u8; QK / 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockQ4_1 {
    pub d: f16,
    pub m: f16,
    pub qs: [u8; QK / 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockQ5_0 {
    pub d: f16,
    pub qh: [u8; 4],
    pub qs: [u8; QK / 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockQ5_1 {
    pub d: f16,
    pub m: f16,
    pub qh: [u8; 4],
    pub qs: [u8; QK / 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ8_0 {
    pub d: f16,
    pub qs: [i8; QK],
}

/// Activations for Q4_1/Q5_1 weights: `s` = d · Σqs carries the offset term.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ8_1 {
    pub d: f16,
    pub s: f16,
    pub qs: [i8; QK],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ4K {
    pub d: f16,
    pub dmin: f16,
    pub scales: [u8; 12],
    pub qs: [u8; QK_K / 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ5K {
    pub d: f16,
    pub dmin: f16,
    pub scales: [u8; 12],
    pub qh: [u8; QK_K / 8],
    pub qs: [u8; QK_K / 2],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ6K {
    pub ql: [u8; QK_K / 2],
    pub qh: [u8; QK_K / 4],
    pub scales: [i8; QK_K / 16],
    pub d: f16,
}

/// Activations for k-quant weights; `bsums` are the sums of each 16 values.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ8K {
    pub d: f32,
    pub qs: [i8; QK_K],
    pub bsums: [i16; QK_K / 16],
}

/// Eight Q4_K rows' super-block, interleaved for a GEMM tile (repacked once at load): a 32-byte load of
/// `qs` holds four consecutive quants of each of the eight rows, so vector lanes are rows and one
/// broadcast activation word feeds all eight. Scales and mins are unpacked from their 6-bit encoding.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ4Kx8 {
    pub d: [f16; 8],
    pub dmin: [f16; 8],
    /// `[sub-block][row]`
    pub scales: [[u8; 8]; 8],
    /// Sub-block pairs: byte `16 * (s / 2) + 2 * row + s % 2` is the min of sub-block `s` of `row`, so
    /// that a widening load gives each row's two mins as adjacent i16 (one `madd` per pair).
    pub mins: [u8; 64],
    /// `[64-value chunk j][4-byte group k][row][4]`: byte `i` of group `k` of chunk `j` is byte `32j + 4k + i`
    /// of the row's `qs` (low nibble: value `64j + 4k + i`, high nibble: value `64j + 32 + 4k + i`).
    pub qs: [u8; QK_K * 4],
}

#[inline]
pub fn q4_k_x8_min_index(sub_block: usize, row: usize) -> usize {
    16 * (sub_block / 2) + 2 * row + sub_block % 2
}

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

/// Row `r` (0..8) of interleaved blocks as f32 values (the embedding lookup of a repacked matrix).
pub fn dequantize_q4_k_x8_row(x: &[BlockQ4Kx8], r: usize, out: &mut [f32]) {
    for (b, o) in x.iter().zip(out.chunks_exact_mut(QK_K)) {
        let (d, min) = (b.d[r].to_f32(), b.dmin[r].to_f32());
        for j in 0..4 {
            let (sc0, m0) = (b.scales[2 * j][r] as f32, b.mins[q4_k_x8_min_index(2 * j, r)] as f32);
            let (sc1, m1) = (b.scales[2 * j + 1][r] as f32, b.mins[q4_k_x8_min_index(2 * j + 1, r)] as f32);
            for k in 0..8 {
                for i in 0..4 {
                    let q = b.qs[256 * j + 32 * k + 4 * r + i];
                    o[64 * j + 4 * k + i] = d * sc0 * (q & 0x0F) as f32 - min * m0;
                    o[64 * j + 32 + 4 * k + i] = d * sc1 * (q >> 4) as f32 - min * m1;
                }
            }
        }
    }
}

/// Scalar reference of the interleaved GEMM: `out[t * 8 + r]` = row `r` · activation row `t`, for the
/// `ys.len() / x.len()` activation rows in `ys`.
pub fn gemm_q4_k_x8(x: &[BlockQ4Kx8], ys: &[BlockQ8K], out: &mut [f32]) {
    let nb = x.len();
    for (t, y) in ys.chunks_exact(nb).enumerate() {
        for r in 0..8 {
            let mut sum = 0f32;
            for (b, y) in x.iter().zip(y) {
                let (mut sum_q, mut sum_m) = (0i32, 0i32);
                for s in 0..8 {
                    let (j, high) = (s / 2, s % 2 == 1);
                    let mut dot = 0i32;
                    for k in 0..8 {
                        for i in 0..4 {
                            let q = b.qs[256 * j + 32 * k + 4 * r + i];
                            let q = if high { q >> 4 } else { q & 0x0F };
                            dot += q as i32 * y.qs[64 * j + 32 * high as usize + 4 * k + i] as i32;
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

/// Eight Q4_1 rows' block, interleaved like [`BlockQ4Kx8`]: byte `i` of 4-byte group `k` of row `r` is at
/// `32k + 4r + i` and holds values `4k + i` (low nibble) and `16 + 4k + i` (high nibble) of that row.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ4_1x8 {
    pub d: [f16; 8],
    pub m: [f16; 8],
    pub qs: [u8; QK * 4],
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

impl Default for BlockQ8_0 {
    fn default() -> Self {
        Self { d: f16::ZERO, qs: [0; QK] }
    }
}
impl Default for BlockQ8_1 {
    fn default() -> Self {
        Self { d: f16::ZERO, s: f16::ZERO, qs: [0; QK] }
    }
}
impl Default for BlockQ8K {
    fn default() -> Self {
        Self { d: 0.0, qs: [0; QK_K], bsums: [0; QK_K / 16] }
    }
}

const _: () = {
    assert!(std::mem::size_of::<BlockQ4_0>() == 18);
    assert!(std::mem::size_of::<BlockQ4_1>() == 20);
    assert!(std::mem::size_of::<BlockQ5_0>() == 22);
    assert!(std::mem::size_of::<BlockQ5_1>() == 24);
    assert!(std::mem::size_of::<BlockQ8_0>() == 34);
    assert!(std::mem::size_of::<BlockQ8_1>() == 36);
    assert!(std::mem::size_of::<BlockQ4K>() == 144);
    assert!(std::mem::size_of::<BlockQ5K>() == 176);
    assert!(std::mem::size_of::<BlockQ6K>() == 210);
    assert!(std::mem::size_of::<BlockQ8K>() == 292);
    assert!(std::mem::size_of::<BlockQ4Kx8>() == 8 * 144 + 32);
    assert!(std::mem::size_of::<BlockQ4_1x8>() == 8 * 20);
};

/// The weight formats the CPU path runs, with the activation format each pairs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4K,
    Q5K,
    Q6K,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActType {
    F32,
    Q8_0,
    Q8_1,
    Q8K,
}

impl WeightType {
    pub fn block_len(self) -> usize {
        match self {
            Self::F32 | Self::F16 => 1,
            Self::Q4_0 | Self::Q4_1 | Self::Q5_0 | Self::Q5_1 | Self::Q8_0 => QK,
            Self::Q4K | Self::Q5K | Self::Q6K => QK_K,
        }
    }

    pub fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 => 2,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q5_0 => 22,
            Self::Q5_1 => 24,
            Self::Q8_0 => 34,
            Self::Q4K => 144,
            Self::Q5K => 176,
            Self::Q6K => 210,
        }
    }

    pub fn row_bytes(self, cols: usize) -> usize {
        cols / self.block_len() * self.block_bytes()
    }

    pub fn activation(self) -> ActType {
        match self {
            Self::F32 | Self::F16 => ActType::F32,
            Self::Q4_0 | Self::Q5_0 | Self::Q8_0 => ActType::Q8_0,
            Self::Q4_1 | Self::Q5_1 => ActType::Q8_1,
            Self::Q4K | Self::Q5K | Self::Q6K => ActType::Q8K,
        }
    }
}

impl ActType {
    pub fn block_len(self) -> usize {
        match self {
            Self::F32 => 1,
            Self::Q8_0 | Self::Q8_1 => QK,
            Self::Q8K => QK_K,
        }
    }

    pub fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::Q8_0 => 34,
            Self::Q8_1 => 36,
            Self::Q8K => 292,
        }
    }

    pub fn row_bytes(self, cols: usize) -> usize {
        cols / self.block_len() * self.block_bytes()
    }
}

/// Reinterprets a byte slice as blocks. The blocks are plain data with alignment ≤ 4.
///
/// # Safety
/// `bytes` must hold whole blocks and be aligned for `T`.
pub unsafe fn as_blocks<T>(bytes: &[u8]) -> &[T] {
    debug_assert_eq!(bytes.len() % std::mem::size_of::<T>(), 0);
    debug_assert_eq!(bytes.as_ptr() as usize % std::mem::align_of::<T>(), 0);
    std::slice::from_raw_parts(bytes.as_ptr() as *const T, bytes.len() / std::mem::size_of::<T>())
}

/// # Safety
/// As [`as_blocks`].
pub unsafe fn as_blocks_mut<T>(bytes: &mut [u8]) -> &mut [T] {
    debug_assert_eq!(bytes.len() % std::mem::size_of::<T>(), 0);
    debug_assert_eq!(bytes.as_ptr() as usize % std::mem::align_of::<T>(), 0);
    std::slice::from_raw_parts_mut(bytes.as_mut_ptr() as *mut T, bytes.len() / std::mem::size_of::<T>())
}

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

/// Scale and min of sub-block `j` (0..8) from the 12 packed bytes of Q4_K/Q5_K.
#[inline]
pub fn scale_min_k4(j: usize, q: &[u8; 12]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
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

/// The 256 signed 6-bit values of a Q6_K block, in order.
#[inline]
pub fn q6_k_values(x: &BlockQ6K) -> [i8; QK_K] {
    let mut out = [0i8; QK_K];
    for half in 0..2 {
        let ql = &x.ql[half * 64..half * 64 + 64];
        let qh = &x.qh[half * 32..half * 32 + 32];
        let o = &mut out[half * 128..half * 128 + 128];
        for l in 0..32 {
            o[l] = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) as i8 - 32;
            o[l + 32] = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) as i8 - 32;
            o[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i8 - 32;
            o[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i8 - 32;
        }
    }
    out
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
