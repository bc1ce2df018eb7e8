//! API keys live in the OS keychain and nowhere else. [`SecretStore`] is the small trait the app and
//! the fusion engine use; [`KeyringStore`] is the real one (service `atelier`, account =
//! `provider@origin`), [`MemoryStore`] is for tests. Secrets travel as [`SecretString`], whose `Debug`
//! prints `[REDACTED]`.
//!
//! A key is filed under a [`KeyScope`]: the provider id **and the origin** (scheme, host, port) it was
//! given for. A provider re-pointed to another host (an edited URL, a panel file, an imported bundle)
//! asks for a different scope and finds no key, so a key can only ever reach the origin it was set for.
//!
//! keyring 3.6 rather than 4: 4 moved the platform stores into separate `keyring-core` crates whose
//! Linux Secret Service store was not yet checked headless here, while 3.6 with `sync-secret-service`
//! works under `dbus-run-session` + `gnome-keyring-daemon --unlock` on this CI.

use std::collections::HashMap;
use std::sync::Mutex;

mod origin;
pub use origin::{strip_secrets, KeyScope, Origin};

pub use secrecy::{ExposeSecret, SecretString};

/// The keychain service name every Atelier secret is filed under.
pub const SERVICE: &str = "atelier";

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(
        "no keychain is available to store API keys ({detail}). On Linux, Atelier uses the Secret Service: \
         install and unlock gnome-keyring or KWallet (e.g. `sudo apt install gnome-keyring` and log in to a \
         desktop session). Keys are never written to a plain file instead"
    )]
    Unavailable { detail: String },
    #[error("the keychain refused access: {0}. Unlock your keychain and try again")]
    Locked(String),
    #[error("`{0}` is not a valid provider id (letters, digits, '-', '_', '.', ':' only)")]
    InvalidId(String),
    #[error("the key is empty")]
    EmptySecret,
    #[error("`{url}` is not a usable address: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("keychain error: {0}")]
    Backend(String),
}

pub type Result<T, E = KeysError> = std::result::Result<T, E>;

/// Where provider keys are kept. Implementations never log or display a secret.
pub trait SecretStore: Send + Sync {
    fn set(&self, scope: &KeyScope, secret: &SecretString) -> Result<()>;
    fn get(&self, scope: &KeyScope) -> Result<Option<SecretString>>;
    /// `true` if a key was deleted.
    fn delete(&self, scope: &KeyScope) -> Result<bool>;
    fn has(&self, scope: &KeyScope) -> Result<bool> {
        Ok(self.get(scope)?.is_some())
    }
    /// Removes and returns a key filed by an earlier Atelier under the bare provider id (no origin).
    /// The caller re-files it under a scope it can vouch for (a built-in preset's own origin).
    fn take_unscoped(&self, _provider_id: &str) -> Result<Option<SecretString>> {
        Ok(None)
    }
}

pub(crate) fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(KeysError::InvalidId(id.to_string()))
    }
}

fn check_secret(secret: &SecretString) -> Result<()> {
    if secret.expose_secret().trim().is_empty() {
        Err(KeysError::EmptySecret)
    } else {
        Ok(())
    }
}

/// The OS keychain.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self { service: SERVICE.to_string() }
    }
}

impl KeyringStore {
    /// A store under another service name (tests use their own, to never touch the user's keys).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(map_error)
    }

    /// Checks that a keychain answers, so the app can say so before the user types a key.
    pub fn probe(&self) -> Result<()> {
        match self.entry("atelier-probe")?.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }
}

fn map_error(err: keyring::Error) -> KeysError {
    match err {
        keyring::Error::PlatformFailure(e) => {
            let detail = e.to_string();
            let lower = detail.to_lowercase();
            if lower.contains("locked") || lower.contains("dismissed") || lower.contains("denied") {
                KeysError::Locked(detail)
            } else {
                KeysError::Unavailable { detail }
            }
        }
        keyring::Error::NoStorageAccess(e) => KeysError::Unavailable { detail: e.to_string() },
        other => KeysError::Backend(other.to_string()),
    }
}

