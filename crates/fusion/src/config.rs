//! Panels from text: `provider:model` member strings, built-in provider presets, and a TOML file for
//! repeatable panels.
//!
//! ```toml
//! mode = "merge"          # best-of | merge | debate
//! rounds = 1              # debate rounds
//! budget_usd = 0.05
//! max_tokens = 512
//! members = ["local", "openrouter:mistralai/ministral-8b", "mistral:mistral-small-latest"]
//! judge = "openrouter:mistralai/mistral-medium-3"
//!
//! [[providers]]           # add or override endpoints
//! id = "my-vllm"
//! base_url = "http://127.0.0.1:8000/v1"
//! requires_key = false
//! [providers.prices]      # USD per million tokens
//! "Qwen/Qwen3-8B" = { input_per_mtok = 0.0, output_per_mtok = 0.0 }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use atelier_keys::{KeyScope, Origin, SecretStore};
use serde::{Deserialize, Serialize};

use crate::budget::{Price, PriceBook};
use crate::client::OutboundClient;
use crate::error::FusionError;
use crate::local::{LocalEngine, LocalProvider};
use crate::modes::Mode;
use crate::openai::OpenAiProvider;
use crate::panel::MemberSpec;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProviderConfig {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub base_url: String,
    #[serde(default = "yes")]
    pub requires_key: bool,
    #[serde(default)]
    pub prices: BTreeMap<String, Price>,
    /// How many requests this endpoint serves at once; `None`: one for a server on this computer,
    /// no limit elsewhere.
    #[serde(default)]
    pub max_concurrent: Option<usize>,
}

fn yes() -> bool {
    true
}

/// Servers on this computer (Ollama, a local vLLM) need no key; anything else does. The URL is parsed:
/// `https://localhost.evil` is not local.
pub fn requires_key(base_url: &str) -> bool {
    !Origin::parse(base_url).map(|o| o.is_loopback()).unwrap_or(false)
}

/// Checks a provider's base URL as the user typed it: https, or http to this computer; no user name,
/// password, query or fragment.
pub fn check_base_url(base_url: &str) -> Result<String, FusionError> {
    let url = base_url.trim().trim_end_matches('/');
    Origin::parse(url).map_err(|e| FusionError::Config(e.to_string()))?;
    if url.contains(['?', '#']) {
        return Err(FusionError::Config(format!("`{}`: a base URL has no query or fragment", atelier_keys::strip_secrets(url))));
    }
    Ok(url.to_string())
}

