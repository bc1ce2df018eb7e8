//! Quantised matrix × activations on the CPU: activations are quantised once per call, weight rows are
//! split into chunks across threads, and each weight row (read from the mapped file, once) is applied to
//! every activation row while it is hot in cache — the decode path streams each weight once per token, the
//! prompt path reuses it for the whole batch.

use std::sync::Arc;

use half::f16;
use memmap2::Mmap;
use super::kernels;
use super::pool::{current_threads, parallel_for};
use super::quant::*;

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

/// A weight matrix `[rows, cols]` in GGUF's storage, used in place — or, for Q4_K on CPUs with a tiled
/// GEMM, repacked once at load into eight-row interleaved blocks (the mapped pages are then released).
#[derive(Clone)]
pub struct QMatrix {
    pub ty: WeightType,
    pub rows: usize,
    pub cols: usize,
    storage: Storage,
    offset: usize,
    /// `[rows / 8][cols / 256]` interleaved blocks; when set, the rows in `storage` are not read again.
    q4_k_x8: Option<Arc<Vec<BlockQ4Kx8>>>,
}

impl QMatrix {
    /// # Panics
    /// If the byte range is outside the storage or misaligned for the block type; the loader checks both.
    pub fn new(ty: WeightType, rows: usize, cols: usize, storage: Storage, offset: usize) -> Self {
        let len = rows * ty.row_bytes(cols);
        let bytes = storage.bytes();
        assert!(offset + len <= bytes.len(), "tensor outside the file");
        assert_eq!((bytes.as_ptr() as usize + offset) % 4, 0, "tensor data misaligned");
        assert_eq!(cols % ty.block_len(), 0, "row length not a multiple of the block size");
        let mut matrix = Self { ty, rows, cols, storage, offset, q4_k_x8: None };
        if ty == WeightType::Q4K && rows % 8 == 0 && kernels().q4_k_x8.is_some() {
            matrix.repack_q4_k();
        }
        matrix
    }

    fn repack_q4_k(&mut self) {
        let nb = self.cols / QK_K;
        let mut packed = zeroed_q4_k_x8(self.rows / 8 * nb);
        let group_bytes = 8 * self.row_bytes();
        let src = self.bytes();
        let dst = OutPtr(packed.as_mut_ptr() as *mut f32);
        parallel_for(self.rows / 8, |g| {
            // SAFETY: whole aligned Q4_K blocks (checked in `new`); each group writes its own `nb` blocks.
            let rows = unsafe { as_blocks::<BlockQ4K>(&src[g * group_bytes..(g + 1) * group_bytes]) };
            let out = unsafe { std::slice::from_raw_parts_mut((dst.get() as *mut BlockQ4Kx8).add(g * nb), nb) };
            repack_q4_k_x8(rows, out);
        });
        if let Storage::Mapped(map) = &self.storage {
            // Give the mapped copy back to the OS: only the repacked one is read from now on, and the
            // resident set stays at one copy of the weights. (Best effort: a failure only costs memory.)
            // SAFETY: the file is mapped read-only and nothing borrows these bytes after this point; pages
            // read again would be faulted back in from the file unchanged.
            let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, self.offset, self.rows * self.row_bytes()) };
        }
        self.q4_k_x8 = Some(Arc::new(packed));
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
        match &self.q4_k_x8 {
            Some(packed) => {
                let nb = self.cols / QK_K;
                dequantize_q4_k_x8_row(&packed[r / 8 * nb..(r / 8 + 1) * nb], r % 8, out);
            }
            None => dequantize_row(self.ty, self.row(r), out),
        }
    }
}

/// `n` all-zero blocks straight from the allocator: the pages are first touched by the (parallel) writes
/// that fill them, not by a serial memset of gigabytes.
fn zeroed_q4_k_x8(n: usize) -> Vec<BlockQ4Kx8> {
    if n == 0 {
        return Vec::new();
    }
    let layout = std::alloc::Layout::array::<BlockQ4Kx8>(n).expect("weights larger than the address space");
    // SAFETY: the layout is non-zero in size; BlockQ4Kx8 is plain data (f16 and u8) for which all-zero
    // bytes are a valid value; the Vec takes ownership of an allocation made with the global allocator and `layout`.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut BlockQ4Kx8;
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

impl OutPtr {
    /// Through a method, so closures capture the `Send + Sync` wrapper rather than its raw field.
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// `outs[i][t * mats[i].rows + r] = mats[i].row(r) · x[t]` for every matrix, activation row and weight row,
/// in one parallel pass. All matrices share `cols`; `x` holds `m` rows.
pub fn matmul_many(mats: &[&QMatrix], x: &[f32], outs: &mut [&mut [f32]]) {
    let cols = mats[0].cols;
    let m = x.len() / cols;
    debug_assert!(mats.iter().all(|w| w.cols == cols));
    // Quantise the activations once per activation type needed.
    let mut acts: Vec<(ActType, Activations)> = Vec::new();
    for w in mats {
        let ty = w.ty.activation();
        if !acts.iter().any(|(t, _)| *t == ty) {
            acts.push((ty, Activations::quantize(ty, x, cols)));
        }
    }
    let threads = current_threads();
    // Work units: chunks of rows; enough of them to balance the threads, big enough to amortise the task.
    let mut units: Vec<(usize, usize, usize)> = Vec::new();
    for (i, w) in mats.iter().enumerate() {
        let mut chunk = w.rows.div_ceil(threads * 4).clamp(4, 256);
        if w.q4_k_x8.is_some() {
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
        let act = &acts.iter().find(|(t, _)| *t == w.ty.activation()).unwrap().1;
        let out = ptrs[i];
        if let (Some(packed), Activations::Q8K(y), Some(gemm)) = (&w.q4_k_x8, act, kernels().q4_k_x8) {
            let nb = cols / QK_K;
            let mut tile = vec![0f32; 8 * m];
            for g in start / 8..end / 8 {
                // SAFETY: the packed blocks and activations hold `nb` blocks per row; the kernel runs on this CPU.
                unsafe { gemm(&packed[g * nb..(g + 1) * nb], y, &mut tile) };
                for t in 0..m {
                    for r in 0..8 {
                        // SAFETY: as below.
                        unsafe { *out.0.add(t * w.rows + g * 8 + r) = tile[t * 8 + r] };
                    }
                }
            }
            return;
        }
        for r in start..end {
            let row = w.row(r);
            let mut t = 0;
            // Q4_K rows run against four activation rows at a time (the weight block is unpacked once).
            if let (WeightType::Q4K, Activations::Q8K(y)) = (w.ty, act) {
                let per_row = cols / QK_K;
                while t + 4 <= m {
                    let ys = [0, 1, 2, 3].map(|k| block_row(y, t + k, per_row));
                    // SAFETY: as in dot_row.
                    let v = unsafe { (kernels().q4_k_x4)(as_blocks(row), ys) };
                    for (k, v) in v.into_iter().enumerate() {
                        // SAFETY: (t, r) pairs are unique across units and inside the buffer (checked above).
                        unsafe { *out.0.add((t + k) * w.rows + r) = v };
                    }
                    t += 4;
                }
            }
            for t in t..m {
                let v = dot_row(w.ty, row, act, t, cols);
                // SAFETY: (t, r) pairs are unique across units and inside the buffer (checked above).
                unsafe { *out.0.add(t * w.rows + r) = v };
            }
        }
    };
    parallel_for(units.len(), |u| run(&units[u]));
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
