//! Context assembly: what the model reads for a writing action, a chat turn or a fusion run, item by
//! item. Stable parts come first so that different actions on one scene share their prefix: the system
//! prompt, the style guide and the bible entries (pinned, then mentioned), the synopses of earlier
//! scenes; then the manuscript text before the cursor within its token budget; the instruction and the
//! selection last. Every item is counted with the model's own tokenizer, and the Context panel shows
//! the same list the run records.

use std::collections::HashSet;
use std::sync::Arc;

use atelier_store::{BibleEntry, EntryKind, Store};
use serde::{Deserialize, Serialize};

use crate::bible::mentions::MentionIndex;
use crate::bible::MentionCache;
use crate::error::Result;
use crate::writing::{ActionInput, ResolvedAction};

/// Keys of the items every request has.
pub const TEXT_KEY: &str = "text";
pub const INSTRUCTION_KEY: &str = "instruction";
pub const SELECTION_KEY: &str = "selection";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    StyleGuide,
    Entry,
    Synopsis,
    /// The manuscript text before the cursor (or the selection).
    Text,
    Instruction,
    Selection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// The model reads it.
    Included,
    /// The writer took it out of this run.
    Dropped,
    /// It did not fit in the context with what comes before it.
    OverBudget,
}

/// One thing the model may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ContextItem {
    /// Stable from one preview to the next: `entry:12`, `synopsis:33`, `text`, `instruction`, `selection`.
    pub key: String,
    pub kind: ItemKind,
    pub label: String,
    /// Why it is here: "pinned", "mentioned 3×", "earlier scene"…
    pub reason: String,
    pub tokens: u32,
    pub state: ItemState,
    /// The writer may drop it (the instruction and the selection are the request itself).
    pub optional: bool,
    #[serde(default)]
    pub entry_id: Option<i64>,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub scene_id: Option<i64>,
    /// It goes to cloud members too (the project allows it, or it is the request itself).
    pub cloud: bool,
    /// What the model reads of it.
    pub text: String,
}

impl ContextItem {
    pub fn included(&self) -> bool {
        self.state == ItemState::Included
    }

    fn new(key: String, kind: ItemKind, label: String, reason: String, text: String) -> Self {
        Self { key, kind, label, reason, tokens: 0, state: ItemState::Included, optional: true, entry_id: None, pinned: false, scene_id: None, cloud: false, text }
    }

    /// The request itself: always sent, to every member.
    pub fn request(key: &str, kind: ItemKind, label: &str, text: String) -> Self {
        Self { optional: false, cloud: true, ..Self::new(key.into(), kind, label.into(), "your request".into(), text) }
    }
}

/// What the Context panel shows before a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ContextView {
    pub items: Vec<ContextItem>,
    /// Tokens of the included items (the chat template's own are not counted).
    pub tokens: u32,
    /// Tokens the items may take: the context length less the answer's room.
    pub budget: u32,
    pub context_length: u32,
    pub answer_tokens: u32,
    /// The project lets bible entries and manuscript text go to cloud members.
    pub cloud_context: bool,
    pub project_id: Option<i64>,
}

/// An earlier scene's synopsis, which a later scene's actions read.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierScene {
    pub scene_id: i64,
    pub title: String,
    pub synopsis: String,
}

/// What a scene's context is drawn from.
#[derive(Clone, Default)]
pub struct Sources {
    pub project_id: Option<i64>,
    pub scene_id: Option<i64>,
    pub entries: Arc<Vec<BibleEntry>>,
    pub index: Option<Arc<MentionIndex>>,
    /// In binder order.
    pub earlier: Vec<EarlierScene>,
    pub cloud_context: bool,
}

