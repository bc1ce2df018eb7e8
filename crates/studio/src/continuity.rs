//! The continuity check: the on-device model (or a fusion panel, whose judge merges the members'
//! findings) compares a scene with the story bible and the earlier scenes' synopses, and lists each
//! contradiction with the words of the scene and the entry or scene it contradicts. The answer is read
//! leniently (fences, prose around the JSON, an object holding the list) and never trusted for more
//! than text: a citation is only what matches this project's own bible or binder.

use atelier_engine::ResponseFormat;
use atelier_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::bible::MentionCache;
use crate::context::{self, Request, Sources};
use crate::error::{Result, StudioError};
use crate::fusion::{FusionParams, FusionResult};
use crate::generation::{self, EventSink, GenerationSpec};
use crate::model_host::ModelHost;

/// What the model is asked.
pub const INSTRUCTION: &str = "Check the scene above against the story bible and the earlier scenes before it. List every \
contradiction: a fact, trait, name, state or date in the scene that disagrees with them (an eye colour, a dead character \
speaking, a timeline slip). Reply with a JSON array only, one object per contradiction: {\"quote\": \"<the scene's own words>\", \
\"problem\": \"<what is wrong>\", \"source\": \"<the name of the bible entry or the title of the earlier scene it contradicts>\"}. \
Reply [] if there are none.";

const SYSTEM: &str = "You are Atelier's continuity editor. You compare a scene with the facts of its book and report contradictions \
precisely, citing where each fact is written. You invent nothing.";

const ANSWER_TOKENS: usize = 700;
/// The findings the on-device model may list under the grammar: each bounded, so the whole list fits
/// the answer's tokens.
const MAX_LISTED: usize = 6;

/// The findings' JSON Schema: what the on-device model's reply is constrained to.
pub fn findings_format() -> ResponseFormat {
    let field = |max: usize| serde_json::json!({ "type": "string", "minLength": 1, "maxLength": max });
    ResponseFormat::json_schema(
        "continuity_findings",
        serde_json::json!({
            "type": "array",
            "maxItems": MAX_LISTED,
            "items": {
                "type": "object",
                "properties": { "quote": field(160), "problem": field(160), "source": field(60) },
                "required": ["quote", "problem", "source"],
                "additionalProperties": false
            },
            "x-guidance": { "whitespace_flexible": false, "item_separator": ", ", "key_separator": ": " }
        }),
    )
}
/// Most contradictions a report lists.
const MAX_ISSUES: usize = 100;
/// Longest text kept of one field of one finding.
const MAX_FIELD_CHARS: usize = 2000;

