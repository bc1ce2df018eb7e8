//! The judge: sees the answers anonymised as Response A, B, C… (never a provider or model name), writes a
//! structured analysis as JSON, then the final answer. Parsing is lenient about fences and trailing text
//! and strict about what the JSON must say.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provider::{ChatMessage, ResponseFormat};

/// Where the judge's analysis ends and the final answer begins.
pub const FINAL_MARKER: &str = "=== FINAL ANSWER ===";

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Insight {
    pub response: String,
    pub insight: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Verdict {
    pub consensus: Vec<String>,
    pub contradictions: Vec<String>,
    pub unique_insights: Vec<Insight>,
    pub blind_spots: Vec<String>,
    /// 0–10 per response label.
    pub scores: BTreeMap<String, f64>,
    /// The strongest answer's label.
    pub best: Option<String>,
    /// The strongest dissent worth keeping.
    pub minority_report: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JudgeTask {
    /// Pick the best response (best-of): the final answer is that response.
    Pick,
    /// Write a new answer from the best of all responses.
    Merge,
}

/// Response labels: A, B, … Z, AA, AB …
pub fn label(i: usize) -> String {
    let mut n = i;
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (n % 26) as u8) as char);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s
}

/// The judge's conversation: the question and the anonymised answers, in the given order.
pub fn judge_messages(question: &str, answers: &[&str], task: JudgeTask, criteria: Option<&str>) -> Vec<ChatMessage> {
    let labels: Vec<String> = (0..answers.len()).map(label).collect();
    let task_text = match task {
        JudgeTask::Pick => "Then decide which single response is best.",
        JudgeTask::Merge => {
            "Then write the best possible answer to the question: keep what the responses agree on, resolve \
             their contradictions, add every valuable unique insight, and cover the blind spots."
        }
    };
    let system = format!(
        "You are the judge of a panel of writers who answered the same request. You compare their responses \
         impartially: their order and letters say nothing about quality, and length is not merit. {task_text}\n\n\
         First output exactly one JSON object (no prose before it) with these keys:\n\
         {{\"consensus\": [points the responses agree on], \"contradictions\": [points where they disagree], \
         \"unique_insights\": [{{\"response\": \"<letter>\", \"insight\": \"...\"}}], \"blind_spots\": [what all of them \
         missed], \"scores\": {{{scores}}}, \"best\": \"<letter of the best response>\", \"minority_report\": \"the \
         strongest dissenting view worth keeping, or null\"}}\n\
         Scores are whole numbers from 0 to 10; keep each list to at most four short points.\n\
         Then a line with exactly {FINAL_MARKER} and, after it, {final_text}",
        scores = labels.iter().map(|l| format!("\"{l}\": 0-10")).collect::<Vec<_>>().join(", "),
        final_text = match task {
            JudgeTask::Pick => "the letter of the best response alone.",
            JudgeTask::Merge => "the final answer itself, written for the user, without mentioning the panel.",
        }
    );
    let system = match criteria.map(str::trim).filter(|c| !c.is_empty()) {
        Some(criteria) => format!("{system}\n\n{criteria}"),
        None => system,
    };
    let mut user = format!("The request:\n<request>\n{}\n</request>\n", question.trim());
    for (l, answer) in labels.iter().zip(answers) {
        user.push_str(&format!("\n<response id=\"{l}\">\n{}\n</response>\n", answer.trim()));
    }
    vec![ChatMessage::system(system), ChatMessage::user(user)]
}

/// The longest list the judge writes per key, and the longest point: a verdict that must end does.
const MAX_POINTS: usize = 4;
const MAX_POINT_CHARS: usize = 160;

/// The JSON Schema of the verdict for these labels: every key required, scores 0–10 for each label,
/// lists and points bounded (so a small model cannot ramble past its token budget inside the JSON).
pub fn verdict_schema(labels: &[String]) -> serde_json::Value {
    let point = serde_json::json!({ "type": "string", "minLength": 1, "maxLength": MAX_POINT_CHARS });
    let points = serde_json::json!({ "type": "array", "items": point, "maxItems": MAX_POINTS });
    let label = serde_json::json!({ "type": "string", "enum": labels });
    let scores: serde_json::Map<String, serde_json::Value> =
        labels.iter().map(|l| (l.clone(), serde_json::json!({ "type": "integer", "minimum": 0, "maximum": 10 }))).collect();
    serde_json::json!({
        "type": "object",
        "properties": {
            "consensus": points,
            "contradictions": points,
            "unique_insights": {
                "type": "array",
                "maxItems": MAX_POINTS,
                "items": {
                    "type": "object",
                    "properties": { "response": label, "insight": point },
                    "required": ["response", "insight"],
                    "additionalProperties": false
                }
            },
            "blind_spots": points,
            "scores": { "type": "object", "properties": scores, "required": labels, "additionalProperties": false },
            "best": label,
            "minority_report": { "anyOf": [point, { "type": "null" }] }
        },
        "required": ["consensus", "contradictions", "unique_insights", "blind_spots", "scores", "best", "minority_report"],
        "additionalProperties": false,
        // One space after separators and no free whitespace: an unconstrained run of newlines is a
        // classic way for a small model to never finish.
        "x-guidance": { "whitespace_flexible": false, "item_separator": ", ", "key_separator": ": " }
    })
}

