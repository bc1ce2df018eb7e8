//! Quantised matrix × activations on the CPU: activations are quantised once per call, weight rows are
//! split into chunks across threads, and each weight row (read from the mapped file, once) is applied to
//! every activation row while it is hot in cache — the decode path streams each weight once per token, the
//! prompt path reuses it for the whole batch.

use std::sync::Arc;

use half::f16;
use memmap2::Mmap;
use super::{kernels, GemmX8Fn};
use super::pool::{current_threads, parallel_for};
use super::quant::*;
use crate::error::{EngineError, Result};

/// Bytes a matrix lives in: the memory-mapped model file, or (tests, converted weights) owned memory.
#[derive(Clone)]
pub enum Storage {
    Mapped(Arc<Mmap>),
    /// u32 words keep block data 4-byte aligned.
    Owned(Arc<Vec<u32>>),
}

impl Storage {
    pub fn owned(bytes: &[u8]) -> Self {
        let mut words = vec![0u32; bytes.len().div_ceil(4)];
        // SAFETY: the u32 buffer holds at least `bytes.len()` bytes.
        unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr() as *mut u8, bytes.len()) }.copy_from_slice(bytes);
        Self::Owned(Arc::new(words))
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Self::Mapped(map) => map,
            // SAFETY: reinterpreting initialised u32s as bytes.
            Self::Owned(words) => unsafe { std::slice::from_raw_parts(words.as_ptr() as *const u8, words.len() * 4) },
        }
    }
}

/// A weight matrix `[rows, cols]` in GGUF's storage, used in place — or, for Q4_K, Q5_K, Q6_K, Q4_1, Q4_0, Q5_0 and Q8_0 on
/// CPUs with a tiled GEMM for them, repacked once at load into eight-row interleaved blocks (the mapped pages are then
/// released, so the weights stay resident once).
#[derive(Clone)]
pub struct QMatrix {
    pub ty: WeightType,
    pub rows: usize,
    pub cols: usize,
    storage: Storage,
    offset: usize,
    /// When set, the rows in `storage` are not read again.
    interleaved: Option<Interleaved>,
}

/// `[rows / 8][blocks per row]` interleaved blocks.
#[derive(Clone)]
enum Interleaved {
    Q4K(Arc<Vec<BlockQ4Kx8>>),
    Q4_1(Arc<Vec<BlockQ4_1x8>>),
    Q4_0(Arc<Vec<BlockQ4_0x8>>),
    Q5_0(Arc<Vec<BlockQ5_0x8>>),
    Q6K(Arc<Vec<BlockQ6Kx8>>),
    Q8_0(Arc<Vec<BlockQ8_0x8>>),
    Q5K(Arc<Vec<BlockQ5Kx8>>),
}

impl QMatrix {
    /// Fails (rather than panics: the numbers come from the model file) if the byte range is outside the
    /// storage, misaligned for the block type, or the rows are not whole blocks.
    pub fn new(ty: WeightType, rows: usize, cols: usize, storage: Storage, offset: usize) -> Result<Self> {
        let mut matrix = Self::untiled(ty, rows, cols, storage, offset)?;
        if rows % 8 == 0 {
            let k = kernels();
            matrix.interleaved = match ty {
                WeightType::Q4K if k.q4_k_x8.is_some() => Some(Interleaved::Q4K(matrix.interleave(repack_q4_k_x8))),
                WeightType::Q4_1 if k.q4_1_x8.is_some() => Some(Interleaved::Q4_1(matrix.interleave(repack_q4_1_x8))),
                WeightType::Q4_0 if k.q4_0_x8.is_some() => Some(Interleaved::Q4_0(matrix.interleave(repack_q4_0_x8))),
                WeightType::Q5_0 if k.q5_0_x8.is_some() => Some(Interleaved::Q5_0(matrix.interleave(repack_q5_0_x8))),
                WeightType::Q6K if k.q6_k_x8.is_some() => Some(Interleaved::Q6K(matrix.interleave(repack_q6_k_x8))),
                WeightType::Q8_0 if k.q8_0_x8.is_some() => Some(Interleaved::Q8_0(matrix.interleave(repack_q8_0_x8))),
                WeightType::Q5K if k.q5_k_x8.is_some() => Some(Interleaved::Q5K(matrix.interleave(repack_q5_k_x8))),
                _ => None,
            };
            matrix.release_mapped_copy();
        }
        Ok(matrix)
    }