impl Sources {
    /// The sources of the scene whose text is `document_id`; none for a document outside a project.
    pub async fn of_document(store: &Store, cache: &MentionCache, document_id: Option<i64>) -> Result<Self> {
        let Some(document_id) = document_id else { return Ok(Self::default()) };
        let Some(scene) = store.binder().scene_of_document(document_id).await? else { return Ok(Self::default()) };
        let project = store.projects().get(scene.project_id).await?;
        let (index, entries) = cache.get(store, project.id).await?;
        let tree = store.projects().tree(project.id).await?;
        let earlier = tree
            .nodes
            .iter()
            .take_while(|n| n.id != scene.id)
            .filter(|n| n.document_id.is_some() && !n.synopsis.trim().is_empty())
            .map(|n| EarlierScene { scene_id: n.id, title: n.title.clone(), synopsis: n.synopsis.trim().to_string() })
            .collect();
        Ok(Self { project_id: Some(project.id), scene_id: Some(scene.id), entries, index: Some(index), earlier, cloud_context: project.cloud_context })
    }
}

/// The stable part of a request: the bible entries and synopses that fit, with the items that did not.
pub struct Stable {
    pub items: Vec<ContextItem>,
    pub tokens: usize,
}

impl Stable {
    /// The system prompt with the included stable items after it.
    pub fn system(&self, base: &str) -> String {
        let mut system = base.to_string();
        let section = |kind: ItemKind| self.items.iter().filter(move |i| i.included() && i.kind == kind).map(|i| i.text.as_str()).collect::<Vec<_>>();
        for (kind, heading) in [
            (ItemKind::StyleGuide, "Style guide — follow it"),
            (ItemKind::Entry, "Story bible — facts of this book; never contradict them"),
            (ItemKind::Synopsis, "Earlier scenes"),
        ] {
            let texts = section(kind);
            if !texts.is_empty() {
                system.push_str(&format!("\n\n## {heading}\n\n{}", texts.join("\n\n")));
            }
        }
        system
    }
}

/// How an entry reads to the model.
pub fn entry_text(entry: &BibleEntry) -> String {
    let mut text = format!("### {} ({})", entry.name, entry.kind.label());
    if !entry.aliases.is_empty() {
        text.push_str(&format!("\nAlso called: {}", entry.aliases.join(", ")));
    }
    if !entry.description.is_empty() {
        text.push('\n');
        text.push_str(&entry.description);
    }
    for field in &entry.fields {
        text.push_str(&format!("\n{}: {}", field.name, field.value));
    }
    text
}

/// Picks the stable items for a request whose text names what `scanned` names: style guides, pinned
/// entries, mentioned entries (in order of first mention), then earlier scenes' synopses (nearest
/// first). Each is counted; what does not fit in `budget` tokens is kept in the list as over budget,
/// what the writer dropped as dropped.
pub fn stable(sources: &Sources, scanned: &str, dropped: &[String], budget: usize, count: &dyn Fn(&str) -> usize) -> Stable {
    let dropped: HashSet<&str> = dropped.iter().map(String::as_str).collect();
    let mut items: Vec<ContextItem> = Vec::new();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut add_entry = |entry: &BibleEntry, kind: ItemKind, reason: String, items: &mut Vec<ContextItem>| {
        if seen.insert(entry.id) {
            let mut item = ContextItem::new(format!("entry:{}", entry.id), kind, format!("{} ({})", entry.name, entry.kind.label()), reason, entry_text(entry));
            item.entry_id = Some(entry.id);
            item.pinned = entry.pinned;
            items.push(item);
        }
    };
    for entry in sources.entries.iter().filter(|e| e.kind == EntryKind::StyleGuide) {
        add_entry(entry, ItemKind::StyleGuide, "style guide".into(), &mut items);
    }
    for entry in sources.entries.iter().filter(|e| e.pinned) {
        add_entry(entry, ItemKind::Entry, "pinned".into(), &mut items);
    }
    if let Some(index) = &sources.index {
        let found = index.find(scanned);
        let mut order: Vec<i64> = Vec::new();
        let mut counts: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for f in &found {
            for &id in index.entries_of(f) {
                let n = counts.entry(id).or_insert(0);
                if *n == 0 {
                    order.push(id);
                }
                *n += 1;
            }
        }
        for id in order {
            if let Some(entry) = sources.entries.iter().find(|e| e.id == id) {
                add_entry(entry, ItemKind::Entry, format!("mentioned {}×", counts[&id]), &mut items);
            }
        }
    }
    // Nearest scenes matter most: they are kept first, and listed in story order.
    let mut synopses: Vec<ContextItem> = sources
        .earlier
        .iter()
        .rev()
        .map(|s| {
            let mut item = ContextItem::new(format!("synopsis:{}", s.scene_id), ItemKind::Synopsis, format!("{} (synopsis)", s.title), "earlier scene".into(), format!("- {}: {}", s.title, s.synopsis));
            item.scene_id = Some(s.scene_id);
            item
        })
        .collect();
    let entries_len = items.len();
    items.append(&mut synopses);

    let mut used = 0;
    for item in &mut items {
        item.tokens = count(&item.text) as u32;
        item.cloud = sources.cloud_context;
        if dropped.contains(item.key.as_str()) {
            item.state = ItemState::Dropped;
        } else if used + item.tokens as usize > budget {
            item.state = ItemState::OverBudget;
        } else {
            used += item.tokens as usize;
        }
    }
    items[entries_len..].reverse();
    Stable { items, tokens: used }
}

