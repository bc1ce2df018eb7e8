//! Cloud providers as both front ends see them: the library's records, the built-in presets, which of
//! them may receive a key, and the keys themselves — each filed under the provider **and the origin**
//! it was given for, so a provider re-pointed elsewhere (an edited URL, an imported bundle, a panel
//! file) has no key until the user sets one for the new address.

use std::sync::Arc;

use atelier_fusion::budget::Price;
use atelier_fusion::config::{check_base_url, presets, requires_key, PanelBuilder, ProviderConfig};
use atelier_fusion::{OutboundClient, PriceBook};
use atelier_fusion::local::LocalEngine;
use atelier_keys::{KeyScope, SecretStore, SecretString};
use atelier_store::{ProviderModel, ProviderRecord, Store};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StudioError};

/// A provider as the UI lists it: "set" / "not set" is all it ever learns about a key.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct ProviderView {
    #[serde(flatten)]
    pub record: ProviderRecord,
    /// A key is stored for this provider at this provider's current origin.
    pub key_set: bool,
    pub requires_key: bool,
    /// `https://api.openai.com:443`: the address a key set now is bound to.
    pub origin: Option<String>,
}

/// What the user typed in Settings → Providers.
#[derive(Debug, Clone, Deserialize)]
#[derive(specta::Type)]
pub struct ProviderInput {
    pub id: String,
    pub name: String,
    pub base_url: String,
    pub models: Vec<ProviderModel>,
    pub enabled: bool,
    /// Requests its endpoint serves at once; `None`: one on this computer, no limit elsewhere.
    #[serde(default)]
    pub max_concurrent: Option<u32>,
}

/// The key scope of a provider at `base_url`.
pub fn scope(id: &str, base_url: &str) -> Result<KeyScope> {
    Ok(KeyScope::new(id, base_url)?)
}

fn key_set(keys: &dyn SecretStore, id: &str, base_url: &str) -> bool {
    KeyScope::new(id, base_url).ok().map(|s| keys.has(&s).unwrap_or(false)).unwrap_or(false)
}

pub async fn list(store: &Store, keys: &dyn SecretStore) -> Result<Vec<ProviderView>> {
    Ok(store
        .providers()
        .list()
        .await?
        .into_iter()
        .map(|record| ProviderView {
            key_set: key_set(keys, &record.id, &record.base_url),
            requires_key: requires_key(&record.base_url),
            origin: atelier_keys::Origin::parse(&record.base_url).ok().map(|o| o.to_string()),
            record,
        })
        .collect())
}

/// Saves a provider after checking its address (https, or http only to this computer).
pub async fn save(store: &Store, input: &ProviderInput) -> Result<ProviderRecord> {
    let url = check_base_url(&input.base_url)?;
    if input.max_concurrent.is_some_and(|n| !(1..=64).contains(&n)) {
        return Err(StudioError::Invalid("Requests at once: choose 1 to 64, or leave it empty for the default.".into()));
    }
    let providers = store.providers();
    providers.save(&input.id, &input.name, "openai_compatible", &url, &input.models, input.enabled).await?;
    Ok(providers.set_max_concurrent(&input.id, input.max_concurrent.map(i64::from)).await?)
}

