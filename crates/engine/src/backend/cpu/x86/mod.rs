//! x86-64 kernels, ported from ggml's algorithms; each is checked against the scalar reference in `quant`.
//! Every function here requires the CPU features named in its `target_feature` attribute: callers
//! reach them only through the dispatch table built after `is_x86_feature_detected!`.

#![allow(clippy::missing_safety_doc)]

mod dot;
mod gemm;

pub use dot::*;
pub use gemm::*;

use std::arch::x86_64::*;

use half::f16;

/// The two f16 values at `p` (a block's d and m, or d and s) as lanes 0 and 1.
/// A 4-byte zero-extending load, then F16C: a scalar u16 insert would make LLVM merge into a live
/// register and chain every block on the previous one (measured 3× slower).
#[inline(always)]
unsafe fn f16_pair(p: *const f16) -> __m128 {
    _mm_cvtph_ps(_mm_loadu_si32(p as *const u8))
}