/// The view the panel shows for the items a request will send.
pub fn view(items: Vec<ContextItem>, sources: &Sources, context_length: usize, answer_tokens: usize) -> ContextView {
    let tokens = items.iter().filter(|i| i.included()).map(|i| i.tokens).sum();
    ContextView {
        items,
        tokens,
        budget: context_length.saturating_sub(answer_tokens) as u32,
        context_length: context_length as u32,
        answer_tokens: answer_tokens as u32,
        cloud_context: sources.cloud_context,
        project_id: sources.project_id,
    }
}

/// The labels of the items that go to cloud members.
pub fn cloud_labels(items: &[ContextItem]) -> Vec<String> {
    items.iter().filter(|i| i.included() && i.cloud).map(|i| i.label.clone()).collect()
}

/// The stable part's share of the context: a third, so the manuscript text and the answer keep room.
pub fn stable_budget(context_length: usize) -> usize {
    context_length / 3
}

/// What a mention scan reads: the selection and the end of the text the request may send (a tail of
/// `budget_tokens * 8` characters holds more than the budget).
pub fn scanned(selection: &str, text: &str, budget_tokens: usize) -> String {
    let start = text.char_indices().rev().nth(budget_tokens.saturating_mul(8)).map(|(i, _)| i).unwrap_or(0);
    format!("{selection}\n\n{}", &text[start..])
}

/// The manuscript text item.
pub fn text_item(label: &str, text: &str, truncated: bool, dropped: bool, sources: &Sources, count: &dyn Fn(&str) -> usize) -> ContextItem {
    let shown = if truncated { format!("…{text}") } else { text.to_string() };
    let mut item = ContextItem::new(TEXT_KEY.into(), ItemKind::Text, label.into(), if truncated { "the end of it, within the budget".into() } else { "the manuscript".into() }, shown);
    item.tokens = count(&item.text) as u32;
    item.cloud = sources.cloud_context;
    item.state = if dropped { ItemState::Dropped } else { ItemState::Included };
    item
}

/// A request other than a writing action (a chat turn, a fusion prompt, a continuity check) in context.
pub struct Request<'a> {
    /// The system prompt the stable items follow.
    pub system: &'a str,
    /// What is asked: the chat question, the fusion prompt, the check's instruction.
    pub instruction: &'a str,
    /// How the selection is introduced ("The passage:").
    pub selection_heading: &'a str,
    pub selection: &'a str,
    /// The manuscript text the request may read the end of.
    pub text: &'a str,
    pub text_budget: usize,
    pub answer_tokens: usize,
    /// Tokens taken already (earlier chat turns).
    pub reserved: usize,
    pub dropped: &'a [String],
}

/// A request as the model reads it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub system: String,
    pub prompt: String,
    /// What cloud members read instead, when the project keeps its context on the device.
    pub cloud_system: String,
    pub cloud_prompt: String,
    pub items: Vec<ContextItem>,
}

impl Planned {
    pub fn view(&self, sources: &Sources, context_length: usize, answer_tokens: usize) -> ContextView {
        view(self.items.clone(), sources, context_length, answer_tokens)
    }
}

