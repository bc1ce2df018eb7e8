//! Bounds on the numbers a front end sends (the webview is not trusted to send sane ones): a request for
//! 2^60 tokens, a thousand debate rounds or a million threads is refused with a clear message.

use crate::error::{Result, StudioError};

pub const MAX_TOKENS: usize = 32_768;
pub const MAX_ROUNDS: usize = 5;
pub const MAX_THREADS: usize = 256;
pub const MIN_CONTEXT: usize = 256;
pub const MAX_CONTEXT: usize = 1 << 20;
pub const MAX_BUDGET_USD: f64 = 1_000.0;

fn within(what: &str, value: usize, min: usize, max: usize) -> Result<usize> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(StudioError::Invalid(format!("{what} must be between {min} and {max} (got {value})")))
    }
}

pub fn max_tokens(value: usize) -> Result<usize> {
    within("max tokens", value, 1, MAX_TOKENS)
}

pub fn rounds(value: usize) -> Result<usize> {
    within("debate rounds", value, 1, MAX_ROUNDS)
}

pub fn threads(value: usize) -> Result<usize> {
    within("threads", value, 1, MAX_THREADS)
}

pub fn context_length(value: usize) -> Result<usize> {
    within("context length", value, MIN_CONTEXT, MAX_CONTEXT)
}

pub fn budget_usd(value: f64) -> Result<f64> {
    if value.is_finite() && (0.0..=MAX_BUDGET_USD).contains(&value) {
        Ok(value)
    } else {
        Err(StudioError::Invalid(format!("the budget must be between $0 and ${MAX_BUDGET_USD}")))
    }
}

pub fn temperature(value: f32) -> Result<f32> {
    if value.is_finite() && (0.0..=5.0).contains(&value) {
        Ok(value)
    } else {
        Err(StudioError::Invalid("the temperature must be between 0 and 5".into()))
    }
}

/// A setting's value, checked when the setting is a number with bounds.
pub fn setting(key: &str, value: &serde_json::Value) -> Result<()> {
    let number = |value: &serde_json::Value| {
        value.as_u64().map(|n| n as usize).ok_or_else(|| StudioError::Invalid(format!("`{key}` must be a whole number")))
    };
    match key {
        "threads" => threads(number(value)?).map(drop),
        "context_length" => context_length(number(value)?).map(drop),
        "kv_cache" => value
            .as_str()
            .ok_or_else(|| StudioError::Invalid("`kv_cache` must be \"f32\" or \"f16\"".into()))?
            .parse::<atelier_engine::KvCacheType>()
            .map(drop)
            .map_err(|e| StudioError::Invalid(e.to_string())),
        "prepare_ahead" => value.as_bool().map(drop).ok_or_else(|| StudioError::Invalid("`prepare_ahead` must be true or false".into())),
        "font_size" => within("the font size", number(value)?, 8, 48).map(drop),
        "autosave_ms" => within("the autosave interval", number(value)?, 100, 1_000).map(drop),
        crate::panel_choice::SETTING => serde_json::from_value::<crate::panel_choice::PanelChoice>(value.clone())
            .map_err(|e| StudioError::Invalid(format!("the panel could not be read: {e}")))?
            .check(),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn out_of_range_numbers_are_refused() {
        assert!(max_tokens(0).is_err() && max_tokens(usize::MAX).is_err() && max_tokens(512).is_ok());
        assert!(rounds(1000).is_err() && rounds(2).is_ok());
        assert!(budget_usd(f64::NAN).is_err() && budget_usd(f64::INFINITY).is_err() && budget_usd(-1.0).is_err() && budget_usd(0.05).is_ok());
        assert!(temperature(f32::NAN).is_err() && temperature(0.7).is_ok());
        assert!(setting("threads", &json!(1_000_000)).is_err());
        assert!(setting("threads", &json!(-3)).is_err());
        assert!(setting("threads", &json!("4")).is_err());
        assert!(setting("threads", &json!(4)).is_ok());
        assert!(setting("context_length", &json!(4_294_967_296u64)).is_err());
        assert!(setting("context_length", &json!(8192)).is_ok());
        assert!(setting("kv_cache", &json!("f16")).is_ok());
        assert!(setting("kv_cache", &json!("q2")).is_err());
        assert!(setting("kv_cache", &json!(16)).is_err());
        assert!(setting("prepare_ahead", &json!(false)).is_ok());
        assert!(setting("prepare_ahead", &json!("no")).is_err());
        assert!(setting("autosave_ms", &json!(60_000)).is_err());
        assert!(setting("theme", &json!("dark")).is_ok());
        assert!(setting("fusion_panel", &json!({"members": ["local"]})).is_err(), "a partial panel is refused");
        assert!(setting("fusion_panel", &serde_json::to_value(crate::panel_choice::PanelChoice::default()).unwrap()).is_ok());
    }
}
