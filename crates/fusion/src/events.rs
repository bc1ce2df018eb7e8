//! The one event stream of a run, serialisable so the app forwards it to the UI unchanged.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::budget::CostEstimate;
use crate::error::MemberErrorKind;
use crate::judge::Verdict;
use crate::modes::{FusionStatus, ModeKind};
use crate::provider::Usage;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MemberInfo {
    pub index: usize,
    pub provider: String,
    pub model: String,
    /// Whether this member sends the prompt off the device.
    pub cloud: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FusionEvent {
    RunStarted { mode: ModeKind, rounds: usize, members: Vec<MemberInfo>, judge: MemberInfo, estimate: CostEstimate, seed: u64 },
    /// The member waits for its endpoint (a local server serving one request at a time).
    MemberQueued { member: usize, round: usize },
    MemberStarted { member: usize, round: usize },
    MemberDelta { member: usize, round: usize, text: String },
    MemberRetrying { member: usize, round: usize, attempt: usize, delay_ms: u64, reason: String },
    MemberFinished { member: usize, round: usize, usage: Usage, latency_ms: u64, first_token_ms: Option<u64> },
    MemberFailed { member: usize, round: usize, kind: MemberErrorKind, error: String, tokens: usize },
    /// `order[i]` is the member shown to the judge as the i-th response (A, B, …).
    JudgeStarted { pass: usize, order: Vec<usize> },
    JudgeDelta { pass: usize, text: String },
    JudgeFailed { pass: usize, error: String },
    Analysis { verdict: Verdict },
    Final { text: String, source: String },
    Usage { prompt_tokens: usize, completion_tokens: usize, cost_usd: f64 },
    Finished { status: FusionStatus, error: Option<String> },
}

/// Where a run's events go (the app: a Tauri channel; the CLI: the terminal).
pub type EventSink = Arc<dyn Fn(FusionEvent) + Send + Sync>;

pub fn discard() -> EventSink {
    Arc::new(|_| {})
}
