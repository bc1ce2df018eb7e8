//! Running panel members: in parallel, each with its timeouts, retry policy, cancellation and share of
//! the budget.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most members a panel seats: more adds cost and judge context faster than it adds quality.
pub const MAX_PANEL: usize = 8;

use futures::StreamExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::budget::{BudgetTracker, Price};
use crate::error::MemberError;
use crate::events::{EventSink, FusionEvent};
use crate::provider::{ChatEvent, ChatRequest, Provider, Usage};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timeouts {
    /// From sending the request to the first token.
    pub first_token: Duration,
    /// The whole answer.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { first_token: Duration::from_secs(60), total: Duration::from_secs(300) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub max_attempts: usize,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(20) }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter, or the server's Retry-After when it gave one.
    fn delay(&self, attempt: usize, error: &MemberError) -> Duration {
        if let MemberError::RateLimited { retry_after: Some(after) } = error {
            return (*after).min(self.max_delay);
        }
        let ceiling = self.base_delay.saturating_mul(1 << attempt.min(16)).min(self.max_delay);
        ceiling.mul_f64(rand::rng().random_range(0.5..1.0))
    }
}

/// A panel seat: who answers, and at what price.
#[derive(Clone)]
pub struct MemberSpec {
    pub provider: Arc<dyn Provider>,
    pub price: Option<Price>,
}

impl MemberSpec {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        Self { provider, price: None }
    }

    pub fn with_price(mut self, price: Price) -> Self {
        self.price = Some(price);
        self
    }

    pub fn name(&self) -> String {
        format!("{}:{}", self.provider.id(), self.provider.model())
    }
}

/// What one member (or judge pass) produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MemberOutcome {
    pub index: usize,
    pub round: usize,
    pub provider: String,
    pub model: String,
    /// Everything that arrived, also when it failed part-way.
    pub text: String,
    pub usage: Usage,
    pub latency_ms: u64,
    pub first_token_ms: Option<u64>,
    pub attempts: usize,
    pub error: Option<String>,
    pub error_kind: Option<crate::error::MemberErrorKind>,
}

impl MemberOutcome {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

pub(crate) struct Seat<'a> {
    pub index: usize,
    pub round: usize,
    pub spec: &'a MemberSpec,
    pub request: ChatRequest,
}

pub(crate) struct RunContext {
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub cancel: CancellationToken,
    pub budget: Arc<BudgetTracker>,
    pub events: EventSink,
}

/// What to do with each streamed piece (members and judge report differently).
pub(crate) type OnDelta<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// The right to send a request: the endpoint's permit, or `None` for an endpoint without a limit.
type Turn = Option<OwnedSemaphorePermit>;

/// Waits for the endpoint's gate, reporting the member as queued while it waits; `None` when the run
/// was cancelled first.
async fn wait_turn(gate: &Option<Arc<Semaphore>>, ctx: &RunContext, queued: impl FnOnce()) -> Option<Turn> {
    let Some(gate) = gate else { return Some(None) };
    if let Ok(permit) = Arc::clone(gate).try_acquire_owned() {
        return Some(Some(permit));
    }
    queued();
    tokio::select! {
        permit = Arc::clone(gate).acquire_owned() => permit.ok().map(Some),
        _ = ctx.cancel.cancelled() => None,
    }
}