/// The services Atelier knows out of the box.
pub fn presets() -> Vec<ProviderConfig> {
    let preset = |id: &str, name: &str, url: &str, key: bool| ProviderConfig {
        id: id.into(),
        name: Some(name.into()),
        base_url: url.into(),
        requires_key: key,
        prices: BTreeMap::new(),
        max_concurrent: None,
    };
    vec![
        preset("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", true),
        preset("mistral", "Mistral AI", "https://api.mistral.ai/v1", true),
        preset("openai", "OpenAI", "https://api.openai.com/v1", true),
        preset("ollama", "Ollama", "http://127.0.0.1:11434/v1", false),
        preset("lmstudio", "LM Studio", "http://127.0.0.1:1234/v1", false),
        preset("llamacpp", "llama.cpp server", "http://127.0.0.1:8080/v1", false),
        preset("vllm", "vLLM", "http://127.0.0.1:8000/v1", false),
    ]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberConfig {
    pub provider: String,
    pub model: Option<String>,
}

impl MemberConfig {
    /// `local`, `local@0.9` (a temperature), or `provider:model` (the model may contain ':' and '/').
    pub fn parse(text: &str) -> Result<Self, FusionError> {
        let text = text.trim();
        if text == "local" || text.starts_with("local@") || text.starts_with("local:") {
            return Ok(Self { provider: "local".into(), model: text.split_once(['@', ':']).map(|(_, m)| m.to_string()) });
        }
        match text.split_once(':') {
            Some((provider, model)) if !provider.is_empty() && !model.is_empty() => {
                Ok(Self { provider: provider.into(), model: Some(model.into()) })
            }
            _ => Err(FusionError::Config(format!("`{text}`: write a member as `local` or `provider:model`"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusionConfig {
    #[serde(default = "default_mode")]
    pub mode: String,
    #[serde(default = "one")]
    pub rounds: usize,
    #[serde(default)]
    pub budget_usd: Option<f64>,
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub judge: Option<String>,
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
}

fn default_mode() -> String {
    "merge".into()
}
fn one() -> usize {
    1
}
fn default_max_tokens() -> usize {
    512
}

impl FusionConfig {
    pub fn from_toml(text: &str) -> Result<Self, FusionError> {
        toml::from_str(text).map_err(|e| FusionError::Config(format!("panel file: {e}")))
    }

    pub fn mode(&self) -> Result<Mode, FusionError> {
        Mode::parse(&self.mode, self.rounds).ok_or_else(|| FusionError::Config(format!("unknown mode `{}` (best-of, merge, debate)", self.mode)))
    }
}

/// Turns member strings into panel seats.
#[derive(Clone)]
pub struct PanelBuilder {
    pub client: OutboundClient,
    pub keys: Arc<dyn SecretStore>,
    pub local: Option<Arc<LocalEngine>>,
    pub providers: Vec<ProviderConfig>,
    pub prices: Arc<PriceBook>,
}

impl PanelBuilder {
    pub fn new(client: OutboundClient, keys: Arc<dyn SecretStore>, local: Option<Arc<LocalEngine>>) -> Self {
        Self { client, keys, local, providers: presets(), prices: Arc::new(PriceBook::default()) }
    }

    /// Adds (or replaces) the user's own providers (the library's), registering their prices as overrides.
    /// A provider whose URL the user changed keeps its id, but its key stays with the old origin.
    pub fn with_providers(mut self, providers: &[ProviderConfig]) -> Self {
        for p in providers {
            for (model, price) in &p.prices {
                self.prices.set_override(&p.id, model, *price);
            }
            self.providers.retain(|q| q.id != p.id);
            self.providers.push(p.clone());
        }
        self
    }

    /// Providers from a panel file, which anyone may have written: new ids are added, but a file cannot
    /// re-point a known provider that has a key to another origin (that would send the key there).
    pub fn with_panel_providers(self, providers: &[ProviderConfig]) -> Result<Self, FusionError> {
        for p in providers {
            let Some(known) = self.providers.iter().find(|q| q.id == p.id) else { continue };
            let (Ok(from), Ok(to)) = (Origin::parse(&known.base_url), Origin::parse(&p.base_url)) else {
                return Err(FusionError::Config(format!("panel file: provider `{}` has an unusable base URL", p.id)));
            };
            if from == to {
                continue;
            }
            // An unreadable keychain counts as "has a key": refusing is the safe side.
            let has_key = KeyScope::new(&known.id, &known.base_url).map(|scope| self.keys.has(&scope).unwrap_or(true)).unwrap_or(false);
            if has_key {
                return Err(FusionError::Config(format!(
                    "panel file: provider `{id}` points to {to}, but its key was given for {from}. \
                     Give this endpoint its own id (e.g. `{id}-2`) and set a key for it; a key is never sent to another address",
                    id = p.id
                )));
            }
        }
        Ok(self.with_providers(providers))
    }

    pub fn seat(&self, member: &MemberConfig) -> Result<MemberSpec, FusionError> {
        if member.provider == "local" {
            let engine = self.local.clone().ok_or_else(|| FusionError::Config("no on-device model is loaded".into()))?;
            let provider = match member.model.as_deref().and_then(|t| t.parse::<f32>().ok()) {
                Some(temperature) => LocalProvider::persona(engine, temperature, None),
                None => LocalProvider::new(engine),
            };
            return Ok(MemberSpec::new(Arc::new(provider)).with_price(Price::FREE));
        }
        let config = self.providers.iter().find(|p| p.id == member.provider).ok_or_else(|| {
            FusionError::Config(format!(
                "unknown provider `{}` (known: local, {})",
                member.provider,
                self.providers.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let model = member.model.clone().ok_or_else(|| FusionError::Config(format!("`{}` needs a model: {}:MODEL", config.id, config.id)))?;
        let mut provider = OpenAiProvider::new(&config.id, &config.base_url, &model, self.client.clone(), Arc::clone(&self.keys))
            .map_err(|e| FusionError::Config(format!("provider `{}`: {e}", config.id)))?;
        if !config.requires_key || !requires_key(&config.base_url) {
            provider = provider.without_key();
        }
        if let Some(limit) = config.max_concurrent {
            provider = provider.with_concurrency(Some(limit));
        }
        let price = self.prices.get(&config.id, &model);
        if let Some(price) = price {
            provider = provider.with_price(price);
        }
        let mut spec = MemberSpec::new(Arc::new(provider));
        spec.price = price;
        Ok(spec)
    }

    /// Offline self-fusion: samples of the on-device model with different temperatures and personas.
    pub fn self_fusion_panel(&self, size: usize) -> Result<Vec<MemberSpec>, FusionError> {
        self.self_fusion_panel_with(size, &default_personas())
    }

    /// Self-fusion with the writer's own personas, used in turn for `size` samples.
    pub fn self_fusion_panel_with(&self, size: usize, personas: &[Persona]) -> Result<Vec<MemberSpec>, FusionError> {
        let engine = self.local.clone().ok_or_else(|| FusionError::Config("no on-device model is loaded".into()))?;
        let defaults = default_personas();
        let personas = if personas.is_empty() { &defaults[..] } else { personas };
        for p in personas {
            if !(0.0..=2.0).contains(&p.temperature) || p.description.trim().is_empty() || p.description.len() > 200 {
                return Err(FusionError::Config(format!(
                    "persona `{}` at t={}: a persona needs a description of at most 200 characters and a temperature from 0 to 2",
                    p.description.trim(),
                    p.temperature
                )));
            }
        }
        Ok(personas
            .iter()
            .cycle()
            .take(size.clamp(1, crate::panel::MAX_PANEL))
            .map(|p| MemberSpec::new(Arc::new(LocalProvider::persona(Arc::clone(&engine), p.temperature, Some(p.description.trim())))).with_price(Price::FREE))
            .collect())
    }
}

/// One sample of the on-device model in a self-fusion panel: a voice and how freely it writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Persona {
    pub temperature: f32,
    pub description: String,
}

/// Spread temperatures and voices: the diversity the aggregator draws on.
pub fn default_personas() -> Vec<Persona> {
    [(0.3, "a meticulous line editor"), (0.8, "a bold literary stylist"), (1.0, "a plain-spoken critic"), (0.6, "a seasoned novelist")]
        .into_iter()
        .map(|(temperature, description)| Persona { temperature, description: description.into() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_strings_parse() {
        assert_eq!(MemberConfig::parse("local").unwrap(), MemberConfig { provider: "local".into(), model: None });
        assert_eq!(MemberConfig::parse("local@0.9").unwrap().model.as_deref(), Some("0.9"));
        let m = MemberConfig::parse("openrouter:mistralai/ministral-8b:free").unwrap();
        assert_eq!((m.provider.as_str(), m.model.as_deref()), ("openrouter", Some("mistralai/ministral-8b:free")));
        assert!(MemberConfig::parse("openrouter").is_err());
    }

    #[test]
    fn a_panel_file_parses() {
        let config = FusionConfig::from_toml(
            r#"
            mode = "debate"
            rounds = 2
            budget_usd = 0.05
            members = ["local", "vllm:qwen"]
            judge = "vllm:qwen"
            [[providers]]
            id = "vllm"
            base_url = "http://127.0.0.1:9000/v1"
            requires_key = false
            [providers.prices]
            "qwen" = { input_per_mtok = 0.5, output_per_mtok = 1.5 }
            "#,
        )
        .unwrap();
        assert_eq!(config.mode().unwrap(), Mode::Debate { rounds: 2 });
        assert_eq!(config.providers[0].prices["qwen"].output_per_mtok, 1.5);
        assert!(FusionConfig::from_toml("mode = 3").is_err());
    }

    #[test]
    fn local_means_loopback_not_a_name_that_starts_so() {
        assert!(!requires_key("http://127.0.0.1:8000/v1"));
        assert!(!requires_key("http://localhost:11434/v1"));
        assert!(!requires_key("http://[::1]:8080/v1"));
        assert!(requires_key("https://localhost.evil/v1"));
        assert!(requires_key("https://api.example.com/127.0.0.1/localhost"));
        assert!(check_base_url("http://192.168.1.5:8000/v1").is_err());
        assert!(check_base_url("https://u:p@api.example.com/v1").is_err());
        assert!(check_base_url("https://api.example.com/v1?key=x").is_err());
        assert_eq!(check_base_url(" https://api.example.com/v1/ ").unwrap(), "https://api.example.com/v1");
    }

    fn builder_with_openai_key() -> PanelBuilder {
        let keys = Arc::new(atelier_keys::MemoryStore::default());
        let scope = KeyScope::new("openai", "https://api.openai.com/v1").unwrap();
        keys.set(&scope, &atelier_keys::SecretString::from("sk-openai-0123456789")).unwrap();
        PanelBuilder::new(OutboundClient::new(std::time::Duration::from_secs(1)), keys, None)
    }

    #[test]
    fn a_panel_file_cannot_re_point_a_provider_that_has_a_key() {
        let file = FusionConfig::from_toml(
            r#"
            members = ["openai:gpt-4o-mini"]
            [[providers]]
            id = "openai"
            base_url = "https://elsewhere.example/v1"
            "#,
        )
        .unwrap();
        let err = builder_with_openai_key().with_panel_providers(&file.providers).err().expect("re-pointing was accepted");
        assert!(err.to_string().contains("https://elsewhere.example:443"), "{err}");
        // Same origin, another path: fine. A new id at that host: fine, and it has no key there.
        let same = FusionConfig::from_toml("[[providers]]\nid = \"openai\"\nbase_url = \"https://api.openai.com/v2\"").unwrap();
        assert!(builder_with_openai_key().with_panel_providers(&same.providers).is_ok());
        let other = FusionConfig::from_toml("[[providers]]\nid = \"elsewhere\"\nbase_url = \"https://elsewhere.example/v1\"").unwrap();
        assert!(builder_with_openai_key().with_panel_providers(&other.providers).is_ok());
        // A provider without a key may be re-pointed (a local vLLM on another port).
        let vllm = FusionConfig::from_toml("[[providers]]\nid = \"vllm\"\nbase_url = \"http://127.0.0.1:9000/v1\"\nrequires_key = false").unwrap();
        assert!(builder_with_openai_key().with_panel_providers(&vllm.providers).is_ok());
    }

    #[test]
    fn a_library_provider_moved_to_another_host_is_seated_without_the_key() {
        let moved = ProviderConfig { base_url: "https://elsewhere.example/v1".into(), ..presets().into_iter().find(|p| p.id == "openai").unwrap() };
        let builder = builder_with_openai_key().with_providers(&[moved]);
        let seat = builder.seat(&MemberConfig::parse("openai:gpt-4o-mini").unwrap()).unwrap();
        assert_eq!(seat.provider.id(), "openai");
        // Plain http to the network cannot even be seated.
        let clear = ProviderConfig { base_url: "http://api.openai.com/v1".into(), ..presets().into_iter().find(|p| p.id == "openai").unwrap() };
        assert!(builder_with_openai_key().with_providers(&[clear]).seat(&MemberConfig::parse("openai:m").unwrap()).is_err());
    }
}
