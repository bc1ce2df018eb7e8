//! Offline mode, remembered outside the library too: a library that fails to open must not turn the
//! network back on. The setting lives in a one-line file beside the library and in its settings table.

use std::path::{Path, PathBuf};

use atelier_store::Store;

use crate::error::{Result, StudioError};

pub struct OfflineSetting {
    file: PathBuf,
}

impl OfflineSetting {
    /// The setting beside the library file (`library.sqlite3` → `offline-mode`).
    pub fn beside(library: &Path) -> Self {
        Self { file: library.with_file_name("offline-mode") }
    }

    /// The saved choice: the file if present, else the library's setting, else — with no library to
    /// ask — offline, the side that sends nothing.
    pub async fn load(&self, library: Option<&Store>) -> bool {
        if let Ok(text) = std::fs::read_to_string(&self.file) {
            match text.trim() {
                "on" => return true,
                "off" => return false,
                _ => {}
            }
        }
        match library {
            Some(store) => store.settings().get::<bool>("offline").await.ok().flatten().unwrap_or(false),
            None => true,
        }
    }

    pub async fn save(&self, library: Option<&Store>, offline: bool) -> Result<()> {
        if let Some(parent) = self.file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StudioError::io(format!("cannot create {}", parent.display()), e))?;
        }
        std::fs::write(&self.file, if offline { "on\n" } else { "off\n" }).map_err(|e| StudioError::io(format!("cannot write {}", self.file.display()), e))?;
        if let Some(store) = library {
            store.settings().set("offline", &offline).await?;
        }
        Ok(())
    }
}