    /// The matrix read in place, row by row, never repacked: for the token embeddings and the output
    /// head, which multiply one token at a time (the last one of a prompt), where a row kernel beats a
    /// tile and the embedding lookup reads rows as they are.
    pub fn untiled(ty: WeightType, rows: usize, cols: usize, storage: Storage, offset: usize) -> Result<Self> {
        if cols % ty.block_len() != 0 {
            return Err(EngineError::TensorLayout(format!(
                "rows of {cols} values are not whole blocks of {}",
                ty.block_len()
            )));
        }
        let bytes = storage.bytes();
        let end = ty.row_bytes(cols).checked_mul(rows).and_then(|len| len.checked_add(offset));
        if !matches!(end, Some(end) if end <= bytes.len()) {
            return Err(EngineError::TensorLayout(format!("{rows}×{cols} values at byte {offset} lie outside the file")));
        }
        if (bytes.as_ptr() as usize + offset) % 4 != 0 {
            return Err(EngineError::TensorLayout(format!(
                "the data at byte {offset} is not 4-byte aligned (the file's `general.alignment` is too small)"
            )));
        }
        Ok(Self { ty, rows, cols, storage, offset, interleaved: None })
    }

    /// The rows repacked in groups of eight by `repack`.
    fn interleave<S: Sync, P: ZeroValid + Send>(&self, repack: fn(&[S], &mut [P])) -> Arc<Vec<P>> {
        let nb = self.cols / self.ty.block_len();
        let mut packed = zeroed_blocks::<P>(self.rows / 8 * nb);
        let group_bytes = 8 * self.row_bytes();
        let src = self.bytes();
        let groups = self.rows / 8;
        if packed.is_empty() {
            return Arc::new(packed);
        }
        // Big matrices on every core (a 3B model repacks gigabytes at load); small ones are not worth a thread.
        let threads = if src.len() < 4 << 20 { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
        let per_thread = groups.div_ceil(threads);
        std::thread::scope(|scope| {
            for (i, out) in packed.chunks_mut(per_thread * nb).enumerate() {
                let src = &src[i * per_thread * group_bytes..];
                let mut work = move || {
                    for (g, out) in out.chunks_exact_mut(nb).enumerate() {
                        // SAFETY: whole aligned blocks of type `S` (checked in `new`).
                        repack(unsafe { as_blocks::<S>(&src[g * group_bytes..(g + 1) * group_bytes]) }, out);
                    }
                };
                if threads == 1 {
                    work();
                } else {
                    scope.spawn(work);
                }
            }
        });
        Arc::new(packed)
    }

    /// For a repacked matrix, gives the pages of its mapped rows back to the OS: only the repacked copy is
    /// read, and the resident set stays at one copy of the weights. Best effort (a failure costs memory).
    pub fn release_mapped_copy(&self) {
        if let (Some(_), Storage::Mapped(map)) = (&self.interleaved, &self.storage) {
            // SAFETY: the file is mapped read-only and nothing borrows a repacked matrix's rows; pages read
            // again would be faulted back in from the file unchanged.
            let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, self.offset, self.rows * self.row_bytes()) };
        }
    }

    /// The activations this matrix multiplies: its type's, except that the Q4_0 and Q5_0 tiles take Q8_1
    /// (the activation sum it carries applies the weights' offset once per block).
    pub fn activation(&self) -> ActType {
        match self.interleaved {
            Some(Interleaved::Q4_0(_) | Interleaved::Q5_0(_)) => ActType::Q8_1,
            _ => self.ty.activation(),
        }
    }

    pub fn row_bytes(&self) -> usize {
        self.ty.row_bytes(self.cols)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.storage.bytes()[self.offset..self.offset + self.rows * self.row_bytes()]
    }

    pub fn row(&self, r: usize) -> &[u8] {
        let n = self.row_bytes();
        &self.bytes()[r * n..(r + 1) * n]
    }

    /// Row `r` as f32 values (embedding lookup).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let nb = self.cols / self.ty.block_len();
        let group = r / 8 * nb..(r / 8 + 1) * nb;
        match &self.interleaved {
            Some(Interleaved::Q4K(packed)) => dequantize_q4_k_x8_row(&packed[group], r % 8, out),
            Some(Interleaved::Q4_1(packed)) => dequantize_q4_1_x8_row(&packed[group], r % 8, out),
            Some(Interleaved::Q4_0(packed)) => dequantize_q4_0_x8_row(&packed[group], r % 8, out),
            Some(Interleaved::Q5_0(packed)) => dequantize_q5_0_x8_row(&packed[group], r % 8, out),
            Some(Interleaved::Q6K(packed)) => dequantize_q6_k_x8_row(&packed[group], r % 8, out),
            Some(Interleaved::Q8_0(packed)) => dequantize_q8_0_x8_row(&packed[group], r % 8, out),
            Some(Interleaved::Q5K(packed)) => dequantize_q5_k_x8_row(&packed[group], r % 8, out),
            None => dequantize_row(self.ty, self.row(r), out),
        }
    }
}

