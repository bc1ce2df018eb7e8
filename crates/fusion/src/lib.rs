//! Fusion: one prompt through a panel of models in parallel (the on-device one and any OpenAI-compatible
//! endpoint), a judge that compares the anonymised answers (consensus, contradictions, unique insights,
//! blind spots, scores, minority report), and one fused answer. Modes best-of, merge and debate are small
//! strategies over the same panel and judge. Budgets, timeouts, retries, partial failures and offline
//! mode are handled here; every outbound byte goes through [`client::OutboundClient`], which refuses all
//! traffic while offline and records a privacy-ledger entry per request.

pub mod budget;
pub mod client;
pub mod compare;
pub mod config;
pub mod error;
pub mod events;
pub mod gate;
pub mod judge;
pub mod local;
pub mod modes;
pub mod openai;
pub mod panel;
#[cfg(feature = "store")]
pub mod persist;
pub mod provider;
pub mod redact;
pub mod sse;
pub mod stats;

pub use budget::{CostEstimate, Price, PriceBook};
pub use client::{LedgerRecord, LedgerSink, OutboundClient};
pub use config::{FusionConfig, MemberConfig, ProviderConfig};
pub use error::{FusionError, MemberError, MemberErrorKind};
pub use events::{FusionEvent, MemberInfo};
pub use judge::Verdict;
pub use modes::{FusionOutcome, FusionRequest, FusionStatus, Mode, ModeKind};
pub use panel::{MemberSpec, Timeouts, MAX_PANEL};
pub use provider::{ChatEvent, ChatMessage, ChatRequest, Provider, Role, Usage};
