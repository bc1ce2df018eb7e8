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
    /// The OpenVINO runtime and its devices (NPU, Intel GPUs, CPU), or why there are none.
    pub openvino: OpenVino,
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

/// Neural processing units: found by the OS, and usable when OpenVINO reports one (see docs/npu.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Npu {
    pub present: bool,
    pub name: Option<String>,
    /// Whether Atelier can run an OpenVINO model on it here (the runtime is found and lists an NPU).
    pub used: bool,
    pub note: String,
}

/// What OpenVINO offers here: the second backend's devices (docs/npu.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OpenVino {
    /// Whether this build has the OpenVINO backend (`--features openvino`).
    pub compiled_in: bool,
    /// The runtime library opened, when one was.
    pub library: Option<String>,
    pub version: Option<String>,
    pub devices: Vec<OpenVinoDevice>,
    /// Why the list is empty, when it is (no runtime, and how to get it).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OpenVinoDevice {
    /// OpenVINO's name for it: "NPU", "GPU.0", "CPU" (what `--device` picks).
    pub id: String,
    /// e.g. "Intel(R) AI Boost".
    pub name: Option<String>,
}

/// Reads the machine now (memory figures change as programs start and stop).
pub fn machine() -> Machine {
    let mut system = sysinfo::System::new();
    system.refresh_memory();
    system.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    let known = |n: u64| (n > 0).then_some(n);
    let cpu_name = system.cpus().first().map(|c| c.brand().trim().to_string()).filter(|b| !b.is_empty());
    let (gpus, gpu_note) = gpus();
    let openvino = openvino();
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
        npu: npu(&openvino),
        openvino,
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

/// The runtime's report, read once: opening the runtime and its device plugins takes a moment, and the
/// devices do not change while the app runs.
fn openvino() -> OpenVino {
    static REPORT: std::sync::OnceLock<OpenVino> = std::sync::OnceLock::new();
    REPORT
        .get_or_init(|| {
            let report = crate::openvino::runtime_report();
            OpenVino {
                compiled_in: crate::openvino::COMPILED_IN,
                library: report.library,
                version: report.version,
                devices: report.devices.into_iter().map(|(id, name)| OpenVinoDevice { id, name }).collect(),
                note: report.note,
            }
        })
        .clone()
}

fn npu(openvino: &OpenVino) -> Npu {
    let listed = openvino.devices.iter().find(|d| d.id == "NPU" || d.id.starts_with("NPU."));
    let name = listed.map(|d| d.name.clone().unwrap_or_else(|| d.id.clone())).or_else(npu_name);
    let note = match (listed, &name) {
        (Some(_), Some(name)) => format!("{name}: runs OpenVINO models (`--device npu`)"),
        (None, Some(name)) => match &openvino.note {
            Some(why) => format!("{name} found, but it needs the OpenVINO runtime: {why}"),
            None => format!("{name} found, but OpenVINO does not list it (is its driver installed?)"),
        },
        (_, None) => "no NPU found".into(),
    };
    Npu { present: name.is_some(), name, used: listed.is_some(), note }
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
    fn this_machine_reports_memory_cpu_and_what_openvino_offers() {
        let m = machine();
        let total = m.total_memory.expect("Linux reports its memory");
        let available = m.available_memory.expect("and what is free");
        assert!(available <= total && total > 256 << 20, "{m:?}");
        assert!(m.cpu.threads >= 1);
        assert!(!m.cpu.kernels.is_empty());
        // No NPU here: none is in use, and the OpenVINO report says what it found or why it found nothing.
        assert!(!m.npu.used);
        assert_eq!(m.openvino.compiled_in, cfg!(feature = "openvino"));
        assert!(m.openvino.devices.is_empty() == m.openvino.note.is_some(), "{:?}", m.openvino);
        if !cfg!(feature = "openvino") {
            assert_eq!(m.openvino.note.as_deref(), Some(crate::openvino::NOT_COMPILED_IN));
        }
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
