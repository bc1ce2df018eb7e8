//! GGUF's block formats, bit-compatible with ggml: weight and activation blocks, the eight-row interleaved
//! blocks the GEMM tiles read, the weight/activation type pairs, and decoders of their packed fields.

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

/// Eight Q4_1 rows' block, interleaved like [`BlockQ4Kx8`]: byte `i` of 4-byte group `k` of row `r` is at
/// `32k + 4r + i` and holds values `4k + i` (low nibble) and `16 + 4k + i` (high nibble) of that row.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ4_1x8 {
    pub d: [f16; 8],
    pub m: [f16; 8],
    pub qs: [u8; QK * 4],
}

/// Eight Q4_0 rows' block, interleaved like [`BlockQ4_1x8`] (the offset is -8 × d: no `m`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ4_0x8 {
    pub d: [f16; 8],
    pub qs: [u8; QK * 4],
}

/// Eight Q5_0 rows' block: the low four bits interleaved like [`BlockQ4_1x8`], each row's 32 high bits
/// as one little-endian word (`qh[r]` bit `j`: value `j` of row `r`); the offset is -16 × d.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ5_0x8 {
    pub d: [f16; 8],
    pub qh: [u32; 8],
    pub qs: [u8; QK * 4],
}

/// Eight Q5_K rows' super-block: the four low bits, scales and mins exactly as [`BlockQ4Kx8`], and each
/// row's fifth bits (its 32 `qh` bytes) in groups of four like the quants (byte `32k + 4r + i` is byte
/// `4k + i` of row `r`'s `qh`, whose bit `2j` is value `64j + 4k + i`'s and bit `2j + 1` value
/// `64j + 32 + 4k + i`'s), so one load gives the fifth bits of eight loads of `qs`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ5Kx8 {
    pub low: BlockQ4Kx8,
    pub qh: [u8; QK_K],
}

/// Eight Q8_0 rows' block: the quants in groups of four, row after row (byte `32k + 4r + i`: value
/// `4k + i` of row `r`), so each 32-byte load holds four values of every row.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ8_0x8 {
    pub d: [f16; 8],
    pub qs: [i8; QK * 8],
}

/// Eight Q6_K rows' super-block for a GEMM tile, as compact as Q6_K itself. Values are unsigned
/// (q + 32, 0..64), laid out like [`BlockQ4Kx8`]: the low four bits in `ql` exactly as Q4_K x8's `qs`
/// (byte `256j + 32k + 4r + i`: value `64j + 4k + i` low, `64j + 32 + 4k + i` high nibble), the top two
/// bits in `qh`, one byte per `ql` byte of two neighbouring loads: byte `128j + 32(k/2) + 4r + i` holds,
/// from bit 0, the pairs of values `64j + 4k + i`, `64j + 32 + 4k + i` for the even `k`, then the same
/// two for `k + 1`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ6Kx8 {
    pub d: [f16; 8],
    /// Each row's 16 scales, by pairs of sub-blocks as [`q4_k_x8_min_index`] places Q4_K's mins
    /// (`16 (g / 2) + 2r + g % 2`): one sign-extending load gives every row's pair as adjacent i16.
    pub scales: [i8; 128],
    pub ql: [u8; QK_K * 4],
    pub qh: [u8; QK_K * 2],
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
    assert!(std::mem::size_of::<BlockQ4_0x8>() == 8 * 18);
    assert!(std::mem::size_of::<BlockQ5_0x8>() == 8 * 22);
    assert!(std::mem::size_of::<BlockQ6Kx8>() == 8 * 210);
    assert!(std::mem::size_of::<BlockQ8_0x8>() == 8 * 34);
    assert!(std::mem::size_of::<BlockQ5Kx8>() == 8 * 176 + 32);
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
// Decoders of packed fields, shared by the reference arithmetic and the repacking.

/// Scale and min of sub-block `j` (0..8) from the 12 packed bytes of Q4_K/Q5_K.
#[inline]
pub fn scale_min_k4(j: usize, q: &[u8; 12]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
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
