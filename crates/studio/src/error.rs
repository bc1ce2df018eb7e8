//! One error type for the studio's services. Each variant has a short, stable machine kind
//! ([`StudioError::kind`]) the front ends branch on, and a message written for the user.

use atelier_engine::EngineError;
use atelier_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    /// The request itself is wrong (address, file name, checksum format, a refused redirect).
    #[error("{0}")]
    Invalid(String),
    /// Offline mode is on: nothing was sent.
    #[error("Offline mode is on: no request was sent. Turn it off to download.")]
    Offline,
    /// The server could not be reached, answered an error, broke off or sent something inconsistent.
    #[error("{0}")]
    Network(String),
    /// No bytes arrived for too long.
    #[error("{0}")]
    Timeout(String),
    /// The body is larger than the declared size or the size cap.
    #[error("{0}")]
    TooLarge(String),
    /// The downloaded bytes do not hash to the expected sha256.
    #[error("{0}")]
    Checksum(String),
    /// Cancelled: what arrived is kept for the next try.
    #[error("Download paused; start it again to resume.")]
    Paused,
    /// Every free name for the model is taken.
    #[error("{0}")]
    Exists(String),
    /// The same file is already being downloaded.
    #[error("{0}")]
    Busy(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// The file is not a GGUF Atelier can run.
    #[error(transparent)]
    Model(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] atelier_keys::KeysError),
    #[error(transparent)]
    Fusion(#[from] atelier_fusion::FusionError),
    #[error("{0}")]
    Internal(String),
    /// No on-device model is loaded (the message says why: missing, broken, still failing to load).
    #[error("{0}")]
    NoModel(String),
    /// The engine failed unexpectedly while loading; the app goes on without that model.
    #[error("the model could not be loaded (an internal error: {0}). Choose another model in Models")]
    LoadPanicked(String),
}

impl StudioError {
    /// A short machine name for the error: "invalid", "offline", "network", "timeout", "too_large",
    /// "checksum", "paused", "exists", "busy", "io", "model_invalid", "model_unsupported",
    /// "model_missing", "engine", "library", "disk_full", "internal".
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid",
            Self::Offline => "offline",
            Self::Network(_) => "network",
            Self::Timeout(_) => "timeout",
            Self::TooLarge(_) => "too_large",
            Self::Checksum(_) => "checksum",
            Self::Paused => "paused",
            Self::Exists(_) => "exists",
            Self::Busy(_) => "busy",
            Self::Io { .. } => "io",
            Self::Model(e) => match e {
                EngineError::ModelNotFound { .. } | EngineError::NoDefaultModel { .. } => "model_missing",
                EngineError::NotGguf { .. } | EngineError::Corrupt { .. } => "model_invalid",
                EngineError::UnsupportedArchitecture { .. } | EngineError::UnsupportedTensorType { .. } => "model_unsupported",
                _ => "engine",
            },
            Self::Store(e) => match e {
                StoreError::DiskFull => "disk_full",
                StoreError::Invalid(_) => "invalid",
                _ => "library",
            },
            Self::Keys(e) => match e {
                atelier_keys::KeysError::Unavailable { .. } => "keychain_unavailable",
                atelier_keys::KeysError::Locked(_) => "keychain_locked",
                atelier_keys::KeysError::InvalidUrl { .. } | atelier_keys::KeysError::InvalidId(_) => "invalid",
                _ => "keychain",
            },
            Self::Fusion(e) => match e {
                atelier_fusion::FusionError::OverBudget { .. } => "over_budget",
                atelier_fusion::FusionError::Config(_) | atelier_fusion::FusionError::PanelSize(_) => "invalid",
                _ => "fusion",
            },
            Self::Internal(_) => "internal",
            Self::NoModel(_) => "model_missing",
            Self::LoadPanicked(_) => "model_invalid",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

pub type Result<T, E = StudioError> = std::result::Result<T, E>;
