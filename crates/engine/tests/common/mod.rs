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

/// A writable copy of a fixture folder (its files, not subfolders), to break in a test.
pub fn copy_dir(source: &std::path::Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(source).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}