impl KeyringStore {
    fn read(&self, account: &str) -> Result<Option<SecretString>> {
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(SecretString::from(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    fn remove(&self, account: &str) -> Result<bool> {
        match self.entry(account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }
}

impl SecretStore for KeyringStore {
    fn set(&self, scope: &KeyScope, secret: &SecretString) -> Result<()> {
        check_secret(secret)?;
        self.entry(&scope.account())?.set_password(secret.expose_secret()).map_err(map_error)
    }

    fn get(&self, scope: &KeyScope) -> Result<Option<SecretString>> {
        self.read(&scope.account())
    }

    fn delete(&self, scope: &KeyScope) -> Result<bool> {
        self.remove(&scope.account())
    }

    fn take_unscoped(&self, provider_id: &str) -> Result<Option<SecretString>> {
        check_id(provider_id)?;
        let key = self.read(provider_id)?;
        if key.is_some() {
            self.remove(provider_id)?;
        }
        Ok(key)
    }
}

/// Keys in memory only: for tests, and for sessions that must not persist keys.
#[derive(Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<String, SecretString>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.lock().unwrap().keys().cloned().collect();
        f.debug_struct("MemoryStore").field("provider_ids", &ids).finish()
    }
}

impl MemoryStore {
    /// Files a key the way an earlier Atelier did, under the bare provider id (migration tests).
    pub fn set_unscoped(&self, provider_id: &str, secret: &SecretString) -> Result<()> {
        check_id(provider_id)?;
        check_secret(secret)?;
        self.keys.lock().unwrap().insert(provider_id.to_string(), secret.clone());
        Ok(())
    }
}

impl SecretStore for MemoryStore {
    fn set(&self, scope: &KeyScope, secret: &SecretString) -> Result<()> {
        check_secret(secret)?;
        self.keys.lock().unwrap().insert(scope.account(), secret.clone());
        Ok(())
    }

    fn get(&self, scope: &KeyScope) -> Result<Option<SecretString>> {
        Ok(self.keys.lock().unwrap().get(&scope.account()).cloned())
    }

    fn delete(&self, scope: &KeyScope) -> Result<bool> {
        Ok(self.keys.lock().unwrap().remove(&scope.account()).is_some())
    }

    fn take_unscoped(&self, provider_id: &str) -> Result<Option<SecretString>> {
        check_id(provider_id)?;
        Ok(self.keys.lock().unwrap().remove(provider_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(id: &str, url: &str) -> KeyScope {
        KeyScope::new(id, url).unwrap()
    }

    #[test]
    fn memory_store_round_trips_and_deletes() {
        let store = MemoryStore::default();
        let or = scope("openrouter", "https://openrouter.ai/api/v1");
        assert!(!store.has(&or).unwrap());
        store.set(&or, &SecretString::from("sk-or-123")).unwrap();
        assert!(store.has(&or).unwrap());
        assert_eq!(store.get(&or).unwrap().unwrap().expose_secret(), "sk-or-123");
        assert!(store.delete(&or).unwrap());
        assert!(!store.delete(&or).unwrap());
        assert!(store.get(&or).unwrap().is_none());
    }

    #[test]
    fn a_key_is_bound_to_its_origin() {
        let store = MemoryStore::default();
        store.set(&scope("openai", "https://api.openai.com/v1"), &SecretString::from("sk-real")).unwrap();
        // Same origin, other path or explicit default port: the same key.
        assert!(store.has(&scope("openai", "https://API.openai.com:443/v2/")).unwrap());
        // Another host, scheme or port: no key.
        for elsewhere in ["https://elsewhere/v1", "https://api.openai.com:8443/v1", "https://api.openai.com.evil/v1"] {
            assert!(!store.has(&scope("openai", elsewhere)).unwrap(), "{elsewhere} got the key");
        }
        // Clear text to the same host is no scope at all.
        assert!(KeyScope::new("openai", "http://api.openai.com/v1").is_err());
        // Another provider at the same origin: no key either.
        assert!(!store.has(&scope("other", "https://api.openai.com/v1")).unwrap());
    }

    #[test]
    fn an_unscoped_key_is_taken_once() {
        let store = MemoryStore::default();
        store.set_unscoped("mistral", &SecretString::from("old-key")).unwrap();
        assert_eq!(store.take_unscoped("mistral").unwrap().unwrap().expose_secret(), "old-key");
        assert!(store.take_unscoped("mistral").unwrap().is_none());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let store = MemoryStore::default();
        let mistral = scope("mistral", "https://api.mistral.ai/v1");
        store.set(&mistral, &SecretString::from("super-secret-key")).unwrap();
        let secret = store.get(&mistral).unwrap().unwrap();
        assert!(!format!("{secret:?}").contains("super-secret-key"));
        assert!(!format!("{store:?}").contains("super-secret-key"));
        assert!(format!("{store:?}").contains("mistral"));
    }

    #[test]
    fn bad_ids_and_empty_keys_are_refused() {
        let store = MemoryStore::default();
        assert!(matches!(KeyScope::new("../etc", "https://x.example"), Err(KeysError::InvalidId(_))));
        assert!(matches!(KeyScope::new("", "https://x.example"), Err(KeysError::InvalidId(_))));
        assert!(matches!(store.set(&scope("ok", "https://x.example"), &SecretString::from("  ")), Err(KeysError::EmptySecret)));
    }
}
