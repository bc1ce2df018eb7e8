//! Errors: what went wrong with one member (reported, the run goes on) and with a whole run.

use std::time::Duration;

/// Why one member (or the judge) produced no complete answer. The Display text is what the user sees.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MemberError {
    #[error("offline mode is on: no request was sent")]
    Offline,
    #[error(
        "no API key for {provider} at {origin}: add one in Settings → Providers (or `atelier keys set {provider} --url {origin}`). \
         A key set for another address is never sent here"
    )]
    MissingKey { provider: String, origin: String },
    #[error("unusable address: {0}")]
    InvalidEndpoint(String),
    #[error("the keychain cannot be read: {0}")]
    Keychain(String),
    #[error("401 invalid key: {provider} refused the API key")]
    Unauthorized { provider: String },
    #[error("403 forbidden: {message}")]
    Forbidden { message: String },
    #[error("429 rate limited{}", retry_after.map(|d| format!(" (retry after {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("{status} {message}")]
    Http { status: u16, message: String },
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("timeout after {} s {phase}", after.as_secs_f64())]
    Timeout { phase: &'static str, after: Duration },
    #[error("stream cut after {tokens} tokens")]
    StreamCut { tokens: usize },
    /// A stream that ended cleanly with no text: not an answer (a local server does this to a request
    /// that a second one cut off).
    #[error("the server ended the stream before any text")]
    EmptyAnswer,
    #[error("malformed response: {0}")]
    Malformed(String),
    #[error("stopped: the budget of ${cap:.4} is spent")]
    BudgetSpent { cap: f64 },
    #[error("cancelled")]
    Cancelled,
    #[error("on-device model: {0}")]
    Local(String),
}

/// The kind of a member's failure, for the UI to branch on and History to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum MemberErrorKind {
    Offline,
    MissingKey,
    InvalidEndpoint,
    Keychain,
    Unauthorized,
    Forbidden,
    RateLimited,
    Http,
    Connect,
    Timeout,
    StreamCut,
    Malformed,
    Budget,
    Cancelled,
    Local,
}

impl MemberError {
    /// A short machine-readable kind for the UI and the history.
    pub fn kind(&self) -> MemberErrorKind {
        match self {
            Self::Offline => MemberErrorKind::Offline,
            Self::MissingKey { .. } => MemberErrorKind::MissingKey,
            Self::InvalidEndpoint(_) => MemberErrorKind::InvalidEndpoint,
            Self::Keychain(_) => MemberErrorKind::Keychain,
            Self::Unauthorized { .. } => MemberErrorKind::Unauthorized,
            Self::Forbidden { .. } => MemberErrorKind::Forbidden,
            Self::RateLimited { .. } => MemberErrorKind::RateLimited,
            Self::Http { .. } => MemberErrorKind::Http,
            Self::Connect { .. } => MemberErrorKind::Connect,
            Self::Timeout { .. } => MemberErrorKind::Timeout,
            Self::StreamCut { .. } | Self::EmptyAnswer => MemberErrorKind::StreamCut,
            Self::Malformed(_) => MemberErrorKind::Malformed,
            Self::BudgetSpent { .. } => MemberErrorKind::Budget,
            Self::Cancelled => MemberErrorKind::Cancelled,
            Self::Local(_) => MemberErrorKind::Local,
        }
    }

    /// Worth another attempt: rate limits, gateway errors, dropped connections — before any text arrived.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Connect { .. } | Self::EmptyAnswer => true,
            Self::Http { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

/// Why a whole run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum FusionError {
    #[error("the estimated cost ${estimate:.4} is over the budget of ${cap:.4}; raise the budget or lower max tokens")]
    OverBudget { estimate: f64, cap: f64 },
    #[error("a panel needs 1 to 8 members, got {0}")]
    PanelSize(usize),
    #[error("only {answered} of {needed} required answers arrived: {details}")]
    Quorum { answered: usize, needed: usize, details: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("the run was cancelled")]
    Cancelled,
}
