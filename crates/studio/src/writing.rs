//! Writing actions — Continue, Rewrite, Shorten, Expand, Brainstorm, Critique and a free instruction —
//! and how each becomes a request for the model: its prompt, how much preceding text it reads (counted
//! in the model's own tokens) and how long its answer may be. Both front ends send an action and its
//! inputs; nothing else builds these prompts.

use serde::{Deserialize, Serialize};

use crate::context::PROMPT_OVERHEAD_TOKENS;
use crate::error::{Result, StudioError};

/// The system prompt every on-device request about the manuscript runs under, writing actions and chat
/// alike: one wording, so that they share the cached system prompt, story bible and text before their
/// own instruction (what each wants is said there, last).
pub const SYSTEM_PROMPT: &str = "You are Atelier, a careful writing partner for novelists, screenwriters and copywriters. \
Work from the story bible and the text you are given, and never contradict them.";

/// How a writing action's reply is framed, at the end of its instruction.
const TEXT_ONLY: &str = "Reply with the requested text only: no preamble, no explanations unless asked.";
/// How a selection is introduced to the model, before the instruction that refers to "the passage above".
pub const SELECTION_HEADING: &str = "The passage:";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[derive(specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum WritingAction {
    Continue,
    Rewrite,
    Shorten,
    Expand,
    Brainstorm,
    Critique,
    /// The writer's own instruction.
    Custom,
}

impl WritingAction {
    pub const ALL: [WritingAction; 7] =
        [Self::Continue, Self::Rewrite, Self::Shorten, Self::Expand, Self::Brainstorm, Self::Critique, Self::Custom];

    pub fn name(self) -> &'static str {
        match self {
            Self::Continue => "continue",
            Self::Rewrite => "rewrite",
            Self::Shorten => "shorten",
            Self::Expand => "expand",
            Self::Brainstorm => "brainstorm",
            Self::Critique => "critique",
            Self::Custom => "custom",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Works on the selection only (without one there is nothing to rewrite).
    pub fn needs_selection(self) -> bool {
        matches!(self, Self::Rewrite | Self::Shorten | Self::Expand)
    }

    /// Preceding text the action reads, in tokens: with a selection, as much as Continue reads (so the
    /// two share the scene's cached prefix); without one, the text it works on.
    fn context_budget(self, with_selection: bool) -> usize {
        match self {
            _ if with_selection => 1536,
            Self::Critique => 2048,
            Self::Rewrite | Self::Shorten | Self::Expand => 0,
            Self::Continue | Self::Brainstorm | Self::Custom => 1536,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[derive(specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    #[default]
    Plainer,
    Vivid,
    Formal,
    Playful,
}

impl Tone {
    pub const ALL: [Tone; 4] = [Self::Plainer, Self::Vivid, Self::Formal, Self::Playful];

    pub fn name(self) -> &'static str {
        match self {
            Self::Plainer => "plainer",
            Self::Vivid => "vivid",
            Self::Formal => "formal",
            Self::Playful => "playful",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|t| t.name() == name || t.phrase() == name)
    }

    /// How the prompt asks for it: "Rewrite the passage above to be …".
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Plainer => "plainer",
            Self::Vivid => "more vivid",
            Self::Formal => "formal",
            Self::Playful => "playful",
        }
    }
}

/// What the writer asked for, as a front end sends it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[derive(specta::Type)]
pub struct ActionInput {
    pub action: Option<WritingAction>,
    #[serde(default)]
    pub tone: Option<Tone>,
    #[serde(default)]
    pub instruction: Option<String>,
    /// The selected text ("" when nothing is selected).
    #[serde(default)]
    pub selection: String,
    /// The text before the cursor, which Continue follows.
    #[serde(default)]
    pub before: String,
    /// The whole document, which Brainstorm, Critique and free instructions read without a selection.
    #[serde(default)]
    pub document: String,
    /// Context items the writer took out of this run (keys from the Context panel).
    #[serde(default)]
    pub dropped: Vec<String>,
}

/// An action with exactly the text it read: what a run records, and all a re-run needs to build the
/// same prompt again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedAction {
    pub action: WritingAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<Tone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// The manuscript text before the selection (or the cursor) that the model reads: the end of it.
    #[serde(default)]
    pub text: String,
    /// `text` is the end of a longer text (shown with a leading ellipsis).
    #[serde(default)]
    pub truncated: bool,
    /// The selected passage the action works on ("" for actions on the text so far). Runs recorded
    /// before the story bible called it `passage`.
    #[serde(default, alias = "passage")]
    pub selection: String,
    pub max_tokens: usize,
}

impl ResolvedAction {
    /// How the action is listed in History: "continue", "rewrite:vivid".
    pub fn label(&self) -> String {
        match (self.action, self.tone) {
            (WritingAction::Rewrite, Some(tone)) => format!("rewrite:{}", tone.name()),
            (action, _) => action.name().to_string(),
        }
    }

    /// What the model is asked, about the passage after it or the text before it.
    pub fn instruction_text(&self) -> String {
        let what = if self.selection.is_empty() { "the text above" } else { "the passage above" };
        match self.action {
            WritingAction::Continue => format!("Continue {what} in the same voice, tense and style. Write only the next paragraph, with no preamble."),
            WritingAction::Rewrite => format!(
                "Rewrite the passage above to be {}, keeping its meaning. Reply with the rewritten passage only.",
                self.tone.unwrap_or_default().phrase()
            ),
            WritingAction::Shorten => {
                "Shorten the passage above to about half its length without losing what matters. Reply with the shorter passage only.".into()
            }
            WritingAction::Expand => "Expand the passage above with concrete sensory detail, keeping its voice. Reply with the expanded passage only.".into(),
            WritingAction::Brainstorm => format!("Brainstorm five distinct ideas for what could happen next after {what}, one line each."),
            WritingAction::Critique => format!("Give a candid editorial critique of {what}: what works, what drags, and three concrete suggestions."),
            WritingAction::Custom => format!("{} {TEXT_ONLY}", self.instruction.as_deref().unwrap_or("").trim()),
        }
    }

    /// The user message the model receives: the text so far, the selection, the instruction. The
    /// instruction comes last, so that the text and the passage are computed while the writer chooses
    /// what to do with them, and every action on one selection shares them.
    pub fn prompt(&self) -> String {
        let mut parts = Vec::with_capacity(3);
        if !self.text.is_empty() {
            parts.push(format!("The text so far:\n\n{}{}", if self.truncated { "…" } else { "" }, self.text));
        }
        if !self.selection.is_empty() {
            parts.push(format!("{SELECTION_HEADING}\n\n{}", self.selection));
        }
        parts.push(self.instruction_text());
        parts.join("\n\n")
    }
}

/// Resolves an action against the model: picks its selection and the end of the text before it within
/// the action's token budget (never more than half the context, less `reserved` tokens that the
/// story bible takes), and sets the answer's length from the selection's. `count_tokens` is the
/// model's tokenizer.
pub fn resolve(input: &ActionInput, context_length: usize, count_tokens: &dyn Fn(&str) -> usize, reserved: usize) -> Result<ResolvedAction> {
    let action = input.action.ok_or_else(|| StudioError::Invalid("Choose a writing action.".into()))?;
    let selection = input.selection.trim();
    let instruction = input.instruction.as_deref().map(str::trim).filter(|i| !i.is_empty()).map(str::to_string);
    if action.needs_selection() && selection.is_empty() {
        return Err(StudioError::Invalid(format!("Select some text to {}.", action.name())));
    }
    if action == WritingAction::Custom && instruction.is_none() {
        return Err(StudioError::Invalid("Write an instruction first.".into()));
    }
    let selection_tokens = if selection.is_empty() { 0 } else { count_tokens(selection) };
    let max_tokens = answer_length(action, selection_tokens);
    // The selection is never cut: the writer must see that it does not fit rather than get half a rewrite.
    let room = context_length.saturating_sub(PROMPT_OVERHEAD_TOKENS + max_tokens.min(context_length / 4));
    if selection_tokens > room {
        return Err(StudioError::Invalid(format!(
            "The selection is too long for this model ({selection_tokens} tokens; at most about {room} fit). \
             Select less, or raise the context length in Settings → Models."
        )));
    }
    let text_dropped = input.dropped.iter().any(|d| d == crate::context::TEXT_KEY);
    let source = text_source(action, input);
    let budget = if text_dropped { 0 } else { action.context_budget(!selection.is_empty()).min(context_length / 2).min(room.saturating_sub(selection_tokens + reserved)) };
    let (text, truncated) = if text_dropped { (String::new(), false) } else { tail_within(source.trim_end(), budget, count_tokens) };
    if selection.is_empty() && text.trim().is_empty() {
        return Err(StudioError::Invalid(if text_dropped {
            "There is nothing left for the model to work on: put the text back in the Context panel, or select a passage.".into()
        } else {
            "There is no text yet for the model to work on: write a few lines first.".into()
        }));
    }
    Ok(ResolvedAction { action, tone: input.tone.filter(|_| action == WritingAction::Rewrite), instruction, text, truncated, selection: selection.to_string(), max_tokens })
}

/// The text an action reads before its selection: what precedes the cursor (less the selection itself
/// when the cursor ends it), or for actions on a whole document without a selection, the document.
pub fn text_source(action: WritingAction, input: &ActionInput) -> &str {
    let selection = input.selection.trim();
    if !selection.is_empty() {
        // The cursor ends the selection (or starts it); a front end that sends the whole text as
        // `before` gets the text before the selection's last occurrence.
        let before = input.before.trim_end();
        return match before.rfind(selection) {
            Some(at) => &before[..at],
            None => before,
        };
    }
    match action {
        WritingAction::Continue if !input.before.trim().is_empty() => &input.before,
        _ => &input.document,
    }
}

/// How long the answer may be: rewrites follow the passage's length, the rest have a fixed allowance.
fn answer_length(action: WritingAction, passage_tokens: usize) -> usize {
    let scaled = |factor: f64, extra: usize, min: usize, max: usize| ((passage_tokens as f64 * factor) as usize + extra).clamp(min, max);
    match action {
        WritingAction::Continue => 320,
        WritingAction::Rewrite => scaled(1.5, 64, 96, 1024),
        WritingAction::Shorten => scaled(0.75, 32, 48, 768),
        WritingAction::Expand => scaled(2.5, 64, 160, 1536),
        WritingAction::Brainstorm => 400,
        WritingAction::Critique => 700,
        WritingAction::Custom => 600,
    }
}

/// The end of `text` that fits in `budget` tokens, starting at a paragraph or word boundary.
///
/// The start is snapped forward to an anchor on a fixed grid counted from the text's beginning, so two
/// actions on one scene (Continue at the cursor, then Rewrite of the paragraph before it) usually start
/// their text at the same place and share its cached computation. The tail keeps at least two thirds of
/// the budget.
pub(crate) fn tail_within(text: &str, budget: usize, count_tokens: &dyn Fn(&str) -> usize) -> (String, bool) {
    if budget == 0 || text.is_empty() {
        return (String::new(), !text.is_empty());
    }
    // No token is shorter than a character: a tail of `budget * 8` characters holds more than enough,
    // and the whole of a long manuscript is never tokenized.
    let mut start = char_start_from_end(text, budget.saturating_mul(8));
    for _ in 0..16 {
        let tokens = count_tokens(&text[start..]);
        if tokens <= budget || start == text.len() {
            break;
        }
        let kept = text.len() - start;
        let shrink = (kept as f64 * budget as f64 / tokens as f64 * 0.95) as usize;
        start = floor_char_boundary(text, text.len() - shrink.min(kept.saturating_sub(1)));
    }
    if start == 0 {
        return (text.to_string(), false);
    }
    let cut = anchor_at_or_after(text, start, budget);
    (text[cut..].trim_start().to_string(), true)
}

/// The first anchor at or after byte `start`: the grid point (a third of the budget, in bytes at about
/// four a token) snapped forward to the next paragraph within half a cell, else to the next word there.
fn anchor_at_or_after(text: &str, start: usize, budget: usize) -> usize {
    let grid = (budget.saturating_mul(4) / 3).max(64);
    let point = ceil_char_boundary(text, start.div_ceil(grid).saturating_mul(grid).min(text.len()));
    let window = &text[point..floor_char_boundary(text, point.saturating_add(grid / 2).min(text.len())).max(point)];
    let snapped = window.find("\n\n").map(|i| point + i + 2).or_else(|| after_whitespace(window).map(|i| point + i));
    match snapped {
        Some(at) if at < text.len() => at,
        // A last cell too short to anchor in: the word boundary after the fitting start instead.
        _ => after_whitespace(&text[start..]).map_or(start, |i| start + i).min(text.len()),
    }
}

/// Where the text after the first whitespace character begins (whitespace may be several bytes: a
/// no-break or ideographic space).
fn after_whitespace(text: &str) -> Option<usize> {
    text.char_indices().find(|(_, c)| c.is_whitespace()).map(|(i, c)| i + c.len_utf8())
}

fn ceil_char_boundary(text: &str, mut index: usize) -> usize {
    while index < text.len() && !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

fn char_start_from_end(text: &str, chars: usize) -> usize {
    text.char_indices().rev().nth(chars.saturating_sub(1)).map(|(i, _)| i).filter(|_| text.chars().count() > chars).unwrap_or(0)
}

pub(crate) fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in tokenizer: one token a word.
    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    fn input(action: WritingAction) -> ActionInput {
        ActionInput { action: Some(action), ..Default::default() }
    }

    #[test]
    fn rewrite_needs_a_selection_and_names_its_tone() {
        let err = resolve(&input(WritingAction::Rewrite), 4096, &words, 0).unwrap_err();
        assert_eq!(err.to_string(), "Select some text to rewrite.");
        let mut rewrite = input(WritingAction::Rewrite);
        rewrite.selection = "  The rain fell.  ".into();
        rewrite.tone = Some(Tone::Vivid);
        let resolved = resolve(&rewrite, 4096, &words, 0).unwrap();
        assert_eq!(resolved.selection, "The rain fell.");
        assert_eq!(resolved.label(), "rewrite:vivid");
        assert!(resolved.prompt().starts_with("The passage:\n\nThe rain fell.\n\n"), "{}", resolved.prompt());
        assert!(resolved.prompt().ends_with("\n\nRewrite the passage above to be more vivid, keeping its meaning. Reply with the rewritten passage only."));
    }

    #[test]
    fn continue_reads_the_end_of_the_text_before_the_cursor_within_its_budget() {
        let before: String = (0..5000).map(|i| format!("w{i} ")).collect::<String>() + "\n\nLast paragraph here.";
        let mut cont = input(WritingAction::Continue);
        cont.before = before;
        cont.document = "ignored: there is text before the cursor".into();
        let resolved = resolve(&cont, 4096, &words, 0).unwrap();
        assert!(resolved.truncated);
        assert!(words(&resolved.text) <= 1536, "{} words", words(&resolved.text));
        assert!(words(&resolved.text) > 1000, "the budget is used: {} words", words(&resolved.text));
        assert!(resolved.text.ends_with("Last paragraph here."));
        assert!(resolved.text.starts_with('w'), "starts at a word: {:?}", &resolved.text[..20]);
        assert!(resolved.prompt().starts_with("The text so far:\n\n…w"));
        assert!(resolved.prompt().ends_with("Last paragraph here.\n\nContinue the text above in the same voice, tense and style. Write only the next paragraph, with no preamble."));
        assert_eq!(resolved.max_tokens, 320);
        // What the story bible takes comes out of the text's budget.
        let with_bible = resolve(&cont, 4096, &words, 3000).unwrap();
        assert!(words(&with_bible.text) < 800, "{} words", words(&with_bible.text));
    }

    #[test]
    fn a_small_context_halves_the_budget_and_short_text_is_kept_whole() {
        let mut critique = input(WritingAction::Critique);
        critique.document = (0..3000).map(|i| format!("x{i} ")).collect();
        let resolved = resolve(&critique, 1024, &words, 0).unwrap();
        assert!(words(&resolved.text) <= 512);
        critique.document = "A short scene.".into();
        let resolved = resolve(&critique, 1024, &words, 0).unwrap();
        assert_eq!((resolved.text.as_str(), resolved.truncated), ("A short scene.", false));
    }

    #[test]
    fn rewrites_get_room_in_proportion_to_the_passage() {
        let mut expand = input(WritingAction::Expand);
        expand.selection = "word ".repeat(200);
        let long = resolve(&expand, 8192, &words, 0).unwrap().max_tokens;
        expand.selection = "word ".repeat(10);
        let short = resolve(&expand, 8192, &words, 0).unwrap().max_tokens;
        assert!(long > short && long == 564 && short == 160, "{long} {short}");
    }

    #[test]
    fn a_selection_that_cannot_fit_is_refused_not_cut() {
        let mut shorten = input(WritingAction::Shorten);
        shorten.selection = "word ".repeat(5000);
        let err = resolve(&shorten, 2048, &words, 0).unwrap_err().to_string();
        assert!(err.contains("too long for this model (5000 tokens"), "{err}");
    }

    #[test]
    fn a_free_instruction_needs_words_and_comes_last() {
        assert_eq!(resolve(&input(WritingAction::Custom), 4096, &words, 0).unwrap_err().to_string(), "Write an instruction first.");
        let mut custom = input(WritingAction::Custom);
        custom.instruction = Some(" Make it rhyme. ".into());
        custom.document = "Roses are red.".into();
        assert_eq!(resolve(&custom, 4096, &words, 0).unwrap().prompt(), format!("The text so far:\n\nRoses are red.\n\nMake it rhyme. {TEXT_ONLY}"));
        custom.selection = "Violets are blue.".into();
        assert_eq!(resolve(&custom, 4096, &words, 0).unwrap().prompt(), format!("The passage:\n\nViolets are blue.\n\nMake it rhyme. {TEXT_ONLY}"));
    }

    #[test]
    fn nothing_to_work_on_is_a_clear_error() {
        let err = resolve(&input(WritingAction::Continue), 4096, &words, 0).unwrap_err().to_string();
        assert!(err.starts_with("There is no text yet"), "{err}");
        let mut dropped = input(WritingAction::Continue);
        dropped.before = "Some text.".into();
        dropped.dropped = vec!["text".into()];
        let err = resolve(&dropped, 4096, &words, 0).unwrap_err().to_string();
        assert!(err.contains("put the text back in the Context panel"), "{err}");
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        let mut cont = input(WritingAction::Continue);
        cont.before = "é日本 ".repeat(4000);
        let resolved = resolve(&cont, 4096, &|t: &str| t.chars().count() / 2, 0).unwrap();
        assert!(resolved.truncated && resolved.text.chars().count() / 2 <= 1536);
    }

    #[test]
    fn a_selection_reads_the_text_before_it_without_itself() {
        let mut rewrite = input(WritingAction::Rewrite);
        rewrite.before = "It was late. The rain fell.".into();
        rewrite.selection = "The rain fell.".into();
        let resolved = resolve(&rewrite, 4096, &words, 0).unwrap();
        assert_eq!((resolved.text.as_str(), resolved.selection.as_str()), ("It was late.", "The rain fell."));
        assert_eq!(resolved.prompt(), "The text so far:\n\nIt was late.\n\nThe passage:\n\nThe rain fell.\n\nRewrite the passage above to be plainer, keeping its meaning. Reply with the rewritten passage only.");
        // Runs recorded before the story bible named the selection `passage`.
        let old: ResolvedAction = serde_json::from_str(r#"{"action":"shorten","passage":"Old text.","truncated":false,"max_tokens":48}"#).unwrap();
        assert_eq!((old.selection.as_str(), old.text.as_str()), ("Old text.", ""));
    }

    #[test]
    fn continue_and_a_rewrite_of_the_last_paragraph_start_their_text_at_the_same_place() {
        let scene: String = (0..4000).map(|i| if i % 60 == 59 { format!("p{i}.\n\n") } else { format!("w{i} ") }).collect();
        let last = "The keeper climbed the stairs one last time.";
        let mut cont = input(WritingAction::Continue);
        cont.before = format!("{scene}{last}");
        let mut rewrite = input(WritingAction::Rewrite);
        rewrite.before = cont.before.clone();
        rewrite.selection = last.into();
        let (c, r) = (resolve(&cont, 8192, &words, 0).unwrap(), resolve(&rewrite, 8192, &words, 40).unwrap());
        assert!(c.truncated && r.truncated);
        assert!(c.text.starts_with(&r.text), "the rewrite's text is the start of Continue's");
        assert!(c.prompt().starts_with(&format!("The text so far:\n\n…{}", r.text)));
        assert!(r.text.starts_with('w') && words(&r.text) >= 1024 && words(&c.text) <= 1536, "{} {}", words(&r.text), words(&c.text));
        // Typing more at the cursor keeps the start until the text passes the next anchor.
        cont.before.push_str(" More words.");
        assert_eq!(resolve(&cont, 8192, &words, 0).unwrap().text.split_whitespace().next(), c.text.split_whitespace().next());
    }

    #[test]
    fn multibyte_spaces_never_split_a_character() {
        // French no-break spaces before punctuation, and CJK's ideographic space.
        for unit in ["mot\u{a0}: ", "語\u{3000}", "«\u{202f}oui\u{202f}» "] {
            let mut cont = input(WritingAction::Continue);
            cont.before = unit.repeat(3000);
            for budget in [8, 100, 1536] {
                let (tail, truncated) = tail_within(&cont.before, budget, &|t: &str| t.chars().count() / 2);
                assert!(truncated && !tail.is_empty() && tail.chars().count() / 2 <= budget, "{unit:?} {budget}");
            }
            assert!(resolve(&cont, 4096, &|t: &str| t.chars().count() / 2, 0).is_ok());
        }
    }

    #[test]
    fn names_round_trip() {
        for action in WritingAction::ALL {
            assert_eq!(WritingAction::parse(action.name()), Some(action));
        }
        assert_eq!(Tone::parse("more vivid"), Some(Tone::Vivid));
        assert_eq!(Tone::parse("Vivid"), Some(Tone::Vivid));
        assert_eq!(Tone::parse("loud"), None);
    }
}
