//! The one interface every model is reached through.

use std::sync::Arc;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::error::MemberError;

/// The same messages the on-device engine renders with its chat template.
pub use atelier_engine::{ChatMessage, ResponseFormat, Role};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub max_tokens: usize,
    pub temperature: f32,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// The shape the reply must have: the engine masks its tokens to it; a server that supports
    /// structured outputs gets it as `response_format`.
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    /// Known when the provider reports it or a price is configured.
    pub cost_usd: Option<f64>,
}

/// What a provider streams: text, then (usually) usage, then the end.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    Delta(String),
    Usage(Usage),
    Done,
}

/// A model the panel can ask. Implementations: [`crate::local::LocalProvider`] (the on-device engine) and
/// [`crate::openai::OpenAiProvider`] (any OpenAI-compatible HTTP endpoint).
pub trait Provider: Send + Sync {
    /// "local", "openrouter", … — the provider's id, also the keychain account of its key.
    fn id(&self) -> &str;
    /// The model this provider instance asks.
    fn model(&self) -> &str;
    /// Whether requests leave the device (the privacy pill counts these).
    fn is_cloud(&self) -> bool;
    /// Streams one reply. Dropping the stream or cancelling `cancel` stops the request.
    fn stream_chat(&self, request: ChatRequest, cancel: CancellationToken) -> BoxStream<'static, Result<ChatEvent, MemberError>>;
    /// The gate of the endpoint this provider shares with others (a local server, the on-device
    /// model): a member waits there, queued, until its request may start. `None`: no limit.
    fn gate(&self) -> Option<Arc<tokio::sync::Semaphore>> {
        None
    }
}
