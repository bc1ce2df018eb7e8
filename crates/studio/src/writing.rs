//! Writing actions — Continue, Rewrite, Shorten, Expand, Brainstorm, Critique and a free instruction —
//! and how each becomes a request for the model: its prompt, how much preceding text it reads (counted
//! in the model's own tokens) and how long its answer may be. Both front ends send an action and its
//! inputs; nothing else builds these prompts.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StudioError};

/// The system prompt every writing action runs under.
pub const SYSTEM_PROMPT: &str = "You are Atelier, a careful writing partner for novelists, screenwriters and copywriters. \
Reply with the requested text only: no preamble, no explanations unless asked.";

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

    /// Preceding text the action reads when there is no selection, in tokens.
    fn context_budget(self) -> usize {
        match self {
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

    /// How the prompt asks for it: "Rewrite this passage to be …".
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
    /// The passage the action works on: the selection, or the end of the preceding text.
    pub passage: String,
    /// The passage is the end of a longer text (shown with a leading ellipsis).
    #[serde(default)]
    pub truncated: bool,
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

    /// The user message the model receives.
    pub fn prompt(&self) -> String {
        let passage = if self.truncated { format!("…{}", self.passage) } else { self.passage.clone() };
        match self.action {
            WritingAction::Continue => {
                format!("Continue this text in the same voice, tense and style. Write only the next paragraph.\n\n{passage}")
            }
            WritingAction::Rewrite => format!(
                "Rewrite this passage to be {}, keeping its meaning. Reply with the rewritten passage only.\n\n{passage}",
                self.tone.unwrap_or_default().phrase()
            ),
            WritingAction::Shorten => format!(
                "Shorten this passage to about half its length without losing what matters. Reply with the shorter passage only.\n\n{passage}"
            ),
            WritingAction::Expand => format!(
                "Expand this passage with concrete sensory detail, keeping its voice. Reply with the expanded passage only.\n\n{passage}"
            ),
            WritingAction::Brainstorm => {
                format!("Brainstorm five distinct ideas for what could happen next, one line each.\n\n{passage}")
            }
            WritingAction::Critique => format!(
                "Give a candid editorial critique: what works, what drags, and three concrete suggestions.\n\n{passage}"
            ),
            WritingAction::Custom => format!("{}\n\n{passage}", self.instruction.as_deref().unwrap_or("").trim()).trim().to_string(),
        }
    }
}

/// Resolves an action against the model: picks its passage, trims preceding text to the action's token
/// budget (never more than half the context), and sets the answer's length from the passage's.
/// `count_tokens` is the model's tokenizer.
pub fn resolve(input: &ActionInput, context_length: usize, count_tokens: &dyn Fn(&str) -> usize) -> Result<ResolvedAction> {
    let action = input.action.ok_or_else(|| StudioError::Invalid("Choose a writing action.".into()))?;
    let selection = input.selection.trim();
    let instruction = input.instruction.as_deref().map(str::trim).filter(|i| !i.is_empty()).map(str::to_string);
    if action.needs_selection() && selection.is_empty() {
        return Err(StudioError::Invalid(format!("Select some text to {}.", action.name())));
    }
    if action == WritingAction::Custom && instruction.is_none() {
        return Err(StudioError::Invalid("Write an instruction first.".into()));
    }
    let (passage, truncated) = if !selection.is_empty() {
        (selection.to_string(), false)
    } else {
        let source = match action {
            WritingAction::Continue if !input.before.trim().is_empty() => &input.before,
            _ => &input.document,
        };
        let budget = action.context_budget().min(context_length / 2);
        tail_within(source.trim_end(), budget, count_tokens)
    };
    if passage.trim().is_empty() {
        return Err(StudioError::Invalid("There is no text yet for the model to work on: write a few lines first.".into()));
    }
    let passage_tokens = count_tokens(&passage);
    let max_tokens = answer_length(action, passage_tokens);
    // The selection is never cut: the writer must see that it does not fit rather than get half a rewrite.
    let room = context_length.saturating_sub(PROMPT_OVERHEAD_TOKENS + max_tokens.min(context_length / 4));
    if passage_tokens > room {
        return Err(StudioError::Invalid(format!(
            "The selection is too long for this model ({passage_tokens} tokens; at most about {room} fit). \
             Select less, or raise the context length in Settings → Models."
        )));
    }
    Ok(ResolvedAction { action, tone: input.tone.filter(|_| action == WritingAction::Rewrite), instruction, passage, truncated, max_tokens })
}

/// Tokens of system prompt, instruction and chat template around the passage.
const PROMPT_OVERHEAD_TOKENS: usize = 160;

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
fn tail_within(text: &str, budget: usize, count_tokens: &dyn Fn(&str) -> usize) -> (String, bool) {
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
    let tail = &text[start..];
    // Start at a paragraph if one begins in the first half, else at the next word.
    let cut = tail[..floor_char_boundary(tail, tail.len() / 2)].find("\n\n").map(|i| i + 2).or_else(|| tail.find(char::is_whitespace).map(|i| i + 1)).unwrap_or(0);
    (tail[cut..].trim_start().to_string(), true)
}

fn char_start_from_end(text: &str, chars: usize) -> usize {
    text.char_indices().rev().nth(chars.saturating_sub(1)).map(|(i, _)| i).filter(|_| text.chars().count() > chars).unwrap_or(0)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
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
        let err = resolve(&input(WritingAction::Rewrite), 4096, &words).unwrap_err();
        assert_eq!(err.to_string(), "Select some text to rewrite.");
        let mut rewrite = input(WritingAction::Rewrite);
        rewrite.selection = "  The rain fell.  ".into();
        rewrite.tone = Some(Tone::Vivid);
        let resolved = resolve(&rewrite, 4096, &words).unwrap();
        assert_eq!(resolved.passage, "The rain fell.");
        assert_eq!(resolved.label(), "rewrite:vivid");
        assert!(resolved.prompt().starts_with("Rewrite this passage to be more vivid, keeping its meaning."), "{}", resolved.prompt());
        assert!(resolved.prompt().ends_with("\n\nThe rain fell."));
    }

    #[test]
    fn continue_reads_the_end_of_the_text_before_the_cursor_within_its_budget() {
        let before: String = (0..5000).map(|i| format!("w{i} ")).collect::<String>() + "\n\nLast paragraph here.";
        let mut cont = input(WritingAction::Continue);
        cont.before = before;
        cont.document = "ignored: there is text before the cursor".into();
        let resolved = resolve(&cont, 4096, &words).unwrap();
        assert!(resolved.truncated);
        assert!(words(&resolved.passage) <= 1536, "{} words", words(&resolved.passage));
        assert!(words(&resolved.passage) > 1000, "the budget is used: {} words", words(&resolved.passage));
        assert!(resolved.passage.ends_with("Last paragraph here."));
        assert!(resolved.passage.starts_with('w'), "starts at a word: {:?}", &resolved.passage[..20]);
        assert!(resolved.prompt().contains("\n\n…w"));
        assert_eq!(resolved.max_tokens, 320);
    }

    #[test]
    fn a_small_context_halves_the_budget_and_short_text_is_kept_whole() {
        let mut critique = input(WritingAction::Critique);
        critique.document = (0..3000).map(|i| format!("x{i} ")).collect();
        let resolved = resolve(&critique, 1024, &words).unwrap();
        assert!(words(&resolved.passage) <= 512);
        critique.document = "A short scene.".into();
        let resolved = resolve(&critique, 1024, &words).unwrap();
        assert_eq!((resolved.passage.as_str(), resolved.truncated), ("A short scene.", false));
    }

    #[test]
    fn rewrites_get_room_in_proportion_to_the_passage() {
        let mut expand = input(WritingAction::Expand);
        expand.selection = "word ".repeat(200);
        let long = resolve(&expand, 8192, &words).unwrap().max_tokens;
        expand.selection = "word ".repeat(10);
        let short = resolve(&expand, 8192, &words).unwrap().max_tokens;
        assert!(long > short && long == 564 && short == 160, "{long} {short}");
    }

    #[test]
    fn a_selection_that_cannot_fit_is_refused_not_cut() {
        let mut shorten = input(WritingAction::Shorten);
        shorten.selection = "word ".repeat(5000);
        let err = resolve(&shorten, 2048, &words).unwrap_err().to_string();
        assert!(err.contains("too long for this model (5000 tokens"), "{err}");
    }

    #[test]
    fn a_free_instruction_needs_words_and_comes_first() {
        assert_eq!(resolve(&input(WritingAction::Custom), 4096, &words).unwrap_err().to_string(), "Write an instruction first.");
        let mut custom = input(WritingAction::Custom);
        custom.instruction = Some(" Make it rhyme. ".into());
        custom.document = "Roses are red.".into();
        assert_eq!(resolve(&custom, 4096, &words).unwrap().prompt(), "Make it rhyme.\n\nRoses are red.");
    }

    #[test]
    fn nothing_to_work_on_is_a_clear_error() {
        let err = resolve(&input(WritingAction::Continue), 4096, &words).unwrap_err().to_string();
        assert!(err.starts_with("There is no text yet"), "{err}");
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        let mut cont = input(WritingAction::Continue);
        cont.before = "é日本 ".repeat(4000);
        let resolved = resolve(&cont, 4096, &|t: &str| t.chars().count() / 2).unwrap();
        assert!(resolved.truncated && resolved.passage.chars().count() / 2 <= 1536);
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
