//! API keys live in the OS keychain and nowhere else. [`SecretStore`] is the small trait the app and
//! the fusion engine use; [`KeyringStore`] is the real one (service `atelier`, account = provider id),
//! [`MemoryStore`] is for tests. Secrets travel as [`SecretString`], whose `Debug` prints `[REDACTED]`.
//!
//! keyring 3.6 rather than 4: 4 moved the platform stores into separate `keyring-core` crates whose
//! Linux Secret Service store was not yet checked headless here, while 3.6 with `sync-secret-service`
//! works under `dbus-run-session` + `gnome-keyring-daemon --unlock` on this CI.

use std::collections::HashMap;
use std::sync::Mutex;

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
    #[error("keychain error: {0}")]
    Backend(String),
}

pub type Result<T, E = KeysError> = std::result::Result<T, E>;

/// Where provider keys are kept. Implementations never log or display a secret.
pub trait SecretStore: Send + Sync {
    fn set(&self, provider_id: &str, secret: &SecretString) -> Result<()>;
    fn get(&self, provider_id: &str) -> Result<Option<SecretString>>;
    /// `true` if a key was deleted.
    fn delete(&self, provider_id: &str) -> Result<bool>;
    fn has(&self, provider_id: &str) -> Result<bool> {
        Ok(self.get(provider_id)?.is_some())
    }
}

fn check_id(id: &str) -> Result<()> {
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

    fn entry(&self, id: &str) -> Result<keyring::Entry> {
        check_id(id)?;
        keyring::Entry::new(&self.service, id).map_err(map_error)
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

impl SecretStore for KeyringStore {
    fn set(&self, provider_id: &str, secret: &SecretString) -> Result<()> {
        check_secret(secret)?;
        self.entry(provider_id)?.set_password(secret.expose_secret()).map_err(map_error)
    }

    fn get(&self, provider_id: &str) -> Result<Option<SecretString>> {
        match self.entry(provider_id)?.get_password() {
            Ok(secret) => Ok(Some(SecretString::from(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    fn delete(&self, provider_id: &str) -> Result<bool> {
        match self.entry(provider_id)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
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

impl SecretStore for MemoryStore {
    fn set(&self, provider_id: &str, secret: &SecretString) -> Result<()> {
        check_id(provider_id)?;
        check_secret(secret)?;
        self.keys.lock().unwrap().insert(provider_id.to_string(), secret.clone());
        Ok(())
    }

    fn get(&self, provider_id: &str) -> Result<Option<SecretString>> {
        check_id(provider_id)?;
        Ok(self.keys.lock().unwrap().get(provider_id).cloned())
    }

    fn delete(&self, provider_id: &str) -> Result<bool> {
        check_id(provider_id)?;
        Ok(self.keys.lock().unwrap().remove(provider_id).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trips_and_deletes() {
        let store = MemoryStore::default();
        assert!(!store.has("openrouter").unwrap());
        store.set("openrouter", &SecretString::from("sk-or-123")).unwrap();
        assert!(store.has("openrouter").unwrap());
        assert_eq!(store.get("openrouter").unwrap().unwrap().expose_secret(), "sk-or-123");
        assert!(store.delete("openrouter").unwrap());
        assert!(!store.delete("openrouter").unwrap());
        assert!(store.get("openrouter").unwrap().is_none());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let store = MemoryStore::default();
        store.set("mistral", &SecretString::from("super-secret-key")).unwrap();
        let secret = store.get("mistral").unwrap().unwrap();
        assert!(!format!("{secret:?}").contains("super-secret-key"));
        assert!(!format!("{store:?}").contains("super-secret-key"));
        assert!(format!("{store:?}").contains("mistral"));
    }

    #[test]
    fn bad_ids_and_empty_keys_are_refused() {
        let store = MemoryStore::default();
        assert!(matches!(store.set("../etc", &SecretString::from("x")), Err(KeysError::InvalidId(_))));
        assert!(matches!(store.set("", &SecretString::from("x")), Err(KeysError::InvalidId(_))));
        assert!(matches!(store.set("ok", &SecretString::from("  ")), Err(KeysError::EmptySecret)));
    }
}
