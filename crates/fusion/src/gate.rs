//! How many requests an endpoint serves at once. A local server (llama.cpp's, llama-cpp-python's) runs
//! one request at a time and may cut a running stream when a second arrives, so members that share it
//! wait their turn instead. The limits are per endpoint and shared by every run in the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Semaphore;

use crate::config::requires_key;

/// The limit for an endpoint nobody configured: one request at a time on this computer, none elsewhere.
pub fn default_limit(base_url: &str) -> Option<usize> {
    (!requires_key(base_url)).then_some(1)
}

/// The shared gate of `base_url` for `limit` requests at once (at least one). Providers that name the
/// same endpoint with the same limit share it; a provider configured with another limit gets its own.
pub fn for_endpoint(base_url: &str, limit: usize) -> Arc<Semaphore> {
    static GATES: OnceLock<Mutex<HashMap<(String, usize), Arc<Semaphore>>>> = OnceLock::new();
    let limit = limit.max(1);
    let mut gates = GATES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    let key = (base_url.trim().trim_end_matches('/').to_ascii_lowercase(), limit);
    Arc::clone(gates.entry(key).or_insert_with(|| Arc::new(Semaphore::new(limit))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_serve_one_request_by_default_and_share_their_gate() {
        assert_eq!(default_limit("http://127.0.0.1:8080/v1"), Some(1));
        assert_eq!(default_limit("https://api.openai.com/v1"), None);
        let a = for_endpoint("http://127.0.0.1:59999/v1", 1);
        let b = for_endpoint("http://127.0.0.1:59999/v1/", 1);
        assert!(Arc::ptr_eq(&a, &b));
        let _held = a.try_acquire().unwrap();
        assert!(b.try_acquire().is_err());
        let wider = for_endpoint("http://127.0.0.1:59999/v1", 2);
        assert_eq!(wider.available_permits(), 2);
        assert!(Arc::ptr_eq(&wider, &for_endpoint("http://127.0.0.1:59999/v1", 2)));
    }
}