/// The judge's whole reply as a grammar: the verdict by its schema, the marker line, then the final
/// answer (free text for a merge, one label for a pick). Valid by construction on the on-device model.
pub fn judge_format(labels: &[String], task: JudgeTask) -> ResponseFormat {
    let answer = match task {
        JudgeTask::Merge => "/(.|\\n)+/".to_string(),
        JudgeTask::Pick => labels.iter().map(|l| format!("\"{l}\"")).collect::<Vec<_>>().join(" | "),
    };
    let grammar = format!(
        "start: verdict \"\\n{FINAL_MARKER}\\n\" answer\nanswer: {answer}\nverdict: %json {schema}\n",
        schema = verdict_schema(labels)
    );
    ResponseFormat::Lark { grammar }
}

/// The judge's JSON, then the final text (empty when the judge wrote none).
pub fn parse_verdict(raw: &str, labels: &[String], task: JudgeTask) -> Result<(Verdict, String), String> {
    let json_text = first_json_object(raw).ok_or("the judge wrote no JSON object")?;
    let value: serde_json::Value = serde_json::from_str(json_text).map_err(|e| format!("the judge's JSON does not parse: {e}"))?;
    let obj = value.as_object().ok_or("the judge's JSON is not an object")?;

    let strings = |key: &str| -> Vec<String> {
        match obj.get(key) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(s) => Some(s.trim().to_string()),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                })
                .filter(|s| !s.is_empty())
                .collect(),
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
            _ => Vec::new(),
        }
    };
    let normalise_label = |s: &str| -> Option<String> {
        let t = s.trim().trim_start_matches("Response").trim().trim_matches(|c: char| !c.is_alphanumeric()).to_ascii_uppercase();
        labels.iter().find(|l| **l == t).cloned()
    };

    let mut scores = BTreeMap::new();
    if let Some(serde_json::Value::Object(map)) = obj.get("scores") {
        for (k, v) in map {
            let label = normalise_label(k).ok_or_else(|| format!("scores name an unknown response `{k}`"))?;
            let score = match v {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("the score of {label} is not a number"))?;
            if !(0.0..=10.0).contains(&score) {
                return Err(format!("the score of {label} ({score}) is outside 0–10"));
            }
            scores.insert(label, score);
        }
    }
    let unique_insights = match obj.get("unique_insights") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                serde_json::Value::Object(o) => Some(Insight {
                    response: o.get("response").and_then(|r| r.as_str()).and_then(normalise_label).unwrap_or_default(),
                    insight: o.get("insight").and_then(|i| i.as_str()).unwrap_or_default().trim().to_string(),
                }),
                serde_json::Value::String(s) => Some(Insight { response: String::new(), insight: s.trim().to_string() }),
                _ => None,
            })
            .filter(|i| !i.insight.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    let mut best = obj.get("best").and_then(|b| b.as_str()).and_then(normalise_label);
    let minority_report = obj
        .get("minority_report")
        .and_then(|m| m.as_str())
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case("null") && !m.eq_ignore_ascii_case("none"));

    let after_json = &raw[raw.find(json_text).unwrap_or(0) + json_text.len()..];
    let mut final_text = match after_json.find(FINAL_MARKER) {
        Some(i) => after_json[i + FINAL_MARKER.len()..].trim().to_string(),
        None => obj.get("final_answer").and_then(|f| f.as_str()).unwrap_or_default().trim().to_string(),
    };
    final_text = final_text.trim_start_matches("```").trim_end_matches("```").trim().to_string();

    match task {
        JudgeTask::Pick => {
            if best.is_none() {
                best = normalise_label(final_text.lines().next().unwrap_or_default());
            }
            if best.is_none() {
                // Fall back to the top score when the judge named no winner.
                best = scores.iter().max_by(|a, b| a.1.total_cmp(b.1)).map(|(l, _)| l.clone());
            }
            if best.is_none() {
                return Err("the judge named no best response".into());
            }
        }
        JudgeTask::Merge => {
            if final_text.is_empty() {
                return Err("the judge wrote no final answer".into());
            }
        }
    }
    if scores.is_empty() {
        return Err("the judge gave no scores".into());
    }
    let verdict = Verdict {
        consensus: strings("consensus"),
        contradictions: strings("contradictions"),
        unique_insights,
        blind_spots: strings("blind_spots"),
        scores,
        best,
        minority_report,
    };
    Ok((verdict, final_text))
}