/// Block types for which all-zero bytes are a valid value.
///
/// # Safety
/// Implement only for plain data (integers, f16, arrays of them).
unsafe trait ZeroValid {}
unsafe impl ZeroValid for BlockQ4Kx8 {}
unsafe impl ZeroValid for BlockQ4_1x8 {}
unsafe impl ZeroValid for BlockQ4_0x8 {}
unsafe impl ZeroValid for BlockQ5_0x8 {}
unsafe impl ZeroValid for BlockQ6Kx8 {}
unsafe impl ZeroValid for BlockQ8_0x8 {}
unsafe impl ZeroValid for BlockQ5Kx8 {}

/// `n` all-zero blocks straight from the allocator: the pages are first touched by the (parallel) writes
/// that fill them, not by a serial memset of gigabytes.
fn zeroed_blocks<P: ZeroValid>(n: usize) -> Vec<P> {
    if n == 0 || std::mem::size_of::<P>() == 0 {
        return Vec::new();
    }
    let layout = std::alloc::Layout::array::<P>(n).expect("weights larger than the address space");
    // SAFETY: the layout is non-zero in size; all-zero bytes are a valid `P` (ZeroValid); the Vec takes
    // ownership of an allocation made with the global allocator and `layout`.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut P;
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Vec::from_raw_parts(ptr, n, n)
    }
}

/// `m` activation rows of length `cols`, quantised for one weight type's dot product.
pub enum Activations<'a> {
    F32(&'a [f32]),
    Q8_0(Vec<BlockQ8_0>),
    Q8_1(Vec<BlockQ8_1>),
    Q8K(Vec<BlockQ8K>),
}

impl<'a> Activations<'a> {
    pub fn quantize(ty: ActType, x: &'a [f32], cols: usize) -> Self {
        let k = kernels();
        let rows = x.len() / cols;
        // SAFETY: the kernels table only holds functions this CPU supports; lengths match by construction.
        unsafe {
            match ty {
                ActType::F32 => Self::F32(x),
                ActType::Q8_0 => {
                    let mut out = vec![BlockQ8_0::default(); x.len() / QK];
                    (k.quantize_q8_0)(x, &mut out);
                    Self::Q8_0(out)
                }
                ActType::Q8_1 => {
                    let mut out = vec![BlockQ8_1::default(); x.len() / QK];
                    (k.quantize_q8_1)(x, &mut out);
                    Self::Q8_1(out)
                }
                ActType::Q8K => {
                    let mut out = vec![BlockQ8K::default(); rows * cols / QK_K];
                    (k.quantize_q8_k)(x, &mut out);
                    Self::Q8K(out)
                }
            }
        }
    }
}

