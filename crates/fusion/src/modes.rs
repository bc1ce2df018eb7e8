//! The three modes as strategies over the same building blocks: run the panel (once, or in debate
//! rounds), then judge (twice in swapped order for best-of, once for merge).

use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::budget::{estimate_tokens, BudgetTracker, CostEstimate};
use crate::error::FusionError;
use crate::events::{EventSink, FusionEvent, MemberInfo};
use crate::judge::{judge_format, judge_messages, label, parse_verdict, JudgeTask, Verdict};
use crate::panel::{run_panel, run_seat, MemberOutcome, MemberSpec, RetryPolicy, RunContext, Seat, Timeouts};
use crate::provider::{ChatMessage, ChatRequest, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Mode {
    /// The judge picks one member's answer (judged in two orders against position bias).
    BestOf,
    /// The judge writes a new answer from the analysis.
    Merge,
    /// Members revise after seeing each other's anonymised answers, `rounds` times; then merge.
    Debate { rounds: usize },
}

/// A mode by name, as a front end chooses it (debate's rounds are given apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum ModeKind {
    BestOf,
    #[default]
    Merge,
    Debate,
}

impl ModeKind {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "best-of" | "best_of" | "bestof" => Some(Self::BestOf),
            "merge" => Some(Self::Merge),
            "debate" => Some(Self::Debate),
            _ => None,
        }
    }

    /// The mode, with `rounds` for a debate (at least one).
    pub fn with_rounds(self, rounds: usize) -> Mode {
        match self {
            Self::BestOf => Mode::BestOf,
            Self::Merge => Mode::Merge,
            Self::Debate => Mode::Debate { rounds: rounds.max(1) },
        }
    }
}

impl Mode {
    pub fn kind(&self) -> ModeKind {
        match self {
            Self::BestOf => ModeKind::BestOf,
            Self::Merge => ModeKind::Merge,
            Self::Debate { .. } => ModeKind::Debate,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::BestOf => "best-of",
            Self::Merge => "merge",
            Self::Debate { .. } => "debate",
        }
    }

    pub fn parse(name: &str, rounds: usize) -> Option<Self> {
        ModeKind::parse(name).map(|kind| kind.with_rounds(rounds))
    }

    fn rounds(&self) -> usize {
        match self {
            Self::Debate { rounds } => *rounds,
            _ => 0,
        }
    }
}

#[derive(Clone)]
pub struct FusionRequest {
    /// The conversation; its last user message is the question.
    pub messages: Vec<ChatMessage>,
    /// What members whose requests leave the device read instead of `messages` (a project that keeps
    /// its story bible and manuscript on the device); `None`: the same messages.
    pub cloud_messages: Option<Vec<ChatMessage>>,
    pub members: Vec<MemberSpec>,
    pub judge: MemberSpec,
    pub mode: Mode,
    pub max_tokens: usize,
    pub judge_max_tokens: usize,
    pub temperature: f32,
    /// Hard cap in USD; `None` for no cap.
    pub budget_usd: Option<f64>,
    /// Answers needed to judge (default 1).
    pub quorum: usize,
    /// Seeds the anonymising shuffle (recorded, so a run can be reproduced).
    pub seed: u64,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// What the judge judges by beyond its own instructions (the project's style guide, the rubric of
    /// the writer's picks).
    pub criteria: Option<String>,
    /// Whether a judge whose requests leave the device may read `criteria`.
    pub criteria_may_leave: bool,
}

