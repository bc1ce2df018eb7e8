//! What this machine offers a model: memory, CPU, GPUs, NPUs and disk, as the engine sees them. The
//! model catalog judges fit from this, and the Models screen shows it.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// This machine, as far as running a model goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Machine {
    /// e.g. "linux x86_64".
    pub os: String,
    pub cpu: Cpu,
    /// Physical memory; `None` where the OS does not say.
    pub total_memory: Option<u64>,
    /// Memory the OS could give a model now.
    pub available_memory: Option<u64>,
    /// GPUs this build of Atelier can use.
    pub gpus: Vec<Gpu>,
    /// Why no GPU is listed, when none is.
    pub gpu_note: Option<String>,
    pub npu: Npu,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Cpu {
    pub name: Option<String>,
    pub threads: u32,
    /// The kernel level Atelier runs on this CPU (e.g. "avx2").
    pub kernels: String,
    /// The instruction-set features that matter to the kernels.
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Gpu {
    /// "cuda" or "metal".
    pub backend: String,
    pub name: String,
    /// Device memory, where the runtime reports it.
    pub memory: Option<u64>,
}

/// Neural processing units: detected and named, not used yet (see docs/npu.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Npu {
    pub present: bool,
    pub name: Option<String>,
    /// Always false for now: no NPU runtime is wired in.
    pub used: bool,
    pub note: String,
}

/// Reads the machine now (memory figures change as programs start and stop).
pub fn machine() -> Machine {
    let mut system = sysinfo::System::new();
    system.refresh_memory();
    system.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    let known = |n: u64| (n > 0).then_some(n);
    let cpu_name = system.cpus().first().map(|c| c.brand().trim().to_string()).filter(|b| !b.is_empty());
    let (gpus, gpu_note) = gpus();
    Machine {
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        cpu: Cpu {
            name: cpu_name,
            threads: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
            kernels: crate::cpu::kernels().level.name().to_string(),
            features: cpu_features(),
        },
        total_memory: known(system.total_memory()),
        // sysinfo reads MemAvailable on Linux; the load check uses the same figure.
        available_memory: crate::model::available_memory().or_else(|| known(system.available_memory())),
        gpus,
        gpu_note,
        npu: npu(),
    }
}

/// Free space for a new file at `path` (the nearest existing folder above it when it does not exist yet).
pub fn free_disk(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.is_dir())?;
    fs2::available_space(existing).ok()
}

fn cpu_features() -> Vec<String> {
    #[allow(unused_mut)]
    let mut features: Vec<&str> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        let checks: [(&str, bool); 7] = [
            ("sse4.2", is_x86_feature_detected!("sse4.2")),
            ("avx", is_x86_feature_detected!("avx")),
            ("avx2", is_x86_feature_detected!("avx2")),
            ("fma", is_x86_feature_detected!("fma")),
            ("f16c", is_x86_feature_detected!("f16c")),
            ("avx512f", is_x86_feature_detected!("avx512f")),
            ("avx512vnni", is_x86_feature_detected!("avx512vnni")),
        ];
        features.extend(checks.iter().filter(|(_, on)| *on).map(|(name, _)| *name));
    }
    #[cfg(target_arch = "aarch64")]
    {
        let checks: [(&str, bool); 3] = [
            ("neon", std::arch::is_aarch64_feature_detected!("neon")),
            ("dotprod", std::arch::is_aarch64_feature_detected!("dotprod")),
            ("i8mm", std::arch::is_aarch64_feature_detected!("i8mm")),
        ];
        features.extend(checks.iter().filter(|(_, on)| *on).map(|(name, _)| *name));
    }
    features.into_iter().map(String::from).collect()
}

fn gpus() -> (Vec<Gpu>, Option<String>) {
    #[allow(unused_mut)]
    let mut gpus = Vec::new();
    #[cfg(feature = "cuda")]
    for ordinal in 0..16 {
        if candle_core::Device::new_cuda(ordinal).is_err() {
            break;
        }
        gpus.push(Gpu { backend: "cuda".into(), name: format!("CUDA:{ordinal}"), memory: None });
    }
    #[cfg(feature = "metal")]
    if candle_core::Device::new_metal(0).is_ok() {
        gpus.push(Gpu { backend: "metal".into(), name: "Apple GPU (Metal)".into(), memory: None });
    }
    let note = gpus.is_empty().then(|| {
        if cfg!(any(feature = "cuda", feature = "metal")) {
            "no usable GPU was found; the model runs on the CPU".to_string()
        } else {
            "this build of Atelier runs on the CPU (GPU support comes with `--features cuda` or `--features metal`)".to_string()
        }
    });
    (gpus, note)
}

const NPU_NOTE: &str = "Atelier does not run models on an NPU yet; it uses the CPU or GPU (see docs/npu.md)";

fn npu() -> Npu {
    let name = npu_name();
    let note = match &name {
        Some(name) => format!("{name} found. {NPU_NOTE}"),
        None => "no NPU found".into(),
    };
    Npu { present: name.is_some(), name, used: false, note }
}

/// Linux exposes NPUs as `/sys/class/accel/accel<N>`; the driver names the kind. Apple silicon always
/// has a Neural Engine.
fn npu_name() -> Option<String> {
    if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
        return Some("Apple Neural Engine".into());
    }
    let entries = std::fs::read_dir("/sys/class/accel").ok()?;
    entries.flatten().find_map(|entry| {
        let driver = std::fs::read_link(entry.path().join("device/driver")).ok()?;
        let driver = driver.file_name()?.to_string_lossy().into_owned();
        Some(match driver.as_str() {
            "intel_vpu" => "Intel NPU".to_string(),
            "amdxdna" => "AMD XDNA NPU".to_string(),
            "qaic" => "Qualcomm Cloud AI accelerator".to_string(),
            other => format!("accelerator ({other})"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_reports_memory_cpu_and_no_npu_in_use() {
        let m = machine();
        let total = m.total_memory.expect("Linux reports its memory");
        let available = m.available_memory.expect("and what is free");
        assert!(available <= total && total > 256 << 20, "{m:?}");
        assert!(m.cpu.threads >= 1);
        assert!(!m.cpu.kernels.is_empty());
        assert!(!m.npu.used);
        if !cfg!(any(feature = "cuda", feature = "metal")) {
            assert!(m.gpus.is_empty() && m.gpu_note.is_some());
        }
    }

    #[test]
    fn free_disk_looks_above_a_folder_that_does_not_exist_yet() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_disk(&dir.path().join("not/yet/there/model.gguf")).unwrap();
        assert!(free > 0);
        assert_eq!(free_disk(Path::new("")), None);
    }
}
