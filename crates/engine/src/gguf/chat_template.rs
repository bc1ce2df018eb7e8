//! Chat prompts: the GGUF's own Jinja template (`tokenizer.chat_template`) rendered with minijinja the
//! way `transformers` renders it, with fallbacks for files that carry no template.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: Role::System, content: content.into() }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self { role: Role::User, content: content.into() }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: content.into() }
    }
}

/// How a conversation becomes prompt text.
#[derive(Debug, Clone)]
pub enum ChatFormat {
    /// The model's own Jinja template.
    Jinja(String),
    /// Mistral's v7 (Tekken) format: `[SYSTEM_PROMPT]…[/SYSTEM_PROMPT][INST]…[/INST]`.
    MistralV7,
    /// Mistral's older SentencePiece format: `[INST] …[/INST]`, the system prompt before the last user turn.
    MistralV3,
    /// `<|im_start|>role\n…<|im_end|>`.
    ChatMl,
    /// Plain "User:/Assistant:" lines for base models.
    Plain,
}

/// A prompt ready to tokenise: message contents sit at `content_ranges` (byte ranges of `text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPrompt {
    pub text: String,
    pub content_ranges: Vec<std::ops::Range<usize>>,
}

/// Work a template may do (minijinja fuel: one per instruction, or per 64 bytes it builds), plus a
/// share per byte of message text: generous for real templates, milliseconds for a runaway loop.
const BASE_FUEL: u64 = 2_000_000;
/// Rendered output beyond the messages themselves (twice their size is allowed on top).
pub const MAX_OUTPUT: usize = 1 << 20;

// Placeholder for message `i`: private-use markers no template writes, padded with whitespace so that a
// template that trims its messages is seen to (and the real content is trimmed the same way).
const OPEN: char = '\u{F0001}';
const CLOSE: char = '\u{F0002}';
const PAD_LEFT: &str = " \n";
const PAD_RIGHT: &str = "\n ";

/// Replaces each placeholder in `rendered` by its message's content, recording where each content lies.
fn substitute(rendered: &str, messages: &[ChatMessage]) -> Result<RenderedPrompt> {
    let mut text = String::with_capacity(rendered.len() + messages.iter().map(|m| m.content.len()).sum::<usize>());
    let mut content_ranges = Vec::new();
    let mut rest = rendered;
    while let Some(open) = rest.find(OPEN) {
        let after = &rest[open + OPEN.len_utf8()..];
        let index = after
            .find(CLOSE)
            .and_then(|close| after[..close].parse::<usize>().ok().map(|i| (i, close)))
            .filter(|(i, _)| *i < messages.len());
        let Some((index, close)) = index else {
            return Err(EngineError::Template(
                "the template rewrites message text in a way that cannot keep control-token text in a message inert".into(),
            ));
        };
        let before = &rest[..open];
        let left_trimmed = !before.ends_with(PAD_LEFT);
        text.push_str(if left_trimmed { before } else { &before[..before.len() - PAD_LEFT.len()] });
        rest = &after[close + CLOSE.len_utf8()..];
        let right_trimmed = !rest.starts_with(PAD_RIGHT);
        if !right_trimmed {
            rest = &rest[PAD_RIGHT.len()..];
        }
        let mut content = messages[index].content.as_str();
        if left_trimmed {
            content = content.trim_start();
        }
        if right_trimmed {
            content = content.trim_end();
        }
        content_ranges.push(text.len()..text.len() + content.len());
        text.push_str(content);
    }
    text.push_str(rest);
    Ok(RenderedPrompt { text, content_ranges })
}

