//! Exports as both front ends hand them out: the text of a run, document or chat in a format, and that
//! text written to a file the user chose.

use std::path::Path;

use atelier_store::{ExportFormat, ExportTarget, Store};

use crate::error::{Result, StudioError};

/// The export's text; `what` is run, document or conversation, `format` md or json.
pub async fn text(store: &Store, what: &str, id: i64, format: &str) -> Result<String> {
    Ok(store.export(ExportTarget::parse(what, id)?, ExportFormat::parse(format)?).await?)
}

/// The file name a save dialog suggests: `atelier-run-12.md`.
pub fn suggested_name(what: &str, id: i64, format: &str) -> Result<(String, ExportFormat)> {
    let format = ExportFormat::parse(format)?;
    Ok((format!("atelier-{what}-{id}.{}", format.extension()), format))
}

/// Writes the export to `path` whole.
pub async fn to_file(store: &Store, what: &str, id: i64, format: &str, path: &Path) -> Result<()> {
    let text = text(store, what, id, format).await?;
    write_whole(path, text.as_bytes()).await
}

/// Writes `bytes` to `path` whole: a temporary file beside it, renamed over it, so a full disk leaves
/// the earlier file (if any) intact.
pub async fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = path.with_extension("atelier-partial");
    let written = async {
        tokio::fs::write(&temporary, bytes).await?;
        tokio::fs::rename(&temporary, path).await
    };
    if let Err(e) = written.await {
        let _ = tokio::fs::remove_file(&temporary).await;
        return Err(StudioError::io(format!("cannot write {}", path.display()), e));
    }
    Ok(())
}
