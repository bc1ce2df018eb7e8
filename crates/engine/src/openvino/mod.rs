//! OpenVINO models: the second backend, for Intel NPUs and GPUs (and OpenVINO's CPU device). A model is
//! a folder as optimum-intel exports it (`ir`); its tokenizer and chat template come from the folder's
//! Hugging Face files (`tokenizer`), and the decoder runs on the OpenVINO runtime (`transformer`), which
//! is opened at run time (`runtime`) and only in builds with the `openvino` feature.

pub mod ir;
#[cfg(feature = "openvino")]
pub mod runtime;
pub mod tokenizer;
#[cfg(feature = "openvino")]
pub mod transformer;

use std::path::Path;

#[cfg(feature = "openvino")]
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::model::{LoadOptions, Model};

pub use ir::is_ir_dir;

/// Whether this build can run OpenVINO models at all.
pub const COMPILED_IN: bool = cfg!(feature = "openvino");

/// Said where a build without the feature meets an OpenVINO model or the NPU.
pub const NOT_COMPILED_IN: &str =
    "this build of Atelier has no OpenVINO backend (build with `--features openvino`; see docs/npu.md)";

/// What the device list says about OpenVINO here: its devices, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeReport {
    /// The library opened, when one was.
    pub library: Option<String>,
    pub version: Option<String>,
    /// `(id, full name)`, e.g. `("NPU", "Intel(R) AI Boost")`.
    pub devices: Vec<(String, Option<String>)>,
    /// Why the list is empty or partial.
    pub note: Option<String>,
}

pub fn runtime_report() -> RuntimeReport {
    #[cfg(feature = "openvino")]
    {
        match runtime::devices() {
            Ok(devices) => RuntimeReport {
                library: runtime::load().ok().map(|p| p.display().to_string()),
                version: runtime::version(),
                // A runtime without its plugins lists nothing; say so rather than show an empty list.
                note: devices.is_empty().then(|| "the OpenVINO runtime loaded but lists no devices (are its plugins beside it?)".into()),
                devices: devices.into_iter().map(|d| (d.id, d.name)).collect(),
            },
            Err(e) => RuntimeReport { library: None, version: None, devices: Vec::new(), note: Some(e.to_string()) },
        }
    }
    #[cfg(not(feature = "openvino"))]
    RuntimeReport { library: None, version: None, devices: Vec::new(), note: Some(NOT_COMPILED_IN.into()) }
}

/// The error for `--device npu` on a model that is not an OpenVINO folder.
pub fn npu_needs_openvino_model(path: &Path) -> EngineError {
    EngineError::Device(format!(
        "the NPU runs OpenVINO models (a folder with {}), and {} is not one; convert it with scripts/export-openvino.sh \
         or download an OpenVINO version (see docs/npu.md)",
        ir::MODEL_XML,
        path.display()
    ))
}

/// Loads the OpenVINO model folder at `path`.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Model> {
    let dir = ir::IrDirectory::open(path)?;
    #[cfg(feature = "openvino")]
    {
        load_compiled(dir, options)
    }
    #[cfg(not(feature = "openvino"))]
    {
        let _ = (dir, options);
        Err(EngineError::OpenVino(NOT_COMPILED_IN.into()))
    }
}

#[cfg(feature = "openvino")]
fn load_compiled(dir: ir::IrDirectory, options: &LoadOptions) -> Result<Model> {
    use crate::gguf::chat_template::ChatTemplate;
    use crate::memory::ModelShape;

    let started = std::time::Instant::now();
    let mut core = runtime::core()?;
    let present = runtime::devices()?;
    let device = choose_device(options.device, &present)?;
    let tokenizer = tokenizer::tokenizer(&dir)?;
    let token_text = |id: Option<u32>| id.and_then(|id| tokenizer.id_to_token(id)).unwrap_or_default();
    let template = ChatTemplate::new(
        dir.chat_template.clone(),
        token_text(tokenizer.bos_id()),
        token_text(tokenizer.eos_id()),
        |t| tokenizer.token_to_id(t).is_some(),
    )?;
    let config = dir.transformer_config()?;
    let context_length = options
        .context_length
        .unwrap_or_else(|| config.train_context.min(crate::model::DEFAULT_CONTEXT_CAP))
        .max(16);
    if device == "CPU" {
        let needed = ModelShape::of_config(&config, dir.weight_bytes()).estimate(Some(context_length)).total;
        crate::model::check_memory(needed, options.memory_budget.or_else(crate::model::available_memory))?;
    }
    let cache_dir = matches!(device.split('.').next(), Some("NPU" | "GPU"))
        .then(|| crate::default_model::user_models_dir().map(|d| d.join(".openvino-cache")))
        .flatten();
    let transformer = transformer::OpenVinoTransformer::load(
        &mut core,
        &dir,
        &transformer::CompileOptions { device: &device, threads: options.threads, context_length, cache_dir: cache_dir.as_deref() },
    )?;
    let name = present.iter().find(|d| d.id == device).and_then(|d| d.name.clone());
    let device_name = match (name, options.threads) {
        (Some(name), _) if device != "CPU" => format!("OpenVINO {device} ({name})"),
        (_, Some(threads)) if device == "CPU" => format!("OpenVINO CPU ({threads} threads)"),
        _ => format!("OpenVINO {device}"),
    };
    Ok(Model::from_parts(
        dir.info()?,
        tokenizer,
        template,
        crate::backend::Transformer::OpenVino(transformer),
        device_name,
        started.elapsed(),
    ))
}

/// OpenVINO's device for the writer's choice: `npu`, `gpu` (an Intel GPU here), `cpu`, or `auto` (a GPU
/// when OpenVINO has one, else the CPU; the NPU only when asked, as its first compile takes minutes).
#[cfg(feature = "openvino")]
fn choose_device(choice: DeviceChoice, present: &[runtime::RuntimeDevice]) -> Result<String> {
    let listed = || present.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join(", ");
    let pick = |family: &str, what: &str| {
        runtime::device_id(present, family)
            .map(str::to_string)
            .ok_or_else(|| EngineError::Device(format!("OpenVINO found no {what} on this machine (it has: {})", listed())))
    };
    match choice {
        DeviceChoice::Npu => pick("NPU", "NPU"),
        DeviceChoice::Cuda => pick("GPU", "GPU"),
        DeviceChoice::Cpu => pick("CPU", "CPU device"),
        DeviceChoice::Auto => pick("GPU", "GPU").or_else(|_| pick("CPU", "CPU device")),
        DeviceChoice::Metal => Err(EngineError::Device("OpenVINO models do not run on Metal; choose cpu, gpu or npu".into())),
    }
}