/// Where a provider's requests go now: the library's record, else the built-in preset.
pub async fn base_url(store: Option<&Store>, id: &str) -> Result<String> {
    if let Some(store) = store {
        match store.providers().get(id).await {
            Ok(record) => return Ok(record.base_url),
            Err(atelier_store::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    presets()
        .into_iter()
        .find(|p| p.id == id)
        .map(|p| p.base_url)
        .ok_or_else(|| StudioError::Invalid(format!("unknown provider `{id}`: add it in Settings → Providers first")))
}

/// Files a key for the provider's current address.
pub async fn set_key(store: Option<&Store>, keys: &dyn SecretStore, id: &str, key: SecretString) -> Result<KeyScope> {
    let scope = scope(id, &base_url(store, id).await?)?;
    keys.set(&scope, &key)?;
    Ok(scope)
}

pub async fn delete_key(store: Option<&Store>, keys: &dyn SecretStore, id: &str) -> Result<bool> {
    let scope = scope(id, &base_url(store, id).await?)?;
    Ok(keys.delete(&scope)?)
}

pub async fn has_key(store: Option<&Store>, keys: &dyn SecretStore, id: &str) -> Result<bool> {
    let scope = scope(id, &base_url(store, id).await?)?;
    Ok(keys.has(&scope)?)
}

/// Forgets a provider and the key for its address.
pub async fn delete(store: &Store, keys: &dyn SecretStore, id: &str) -> Result<()> {
    if let Ok(record) = store.providers().get(id).await {
        if let Ok(scope) = KeyScope::new(id, &record.base_url) {
            let _ = keys.delete(&scope);
        }
    }
    Ok(store.providers().delete(id).await?)
}

/// Keys an earlier Atelier filed under the bare provider id are re-filed under the built-in preset's own
/// origin — the only address such a key can be vouched for. Keys of custom providers are dropped from
/// the old place and must be set again. Returns the providers whose keys moved.
pub fn migrate_unscoped_keys(keys: &dyn SecretStore) -> Vec<String> {
    let mut moved = Vec::new();
    for preset in presets().into_iter().filter(|p| p.requires_key) {
        if let (Ok(Some(key)), Ok(scope)) = (keys.take_unscoped(&preset.id), KeyScope::new(&preset.id, &preset.base_url)) {
            if keys.set(&scope, &key).is_ok() {
                moved.push(preset.id);
            }
        }
    }
    moved
}

/// The library's enabled providers as panel configurations, with their prices.
pub fn configs(records: &[ProviderRecord]) -> Vec<ProviderConfig> {
    records
        .iter()
        .filter(|r| r.enabled)
        .map(|r| ProviderConfig {
            id: r.id.clone(),
            name: Some(r.name.clone()),
            base_url: r.base_url.clone(),
            requires_key: requires_key(&r.base_url),
            max_concurrent: r.max_concurrent.and_then(|n| usize::try_from(n).ok()),
            prices: r
                .models
                .iter()
                .filter_map(|m| match (m.input_per_mtok, m.output_per_mtok) {
                    (Some(i), Some(o)) => Some((m.id.clone(), Price { input_per_mtok: i, output_per_mtok: o })),
                    _ => None,
                })
                .collect(),
        })
        .collect()
}

/// A panel builder over the presets and the library's providers; their prices go into `prices`.
pub async fn panel_builder(
    store: &Store,
    keys: Arc<dyn SecretStore>,
    client: OutboundClient,
    local: Option<Arc<LocalEngine>>,
    prices: Arc<PriceBook>,
) -> Result<PanelBuilder> {
    let records = store.providers().list().await?;
    let mut builder = PanelBuilder::new(client, keys, local);
    builder.prices = prices;
    Ok(builder.with_providers(&configs(&records)))
}

/// Cloud models the user can send to right now: enabled providers with models and, where one is
/// needed, a key for their current address.
pub async fn usable_cloud(store: &Store, keys: &dyn SecretStore) -> Result<(usize, Vec<String>)> {
    let mut models = 0;
    let mut names = Vec::new();
    for p in store.providers().list().await?.into_iter().filter(|p| p.enabled) {
        let usable = !requires_key(&p.base_url) || key_set(keys, &p.id, &p.base_url);
        if usable && !p.models.is_empty() {
            models += p.models.len();
            names.push(p.name);
        }
    }
    Ok((models, names))
}

/// Sends a one-line request to check a provider's address, key and model; returns its answer.
pub async fn test(builder: &PanelBuilder, provider: &str, model: &str) -> Result<String> {
    use atelier_fusion::provider::{ChatEvent, ChatMessage, ChatRequest};
    use futures::StreamExt;
    let seat = builder.seat(&atelier_fusion::MemberConfig { provider: provider.into(), model: Some(model.into()) })?;
    let request = ChatRequest { messages: vec![ChatMessage::user("Reply with the word: ready")], max_tokens: 8, temperature: 0.0, top_p: None, seed: None, response_format: None };
    let mut stream = seat.provider.stream_chat(request, tokio_util::sync::CancellationToken::new());
    let mut text = String::new();
    let answer = async {
        while let Some(event) = stream.next().await {
            match event? {
                ChatEvent::Delta(t) => text.push_str(&t),
                ChatEvent::Done => break,
                ChatEvent::Usage(_) => {}
            }
        }
        Ok::<_, StudioError>(())
    };
    tokio::time::timeout(PROVIDER_TEST_TIMEOUT, answer)
        .await
        .map_err(|_| StudioError::Timeout(format!("no answer within {} s", PROVIDER_TEST_TIMEOUT.as_secs())))??;
    Ok(text.trim().to_string())
}

const PROVIDER_TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Refreshes prices from the provider's model list (OpenRouter publishes them); returns how many.
pub async fn fetch_prices(store: &Store, keys: Arc<dyn SecretStore>, client: OutboundClient, prices: &PriceBook, id: &str) -> Result<usize> {
    let record = store.providers().get(id).await?;
    let mut provider = atelier_fusion::openai::OpenAiProvider::new(&record.id, &record.base_url, "-", client, keys)?;
    if !requires_key(&record.base_url) {
        provider = provider.without_key();
    }
    let fetched = provider.fetch_prices().await?;
    for (model, price) in &fetched {
        prices.set_fetched(&record.id, model, *price);
    }
    Ok(fetched.len())
}
