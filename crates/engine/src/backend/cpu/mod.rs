//! The CPU path's hot kernels, chosen at run time for the CPU at hand (a shipped binary cannot assume
//! AVX2, let alone AVX-512). `ATELIER_CPU_KERNELS=scalar|avx2|avx512|neon` forces a level, for tests and
//! benchmarks; a level the CPU lacks falls back to the best it has.

pub mod attention_tiles;
pub mod matmul;
pub mod model;
pub mod pool;
pub mod quant;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "aarch64")]
mod aarch64;

use std::sync::OnceLock;

use half::f16;
use quant::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SimdLevel {
    Scalar,
    Neon,
    Avx2,
    /// AVX-512 with VNNI (u8×i8 dot products in one instruction).
    Avx512Vnni,
}

impl SimdLevel {
    pub fn name(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Neon => "neon",
            Self::Avx2 => "avx2",
            Self::Avx512Vnni => "avx512-vnni",
        }
    }
}

/// Every level this CPU can run, best last.
pub fn supported_levels() -> Vec<SimdLevel> {
    let mut levels = vec![SimdLevel::Scalar];
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c");
        if avx2 {
            levels.push(SimdLevel::Avx2);
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx512vnni")
            {
                levels.push(SimdLevel::Avx512Vnni);
            }
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            levels.push(SimdLevel::Neon);
        }
    }
    levels
}

pub type DotFn<W, A> = unsafe fn(&[W], &[A]) -> f32;

/// Eight interleaved weight rows against every activation row of `ys`: `out[t * 8 + r]`.
pub type GemmX8Fn<W, A> = unsafe fn(&[W], &[A], &mut [f32]);

/// Function pointers for one SIMD level.
#[derive(Clone, Copy)]
pub struct Kernels {
    pub level: SimdLevel,
    pub quantize_q8_0: unsafe fn(&[f32], &mut [BlockQ8_0]),
    pub quantize_q8_1: unsafe fn(&[f32], &mut [BlockQ8_1]),
    pub quantize_q8_k: unsafe fn(&[f32], &mut [BlockQ8K]),
    pub q4_0: DotFn<BlockQ4_0, BlockQ8_0>,
    pub q4_1: DotFn<BlockQ4_1, BlockQ8_1>,
    pub q5_0: DotFn<BlockQ5_0, BlockQ8_0>,
    pub q5_1: DotFn<BlockQ5_1, BlockQ8_1>,
    pub q8_0: DotFn<BlockQ8_0, BlockQ8_0>,
    pub q4_k: DotFn<BlockQ4K, BlockQ8K>,
    /// Where set, Q4_K matrices are repacked at load into [`BlockQ4Kx8`] and run through this GEMM.
    pub q4_k_x8: Option<GemmX8Fn<BlockQ4Kx8, BlockQ8K>>,
    /// The same for Q4_1, Q4_0 and Q5_0 (the last two with Q8_1 activations, whose sum takes the offset).
    pub q4_1_x8: Option<GemmX8Fn<BlockQ4_1x8, BlockQ8_1>>,
    pub q4_0_x8: Option<GemmX8Fn<BlockQ4_0x8, BlockQ8_1>>,
    pub q5_0_x8: Option<GemmX8Fn<BlockQ5_0x8, BlockQ8_1>>,
    pub q6_k_x8: Option<GemmX8Fn<BlockQ6Kx8, BlockQ8K>>,
    pub q8_0_x8: Option<GemmX8Fn<BlockQ8_0x8, BlockQ8_0>>,
    pub q5_k_x8: Option<GemmX8Fn<BlockQ5Kx8, BlockQ8K>>,
    pub q5_k: DotFn<BlockQ5K, BlockQ8K>,
    pub q6_k: DotFn<BlockQ6K, BlockQ8K>,
    pub f32: DotFn<f32, f32>,
    pub f16: DotFn<f16, f32>,
    /// A query's weighted sum of a tile of values, added to its output (see [`attention_tiles`]).
    pub attn_values: unsafe fn(&[f32], &[f32], &mut [f32]),
}

