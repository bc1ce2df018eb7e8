//! Paths the user chose, as the only paths file commands act on. The webview is not trusted with the
//! file system: a path it sends is honoured only if a dialog opened from Rust (or a file dropped on the
//! window) produced it in this session.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Result, StudioError};

#[derive(Default)]
pub struct PickedPaths {
    paths: Mutex<HashSet<PathBuf>>,
}

impl PickedPaths {
    /// Records a path a Rust-side dialog returned or the window received as a drop.
    pub fn allow(&self, path: &Path) {
        self.paths.lock().unwrap_or_else(|p| p.into_inner()).insert(normalise(path));
    }

    /// The path, if the user picked it this session; else a clear refusal.
    pub fn check(&self, path: &str) -> Result<PathBuf> {
        let path = PathBuf::from(path);
        if self.paths.lock().unwrap_or_else(|p| p.into_inner()).contains(&normalise(&path)) {
            Ok(path)
        } else {
            Err(StudioError::Invalid(format!(
                "{} was not chosen in a file dialog or dropped on the window; choose the file again",
                path.display()
            )))
        }
    }
}

/// The same file however it is spelled (`a/./b`, a symlinked folder).
fn normalise(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.components().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_picked_paths_pass() {
        let dir = tempfile::tempdir().unwrap();
        let chosen = dir.path().join("model.gguf");
        std::fs::write(&chosen, b"x").unwrap();
        let picked = PickedPaths::default();
        assert!(picked.check(chosen.to_str().unwrap()).is_err(), "a path nobody picked passed");
        picked.allow(&chosen);
        assert_eq!(picked.check(chosen.to_str().unwrap()).unwrap(), chosen);
        // Another spelling of the same file passes; other files do not.
        let dotted = dir.path().join(".").join("model.gguf");
        assert!(picked.check(dotted.to_str().unwrap()).is_ok());
        for other in ["/etc/passwd", "/root/.ssh/id_rsa"] {
            assert!(matches!(picked.check(other), Err(StudioError::Invalid(_))), "{other}");
        }
        let sibling = dir.path().join("model.gguf/../other.gguf");
        assert!(picked.check(sibling.to_str().unwrap()).is_err());
    }
}
