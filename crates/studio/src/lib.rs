//! Atelier's application services: what both front ends (the Tauri app and the CLI) do, in one place —
//! the model host, writing actions and generations with their recorder, fusion runs, providers and
//! keys, downloads, privacy and the limits on what a front end may ask.

pub mod app;
pub mod bible;
pub mod catalog;
pub mod context;
pub mod continuity;
pub mod download;
pub mod downloads;
pub mod error;
pub mod export;
pub mod fusion;
pub mod generation;
pub mod limits;
pub mod manuscript;
pub mod model_host;
pub mod models;
pub mod panel_choice;
pub mod picked;
pub mod prepare;
pub mod privacy;
pub mod providers;
pub mod recorder;
pub mod saved_contexts;
pub mod taste;
pub mod trash;
pub mod writing;

pub use app::{Operations, PrivacyStatus, ProvidersView, Studio};
pub use download::{download, register, sanitize_file_name, Download, DownloadProgress, Verification};
pub use error::{ErrorKind, Result, StudioError};
pub use generation::{GenerationEvent, GenerationSpec};
pub use writing::{ActionInput, ResolvedAction, Tone, WritingAction};
pub use model_host::{ModelHost, ModelState, ModelStatus};