pub(crate) async fn run_seat(seat: Seat<'_>, ctx: &RunContext, on_delta: OnDelta<'_>, report: bool) -> MemberOutcome {
    let (index, round) = (seat.index, seat.round);
    let gate = seat.spec.provider.gate();
    // Time in the queue is no time spent answering: the timeouts and latency start with the request.
    let mut permit = wait_turn(&gate, ctx, || {
        if report {
            (ctx.events)(FusionEvent::MemberQueued { member: index, round });
        }
    })
    .await;
    let mut started = Instant::now();
    if report {
        (ctx.events)(FusionEvent::MemberStarted { member: index, round });
    }
    let price = seat.spec.price;
    let output_price_per_token = price.map(|p| p.output_per_mtok / 1e6).unwrap_or(0.0);
    let mut attempt = 0;
    loop {
        attempt += 1;
        if permit.is_none() {
            // Cancelled while queued, or queueing again after a retry's pause.
            let queued_at = Instant::now();
            permit = if ctx.cancel.is_cancelled() { None } else { wait_turn(&gate, ctx, || {}).await };
            // The wait is not the member's time: its total deadline moves on by it.
            started += queued_at.elapsed();
        }
        let attempt_started = Instant::now();
        let attempt_cancel = ctx.cancel.child_token();
        let mut stream = match permit {
            Some(_) => seat.spec.provider.stream_chat(seat.request.clone(), attempt_cancel.clone()),
            None => futures::stream::iter([Err(MemberError::Cancelled)]).boxed(),
        };
        let mut text = String::new();
        let mut tokens = 0usize;
        let mut first_token: Option<Duration> = None;
        let mut usage: Option<Usage> = None;
        let mut provisional = 0.0;
        let deadline = tokio::time::Instant::from_std(started + ctx.timeouts.total);
        let result: Result<(), MemberError> = loop {
            let first_deadline = tokio::time::Instant::from_std(attempt_started + ctx.timeouts.first_token);
            let wait_until = if first_token.is_none() { first_deadline.min(deadline) } else { deadline };
            tokio::select! {
                biased;
                _ = ctx.budget.exhausted().cancelled() => break Err(MemberError::BudgetSpent { cap: ctx.budget.cap().unwrap_or(0.0) }),
                _ = ctx.cancel.cancelled() => break Err(MemberError::Cancelled),
                _ = tokio::time::sleep_until(wait_until) => {
                    break Err(if first_token.is_none() && wait_until == first_deadline {
                        MemberError::Timeout { phase: "waiting for the first token", after: ctx.timeouts.first_token }
                    } else {
                        MemberError::Timeout { phase: "in total", after: ctx.timeouts.total }
                    })
                }
                item = stream.next() => match item {
                    Some(Ok(ChatEvent::Delta(piece))) => {
                        first_token.get_or_insert_with(|| started.elapsed());
                        tokens += 1;
                        text.push_str(&piece);
                        on_delta(&piece);
                        // Charge as it streams, so the cap stops members before the bill arrives.
                        provisional += output_price_per_token;
                        ctx.budget.charge(output_price_per_token);
                    }
                    Some(Ok(ChatEvent::Usage(u))) => usage = Some(u),
                    Some(Ok(ChatEvent::Done)) => break Ok(()),
                    Some(Err(e)) => break Err(e),
                    None => break if usage.is_some() { Ok(()) } else { Err(MemberError::StreamCut { tokens }) },
                }
            }
        };
        // An answer with no text is no answer, however cleanly the stream ended.
        let result = match result {
            Ok(()) if text.trim().is_empty() => Err(MemberError::EmptyAnswer),
            other => other,
        };
        // Closes the connection if the request is still open, and lets the next request in.
        attempt_cancel.cancel();
        drop(stream);
        permit = None;
        let latency_ms = started.elapsed().as_millis() as u64;
        let outcome = |text: String, usage: Usage, error: Option<&MemberError>| MemberOutcome {
            index,
            round,
            provider: seat.spec.provider.id().to_string(),
            model: seat.spec.provider.model().to_string(),
            text,
            usage,
            latency_ms,
            first_token_ms: first_token.map(|d| d.as_millis() as u64),
            attempts: attempt,
            error: error.map(|e| e.to_string()),
            error_kind: error.map(MemberError::kind),
        };
        match result {
            Ok(()) => {
                let mut usage = usage.unwrap_or(Usage { prompt_tokens: 0, completion_tokens: tokens, cost_usd: None });
                if usage.cost_usd.is_none() {
                    usage.cost_usd = price.map(|p| p.cost(usage.prompt_tokens, usage.completion_tokens));
                }
                ctx.budget.charge(usage.cost_usd.unwrap_or(0.0) - provisional);
                if report {
                    (ctx.events)(FusionEvent::MemberFinished {
                        member: index,
                        round,
                        usage,
                        latency_ms,
                        first_token_ms: first_token.map(|d| d.as_millis() as u64),
                    });
                }
                return outcome(text, usage, None);
            }
            Err(error) => {
                let retry = text.is_empty() && error.is_retryable() && attempt < ctx.retry.max_attempts && !ctx.cancel.is_cancelled();
                if retry {
                    let delay = ctx.retry.delay(attempt, &error);
                    if report {
                        (ctx.events)(FusionEvent::MemberRetrying {
                            member: index,
                            round,
                            attempt: attempt + 1,
                            delay_ms: delay.as_millis() as u64,
                            reason: error.to_string(),
                        });
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => continue,
                        _ = ctx.cancel.cancelled() => {}
                    }
                }
                let error = if ctx.cancel.is_cancelled() && !matches!(error, MemberError::BudgetSpent { .. }) {
                    MemberError::Cancelled
                } else {
                    error
                };
                let usage = usage.unwrap_or(Usage {
                    prompt_tokens: 0,
                    completion_tokens: tokens,
                    cost_usd: price.map(|p| p.cost(0, tokens)),
                });
                if report {
                    (ctx.events)(FusionEvent::MemberFailed { member: index, round, kind: error.kind(), error: error.to_string(), tokens });
                }
                return outcome(text, usage, Some(&error));
            }
        }
    }
}

/// Runs every seat at once and returns their outcomes in seat order.
pub(crate) async fn run_panel(seats: Vec<Seat<'_>>, ctx: &RunContext) -> Vec<MemberOutcome> {
    let futures = seats.into_iter().map(|seat| {
        let (index, round) = (seat.index, seat.round);
        let events = Arc::clone(&ctx.events);
        let on_delta = move |text: &str| events(FusionEvent::MemberDelta { member: index, round, text: text.to_string() });
        async move { run_seat(seat, ctx, &on_delta, true).await }
    });
    futures::future::join_all(futures).await
}
