//! Keeping runs and the privacy ledger in the library as they happen (feature `store`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use atelier_store::{MemberFinish, MemberRole, NewLedgerEntry, NewMember, RunFinish, RunStatus, Store};
use tokio::sync::mpsc;

use crate::client::{LedgerCompletion, LedgerRecord, LedgerSink};
use crate::events::{EventSink, FusionEvent};
use crate::judge::label;
use crate::modes::{FusionOutcome, FusionStatus};

enum LedgerMessage {
    Sent(u64, LedgerRecord),
    Completed(u64, LedgerCompletion),
    /// Answered once every message before it is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Writes ledger entries to the library, in order, off the caller's path.
pub struct StoreLedger {
    tx: mpsc::UnboundedSender<LedgerMessage>,
    next: AtomicU64,
}

impl StoreLedger {
    /// Entries are tied to `run_id` when the requests belong to a run.
    pub fn new(store: Store, run_id: Option<i64>) -> Arc<Self> {
        Self::with_items(store, run_id, Vec::new())
    }

    /// Entries of a run whose cloud requests carry these context items (their labels).
    pub fn with_items(store: Store, run_id: Option<i64>, items: Vec<String>) -> Arc<Self> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut ids: HashMap<u64, i64> = HashMap::new();
            while let Some(message) = rx.recv().await {
                match message {
                    LedgerMessage::Sent(handle, r) => {
                        let entry = NewLedgerEntry {
                            at: r.at_ms,
                            provider: r.provider,
                            model: r.model,
                            endpoint: r.endpoint,
                            run_id,
                            bytes_sent: r.bytes_sent as i64,
                            status: "sent".into(),
                            items: items.clone(),
                            ..Default::default()
                        };
                        if let Ok(id) = store.ledger().record(&entry).await {
                            ids.insert(handle, id);
                        }
                    }
                    LedgerMessage::Completed(handle, c) => {
                        if let Some(id) = ids.remove(&handle) {
                            let usage = c.usage;
                            let _ = store
                                .ledger()
                                .complete(
                                    id,
                                    c.bytes_received as i64,
                                    usage.map(|u| u.prompt_tokens as i64),
                                    usage.map(|u| u.completion_tokens as i64),
                                    usage.and_then(|u| u.cost_usd),
                                    &c.status,
                                )
                                .await;
                        }
                    }
                    LedgerMessage::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Arc::new(Self { tx, next: AtomicU64::new(0) })
    }

    /// Waits until every entry sent so far is in the library: a run's caller (the CLI, about to exit)
    /// reads a ledger that says how each request ended.
    pub async fn flush(&self) {
        let (done, written) = tokio::sync::oneshot::channel();
        if self.tx.send(LedgerMessage::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }
}

impl LedgerSink for StoreLedger {
    fn sent(&self, record: LedgerRecord) -> u64 {
        let handle = self.next.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(LedgerMessage::Sent(handle, record));
        handle
    }

    fn completed(&self, handle: u64, completion: LedgerCompletion) {
        let _ = self.tx.send(LedgerMessage::Completed(handle, completion));
    }
}

/// Mirrors a run's events into the library as they stream: member rows appear when members start, their
/// text is appended in batches, and the outcome is written at the end. A crash leaves an "interrupted"
/// run holding what arrived.
pub struct RunRecorder {
    tx: mpsc::UnboundedSender<Option<FusionEvent>>,
    done: tokio::sync::oneshot::Receiver<()>,
    store: Store,
    run_id: i64,
}

impl RunRecorder {
    /// `names` are the members' `provider:model` names in seat order, then the judge's.
    pub fn start(store: Store, run_id: i64, names: Vec<(String, String)>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Option<FusionEvent>>();
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let writer = store.clone();
        tokio::spawn(async move {
            let mut rows: HashMap<(usize, usize), i64> = HashMap::new();
            let mut pending: HashMap<i64, String> = HashMap::new();
            let mut flush = tokio::time::interval(Duration::from_millis(300));
            let judge_index = names.len().saturating_sub(1);
            loop {
                let event = tokio::select! {
                    event = rx.recv() => match event { Some(Some(e)) => Some(e), _ => None },
                    _ = flush.tick() => {
                        for (row, text) in pending.drain() {
                            let _ = writer.runs().append_output(row, &text).await;
                        }
                        continue;
                    }
                };
                let Some(event) = event else { break };
                match event {
                    FusionEvent::MemberStarted { member, round } => {
                        let (provider, model) = names.get(member).cloned().unwrap_or_default();
                        let new = NewMember { position: member as i64, label: label(member), role: MemberRole::Member, round: round as i64, provider, model };
                        if let Ok(id) = writer.runs().add_member(run_id, &new).await {
                            rows.insert((member, round), id);
                        }
                    }
                    FusionEvent::MemberDelta { member, round, text } => {
                        if let Some(row) = rows.get(&(member, round)) {
                            pending.entry(*row).or_default().push_str(&text);
                        }
                    }
                    FusionEvent::JudgeStarted { pass, .. } => {
                        let (provider, model) = names.get(judge_index).cloned().unwrap_or_default();
                        let new = NewMember { position: pass as i64, label: "judge".into(), role: MemberRole::Judge, round: pass as i64, provider, model };
                        if let Ok(row) = writer.runs().add_member(run_id, &new).await {
                            rows.insert((usize::MAX, pass), row);
                        }
                    }
                    FusionEvent::JudgeDelta { pass, text } => {
                        if let Some(row) = rows.get(&(usize::MAX, pass)) {
                            pending.entry(*row).or_default().push_str(&text);
                        }
                    }
                    FusionEvent::MemberFinished { member, round, usage, latency_ms, first_token_ms } => {
                        if let Some(row) = rows.get(&(member, round)) {
                            if let Some(text) = pending.remove(row) {
                                let _ = writer.runs().append_output(*row, &text).await;
                            }
                            let finish = MemberFinish {
                                prompt_tokens: Some(usage.prompt_tokens as i64),
                                completion_tokens: Some(usage.completion_tokens as i64),
                                cost_usd: usage.cost_usd,
                                latency_ms: Some(latency_ms as i64),
                                first_token_ms: first_token_ms.map(|v| v as i64),
                                ..MemberFinish::new(RunStatus::Completed)
                            };
                            let _ = writer.runs().finish_member(*row, &finish).await;
                        }
                    }
                    FusionEvent::MemberFailed { member, round, kind, error, .. } => {
                        if let Some(row) = rows.get(&(member, round)) {
                            if let Some(text) = pending.remove(row) {
                                let _ = writer.runs().append_output(*row, &text).await;
                            }
                            let status = if kind == crate::error::MemberErrorKind::Cancelled { RunStatus::Cancelled } else { RunStatus::Failed };
                            let finish = MemberFinish { error: Some(error), ..MemberFinish::new(status) };
                            let _ = writer.runs().finish_member(*row, &finish).await;
                        }
                    }
                    FusionEvent::JudgeFailed { pass, error } => {
                        if let Some(row) = rows.get(&(usize::MAX, pass)) {
                            if let Some(text) = pending.remove(row) {
                                let _ = writer.runs().append_output(*row, &text).await;
                            }
                            let _ = writer.runs().finish_member(*row, &MemberFinish::failed(error)).await;
                        }
                    }
                    _ => {}
                }
            }
            for (row, text) in pending.drain() {
                let _ = writer.runs().append_output(row, &text).await;
            }
            let _ = done_tx.send(());
        });
        Self { tx, done, store, run_id }
    }

    /// Forwards events to the recorder and then to `next`.
    pub fn sink(&self, next: EventSink) -> EventSink {
        let tx = self.tx.clone();
        Arc::new(move |event: FusionEvent| {
            let _ = tx.send(Some(event.clone()));
            next(event);
        })
    }

    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Writes the outcome once every streamed piece is stored.
    pub async fn finish(self, outcome: Result<&FusionOutcome, String>) -> atelier_store::Result<()> {
        let _ = self.tx.send(None);
        let _ = self.done.await;
        let runs = self.store.runs();
        // Judge passes that ended well are marked completed (their failures were written as they came).
        let run = runs.get(self.run_id).await?;
        for member in run.members.iter().filter(|m| m.status == "running") {
            let status = if member.role == "judge" { RunStatus::Completed } else { RunStatus::Interrupted };
            runs.finish_member(member.id, &MemberFinish::new(status)).await?;
        }
        match outcome {
            Ok(o) => {
                let status = match o.status {
                    FusionStatus::Completed => RunStatus::Completed,
                    FusionStatus::JudgeFailed | FusionStatus::Failed => RunStatus::Failed,
                    FusionStatus::Cancelled => RunStatus::Cancelled,
                };
                let analysis = o.verdict.as_ref().map(|v| serde_json::to_value(v).unwrap_or_default());
                let finish = RunFinish {
                    status,
                    final_text: o.final_text.clone(),
                    analysis,
                    error: o.error.clone(),
                    prompt_tokens: o.prompt_tokens as i64,
                    completion_tokens: o.completion_tokens as i64,
                    cost_usd: o.cost_usd,
                };
                runs.finish(self.run_id, &finish).await
            }
            Err(error) => runs.finish(self.run_id, &RunFinish::failed(error)).await,
        }
    }
}
