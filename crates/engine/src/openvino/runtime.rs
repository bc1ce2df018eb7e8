//! Finding and opening the OpenVINO runtime at run time: nothing is linked at build time, so an Atelier
//! built with the `openvino` feature still starts where OpenVINO is not installed, and says what is missing.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use openvino::{Core, DeviceType, PropertyKey};

use crate::error::{EngineError, Result};

/// Where the runtime's C library is looked for first: a file, or a folder holding `libopenvino_c`.
pub const RUNTIME_ENV: &str = "ATELIER_OPENVINO_DIR";

/// Said wherever the runtime is missing: how to get it.
pub const HOW_TO_GET: &str = "install the OpenVINO runtime (`pip install openvino==2026.4.1`, or Intel's archive) and set \
     ATELIER_OPENVINO_DIR to its library folder (for pip: site-packages/openvino/libs), or source its setupvars.sh; see docs/npu.md";

/// The outcome of the one attempt to open the library (the loader keeps the first library it opens).
static LOADED: Mutex<Option<std::result::Result<PathBuf, String>>> = Mutex::new(None);

/// The `libopenvino_c` library that would be opened, and the places tried when none is found.
pub fn find_library() -> std::result::Result<PathBuf, String> {
    let mut tried = Vec::new();
    // Only the environment names a folder: a library is code, so the webview's settings never choose one.
    if let Some(place) = std::env::var_os(RUNTIME_ENV).filter(|v| !v.is_empty()).map(PathBuf::from) {
        match library_in(&place) {
            Some(found) => return Ok(found),
            None => tried.push(place.display().to_string()),
        }
    }
    // OPENVINO_INSTALL_DIR, INTEL_OPENVINO_DIR (setupvars.sh), the library path and /opt/intel/openvino.
    if let Some(found) = openvino_finder::find("openvino_c", openvino_finder::Linking::Dynamic) {
        return Ok(found);
    }
    tried.push("OPENVINO_INSTALL_DIR, INTEL_OPENVINO_DIR, the library path, /opt/intel/openvino".into());
    Err(format!("no OpenVINO runtime found (looked in {}): {HOW_TO_GET}", tried.join("; ")))
}

/// `path` itself when it is the library, else the library inside it, including pip's versioned
/// `libopenvino_c.so.2641` (the wheel ships no unversioned link).
fn library_in(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    let exact = path.join(format!("{}openvino_c{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX));
    if exact.is_file() {
        return Some(exact);
    }
    let prefix = format!("{}openvino_c{}.", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let mut versioned: Vec<PathBuf> = std::fs::read_dir(path)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
        .collect();
    versioned.sort();
    versioned.pop()
}

/// Opens the runtime library once; later calls give the same answer.
pub fn load() -> std::result::Result<PathBuf, String> {
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(outcome) = loaded.as_ref() {
        return outcome.clone();
    }
    let outcome = find_library().and_then(|path| {
        openvino_sys::library::load_from(path.clone())
            .map(|()| path.clone())
            .map_err(|e| format!("the OpenVINO runtime at {} cannot be opened ({e}): {HOW_TO_GET}", path.display()))
    });
    *loaded = Some(outcome.clone());
    outcome
}

/// A runtime core, with the library opened first.
pub fn core() -> Result<Core> {
    load().map_err(EngineError::OpenVino)?;
    Core::new().map_err(|e| EngineError::OpenVino(format!("the runtime would not start: {e}")))
}

/// One device the runtime reports, e.g. `NPU` "Intel(R) AI Boost".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeDevice {
    /// OpenVINO's name for it: "CPU", "GPU.0", "NPU".
    pub id: String,
    pub name: Option<String>,
}

/// The devices OpenVINO can run on here, with their full names.
pub fn devices() -> Result<Vec<RuntimeDevice>> {
    let core = core()?;
    let listed = core.available_devices().map_err(|e| EngineError::OpenVino(format!("cannot list devices: {e}")))?;
    Ok(listed
        .iter()
        .map(|device| RuntimeDevice {
            id: device.as_ref().to_string(),
            name: core.get_property(device, &PropertyKey::DeviceFullName).ok().map(|n| n.trim().to_string()),
        })
        .collect())
}

/// The runtime's version, e.g. "2026.4.1-…".
pub fn version() -> Option<String> {
    let core = core().ok()?;
    let versions = core.versions("CPU").ok()?;
    versions.first().map(|(_, v)| v.build_number.clone())
}

/// The runtime's name for a device family that is present: "NPU", "GPU" (the first GPU) or "CPU".
pub fn device_id<'a>(present: &'a [RuntimeDevice], family: &str) -> Option<&'a str> {
    present.iter().map(|d| d.id.as_str()).find(|id| *id == family || id.starts_with(&format!("{family}.")))
}

pub(crate) fn device_type(id: &str) -> DeviceType<'static> {
    match id {
        "CPU" => DeviceType::CPU,
        "GPU" => DeviceType::GPU,
        "NPU" => DeviceType::NPU,
        other => DeviceType::Other(other.to_string().into()),
    }
}
