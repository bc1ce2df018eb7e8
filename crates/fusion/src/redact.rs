//! Server text that may echo the request (a proxy's error page quoting the Authorization header, say) is
//! scrubbed of keys before it is stored, logged or shown.

/// What a scrubbed secret becomes.
pub const REDACTED: &str = "[REDACTED]";

/// Removes `secret` wherever it appears, and anything shaped like a bearer token or an API key.
pub fn redact(text: &str, secret: Option<&str>) -> String {
    let mut text = match secret.map(str::trim).filter(|s| s.len() >= 4) {
        Some(secret) => text.replace(secret, REDACTED),
        None => text.to_string(),
    };
    text = redact_after(&text, &["bearer ", "api-key: ", "api_key=", "apikey=", "key="]);
    redact_prefixed_tokens(&text)
}

/// Masks the token following any of `markers` (case-insensitive).
fn redact_after(text: &str, markers: &[&str]) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let hit = markers.iter().find(|m| lower[i..].starts_with(*m));
        match hit {
            Some(marker) => {
                let start = i + marker.len();
                let end = text[start..].find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '&' | ';')).map(|n| start + n).unwrap_or(text.len());
                out.push_str(&text[i..start]);
                if end > start {
                    out.push_str(REDACTED);
                }
                i = end;
            }
            None => {
                let c = text[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// Masks words that look like provider keys: `sk-…`, `sk_…`, `pk-…` with at least 12 key characters.
fn redact_prefixed_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))).unwrap_or(rest.len());
        let word = &rest[..word_end];
        let looks_like_key = ["sk-", "sk_", "pk-", "rk-"].iter().any(|p| word.starts_with(p)) && word.len() >= 15;
        out.push_str(if looks_like_key { REDACTED } else { word });
        rest = &rest[word_end..];
        if let Some(c) = rest.chars().next() {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sent_key_and_key_shaped_tokens_are_removed() {
        let echoed = r#"{"error":"bad header Authorization: Bearer my-own-secret-key-123 for sk-or-v1-abcdefabcdef0123"}"#;
        let clean = redact(echoed, Some("my-own-secret-key-123"));
        assert!(!clean.contains("my-own-secret-key-123"), "{clean}");
        assert!(!clean.contains("sk-or-v1-abcdefabcdef0123"), "{clean}");
        assert!(clean.contains("bad header Authorization"));
        // A key the server quotes without any marker is still caught by its exact value.
        assert_eq!(redact("you sent zq9-custom-key", Some("zq9-custom-key")), "you sent [REDACTED]");
        assert_eq!(redact("https://x/v1?key=abc123&x=1", None), "https://x/v1?key=[REDACTED]&x=1");
        // Ordinary prose survives, multibyte text too.
        assert_eq!(redact("model not found — überprüfen", None), "model not found — überprüfen");
        assert_eq!(redact("task-force sk-short", None), "task-force sk-short");
    }
}
