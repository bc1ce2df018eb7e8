//! The real OS keychain (Secret Service on Linux). CI runs this under `dbus-run-session` with an unlocked
//! gnome-keyring and a temporary HOME, with ATELIER_REQUIRE_KEYRING=1 so a missing keychain fails the run;
//! elsewhere, without a keychain, the round trip reports itself skipped.

use atelier_keys::{ExposeSecret, KeyScope, KeyringStore, KeysError, SecretStore, SecretString};

fn store() -> Option<KeyringStore> {
    let store = KeyringStore::with_service(format!("atelier-test-{}", std::process::id()));
    match store.probe() {
        Ok(()) => Some(store),
        Err(e) if std::env::var("ATELIER_REQUIRE_KEYRING").is_err() => {
            eprintln!("skipped: no usable keychain here ({e})");
            None
        }
        Err(e) => panic!("ATELIER_REQUIRE_KEYRING is set but the keychain is unusable: {e}"),
    }
}

#[test]
fn a_key_round_trips_through_the_real_keychain() {
    let Some(store) = store() else { return };
    let id = &KeyScope::new("openrouter", "https://openrouter.ai/api/v1").unwrap();
    let key = SecretString::from("sk-or-v1-test-0123456789");
    store.set(id, &key).unwrap();
    assert!(store.has(id).unwrap());
    assert_eq!(store.get(id).unwrap().unwrap().expose_secret(), key.expose_secret());
    // Overwrite, then delete.
    store.set(id, &SecretString::from("sk-or-v1-rotated")).unwrap();
    assert_eq!(store.get(id).unwrap().unwrap().expose_secret(), "sk-or-v1-rotated");
    assert!(store.delete(id).unwrap());
    assert!(!store.has(id).unwrap());
    assert!(!store.delete(id).unwrap());
}

#[test]
fn keys_of_different_providers_are_separate() {
    let Some(store) = store() else { return };
    let mistral = KeyScope::new("mistral", "https://api.mistral.ai/v1").unwrap();
    let openai = KeyScope::new("openai", "https://api.openai.com/v1").unwrap();
    store.set(&mistral, &SecretString::from("m-key")).unwrap();
    store.set(&openai, &SecretString::from("o-key")).unwrap();
    assert_eq!(store.get(&mistral).unwrap().unwrap().expose_secret(), "m-key");
    assert_eq!(store.get(&openai).unwrap().unwrap().expose_secret(), "o-key");
    // The same provider re-pointed to another host finds no key in the real keychain either.
    assert!(store.get(&KeyScope::new("openai", "https://elsewhere.example/v1").unwrap()).unwrap().is_none());
    store.delete(&mistral).unwrap();
    store.delete(&openai).unwrap();
}

/// With no Secret Service on the bus, the error says how to fix it; nothing falls back to a file.
#[test]
fn no_keychain_is_a_clear_error_not_a_plaintext_fallback() {
    // A child process whose session bus points nowhere.
    if std::env::var("ATELIER_KEYS_CHILD").is_ok() {
        let store = KeyringStore::with_service("atelier-test-nobus");
        let scope = KeyScope::new("openrouter", "https://openrouter.ai/api/v1").unwrap();
        let err = store.set(&scope, &SecretString::from("sk-x")).unwrap_err();
        assert!(matches!(err, KeysError::Unavailable { .. }), "{err:?}");
        assert!(err.to_string().contains("gnome-keyring"), "{err}");
        assert!(err.to_string().contains("never written to a plain file"));
        return;
    }
    let home = tempfile_dir();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "no_keychain_is_a_clear_error_not_a_plaintext_fallback", "--nocapture"])
        .env("ATELIER_KEYS_CHILD", "1")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/atelier-no-bus")
        .env("HOME", &home)
        .status()
        .unwrap();
    assert!(status.success());
    // Nothing was written under HOME.
    let files: Vec<_> = walk(&home);
    assert!(files.is_empty(), "files written: {files:?}");
    std::fs::remove_dir_all(&home).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