impl Kernels {
    pub fn scalar() -> Self {
        Self {
            level: SimdLevel::Scalar,
            quantize_q8_0: |x, o| quantize_q8_0(x, o),
            quantize_q8_1: |x, o| quantize_q8_1(x, o),
            quantize_q8_k: |x, o| quantize_q8_k(x, o),
            q4_0: |x, y| dot_q4_0(x, y),
            q4_1: |x, y| dot_q4_1(x, y),
            q5_0: |x, y| dot_q5_0(x, y),
            q5_1: |x, y| dot_q5_1(x, y),
            q8_0: |x, y| dot_q8_0(x, y),
            q4_k: |x, y| dot_q4_k(x, y),
            q4_k_x8: None,
            q4_1_x8: None,
            q4_0_x8: None,
            q5_0_x8: None,
            q6_k_x8: None,
            q8_0_x8: None,
            q5_k_x8: None,
            q5_k: |x, y| dot_q5_k(x, y),
            q6_k: |x, y| dot_q6_k(x, y),
            f32: |x, y| x.iter().zip(y).map(|(a, b)| a * b).sum(),
            f16: |x, y| x.iter().zip(y).map(|(a, b)| a.to_f32() * b).sum(),
            attn_values: attention_tiles::values_scalar,
        }
    }

    /// The kernels of `level`; `None` if this CPU cannot run them.
    pub fn for_level(level: SimdLevel) -> Option<Self> {
        if !supported_levels().contains(&level) {
            return None;
        }
        let scalar = Self::scalar();
        match level {
            SimdLevel::Scalar => Some(scalar),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => Some(Self {
                level,
                quantize_q8_0: x86::quantize_q8_0_avx2,
                quantize_q8_1: x86::quantize_q8_1_avx2,
                q4_0: x86::dot_q4_0_avx2,
                q4_1: x86::dot_q4_1_avx2,
                q5_0: x86::dot_q5_0_avx2,
                q5_1: x86::dot_q5_1_avx2,
                q8_0: x86::dot_q8_0_avx2,
                q4_k: x86::dot_q4_k_avx2,
                q4_k_x8: Some(x86::gemm_q4_k_x8_avx2),
                q4_1_x8: Some(x86::gemm_q4_1_x8_avx2),
                q4_0_x8: Some(x86::gemm_q4_0_x8_avx2),
                q5_0_x8: Some(x86::gemm_q5_0_x8_avx2),
                q6_k_x8: Some(x86::gemm_q6_k_x8_avx2),
                q8_0_x8: Some(x86::gemm_q8_0_x8_avx2),
                q5_k_x8: Some(x86::gemm_q5_k_x8_avx2),
                q5_k: x86::dot_q5_k_avx2,
                q6_k: x86::dot_q6_k_avx2,
                f32: x86::dot_f32_avx2,
                f16: x86::dot_f16_avx2,
                attn_values: attention_tiles::values_avx2,
                ..scalar
            }),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512Vnni => Some(Self {
                level,
                q4_0: x86::dot_q4_0_vnni,
                q4_1: x86::dot_q4_1_vnni,
                q5_0: x86::dot_q5_0_vnni,
                q5_1: x86::dot_q5_1_vnni,
                q8_0: x86::dot_q8_0_vnni,
                q4_k_x8: Some(x86::gemm_q4_k_x8_vnni),
                q4_1_x8: Some(x86::gemm_q4_1_x8_vnni),
                q4_0_x8: Some(x86::gemm_q4_0_x8_vnni),
                q5_0_x8: Some(x86::gemm_q5_0_x8_vnni),
                q6_k_x8: Some(x86::gemm_q6_k_x8_vnni),
                q8_0_x8: Some(x86::gemm_q8_0_x8_vnni),
                q5_k_x8: Some(x86::gemm_q5_k_x8_vnni),
                ..Self::for_level(SimdLevel::Avx2)?
            }),
            #[cfg(target_arch = "aarch64")]
            SimdLevel::Neon => Some(Self {
                level,
                q4_0: aarch64::dot_q4_0_neon,
                q4_1: aarch64::dot_q4_1_neon,
                q8_0: aarch64::dot_q8_0_neon,
                f32: aarch64::dot_f32_neon,
                f16: aarch64::dot_f16_neon,
                attn_values: attention_tiles::values_neon,
                ..scalar
            }),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// The kernels used for inference: the best level of this CPU, or the one `ATELIER_CPU_KERNELS` names.
pub fn kernels() -> &'static Kernels {
    static KERNELS: OnceLock<Kernels> = OnceLock::new();
    KERNELS.get_or_init(|| {
        let best = *supported_levels().last().unwrap();
        let wanted = match std::env::var("ATELIER_CPU_KERNELS").ok().as_deref() {
            Some("scalar") => SimdLevel::Scalar,
            Some("avx2") => SimdLevel::Avx2,
            Some("avx512") | Some("avx512-vnni") => SimdLevel::Avx512Vnni,
            Some("neon") => SimdLevel::Neon,
            _ => best,
        };
        Kernels::for_level(wanted).unwrap_or_else(|| Kernels::for_level(best).unwrap())
    })
}