/// A raw pointer to an output buffer whose disjoint parts threads fill.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// `outs[i][t * mats[i].rows + r] = mats[i].row(r) · x[t]` for every matrix, activation row and weight row,
/// in one parallel pass. All matrices share `cols`; `x` holds `m` rows.
pub fn matmul_many(mats: &[&QMatrix], x: &[f32], outs: &mut [&mut [f32]]) {
    let cols = mats[0].cols;
    let m = x.len() / cols;
    debug_assert!(mats.iter().all(|w| w.cols == cols));
    // Quantise the activations once per activation type needed.
    let mut acts: Vec<(ActType, Activations)> = Vec::new();
    for w in mats {
        let ty = w.activation();
        if !acts.iter().any(|(t, _)| *t == ty) {
            acts.push((ty, Activations::quantize(ty, x, cols)));
        }
    }
    let threads = current_threads();
    // Work units: chunks of rows; enough of them to balance the threads, big enough to amortise the task.
    let mut units: Vec<(usize, usize, usize)> = Vec::new();
    for (i, w) in mats.iter().enumerate() {
        let mut chunk = w.rows.div_ceil(threads * 4).clamp(4, 256);
        if w.interleaved.is_some() {
            chunk = chunk.next_multiple_of(8);
        }
        let mut r = 0;
        while r < w.rows {
            units.push((i, r, (r + chunk).min(w.rows)));
            r += chunk;
        }
    }
    let ptrs: Vec<OutPtr> = outs
        .iter_mut()
        .zip(mats)
        .map(|(o, w)| {
            assert!(o.len() >= m * w.rows, "output buffer too small");
            OutPtr(o.as_mut_ptr())
        })
        .collect();
    let run = |&(i, start, end): &(usize, usize, usize)| {
        let w = mats[i];
        let act = &acts.iter().find(|(t, _)| *t == w.activation()).unwrap().1;
        let out = ptrs[i];
        let k = kernels();
        // A matrix is interleaved only where this table has its kernel (checked at load).
        const KERNEL: &str = "an interleaved matrix has its kernel";
        match (&w.interleaved, act) {
            (Some(Interleaved::Q4K(packed)), Activations::Q8K(y)) => {
                return run_interleaved(packed, y, k.q4_k_x8.expect(KERNEL), start..end, m, w.rows, out);
            }
            (Some(Interleaved::Q4_1(packed)), Activations::Q8_1(y)) => {
                return run_interleaved(packed, y, k.q4_1_x8.expect(KERNEL), start..end, m, w.rows, out);
            }
            (Some(Interleaved::Q4_0(packed)), Activations::Q8_1(y)) => {
                return run_interleaved(packed, y, k.q4_0_x8.expect(KERNEL), start..end, m, w.rows, out);
            }
            (Some(Interleaved::Q5_0(packed)), Activations::Q8_1(y)) => {
                return run_interleaved(packed, y, k.q5_0_x8.expect(KERNEL), start..end, m, w.rows, out);
            }
            (Some(Interleaved::Q6K(packed)), Activations::Q8K(y)) => {
                return run_interleaved(packed, y, k.q6_k_x8.expect(KERNEL), start..end, m, w.rows, out);
            }
            (Some(Interleaved::Q8_0(packed)), Activations::Q8_0(y)) => {
                return run_interleaved(packed, y, k.q8_0_x8.expect(KERNEL), start..end, m, w.rows, out);
            }
            (Some(Interleaved::Q5K(packed)), Activations::Q8K(y)) => {
                return run_interleaved(packed, y, k.q5_k_x8.expect(KERNEL), start..end, m, w.rows, out);
            }
            (Some(_), _) => unreachable!("interleaved matrices get the activations of their tile"),
            _ => {}
        }
        for r in start..end {
            let row = w.row(r);
            for t in 0..m {
                let v = dot_row(w.ty, row, act, t, cols);
                // SAFETY: (t, r) pairs are unique across units and inside the buffer (checked above).
                unsafe { *out.0.add(t * w.rows + r) = v };
            }
        }
    };
    parallel_for(units.len(), |u| run(&units[u]));
}

