//! Origins (scheme, host, port) and the scope a key is filed under.

use std::net::IpAddr;

use url::{Host, Url};

use crate::{check_id, KeysError, Result};

/// Where requests go, as far as a key is concerned: `https://api.openai.com:443`.
///
/// Only `https`, or `http` to this computer (loopback), is an origin: a key never travels in clear text
/// over a network, and an address with a user name or password in it is refused (it would leak into logs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |reason: &str| KeysError::InvalidUrl { url: strip_secrets(url), reason: reason.to_string() };
        let parsed = Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("it carries a user name or password; put the key in the keychain instead"));
        }
        let host = parsed.host().ok_or_else(|| invalid("it has no host"))?;
        let loopback = host_is_loopback(&host);
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => return Err(invalid("use https:// (plain http:// is only for a server on this computer)")),
            other => return Err(invalid(&format!("`{other}:` is not http or https"))),
        }
        let port = parsed.port_or_known_default().ok_or_else(|| invalid("it has no port"))?;
        let host = match host {
            Host::Domain(d) => d.to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => format!("[{ip}]"),
        };
        Ok(Self { scheme: parsed.scheme().to_string(), host, port })
    }

    /// A server on this computer: `localhost` or a loopback address, never a name that merely starts so
    /// (`localhost.evil`).
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self.host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
    }

    pub fn host(&self) -> &str {
        &self.host
    }
}

fn host_is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// A URL as it may be stored or shown: no user name, password, query or fragment (where tokens hide).
pub fn strip_secrets(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        // Unparseable: keep only what precedes any query, fragment or userinfo marker.
        Err(_) => {
            let cut = url.find(['?', '#']).map(|i| &url[..i]).unwrap_or(url);
            match cut.rfind('@') {
                Some(at) => match cut.find("://") {
                    Some(scheme_end) if scheme_end < at => format!("{}{}", &cut[..scheme_end + 3], &cut[at + 1..]),
                    _ => cut[at + 1..].to_string(),
                },
                None => cut.to_string(),
            }
        }
    }
}

/// What a key is filed under: a provider id and the origin it was given for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyScope {
    provider: String,
    origin: Origin,
}

impl KeyScope {
    pub fn new(provider_id: &str, base_url: &str) -> Result<Self> {
        check_id(provider_id)?;
        Ok(Self { provider: provider_id.to_string(), origin: Origin::parse(base_url)? })
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The keychain account: `openai@https://api.openai.com:443`.
    pub(crate) fn account(&self) -> String {
        format!("{}@{}", self.provider, self.origin)
    }
}

impl std::fmt::Display for KeyScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.provider, self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_normalise_scheme_host_and_port() {
        assert_eq!(Origin::parse("https://API.OpenAI.com/v1").unwrap().to_string(), "https://api.openai.com:443");
        assert_eq!(Origin::parse("http://127.0.0.1:8000/v1").unwrap().to_string(), "http://127.0.0.1:8000");
        assert_eq!(Origin::parse("http://[::1]:11434/v1").unwrap().to_string(), "http://[::1]:11434");
        assert_eq!(Origin::parse("http://localhost/v1").unwrap().to_string(), "http://localhost:80");
    }

    #[test]
    fn loopback_is_parsed_not_matched_as_text() {
        for local in ["http://localhost:1234/v1", "http://127.0.0.1:8080", "http://127.9.9.9", "http://[::1]:80", "https://LOCALHOST"] {
            assert!(Origin::parse(local).unwrap().is_loopback(), "{local}");
        }
        for remote in ["https://localhost.evil/v1", "https://127.0.0.1.nip.io", "https://api.example.com/127.0.0.1", "https://evil.com/?localhost"] {
            assert!(!Origin::parse(remote).unwrap().is_loopback(), "{remote}");
        }
    }

    #[test]
    fn clear_text_to_the_network_and_credentials_in_urls_are_refused() {
        for bad in ["http://api.openai.com/v1", "http://localhost.evil/v1", "http://10.0.0.2:8000/v1", "ftp://x.example", "https://user:pw@api.example.com", "not a url", "https://"] {
            assert!(matches!(Origin::parse(bad), Err(KeysError::InvalidUrl { .. })), "{bad} was accepted");
        }
        let err = Origin::parse("https://me:secret@api.example.com/v1").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn stored_urls_lose_queries_and_userinfo() {
        assert_eq!(strip_secrets("https://u:p@host.example/a/b.gguf?token=abc#frag"), "https://host.example/a/b.gguf");
        assert_eq!(strip_secrets("https://host.example/x?key=sk-1"), "https://host.example/x");
        assert_eq!(strip_secrets("weird://u:p@h/x?y"), "weird://h/x");
        assert_eq!(strip_secrets("::u:p@h?y"), "h");
    }
}