/// A continuity check as a front end asks for it.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct ContinuityParams {
    /// The scene's document.
    pub document_id: i64,
    /// Check only this passage ("" for the whole scene).
    #[serde(default)]
    pub selection: String,
    /// A fusion panel instead of the on-device model alone: `local`, `provider:model`…
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub judge: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Where a contradicted fact is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Citation {
    Entry { entry_id: i64, name: String },
    Scene { scene_id: i64, document_id: i64, title: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Contradiction {
    /// The scene's words that contradict.
    pub quote: String,
    pub problem: String,
    /// What the model named as the source.
    pub source: String,
    /// That source in this project, when it is one.
    pub citation: Option<Citation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ContinuityReport {
    pub run_id: Option<i64>,
    pub issues: Vec<Contradiction>,
    /// The answer could be read as a list (when not, `raw` is shown as it is).
    pub parsed: bool,
    pub raw: String,
}

/// Runs the check and reads its answer.
pub async fn check(
    host: &ModelHost,
    store: &Store,
    builder: Option<&atelier_fusion::config::PanelBuilder>,
    params: &ContinuityParams,
    cancel: CancellationToken,
    on_generation: EventSink,
    on_fusion: atelier_fusion::events::EventSink,
) -> Result<ContinuityReport> {
    let document = store.documents().get(params.document_id).await?;
    let sources = Sources::of_document(store, &MentionCache::default(), Some(params.document_id)).await?;
    let Some(project_id) = sources.project_id else {
        return Err(StudioError::Invalid("A continuity check reads a project's story bible: open a scene of a project.".into()));
    };
    let scene = if params.selection.trim().is_empty() { document.body.trim().to_string() } else { params.selection.trim().to_string() };
    if scene.is_empty() {
        return Err(StudioError::Invalid("This scene has no text to check yet.".into()));
    }
    if sources.entries.is_empty() && sources.earlier.is_empty() {
        return Err(StudioError::Invalid("There is nothing to check against yet: add story bible entries or earlier scenes' synopses.".into()));
    }
    let (raw, run_id) = if params.members.is_empty() {
        let engine = host.engine().await?;
        let (sources_for_plan, scene_for_plan) = (sources.clone(), scene.clone());
        let planned = context::with_tokenizer(&engine, move |context_length, count| {
            context::plan(&request(&scene_for_plan), &sources_for_plan, context_length, count)
        })
        .await?;
        let sampling = generation::sampling(Some(0.2), params.seed)?;
        let spec = GenerationSpec {
            kind: Some("continuity".into()),
            response_format: Some(findings_format()),
            ..GenerationSpec::prompt(planned.prompt, ANSWER_TOKENS, sampling)
        }
            .with_context(planned.system, planned.items);
        // The run's id arrives with its first event.
        let run_id = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = std::sync::Arc::clone(&run_id);
        let sink: EventSink = std::sync::Arc::new(move |event| {
            if let generation::GenerationEvent::Started { run_id } = &event {
                *seen.lock().unwrap_or_else(|p| p.into_inner()) = *run_id;
            }
            on_generation(event)
        });
        let generation = generation::generate(host, Some(store), spec, Some(params.document_id), cancel, sink).await?;
        let run_id = *run_id.lock().unwrap_or_else(|p| p.into_inner());
        (generation.text, run_id)
    } else {
        let builder = builder.ok_or_else(|| StudioError::Invalid("No panel can be built here.".into()))?;
        let fusion = FusionParams {
            prompt: INSTRUCTION.into(),
            document_id: Some(params.document_id),
            selection: scene.clone(),
            members: params.members.clone(),
            judge: params.judge.clone(),
            mode: atelier_fusion::modes::ModeKind::Merge,
            max_tokens: Some(ANSWER_TOKENS),
            seed: params.seed,
            ..Default::default()
        };
        let FusionResult { run_id, outcome, .. } = crate::fusion::fuse(host, Some(store), builder, &fusion, cancel, on_fusion).await?;
        let mut raw = outcome.final_text.clone().unwrap_or_default();
        if raw.trim().is_empty() {
            // No final answer: what the judge found the members agreeing on is the list.
            if let Some(verdict) = &outcome.verdict {
                raw = serde_json::to_string(&verdict.consensus).unwrap_or_default();
            }
        }
        (raw, run_id)
    };
    let tree = store.projects().tree(project_id).await?;
    let scenes: Vec<(i64, i64, String)> = tree.nodes.iter().filter_map(|n| n.document_id.map(|d| (n.id, d, n.title.clone()))).collect();
    let (issues, parsed) = read_findings(&raw, &sources, &scenes);
    Ok(ContinuityReport { run_id, issues, parsed, raw })
}

fn request(scene: &str) -> Request<'_> {
    Request {
        system: SYSTEM,
        instruction: INSTRUCTION,
        selection_heading: "The scene to check:",
        selection: scene,
        text: "",
        text_budget: 0,
        answer_tokens: ANSWER_TOKENS,
        reserved: 0,
        dropped: &[],
    }
}

/// Reads the model's list of findings, citing what matches the project's bible or binder. `scenes`:
/// `(binder id, document id, title)` of every scene.
pub fn read_findings(raw: &str, sources: &Sources, scenes: &[(i64, i64, String)]) -> (Vec<Contradiction>, bool) {
    let Some(list) = first_list(raw) else { return (Vec::new(), false) };
    let issues = list
        .iter()
        .filter_map(|item| {
            let (quote, problem, source) = match item {
                Value::String(problem) => (String::new(), problem.clone(), String::new()),
                Value::Object(map) => {
                    let field = |keys: &[&str]| keys.iter().find_map(|k| map.get(*k)).map(text_of).unwrap_or_default();
                    (field(&["quote", "text", "excerpt"]), field(&["problem", "issue", "contradiction", "description", "explanation"]), field(&["source", "entry", "scene", "cites", "citation"]))
                }
                _ => return None,
            };
            let (quote, problem, source) = (clip(&quote), clip(&problem), clip(&source));
            if problem.is_empty() && quote.is_empty() {
                return None;
            }
            let citation = cite(&source, &problem, sources, scenes);
            Some(Contradiction { quote, problem, source, citation })
        })
        .take(MAX_ISSUES)
        .collect();
    (issues, true)
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_FIELD_CHARS).collect::<String>().trim().to_string()
}

/// The first JSON array in `raw` (or the first array inside its first object), ignoring what surrounds it.
fn first_list(raw: &str) -> Option<Vec<Value>> {
    let start = raw.find(['[', '{'])?;
    let value: Value = serde_json::Deserializer::from_str(&raw[start..]).into_iter::<Value>().next()?.ok()?;
    match value {
        Value::Array(items) => Some(items),
        Value::Object(map) => map.into_iter().find_map(|(_, v)| match v {
            Value::Array(items) => Some(items),
            _ => None,
        }),
        _ => None,
    }
}

/// The entry or scene `source` names: an exact name, alias or title first, else the first bible name
/// found in the source (or, failing that, in the problem's wording).
fn cite(source: &str, problem: &str, sources: &Sources, scenes: &[(i64, i64, String)]) -> Option<Citation> {
    let wanted = source.trim().trim_start_matches("entry:").trim_start_matches("scene:").trim().trim_matches(['"', '“', '”', '\'']).to_lowercase();
    if !wanted.is_empty() {
        if let Some(entry) = sources.entries.iter().find(|e| e.names().any(|n| n.to_lowercase() == wanted)) {
            return Some(Citation::Entry { entry_id: entry.id, name: entry.name.clone() });
        }
        if let Some((scene_id, document_id, title)) = scenes.iter().find(|(_, _, t)| t.trim().to_lowercase() == wanted) {
            return Some(Citation::Scene { scene_id: *scene_id, document_id: *document_id, title: title.clone() });
        }
    }
    let index = sources.index.as_ref()?;
    for text in [source, problem] {
        if let Some(found) = index.find(text).first() {
            let id = *index.entries_of(found).first()?;
            let entry = sources.entries.iter().find(|e| e.id == id)?;
            return Some(Citation::Entry { entry_id: entry.id, name: entry.name.clone() });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use atelier_store::{BibleEntry, EntryKind};

    use super::*;
    use crate::bible::mentions::MentionIndex;

    fn sources() -> Sources {
        let entries = vec![BibleEntry {
            id: 4,
            project_id: Some(1),
            kind: EntryKind::Character,
            name: "Mara Vell".into(),
            aliases: vec!["Mara".into()],
            description: "Grey eyes.".into(),
            fields: Vec::new(),
            pinned: false,
            created_at: 0,
            updated_at: 0,
        }];
        Sources { index: Some(Arc::new(MentionIndex::new(&entries))), entries: Arc::new(entries), project_id: Some(1), ..Default::default() }
    }

    #[test]
    fn findings_are_read_from_fenced_json_and_cite_the_bible_or_a_scene() {
        let raw = "Here you go:\n```json\n[{\"quote\": \"her green eyes\", \"problem\": \"Mara's eyes are grey\", \"source\": \"Mara\"},\n\
                   {\"quote\": \"Tom laughed\", \"problem\": \"Tom died\", \"source\": \"The Drowning\"},\n\
                   {\"quote\": \"in June\", \"problem\": \"It is winter\", \"source\": \"nowhere\"}, 7, \"A bare finding\"]\n```\nDone.";
        let scenes = vec![(30, 300, "The Drowning".to_string())];
        let (issues, parsed) = read_findings(raw, &sources(), &scenes);
        assert!(parsed);
        assert_eq!(issues.len(), 4);
        assert_eq!(issues[0].citation, Some(Citation::Entry { entry_id: 4, name: "Mara Vell".into() }));
        assert_eq!(issues[1].citation, Some(Citation::Scene { scene_id: 30, document_id: 300, title: "The Drowning".into() }));
        assert_eq!((issues[2].citation.as_ref(), issues[2].quote.as_str()), (None, "in June"));
        assert_eq!((issues[3].problem.as_str(), issues[3].citation.as_ref()), ("A bare finding", None));
    }

    #[test]
    fn an_object_holding_the_list_and_an_unreadable_answer_are_handled() {
        let (issues, parsed) = read_findings("{\"contradictions\": [{\"problem\": \"Mara Vell has grey eyes, not blue\"}]}", &sources(), &[]);
        assert!(parsed);
        assert_eq!(issues[0].citation, Some(Citation::Entry { entry_id: 4, name: "Mara Vell".into() }), "cited by the name in the problem");
        assert_eq!(read_findings("No contradictions found.", &sources(), &[]), (Vec::new(), false));
        assert_eq!(read_findings("[]", &sources(), &[]), (Vec::new(), true));
        let huge = format!("[{{\"problem\": \"{}\"}}]", "x".repeat(100_000));
        assert_eq!(read_findings(&huge, &sources(), &[]).0[0].problem.chars().count(), MAX_FIELD_CHARS);
    }
}
