//! Chat prompts: the GGUF's own Jinja template (`tokenizer.chat_template`) rendered with minijinja the
//! way `transformers` renders it, with fallbacks for files that carry no template.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        match &self.format {
            ChatFormat::Jinja(source) => {
                let env = environment();
                let template = env.template_from_str(source).map_err(template_error)?;
                template
                    .render(minijinja::context! {
                        messages => minijinja::Value::from(minijinja::value::Serde(messages)),
                        add_generation_prompt => true,
                        bos_token => &self.bos_token,
                        eos_token => &self.eos_token,
                    })
                    .map_err(template_error)
            }
            ChatFormat::MistralV7 => Ok(self.render_mistral_v7(messages)),
            ChatFormat::MistralV3 => Ok(self.render_mistral_v3(messages)),
            ChatFormat::ChatMl => {
                let mut out = String::new();
                for m in messages {
                    out.push_str(&format!("<|im_start|>{}\n{}<|im_end|>\n", role_name(m.role), m.content));
                }
                out.push_str("<|im_start|>assistant\n");
                Ok(out)
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
                Ok(out)
            }
        }
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
    env.add_function("strftime_now", |format: String| chrono::Local::now().format(&format).to_string());
    env
}

fn template_error(err: minijinja::Error) -> EngineError {
    match err.kind() {
        // The template itself refused the conversation (e.g. roles out of order): say what it said.
        ErrorKind::InvalidOperation => EngineError::Template(err.detail().unwrap_or("the template refused the conversation").to_string()),
        _ => EngineError::Template(err.to_string()),
    }
}