/// Plans `request`: the stable items that fit, the end of the text within what is left, the
/// selection, and the instruction last. A selection too long for the context is refused, never cut.
pub fn plan(request: &Request, sources: &Sources, context_length: usize, count: &dyn Fn(&str) -> usize) -> Result<Planned> {
    let selection = request.selection.trim();
    let instruction = request.instruction.trim();
    let fixed = count(instruction) + count(selection) + PROMPT_OVERHEAD_TOKENS;
    let room = context_length.saturating_sub(fixed + request.answer_tokens.min(context_length / 4) + request.reserved);
    if fixed > context_length.saturating_sub(request.answer_tokens.min(context_length / 4)) {
        return Err(crate::error::StudioError::Invalid(format!(
            "The selection is too long for this model ({} tokens). Select less, or raise the context length in Settings → Models.",
            count(selection)
        )));
    }
    let scan = scanned(selection, request.text, request.text_budget);
    let stable = stable(sources, &scan, request.dropped, stable_budget(context_length).min(room), count);
    let text_dropped = request.dropped.iter().any(|d| d == TEXT_KEY);
    let text_budget = request.text_budget.min(room.saturating_sub(stable.tokens));
    let (text, truncated) = crate::writing::tail_within(request.text.trim_end(), text_budget, count);
    let mut items = stable.items.clone();
    if !text.is_empty() || truncated {
        items.push(text_item("Text so far", &text, truncated, text_dropped, sources, count));
    }
    items.extend(request_items(selection, "Instruction", instruction, count));
    // The instruction comes last, so everything before it is computed while the writer types it.
    let with_selection = |mut parts: Vec<String>| {
        if !selection.is_empty() {
            parts.push(format!("{}\n\n{selection}", request.selection_heading));
        }
        parts.push(instruction.to_string());
        parts.join("\n\n")
    };
    let text_part = items.iter().find(|i| i.kind == ItemKind::Text && i.included()).map(|i| format!("The text so far:\n\n{}", i.text));
    let system = stable.system(request.system);
    let prompt = with_selection(text_part.clone().into_iter().collect());
    let (cloud_system, cloud_prompt) = if sources.cloud_context { (system.clone(), prompt.clone()) } else { (request.system.to_string(), with_selection(Vec::new())) };
    Ok(Planned { system, prompt, cloud_system, cloud_prompt, items })
}

/// A writing action in context: the action resolved with what the stable items leave of the budget,
/// the system prompt with those items, and every item the panel lists.
pub fn plan_action(input: &ActionInput, sources: &Sources, context_length: usize, count: &dyn Fn(&str) -> usize) -> Result<(ResolvedAction, String, Vec<ContextItem>)> {
    let action = input.action.ok_or_else(|| crate::error::StudioError::Invalid("Choose a writing action.".into()))?;
    let scan = scanned(input.selection.trim(), crate::writing::text_source(action, input), 2048);
    let stable = stable(sources, &scan, &input.dropped, stable_budget(context_length), count);
    let resolved = crate::writing::resolve(input, context_length, count, stable.tokens)?;
    let mut items = stable.items.clone();
    let text_dropped = input.dropped.iter().any(|d| d == TEXT_KEY);
    if !resolved.text.is_empty() || text_dropped {
        // A dropped text is listed (so it can be put back) by the end of it the action would read.
        let (shown, truncated) = if text_dropped {
            let source = crate::writing::text_source(action, input).trim();
            let start = source.char_indices().rev().nth(4000).map(|(i, _)| i).unwrap_or(0);
            (&source[start..], start > 0)
        } else {
            (resolved.text.as_str(), resolved.truncated)
        };
        items.push(text_item("Text so far", shown, truncated, text_dropped, sources, count));
    }
    items.extend(request_items(&resolved.selection, &format!("Instruction ({})", resolved.label()), &resolved.instruction_text(), count));
    Ok((resolved, stable.system(crate::writing::SYSTEM_PROMPT), items))
}

/// The request itself, as the panel lists it: the selection (if any), then the instruction, in the
/// order the prompt reads them.
fn request_items(selection: &str, instruction_label: &str, instruction: &str, count: &dyn Fn(&str) -> usize) -> Vec<ContextItem> {
    let mut items = Vec::with_capacity(2);
    if !selection.is_empty() {
        let mut item = ContextItem::request(SELECTION_KEY, ItemKind::Selection, "Selection", selection.to_string());
        item.tokens = count(selection) as u32;
        items.push(item);
    }
    let mut item = ContextItem::request(INSTRUCTION_KEY, ItemKind::Instruction, instruction_label, instruction.to_string());
    item.tokens = count(instruction) as u32;
    items.push(item);
    items
}

