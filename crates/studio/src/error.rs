//! One error type for the studio's services. Each variant has a short, stable machine kind
//! ([`StudioError::kind`]) the front ends branch on, and a message written for the user.

use atelier_engine::EngineError;
use atelier_fusion::MemberError;
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
    /// A manuscript file could not be read or written (the message says why).
    #[error(transparent)]
    Manuscript(#[from] atelier_manuscript::ManuscriptError),
    #[error(transparent)]
    Fusion(#[from] atelier_fusion::FusionError),
    /// One provider's answer failed (a provider check, a test request).
    #[error(transparent)]
    Member(#[from] MemberError),
    /// The thing asked for does not exist (any more).
    #[error("{0}")]
    NotFound(String),
    /// The thing is in use and cannot be changed now.
    #[error("{0}")]
    InUse(String),
    /// The library could not be opened at start-up (the message says why); nothing can be kept.
    #[error("{0}")]
    LibraryUnavailable(String),
    #[error("{0}")]
    Internal(String),
    /// No on-device model is loaded (the message says why: missing, broken, still failing to load).
    #[error("{0}")]
    NoModel(String),
    /// The engine failed unexpectedly while loading; the app goes on without that model.
    #[error("the model could not be loaded (an internal error: {0}). Choose another model in Models")]
    LoadPanicked(String),
}

/// The stable machine kind of an error, as both front ends (and the UI, across IPC) branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[derive(specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Invalid,
    NotFound,
    InUse,
    Offline,
    Network,
    Timeout,
    TooLarge,
    Checksum,
    Paused,
    Exists,
    Busy,
    Io,
    ModelMissing,
    ModelInvalid,
    ModelUnsupported,
    ContextOverflow,
    EmptyPrompt,
    OutOfMemory,
    Engine,
    Library,
    LibraryUnavailable,
    DiskFull,
    Keychain,
    KeychainUnavailable,
    KeychainLocked,
    OverBudget,
    Fusion,
    MissingKey,
    Unauthorized,
    Forbidden,
    RateLimited,
    Http,
    Connect,
    StreamCut,
    Malformed,
    Cancelled,
    Internal,
}

impl ErrorKind {
    /// The name the UI sees: "model_missing", "rate_limited", …
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    /// The kind of one panel member's failure.
    pub fn of_member(err: &MemberError) -> Self {
        match err {
            MemberError::Offline => Self::Offline,
            MemberError::MissingKey { .. } => Self::MissingKey,
            MemberError::InvalidEndpoint(_) => Self::Invalid,
            MemberError::Keychain(_) => Self::Keychain,
            MemberError::Unauthorized { .. } => Self::Unauthorized,
            MemberError::Forbidden { .. } => Self::Forbidden,
            MemberError::RateLimited { .. } => Self::RateLimited,
            MemberError::Http { .. } => Self::Http,
            MemberError::Connect { .. } => Self::Connect,
            MemberError::Timeout { .. } => Self::Timeout,
            MemberError::StreamCut { .. } | MemberError::EmptyAnswer => Self::StreamCut,
            MemberError::Malformed(_) => Self::Malformed,
            MemberError::BudgetSpent { .. } => Self::OverBudget,
            MemberError::Cancelled => Self::Cancelled,
            MemberError::Local(_) => Self::Engine,
        }
    }

    fn of_engine(err: &EngineError) -> Self {
        match err {
            EngineError::ModelNotFound { .. } | EngineError::NoDefaultModel { .. } => Self::ModelMissing,
            EngineError::NotGguf { .. } | EngineError::Corrupt { .. } => Self::ModelInvalid,
            EngineError::UnsupportedArchitecture { .. } | EngineError::UnsupportedTensorType { .. } => Self::ModelUnsupported,
            EngineError::ContextOverflow { .. } => Self::ContextOverflow,
            EngineError::EmptyPrompt => Self::EmptyPrompt,
            EngineError::InvalidSampling(_) | EngineError::InvalidOption(_) => Self::Invalid,
            EngineError::InsufficientMemory { .. } => Self::OutOfMemory,
            _ => Self::Engine,
        }
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl StudioError {
    /// The error's stable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::InUse(_) => ErrorKind::InUse,
            Self::Offline => ErrorKind::Offline,
            Self::Network(_) => ErrorKind::Network,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::TooLarge(_) => ErrorKind::TooLarge,
            Self::Checksum(_) => ErrorKind::Checksum,
            Self::Paused => ErrorKind::Paused,
            Self::Exists(_) => ErrorKind::Exists,
            Self::Busy(_) => ErrorKind::Busy,
            Self::Io { .. } => ErrorKind::Io,
            Self::Model(e) => ErrorKind::of_engine(e),
            Self::Store(e) => match e {
                StoreError::NotFound { .. } => ErrorKind::NotFound,
                StoreError::DiskFull => ErrorKind::DiskFull,
                StoreError::Invalid(_) => ErrorKind::Invalid,
                _ => ErrorKind::Library,
            },
            Self::LibraryUnavailable(_) => ErrorKind::LibraryUnavailable,
            Self::Keys(e) => match e {
                atelier_keys::KeysError::Unavailable { .. } => ErrorKind::KeychainUnavailable,
                atelier_keys::KeysError::Locked(_) => ErrorKind::KeychainLocked,
                atelier_keys::KeysError::InvalidUrl { .. } | atelier_keys::KeysError::InvalidId(_) => ErrorKind::Invalid,
                _ => ErrorKind::Keychain,
            },
            Self::Fusion(e) => match e {
                atelier_fusion::FusionError::OverBudget { .. } => ErrorKind::OverBudget,
                atelier_fusion::FusionError::Config(_) | atelier_fusion::FusionError::PanelSize(_) => ErrorKind::Invalid,
                atelier_fusion::FusionError::Cancelled => ErrorKind::Cancelled,
                _ => ErrorKind::Fusion,
            },
            Self::Member(e) => ErrorKind::of_member(e),
            Self::Manuscript(_) => ErrorKind::Invalid,
            Self::Internal(_) => ErrorKind::Internal,
            Self::NoModel(_) => ErrorKind::ModelMissing,
            Self::LoadPanicked(_) => ErrorKind::ModelInvalid,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

pub type Result<T, E = StudioError> = std::result::Result<T, E>;
