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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_offline_choice_survives_a_library_that_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.sqlite3");
        let setting = OfflineSetting::beside(&path);
        let store = Store::open(&path).await.unwrap();
        // Nothing saved yet: online, as before.
        assert!(!setting.load(Some(&store)).await);
        setting.save(Some(&store), true).await.unwrap();
        assert!(setting.load(Some(&store)).await);
        assert_eq!(store.settings().get::<bool>("offline").await.unwrap(), Some(true));
        store.close().await;
        // The library cannot be opened any more (here: a folder where the file was): the choice holds.
        for file in ["library.sqlite3", "library.sqlite3-wal", "library.sqlite3-shm"] {
            let _ = std::fs::remove_file(dir.path().join(file));
        }
        std::fs::create_dir(&path).unwrap();
        assert!(Store::open(&path).await.is_err());
        assert!(setting.load(None).await, "a broken library turned the network back on");
        // Turned off while the library is broken: remembered too.
        setting.save(None, false).await.unwrap();
        assert!(!setting.load(None).await);
        // Never saved and no library to ask: offline, the side that sends nothing.
        let fresh = OfflineSetting::beside(&dir.path().join("other").join("library.sqlite3"));
        assert!(fresh.load(None).await);
    }
}
