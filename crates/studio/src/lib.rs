//! Atelier's application services: what both front ends (the Tauri app and the CLI) do, in one place.
//! Today: downloading a model into the models folder and registering a GGUF in the library.

pub mod download;
pub mod error;
pub mod limits;
pub mod model_host;
pub mod picked;
pub mod privacy;
pub mod providers;
pub mod trash;

pub use download::{download, register, sanitize_file_name, Download, DownloadProgress};
pub use error::{Result, StudioError};
pub use model_host::{ModelHost, ModelState, ModelStatus};