impl FusionRequest {
    pub fn new(messages: Vec<ChatMessage>, members: Vec<MemberSpec>, judge: MemberSpec, mode: Mode) -> Self {
        Self {
            messages,
            cloud_messages: None,
            members,
            judge,
            mode,
            max_tokens: 512,
            judge_max_tokens: 1024,
            temperature: 0.7,
            budget_usd: None,
            quorum: 1,
            seed: rand::random(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            criteria: None,
            criteria_may_leave: false,
        }
    }

    /// Seconds the on-device seats need at `speed` (prompt and decode tokens per second), run one after
    /// another as the model serves them: each member reads the prompt and writes `max_tokens` per
    /// round; the judge reads every answer and writes its verdict and the final answer.
    pub fn on_device_seconds(&self, speed: (f64, f64)) -> Option<f64> {
        let (prompt_speed, decode_speed) = speed;
        if prompt_speed <= 0.0 || decode_speed <= 0.0 {
            return None;
        }
        let prompt_tokens: usize = self.messages.iter().map(|m| estimate_tokens(&m.content)).sum();
        let rounds = 1 + self.mode.rounds();
        let local_members = self.members.iter().filter(|m| !m.provider.is_cloud()).count();
        let judge_local = !self.judge.provider.is_cloud();
        if local_members == 0 && !judge_local {
            return None;
        }
        let answer = |reads: usize, writes: usize| reads as f64 / prompt_speed + writes as f64 / decode_speed;
        let mut seconds = (local_members * rounds) as f64 * answer(prompt_tokens, self.max_tokens);
        if judge_local {
            // A verdict is a few hundred tokens; the merged answer about one member's length.
            let verdict = 250 + if self.mode == Mode::BestOf { 1 } else { self.max_tokens };
            let passes = if self.mode == Mode::BestOf { 2 } else { 1 };
            seconds += passes as f64 * answer(prompt_tokens + self.members.len() * self.max_tokens, verdict.min(self.judge_max_tokens));
        }
        Some(seconds)
    }

    /// The criteria `seat` may read as the judge.
    pub fn criteria_for(&self, seat: &MemberSpec) -> Option<&str> {
        self.criteria.as_deref().filter(|_| !seat.provider.is_cloud() || self.criteria_may_leave)
    }

    /// The messages `seat` reads: the on-device model everything, a cloud model what may leave.
    pub fn messages_for(&self, seat: &MemberSpec) -> &[ChatMessage] {
        match &self.cloud_messages {
            Some(cloud) if seat.provider.is_cloud() => cloud,
            _ => &self.messages,
        }
    }

    /// The question as `seat` may read it.
    fn question_for(&self, seat: &MemberSpec) -> String {
        self.messages_for(seat).iter().rev().find(|m| m.role == Role::User).map(|m| m.content.clone()).unwrap_or_default()
    }

    /// Worst-case cost: every member writes `max_tokens` in every round; the judge reads every answer.
    pub fn estimate(&self) -> CostEstimate {
        let prompt_tokens: usize = self.messages.iter().map(|m| estimate_tokens(&m.content)).sum();
        let rounds = 1 + self.mode.rounds();
        let n = self.members.len();
        let mut unpriced = Vec::new();
        let per_member: Vec<f64> = self
            .members
            .iter()
            .map(|m| {
                let Some(price) = m.price else {
                    if m.provider.is_cloud() {
                        unpriced.push(m.name());
                    }
                    return 0.0;
                };
                (0..rounds)
                    .map(|r| {
                        // Debate rounds also read the others' answers.
                        let reading = if r == 0 { prompt_tokens } else { prompt_tokens + n * self.max_tokens };
                        price.cost(reading, self.max_tokens)
                    })
                    .sum()
            })
            .collect();
        let judge_passes = if self.mode == Mode::BestOf { 2 } else { 1 };
        let judge_prompt = prompt_tokens + n * self.max_tokens + 400;
        let judge = match self.judge.price {
            Some(price) => judge_passes as f64 * price.cost(judge_prompt, self.judge_max_tokens),
            None => {
                if self.judge.provider.is_cloud() {
                    unpriced.push(self.judge.name());
                }
                0.0
            }
        };
        CostEstimate { total_usd: per_member.iter().sum::<f64>() + judge, per_member_usd: per_member, judge_usd: judge, unpriced, on_device_seconds: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FusionStatus {
    Completed,
    /// The members answered but no valid verdict came (after one retry): their answers are returned.
    JudgeFailed,
    /// Fewer answers than the quorum.
    Failed,
    Cancelled,
}

impl FusionStatus {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::JudgeFailed => "judge_failed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunTimings {
    pub wall_ms: f64,
    /// Σ over rounds of the slowest member, plus the judge passes: what the models themselves took.
    pub models_ms: f64,
    /// wall − models: the orchestration's own cost.
    pub overhead_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FusionOutcome {
    pub status: FusionStatus,
    pub error: Option<String>,
    pub final_text: Option<String>,
    /// "judge", or "response B (provider:model)" for best-of.
    pub final_source: Option<String>,
    pub verdict: Option<Verdict>,
    /// Every member answer of every round.
    pub members: Vec<MemberOutcome>,
    pub judge_passes: Vec<MemberOutcome>,
    /// For each judge pass, the member index shown as A, B, …
    pub orders: Vec<Vec<usize>>,
    /// Best-of: the two passes named different winners.
    pub judges_disagreed: bool,
    /// Best-of: the top averaged scores tied.
    pub tie: bool,
    pub seed: u64,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub cost_usd: f64,
    pub timings: RunTimings,
}

/// Runs a fusion to the end, streaming [`FusionEvent`]s. Fails before anything is sent when the panel
/// is empty or too big, or the estimate is over budget.
pub async fn run(request: FusionRequest, cancel: CancellationToken, events: EventSink) -> Result<FusionOutcome, FusionError> {
    let n = request.members.len();
    if n == 0 || n > crate::panel::MAX_PANEL {
        return Err(FusionError::PanelSize(n));
    }
    let estimate = request.estimate();
    if let Some(cap) = request.budget_usd {
        if estimate.total_usd > cap {
            return Err(FusionError::OverBudget { estimate: estimate.total_usd, cap });
        }
    }
    let started = Instant::now();
    let info = |i: usize, m: &MemberSpec| MemberInfo {
        index: i,
        provider: m.provider.id().to_string(),
        model: m.provider.model().to_string(),
        cloud: m.provider.is_cloud(),
    };
    events(FusionEvent::RunStarted {
        mode: request.mode.kind(),
        rounds: request.mode.rounds(),
        members: request.members.iter().enumerate().map(|(i, m)| info(i, m)).collect(),
        judge: info(n, &request.judge),
        estimate,
        seed: request.seed,
    });
    let ctx = RunContext {
        timeouts: request.timeouts,
        retry: request.retry,
        cancel: cancel.clone(),
        budget: Arc::new(BudgetTracker::new(request.budget_usd)),
        events: Arc::clone(&events),
    };
    let mut outcome = FusionOutcome {
        status: FusionStatus::Completed,
        error: None,
        final_text: None,
        final_source: None,
        verdict: None,
        members: Vec::new(),
        judge_passes: Vec::new(),
        orders: Vec::new(),
        judges_disagreed: false,
        tie: false,
        seed: request.seed,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0.0,
        timings: RunTimings::default(),
    };
    let mut models_ms = 0.0;
    let member_request = |messages: Vec<ChatMessage>| ChatRequest {
        messages,
        max_tokens: request.max_tokens,
        temperature: request.temperature,
        top_p: None,
        seed: Some(request.seed),
        response_format: None,
    };

    // Round 0: everyone answers the prompt.
    let seats = request
        .members
        .iter()
        .enumerate()
        .map(|(i, spec)| Seat { index: i, round: 0, spec, request: member_request(request.messages_for(spec).to_vec()) })
        .collect();
    let mut latest = run_panel(seats, &ctx).await;
    models_ms += slowest(&latest);
    outcome.members.extend(latest.iter().cloned());

    // Debate: each round, members revise after reading the others' (anonymised) answers.
    for round in 1..=request.mode.rounds() {
        if cancel.is_cancelled() || answered(&latest) < 2 {
            break;
        }
        let seats = request
            .members
            .iter()
            .enumerate()
            .filter(|(i, _)| latest[*i].succeeded())
            .map(|(i, spec)| {
                let others: Vec<&str> = latest.iter().filter(|o| o.index != i && o.succeeded()).map(|o| o.text.as_str()).collect();
                Seat { index: i, round, spec, request: member_request(debate_messages(request.messages_for(spec), &latest[i].text, &others)) }
            })
            .collect();
        let revised = run_panel(seats, &ctx).await;
        models_ms += slowest(&revised);
        outcome.members.extend(revised.iter().cloned());
        // A member whose revision failed keeps its previous answer.
        for r in revised.into_iter().filter(|r| r.succeeded()) {
            let i = r.index;
            latest[i] = r;
        }
    }

    let answers: Vec<&MemberOutcome> = latest.iter().filter(|o| o.succeeded()).collect();
    if cancel.is_cancelled() {
        outcome.status = FusionStatus::Cancelled;
    } else if answers.len() < request.quorum.max(1) {
        outcome.status = FusionStatus::Failed;
        let details = latest.iter().filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.model))).collect::<Vec<_>>().join("; ");
        outcome.error = Some(FusionError::Quorum { answered: answers.len(), needed: request.quorum.max(1), details }.to_string());
    } else if answers.len() == 1 {
        // Nothing to compare: the one answer is the result.
        let only = answers[0];
        outcome.final_text = Some(only.text.clone());
        outcome.final_source = Some(format!("response {} ({}:{})", label(0), only.provider, only.model));
    } else {
        judge(&request, &answers, &ctx, &mut outcome).await;
        // Judge passes run one after another: their latencies add up.
        models_ms += outcome.judge_passes.iter().map(|j| j.latency_ms as f64).sum::<f64>();
    }

    for o in outcome.members.iter().chain(&outcome.judge_passes) {
        outcome.prompt_tokens += o.usage.prompt_tokens;
        outcome.completion_tokens += o.usage.completion_tokens;
        outcome.cost_usd += o.usage.cost_usd.unwrap_or(0.0);
    }
    events(FusionEvent::Usage { prompt_tokens: outcome.prompt_tokens, completion_tokens: outcome.completion_tokens, cost_usd: outcome.cost_usd });
    if let (Some(text), Some(source)) = (&outcome.final_text, &outcome.final_source) {
        events(FusionEvent::Final { text: text.clone(), source: source.clone() });
    }
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    outcome.timings = RunTimings { wall_ms, models_ms, overhead_ms: (wall_ms - models_ms).max(0.0) };
    events(FusionEvent::Finished { status: outcome.status, error: outcome.error.clone() });
    Ok(outcome)
}

fn answered(outcomes: &[MemberOutcome]) -> usize {
    outcomes.iter().filter(|o| o.succeeded()).count()
}

fn slowest(outcomes: &[MemberOutcome]) -> f64 {
    outcomes.iter().map(|o| o.latency_ms as f64).fold(0.0, f64::max)
}

fn debate_messages(original: &[ChatMessage], own: &str, others: &[&str]) -> Vec<ChatMessage> {
    let mut messages = original.to_vec();
    messages.push(ChatMessage::assistant(own));
    let mut prompt = String::from("Other panelists answered the same request:\n");
    for (i, other) in others.iter().enumerate() {
        prompt.push_str(&format!("\n<response id=\"{}\">\n{}\n</response>\n", label(i), other.trim()));
    }
    prompt.push_str(
        "\nReconsider your answer in their light: keep what is right in yours, adopt what is better in theirs, \
         and correct mistakes. Reply with your revised answer only.",
    );
    messages.push(ChatMessage::user(prompt));
    messages
}

/// The judging step of every mode; fills the verdict and the final answer, or marks the judge failed.
async fn judge(request: &FusionRequest, answers: &[&MemberOutcome], ctx: &RunContext, outcome: &mut FusionOutcome) {
    let question = request.question_for(&request.judge);
    let mut rng = StdRng::seed_from_u64(request.seed);
    let mut order: Vec<usize> = (0..answers.len()).collect();
    order.shuffle(&mut rng);
    let task = if request.mode == Mode::BestOf { JudgeTask::Pick } else { JudgeTask::Merge };
    // Best-of judges twice, the second time in reverse order, so position cannot decide the winner.
    let orders: Vec<Vec<usize>> = if task == JudgeTask::Pick {
        let reversed: Vec<usize> = order.iter().rev().copied().collect();
        vec![order, reversed]
    } else {
        vec![order]
    };
    let mut verdicts: Vec<(Vec<usize>, Verdict, String)> = Vec::new();
    for (pass, order) in orders.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            break;
        }
        let members_in_order: Vec<usize> = order.iter().map(|&k| answers[k].index).collect();
        outcome.orders.push(members_in_order.clone());
        (ctx.events)(FusionEvent::JudgeStarted { pass, order: members_in_order });
        let texts: Vec<&str> = order.iter().map(|&k| answers[k].text.as_str()).collect();
        let labels: Vec<String> = (0..texts.len()).map(label).collect();
        let judge_request = ChatRequest {
            messages: judge_messages(&question, &texts, task, request.criteria_for(&request.judge)),
            max_tokens: request.judge_max_tokens,
            temperature: 0.2,
            top_p: None,
            seed: Some(request.seed),
            // The on-device judge writes its verdict under this grammar; a server ignores it.
            response_format: Some(judge_format(&labels, task)),
        };
        // A malformed verdict gets one more try.
        for attempt in 0..2 {
            let events = Arc::clone(&ctx.events);
            let on_delta = move |text: &str| events(FusionEvent::JudgeDelta { pass, text: text.to_string() });
            let seat = Seat { index: request.members.len(), round: attempt, spec: &request.judge, request: judge_request.clone() };
            // The judge is often the slowest call of a run; its span shows how long each verdict took.
            let span = tracing::info_span!("judge", pass, attempt, provider = request.judge.provider.id(), model = request.judge.provider.model());
            let result = run_seat(seat, ctx, &on_delta, false).instrument(span).await;
            let parsed = match &result.error {
                Some(e) => Err(e.clone()),
                None => parse_verdict(&result.text, &labels, task),
            };
            outcome.judge_passes.push(result);
            match parsed {
                Ok((verdict, text)) => {
                    verdicts.push((order.clone(), verdict, text));
                    break;
                }
                Err(e) => {
                    (ctx.events)(FusionEvent::JudgeFailed { pass, error: e.clone() });
                    if attempt == 1 || ctx.cancel.is_cancelled() {
                        outcome.error = Some(format!("judge failed: {e}"));
                    }
                }
            }
        }
    }
    if verdicts.is_empty() {
        outcome.status = if ctx.cancel.is_cancelled() { FusionStatus::Cancelled } else { FusionStatus::JudgeFailed };
        return;
    }
    outcome.error = None;
    match task {
        JudgeTask::Merge => {
            let (order, verdict, text) = verdicts.remove(0);
            let verdict = relabel(verdict, &order, answers);
            (ctx.events)(FusionEvent::Analysis { verdict: verdict.clone() });
            outcome.verdict = Some(verdict);
            outcome.final_text = Some(text);
            outcome.final_source = Some("judge".into());
        }
        JudgeTask::Pick => {
            // Average each member's scores over the passes that judged it.
            let mut totals = vec![(0.0f64, 0usize); answers.len()];
            let mut winners = Vec::new();
            for (order, verdict, _) in &verdicts {
                for (position, &k) in order.iter().enumerate() {
                    if let Some(score) = verdict.scores.get(&label(position)) {
                        totals[k].0 += score;
                        totals[k].1 += 1;
                    }
                }
                if let Some(best) = &verdict.best {
                    if let Some(position) = (0..order.len()).find(|&p| label(p) == *best) {
                        winners.push(order[position]);
                    }
                }
            }
            let means: Vec<f64> = totals.iter().map(|(sum, n)| if *n > 0 { sum / *n as f64 } else { f64::NEG_INFINITY }).collect();
            let top = means.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let tied: Vec<usize> = (0..means.len()).filter(|&k| (means[k] - top).abs() < 1e-9).collect();
            outcome.tie = tied.len() > 1;
            outcome.judges_disagreed = winners.len() == 2 && winners[0] != winners[1];
            // Among tied scores, the one the judges named wins; else the first.
            let winner = tied.iter().copied().find(|k| winners.contains(k)).unwrap_or(tied[0]);
            let (order, verdict, _) = verdicts.remove(0);
            let mut verdict = relabel(verdict, &order, answers);
            verdict.scores = answers
                .iter()
                .enumerate()
                .filter(|(k, _)| means[*k].is_finite())
                .map(|(k, a)| (label(a.index), means[k]))
                .collect();
            verdict.best = Some(label(answers[winner].index));
            (ctx.events)(FusionEvent::Analysis { verdict: verdict.clone() });
            outcome.verdict = Some(verdict);
            let w = answers[winner];
            outcome.final_text = Some(w.text.clone());
            outcome.final_source = Some(format!("response {} ({}:{})", label(w.index), w.provider, w.model));
        }
    }
}

/// The judge's labels are positions in its order; the outcome labels members by their panel seat
/// (member 0 = A), so every pass and the UI agree.
fn relabel(verdict: Verdict, order: &[usize], answers: &[&MemberOutcome]) -> Verdict {
    let map = |l: &str| -> String {
        (0..order.len()).find(|&p| label(p) == l).map(|p| label(answers[order[p]].index)).unwrap_or_else(|| l.to_string())
    };
    Verdict {
        scores: verdict.scores.iter().map(|(l, s)| (map(l), *s)).collect(),
        best: verdict.best.as_deref().map(map),
        unique_insights: verdict
            .unique_insights
            .into_iter()
            .map(|mut i| {
                i.response = map(&i.response);
                i
            })
            .collect(),
        ..verdict
    }
}
