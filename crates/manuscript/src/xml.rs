//! Text on its way into XML (EPUB's XHTML, DOCX runs): the characters XML 1.0 cannot hold at all are
//! dropped (a stray control character from a paste would otherwise make the whole file unreadable),
//! and for hand-written markup the five special characters are escaped.

use std::borrow::Cow;

fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The text without characters XML 1.0 forbids (C0 controls other than tab and newlines, U+FFFE/U+FFFF).
pub(crate) fn xml_chars(text: &str) -> Cow<'_, str> {
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

/// Escaped for both element content and double- or single-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if allowed(c) => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(escape(r#"a<b>&"c"'d'"#), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
        assert_eq!(escape("bell\u{7}\u{FFFE}é"), "bellé");
        assert_eq!(xml_chars("tab\tok"), "tab\tok");
        assert_eq!(xml_chars("nul\0gone"), "nulgone");
    }
}
