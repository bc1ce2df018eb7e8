//! The model library as the writer manages it: which model starts, how it loads (device, threads,
//! context from Settings), the list with what is loaded or missing, switching and forgetting models,
//! and the devices this machine offers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use atelier_engine::{DeviceChoice, EngineError, LoadOptions};
use atelier_store::{ModelRecord, Store};
use serde::Serialize;

use crate::error::{Result, StudioError};
use crate::model_host::ModelHost;

/// A model in the library, with whether it is the one running and whether its file is still there.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct ModelEntry {
    #[serde(flatten)]
    pub record: ModelRecord,
    pub format: ModelFormat,
    pub loaded: bool,
    pub missing: bool,
}

/// How a model is stored: one GGUF file (Atelier's engine: CPU, CUDA, Metal) or an OpenVINO folder (the
/// OpenVINO backend: NPU, Intel GPU, CPU).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[derive(specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ModelFormat {
    #[default]
    Gguf,
    Openvino,
}

impl ModelFormat {
    /// A missing model is judged by its name: GGUF files end in `.gguf`, OpenVINO folders do not.
    pub fn of(path: &Path) -> Self {
        let named_gguf = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf"));
        if path.is_dir() || (!path.is_file() && !named_gguf) {
            Self::Openvino
        } else {
            Self::Gguf
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Gguf => "GGUF",
            Self::Openvino => "OpenVINO",
        }
    }
}

/// Whether a library entry's model is still where it was: a GGUF file, or an OpenVINO folder.
pub fn model_present(path: &Path) -> bool {
    path.is_file() || atelier_engine::openvino::is_ir_dir(path)
}

/// Load settings the user chose (Settings → Models), with defaults.
pub async fn load_options(store: Option<&Store>) -> LoadOptions {
    let mut options = LoadOptions::default();
    if let Some(store) = store {
        let settings = store.settings();
        if let Ok(Some(device)) = settings.get::<String>("device").await {
            options.device = device.parse().unwrap_or_default();
        }
        // Bounded again here: a library written by an older version (or by hand) may hold anything.
        options.threads = settings.get::<usize>("threads").await.ok().flatten().and_then(|t| crate::limits::threads(t).ok());
        options.context_length =
            settings.get::<usize>("context_length").await.ok().flatten().and_then(|c| crate::limits::context_length(c).ok());
        if let Ok(Some(kv)) = settings.get::<String>("kv_cache").await {
            options.kv_cache = kv.parse().unwrap_or_default();
        }
        options.saved_contexts_dir = crate::saved_contexts::dir_beside(store.path());
    }
    options
}

/// The model to load at start-up: ATELIER_MODEL, else the library's default, else the embedded one
/// (which then becomes the library's default).
pub async fn startup_model(store: Option<&Store>) -> std::result::Result<PathBuf, EngineError> {
    if let Some(path) = std::env::var_os("ATELIER_MODEL").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    if let Some(store) = store {
        if let Ok(Some(record)) = store.models().default_model().await {
            if model_present(Path::new(&record.path)) {
                return Ok(PathBuf::from(record.path));
            }
        }
        if let Ok(path) = atelier_engine::find_default_model() {
            if let Ok(record) = crate::register(store, &path, None, None).await {
                if store.models().default_model().await.ok().flatten().is_none() {
                    let _ = store.models().set_default(record.id).await;
                }
            }
            return Ok(path);
        }
    }
    atelier_engine::find_default_model()
}

pub async fn list(store: &Store, host: &ModelHost) -> Result<Vec<ModelEntry>> {
    let loaded = loaded_path(host);
    Ok(store
        .models()
        .list()
        .await?
        .into_iter()
        .map(|record| {
            let path = Path::new(&record.path);
            ModelEntry {
                format: ModelFormat::of(path),
                loaded: loaded.as_deref() == Some(record.path.as_str()),
                missing: !model_present(path),
                record,
            }
        })
        .collect())
}

async fn record(store: &Store, id: i64) -> Result<ModelRecord> {
    store.models().list().await?.into_iter().find(|m| m.id == id).ok_or_else(|| StudioError::NotFound("That model is no longer in the library.".into()))
}