/// Rows `rows` (whole groups of eight) of an interleaved matrix against all `m` activation rows.
fn run_interleaved<P, A>(packed: &[P], y: &[A], gemm: GemmX8Fn<P, A>, rows: std::ops::Range<usize>, m: usize, stride: usize, out: OutPtr) {
    let nb = packed.len() / (stride / 8);
    let mut tile = vec![0f32; 8 * m];
    for g in rows.start / 8..rows.end / 8 {
        // SAFETY: the packed blocks and activations hold `nb` blocks per row; the kernel runs on this CPU.
        unsafe { gemm(&packed[g * nb..(g + 1) * nb], y, &mut tile) };
        for t in 0..m {
            for r in 0..8 {
                // SAFETY: (t, row) pairs are unique across units and inside the buffer (checked by the caller).
                unsafe { *out.0.add(t * stride + g * 8 + r) = tile[t * 8 + r] };
            }
        }
    }
}

pub fn matmul(w: &QMatrix, x: &[f32], out: &mut [f32]) {
    matmul_many(&[w], x, &mut [out]);
}

/// One weight row · activation row `t`.
#[inline]
fn dot_row(ty: WeightType, row: &[u8], act: &Activations, t: usize, cols: usize) -> f32 {
    let k = kernels();
    // SAFETY: row bytes come from a checked QMatrix (whole, aligned blocks); activation rows are sliced to
    // the same number of values; the kernels run on this CPU.
    unsafe {
        match (ty, act) {
            (WeightType::F32, Activations::F32(x)) => (k.f32)(as_blocks::<f32>(row), &x[t * cols..(t + 1) * cols]),
            (WeightType::F16, Activations::F32(x)) => (k.f16)(as_blocks::<f16>(row), &x[t * cols..(t + 1) * cols]),
            (WeightType::Q4_0, Activations::Q8_0(y)) => (k.q4_0)(as_blocks(row), block_row(y, t, cols / QK)),
            (WeightType::Q5_0, Activations::Q8_0(y)) => (k.q5_0)(as_blocks(row), block_row(y, t, cols / QK)),
            (WeightType::Q8_0, Activations::Q8_0(y)) => (k.q8_0)(as_blocks(row), block_row(y, t, cols / QK)),
            (WeightType::Q4_1, Activations::Q8_1(y)) => (k.q4_1)(as_blocks(row), block_row(y, t, cols / QK)),
            (WeightType::Q5_1, Activations::Q8_1(y)) => (k.q5_1)(as_blocks(row), block_row(y, t, cols / QK)),
            (WeightType::Q4K, Activations::Q8K(y)) => (k.q4_k)(as_blocks(row), block_row(y, t, cols / QK_K)),
            (WeightType::Q5K, Activations::Q8K(y)) => (k.q5_k)(as_blocks(row), block_row(y, t, cols / QK_K)),
            (WeightType::Q6K, Activations::Q8K(y)) => (k.q6_k)(as_blocks(row), block_row(y, t, cols / QK_K)),
            _ => unreachable!("activations quantised for another weight type"),
        }
    }
}

#[inline]
fn block_row<T>(blocks: &[T], t: usize, per_row: usize) -> &[T] {
    &blocks[t * per_row..(t + 1) * per_row]
}
