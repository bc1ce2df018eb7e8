#![allow(dead_code)]

use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// The embedded default model; tests need it installed (`scripts/fetch-default-model.sh`).
pub fn default_model() -> PathBuf {
    match atelier_engine::find_default_model() {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}