/// Runs `plan` in the model's queue with the model's context length and its tokenizer as the counter.
pub async fn with_tokenizer<T: Send + 'static>(
    engine: &atelier_fusion::local::LocalEngine,
    plan: impl FnOnce(usize, &dyn Fn(&str) -> usize) -> Result<T> + Send + 'static,
) -> Result<T> {
    engine
        .with_model(move |model| {
            let tokenizer = model.tokenizer();
            let count = |text: &str| tokenizer.encode_plain(text).map(|ids| ids.len()).unwrap_or(text.len());
            plan(model.context_length(), &count)
        })
        .await?
}

/// Tokens of system prompt, instruction wording and chat template around the items.
pub const PROMPT_OVERHEAD_TOKENS: usize = 160;

#[cfg(test)]
mod tests {
    use atelier_store::EntryField;

    use super::*;

    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    fn entry(id: i64, kind: EntryKind, name: &str, pinned: bool) -> BibleEntry {
        BibleEntry {
            id,
            project_id: Some(1),
            kind,
            name: name.into(),
            aliases: Vec::new(),
            description: format!("About {name}."),
            fields: vec![EntryField { name: "Eyes".into(), value: "grey".into() }],
            pinned,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn sources(entries: Vec<BibleEntry>, earlier: usize) -> Sources {
        let index = Arc::new(MentionIndex::new(&entries));
        Sources {
            project_id: Some(1),
            scene_id: Some(99),
            entries: Arc::new(entries),
            index: Some(index),
            earlier: (0..earlier).map(|i| EarlierScene { scene_id: i as i64 + 10, title: format!("Scene {i}"), synopsis: "Things happen here.".into() }).collect(),
            cloud_context: false,
        }
    }

    #[test]
    fn style_guides_then_pinned_then_mentioned_entries_then_synopses_in_story_order() {
        let s = sources(
            vec![entry(1, EntryKind::Character, "Mara", false), entry(2, EntryKind::Place, "Saltmouth", true), entry(3, EntryKind::StyleGuide, "House style", false), entry(4, EntryKind::Object, "Lantern", false)],
            3,
        );
        let stable = stable(&s, "The lantern swung. Mara laughed; the lantern went out.", &[], 10_000, &words);
        let keys: Vec<&str> = stable.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["entry:3", "entry:2", "entry:4", "entry:1", "synopsis:10", "synopsis:11", "synopsis:12"]);
        assert_eq!(stable.items[2].reason, "mentioned 2×");
        assert!(stable.items.iter().all(|i| i.included() && !i.cloud));
        let system = stable.system("BASE");
        let (guide, bible, earlier) = (system.find("## Style guide").unwrap(), system.find("## Story bible").unwrap(), system.find("## Earlier scenes").unwrap());
        assert!(system.starts_with("BASE") && guide < bible && bible < earlier, "{system}");
        assert!(system.contains("### Lantern (object)\nAbout Lantern.\nEyes: grey"));
    }

    #[test]
    fn what_does_not_fit_is_over_budget_and_the_nearest_synopses_are_kept() {
        let s = sources(vec![entry(1, EntryKind::Character, "Mara", true)], 4);
        let mara = words(&entry_text(&s.entries[0]));
        let synopsis = words("- Scene 0: Things happen here.");
        let stable = stable(&s, "", &["synopsis:13".into()], mara + 2 * synopsis, &words);
        let states: Vec<(&str, ItemState)> = stable.items.iter().map(|i| (i.key.as_str(), i.state)).collect();
        assert_eq!(
            states,
            [
                ("entry:1", ItemState::Included),
                ("synopsis:10", ItemState::OverBudget),
                ("synopsis:11", ItemState::Included),
                ("synopsis:12", ItemState::Included),
                ("synopsis:13", ItemState::Dropped),
            ]
        );
        assert_eq!(stable.tokens, mara + 2 * synopsis);
        assert!(!stable.system("").contains("Scene 0"));
    }
}
