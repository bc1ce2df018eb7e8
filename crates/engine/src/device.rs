//! Choosing where the model runs.

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// CUDA or Metal when compiled in and present, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
    Metal,
    /// A neural processing unit, through OpenVINO (an OpenVINO model folder; see docs/npu.md).
    Npu,
}

impl std::str::FromStr for DeviceChoice {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            "metal" => Ok(Self::Metal),
            "npu" => Ok(Self::Npu),
            other => Err(EngineError::Device(format!("unknown device `{other}` (choose auto, cpu, cuda, gpu, metal or npu)"))),
        }
    }
}

impl DeviceChoice {
    pub fn resolve(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Auto => {
                if cfg!(feature = "cuda") && candle_core::utils::cuda_is_available() {
                    Device::new_cuda(0).map_err(|e| EngineError::Device(format!("CUDA: {e}")))
                } else if cfg!(feature = "metal") && candle_core::utils::metal_is_available() {
                    Device::new_metal(0).map_err(|e| EngineError::Device(format!("Metal: {e}")))
                } else {
                    Ok(Device::Cpu)
                }
            }
            Self::Cuda => {
                if !cfg!(feature = "cuda") {
                    return Err(EngineError::Device("this build of Atelier has no CUDA support (build with `--features cuda`)".into()));
                }
                Device::new_cuda(0).map_err(|e| EngineError::Device(format!("no usable CUDA GPU: {e}")))
            }
            Self::Metal => {
                if !cfg!(feature = "metal") {
                    return Err(EngineError::Device("this build of Atelier has no Metal support (build with `--features metal` on macOS)".into()));
                }
                Device::new_metal(0).map_err(|e| EngineError::Device(format!("no usable Metal GPU: {e}")))
            }
            // OpenVINO folders never get here (crate::openvino picks their device).
            Self::Npu => Err(EngineError::Device("the NPU runs OpenVINO models only (see docs/npu.md)".into())),
        }
    }
}

/// A short human name for a device, e.g. "CPU (2 threads)" or "CUDA:0".
pub fn describe(device: &Device) -> String {
    match device {
        Device::Cpu => format!("CPU ({} threads)", candle_core::utils::get_num_threads()),
        Device::Cuda(_) => "CUDA".into(),
        Device::Metal(_) => "Metal".into(),
    }
}