/// Collects the output, failing the render once it passes `limit` bytes.
struct CappedWriter {
    buf: Vec<u8>,
    limit: usize,
    over: bool,
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            self.over = true;
            return Err(std::io::Error::other("output too large"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct ChatTemplate {
    format: ChatFormat,
    bos_token: String,
    eos_token: String,
}

impl ChatTemplate {
    /// Chooses the template: the GGUF's own, else a fallback guessed from the special tokens it has.
    pub fn new(template: Option<String>, bos_token: String, eos_token: String, has_token: impl Fn(&str) -> bool) -> Result<Self> {
        let format = match template {
            Some(source) if !source.trim().is_empty() => {
                // Fail now, at load time, rather than on the first message.
                environment().template_from_str(&source).map_err(template_error)?;
                ChatFormat::Jinja(source)
            }
            _ if has_token("[SYSTEM_PROMPT]") => ChatFormat::MistralV7,
            _ if has_token("[INST]") => ChatFormat::MistralV3,
            _ if has_token("<|im_start|>") => ChatFormat::ChatMl,
            _ => ChatFormat::Plain,
        };
        Ok(Self { format, bos_token, eos_token })
    }

    pub fn with_format(format: ChatFormat, bos_token: String, eos_token: String) -> Self {
        Self { format, bos_token, eos_token }
    }

    pub fn format(&self) -> &ChatFormat {
        &self.format
    }

    /// Renders the conversation, ending with the cue for the assistant's turn.
    pub fn render(&self, messages: &[ChatMessage]) -> Result<String> {
        if messages.is_empty() {
            return Err(EngineError::EmptyPrompt);
        }
        let input: usize = messages.iter().map(|m| m.content.len()).sum();
        self.render_raw(messages, input)
    }

    /// Renders for tokenising: the text and the byte ranges that hold message contents, where a control
    /// token must not be matched. When some content holds control-token text (`has_control_text`), the
    /// template runs on placeholders and the contents are put in afterwards, so that the template's
    /// own tokens and the user's text cannot be confused.
    pub fn render_prompt(&self, messages: &[ChatMessage], has_control_text: impl Fn(&str) -> bool) -> Result<RenderedPrompt> {
        if !messages.iter().any(|m| has_control_text(&m.content)) {
            return Ok(RenderedPrompt { text: self.render(messages)?, content_ranges: Vec::new() });
        }
        let placeholders: Vec<ChatMessage> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| ChatMessage { role: m.role, content: format!("{PAD_LEFT}{OPEN}{i}{CLOSE}{PAD_RIGHT}") })
            .collect();
        let rendered = self.render(&placeholders)?;
        substitute(&rendered, messages)
    }

    /// Renders with the work budget scaled to `input` bytes of message text.
    fn render_raw(&self, messages: &[ChatMessage], input: usize) -> Result<String> {
        let out = match &self.format {
            ChatFormat::Jinja(source) => {
                let mut env = environment();
                env.set_fuel(Some(BASE_FUEL + input as u64 / 4));
                let template = env.template_from_str(source).map_err(template_error)?;
                let limit = MAX_OUTPUT + 2 * input;
                let mut out = CappedWriter { buf: Vec::new(), limit, over: false };
                let result = template.render_captured_to(
                    minijinja::context! {
                        messages => minijinja::Value::from(minijinja::value::Serde(messages)),
                        add_generation_prompt => true,
                        bos_token => &self.bos_token,
                        eos_token => &self.eos_token,
                    },
                    &mut out,
                );
                if out.over {
                    return Err(EngineError::TemplateTooExpensive(format!("its output passed {} KiB", limit >> 10)));
                }
                result.map(drop).map_err(template_error)?;
                String::from_utf8(out.buf).map_err(|_| EngineError::Template("the template wrote invalid UTF-8".into()))?
            }
            ChatFormat::MistralV7 => self.render_mistral_v7(messages),
            ChatFormat::MistralV3 => self.render_mistral_v3(messages),
            ChatFormat::ChatMl => {
                let mut out = String::new();
                for m in messages {
                    out.push_str(&format!("<|im_start|>{}\n{}<|im_end|>\n", role_name(m.role), m.content));
                }
                out.push_str("<|im_start|>assistant\n");
                out
            }
            ChatFormat::Plain => {
                let mut out = String::new();
                for m in messages {
                    let who = match m.role {
                        Role::System => "System",
                        Role::User => "User",
                        Role::Assistant => "Assistant",
                    };
                    out.push_str(&format!("{who}: {}\n", m.content));
                }
                out.push_str("Assistant:");
                out
            }
        };
        Ok(out)
    }

    fn render_mistral_v7(&self, messages: &[ChatMessage]) -> String {
        let mut out = self.bos_token.clone();
        for m in messages {
            match m.role {
                Role::System => out.push_str(&format!("[SYSTEM_PROMPT]{}[/SYSTEM_PROMPT]", m.content)),
                Role::User => out.push_str(&format!("[INST]{}[/INST]", m.content)),
                Role::Assistant => out.push_str(&format!("{}{}", m.content, self.eos_token)),
            }
        }
        out
    }

    fn render_mistral_v3(&self, messages: &[ChatMessage]) -> String {
        let system: Vec<&str> = messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
        let last_user = messages.iter().rposition(|m| m.role == Role::User);
        let mut out = self.bos_token.clone();
        for (i, m) in messages.iter().enumerate() {
            match m.role {
                Role::System => {}
                Role::User if Some(i) == last_user && !system.is_empty() => {
                    out.push_str(&format!("[INST] {}\n\n{}[/INST]", system.join("\n\n"), m.content))
                }
                Role::User => out.push_str(&format!("[INST] {}[/INST]", m.content)),
                Role::Assistant => out.push_str(&format!(" {}{}", m.content, self.eos_token)),
            }
        }
        out
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// A Jinja environment configured as `transformers.apply_chat_template` configures its own.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build().expect("valid syntax config"),
    );
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |message: String| -> std::result::Result<String, minijinja::Error> {
        Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
    });
    env.add_function("strftime_now", strftime_now);
    env
}

/// chrono panics on a bad format when displayed, so the format is checked first.
fn strftime_now(format: String) -> std::result::Result<String, minijinja::Error> {
    use chrono::format::{Item, StrftimeItems};
    let bad = || minijinja::Error::new(ErrorKind::InvalidOperation, format!("strftime_now: invalid format {format:?}"));
    let items: Vec<Item<'_>> = StrftimeItems::new(&format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(bad());
    }
    let mut out = String::new();
    std::fmt::write(&mut out, format_args!("{}", chrono::Local::now().format_with_items(items.into_iter()))).map_err(|_| bad())?;
    Ok(out)
}

fn template_error(err: minijinja::Error) -> EngineError {
    match err.kind() {
        ErrorKind::OutOfFuel => EngineError::TemplateTooExpensive("it ran out of its work budget".into()),
        // The template itself refused the conversation (e.g. roles out of order): say what it said.
        ErrorKind::InvalidOperation => EngineError::Template(err.detail().unwrap_or("the template refused the conversation").to_string()),
        _ => EngineError::Template(err.to_string()),
    }
}
