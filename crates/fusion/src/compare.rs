//! A pairwise judge for evals: which of two answers to the same request is better, asked twice with
//! the answers swapped so position cannot decide. Its verdict is a small JSON object (constrained on
//! the on-device model, a JSON Schema response format on servers that support one).

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::error::MemberError;
use crate::judge::first_json_object;
use crate::panel::MemberSpec;
use crate::provider::{ChatEvent, ChatMessage, ChatRequest, ResponseFormat};

/// The outcome for the first answer of a pair, after both orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairOutcome {
    Win,
    Tie,
    Loss,
}

/// One order's answer: A, B or a tie; `None` when the judge's reply could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preference {
    A,
    B,
    Tie,
}

fn schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "reason": { "type": "string", "minLength": 1, "maxLength": 300 },
            "better": { "type": "string", "enum": ["A", "B", "tie"] }
        },
        "required": ["reason", "better"],
        "additionalProperties": false,
        "x-guidance": { "whitespace_flexible": false, "item_separator": ", ", "key_separator": ": " }
    })
}

fn messages(request: &str, a: &str, b: &str) -> Vec<ChatMessage> {
    let system = "You compare two answers to the same writing request and say which a demanding editor would keep. \
                  Their order says nothing about quality, and length is not merit. Reply with one JSON object: \
                  {\"reason\": \"one sentence\", \"better\": \"A\" or \"B\" or \"tie\"}.";
    let user = format!(
        "The request:\n<request>\n{}\n</request>\n\n<answer id=\"A\">\n{}\n</answer>\n\n<answer id=\"B\">\n{}\n</answer>",
        request.trim(),
        a.trim(),
        b.trim()
    );
    vec![ChatMessage::system(system), ChatMessage::user(user)]
}

/// Reads the judge's reply.
pub fn parse_preference(raw: &str) -> Option<Preference> {
    let value: serde_json::Value = serde_json::from_str(first_json_object(raw)?).ok()?;
    match value.get("better")?.as_str()?.trim().to_ascii_lowercase().as_str() {
        "a" => Some(Preference::A),
        "b" => Some(Preference::B),
        "tie" => Some(Preference::Tie),
        _ => None,
    }
}

/// What one comparison cost and whether its replies could be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    pub outcome: Option<PairOutcome>,
    pub cost_usd: f64,
    /// Replies (of two) that parsed.
    pub parsed: usize,
}

async fn ask(judge: &MemberSpec, request: &str, a: &str, b: &str, seed: u64) -> (Option<Preference>, f64) {
    let chat = ChatRequest {
        messages: messages(request, a, b),
        max_tokens: 160,
        temperature: 0.0,
        top_p: None,
        seed: Some(seed),
        response_format: Some(ResponseFormat::json_schema("pairwise_preference", schema())),
    };
    let (reply, cost) = complete(judge, chat).await;
    match reply {
        Ok(text) => (parse_preference(&text), cost),
        Err(e) => {
            tracing::warn!(judge = judge.name(), error = %e, "pairwise judge failed");
            (None, cost)
        }
    }
}

/// One whole reply of `member` and what it cost (what arrived before a failure is dropped).
pub async fn complete(member: &MemberSpec, chat: ChatRequest) -> (Result<String, MemberError>, f64) {
    let mut stream = member.provider.stream_chat(chat, CancellationToken::new());
    let (mut text, mut cost) = (String::new(), 0.0);
    while let Some(event) = stream.next().await {
        match event {
            Ok(ChatEvent::Delta(piece)) => text.push_str(&piece),
            Ok(ChatEvent::Usage(usage)) => cost = usage.cost_usd.unwrap_or(0.0),
            Ok(ChatEvent::Done) => break,
            Err(e) => return (Err(e), cost),
        }
    }
    (Ok(text), cost)
}

/// `first` against `second` in both orders: a win or loss only when both orders agree, else a tie.
pub async fn compare(judge: &MemberSpec, request: &str, first: &str, second: &str, seed: u64) -> Comparison {
    let (forward, cost_forward) = ask(judge, request, first, second, seed).await;
    let (backward, cost_backward) = ask(judge, request, second, first, seed).await;
    let parsed = usize::from(forward.is_some()) + usize::from(backward.is_some());
    let outcome = match (forward, backward) {
        (Some(f), Some(b)) => Some(combine(f, b)),
        _ => None,
    };
    Comparison { outcome, cost_usd: cost_forward + cost_backward, parsed }
}

/// Both orders' preferences, as the first answer's outcome (`backward` saw it as B).
pub fn combine(forward: Preference, backward: Preference) -> PairOutcome {
    match (forward, backward) {
        (Preference::A, Preference::B) => PairOutcome::Win,
        (Preference::B, Preference::A) => PairOutcome::Loss,
        _ => PairOutcome::Tie,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_agreement_in_both_orders_decides() {
        assert_eq!(combine(Preference::A, Preference::B), PairOutcome::Win);
        assert_eq!(combine(Preference::B, Preference::A), PairOutcome::Loss);
        // Always preferring the first position is position bias, not a verdict.
        assert_eq!(combine(Preference::A, Preference::A), PairOutcome::Tie);
        assert_eq!(combine(Preference::Tie, Preference::B), PairOutcome::Tie);
    }

    #[test]
    fn preferences_are_read_leniently() {
        assert_eq!(parse_preference("```json\n{\"reason\": \"x\", \"better\": \"b\"}\n```"), Some(Preference::B));
        assert_eq!(parse_preference("{\"better\": \"TIE\"}"), Some(Preference::Tie));
        assert_eq!(parse_preference("A is better"), None);
        assert_eq!(parse_preference("{\"better\": \"C\"}"), None);
    }
}