/// Switches the on-device model to library entry `id`; the current one serves until the new one is ready.
pub async fn load(store: &Store, host: &Arc<ModelHost>, id: i64) -> Result<()> {
    let record = record(store, id).await?;
    let options = load_options(Some(store)).await;
    let host = Arc::clone(host);
    tokio::task::spawn_blocking(move || host.load(Ok(PathBuf::from(record.path)), &options))
        .await
        .map_err(|e| StudioError::Internal(e.to_string()))?
}

/// Forgets a model; with `delete_file` also removes its file, or its OpenVINO folder when that folder is
/// inside `models_dir` (never the loaded model's). A folder elsewhere may hold the writer's other files,
/// so it is refused before anything is forgotten.
pub async fn delete(store: &Store, host: &ModelHost, models_dir: &Path, id: i64, delete_file: bool) -> Result<()> {
    let record = record(store, id).await?;
    if loaded_path(host).as_deref() == Some(record.path.as_str()) {
        return Err(StudioError::InUse("This model is in use; load another model first.".into()));
    }
    let path = Path::new(&record.path);
    let folder = atelier_engine::openvino::is_ir_dir(path);
    let deletable_folder = if delete_file && folder {
        Some(inside(path, models_dir).ok_or_else(|| {
            StudioError::Invalid(format!(
                "{} is outside Atelier's models folder, and Atelier deletes only folders it keeps. Remove the model without deleting its files, then delete the folder yourself.",
                record.path
            ))
        })?)
    } else {
        None
    };
    store.models().remove(id).await?;
    if delete_file {
        let removed = match &deletable_folder {
            Some(folder) => tokio::fs::remove_dir_all(folder).await,
            None => tokio::fs::remove_file(path).await,
        };
        removed.map_err(|e| StudioError::io(format!("cannot delete {}", record.path), e))?;
    }
    Ok(())
}

/// `path` resolved (links followed) when it lies strictly inside `dir`.
fn inside(path: &Path, dir: &Path) -> Option<PathBuf> {
    let path = path.canonicalize().ok()?;
    let dir = dir.canonicalize().ok()?;
    (path != dir && path.starts_with(&dir)).then_some(path)
}

fn loaded_path(host: &ModelHost) -> Option<String> {
    host.status().info.map(|i| i.path.to_string_lossy().into_owned())
}

/// Where the model can run on this machine, and why not where it cannot.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct DeviceOptions {
    pub devices: Vec<DeviceOption>,
    pub cpu_threads: usize,
    pub cpu_kernels: String,
}

#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct DeviceOption {
    pub id: String,
    pub label: String,
    pub available: bool,
    pub note: Option<String>,
}

pub fn device_options() -> DeviceOptions {
    let option = |id: &str, label: &str, choice: DeviceChoice| {
        let note = choice.resolve().err().map(|e| e.to_string());
        DeviceOption { id: id.into(), label: label.into(), available: note.is_none(), note }
    };
    DeviceOptions {
        devices: vec![
            option("auto", "Automatic", DeviceChoice::Auto),
            option("cpu", "CPU", DeviceChoice::Cpu),
            option("cuda", "NVIDIA GPU (CUDA)", DeviceChoice::Cuda),
            option("metal", "Apple GPU (Metal)", DeviceChoice::Metal),
            npu_option(),
        ]
        .into_iter()
        .chain(openvino_gpu_option())
        .collect(),
        cpu_threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        cpu_kernels: atelier_engine::cpu::kernels().level.name().to_string(),
    }
}

/// An Intel GPU runs OpenVINO models (choice `gpu`, which is CUDA for GGUF files); offered only where
/// OpenVINO lists one.
fn openvino_gpu_option() -> Option<DeviceOption> {
    let openvino = atelier_engine::machine::machine().openvino;
    let gpu = openvino.devices.into_iter().find(|d| d.id == "GPU" || d.id.starts_with("GPU."))?;
    let name = gpu.name.unwrap_or(gpu.id);
    Some(DeviceOption { id: "gpu".into(), label: format!("GPU ({name}, OpenVINO models)"), available: true, note: None })
}

/// The NPU runs OpenVINO models: it is offered where OpenVINO lists one, and otherwise says what is missing.
fn npu_option() -> DeviceOption {
    let npu = atelier_engine::machine::machine().npu;
    let label = match &npu.name {
        Some(name) if npu.used => format!("NPU ({name}, OpenVINO models)"),
        _ => "NPU (OpenVINO models)".into(),
    };
    DeviceOption { id: "npu".into(), label, available: npu.used, note: (!npu.used).then_some(npu.note) }
}