/// The first balanced `{…}` in `text`, skipping braces inside JSON strings.
pub(crate) fn first_json_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        if in_string {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => in_string = false,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(label).collect()
    }

    #[test]
    fn labels_run_past_z() {
        assert_eq!(label(0), "A");
        assert_eq!(label(25), "Z");
        assert_eq!(label(26), "AA");
    }

    #[test]
    fn a_fenced_verdict_with_trailing_text_parses() {
        let raw = "Here is my analysis:\n```json\n{\"consensus\": [\"dawn\"], \"contradictions\": [\"tone {soft} vs hard\"], \
                   \"unique_insights\": [{\"response\": \"B\", \"insight\": \"gulls\"}], \"blind_spots\": \"no smell\", \
                   \"scores\": {\"A\": 6, \"Response B\": \"8.5\"}, \"best\": \"B\", \"minority_report\": null}\n```\n\
                   === FINAL ANSWER ===\nThe sea woke grey, and the gulls were first.\n";
        let (v, text) = parse_verdict(raw, &labels(2), JudgeTask::Merge).unwrap();
        assert_eq!(v.consensus, ["dawn"]);
        assert_eq!(v.contradictions, ["tone {soft} vs hard"]);
        assert_eq!(v.unique_insights, [Insight { response: "B".into(), insight: "gulls".into() }]);
        assert_eq!(v.blind_spots, ["no smell"]);
        assert_eq!(v.scores.get("B"), Some(&8.5));
        assert_eq!(v.best.as_deref(), Some("B"));
        assert_eq!(v.minority_report, None);
        assert_eq!(text, "The sea woke grey, and the gulls were first.");
    }

    #[test]
    fn malformed_verdicts_are_refused_with_a_reason() {
        let l = labels(2);
        assert!(parse_verdict("no json here", &l, JudgeTask::Merge).unwrap_err().contains("no JSON"));
        assert!(parse_verdict("{\"scores\": {\"A\": 5}", &l, JudgeTask::Merge).is_err());
        assert!(parse_verdict("{\"scores\": {\"Q\": 5}}\n=== FINAL ANSWER ===\nx", &l, JudgeTask::Merge).unwrap_err().contains("unknown"));
        assert!(parse_verdict("{\"scores\": {\"A\": 50}}\n=== FINAL ANSWER ===\nx", &l, JudgeTask::Merge).unwrap_err().contains("outside"));
        assert!(parse_verdict("{\"scores\": {\"A\": 5}}", &l, JudgeTask::Merge).unwrap_err().contains("no final answer"));
    }

    #[test]
    fn pick_takes_the_named_best_or_the_top_score() {
        let l = labels(3);
        let (v, _) = parse_verdict("{\"scores\": {\"A\": 5, \"B\": 9, \"C\": 1}}\n=== FINAL ANSWER ===\nC", &l, JudgeTask::Pick).unwrap();
        assert_eq!(v.best.as_deref(), Some("C"));
        let (v, _) = parse_verdict("{\"scores\": {\"A\": 5, \"B\": 9, \"C\": 1}}", &l, JudgeTask::Pick).unwrap();
        assert_eq!(v.best.as_deref(), Some("B"));
    }

    #[test]
    fn the_verdict_schema_names_every_label() {
        let schema = verdict_schema(&labels(3));
        assert_eq!(schema["properties"]["scores"]["required"], serde_json::json!(["A", "B", "C"]));
        assert_eq!(schema["properties"]["best"]["enum"], serde_json::json!(["A", "B", "C"]));
        let ResponseFormat::Lark { grammar } = judge_format(&labels(2), JudgeTask::Pick) else { panic!("not a grammar") };
        assert!(grammar.contains("answer: \"A\" | \"B\""), "{grammar}");
        assert!(grammar.contains(FINAL_MARKER));
    }

    #[test]
    fn the_judge_prompt_names_no_model() {
        let messages = judge_messages("Write a line", &["first", "second"], JudgeTask::Merge, Some("Judge by this author's taste."));
        assert!(messages[1].content.contains("<response id=\"A\">\nfirst"));
        assert!(messages[1].content.contains("<response id=\"B\">\nsecond"));
        assert!(messages[0].content.contains(FINAL_MARKER));
        assert!(messages[0].content.ends_with("Judge by this author's taste."));
    }
}
