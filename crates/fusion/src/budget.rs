//! Prices, cost estimates before a run, and the hard cap during it.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Price {
    pub const FREE: Price = Price { input_per_mtok: 0.0, output_per_mtok: 0.0 };

    pub fn cost(&self, prompt_tokens: usize, completion_tokens: usize) -> f64 {
        (prompt_tokens as f64 * self.input_per_mtok + completion_tokens as f64 * self.output_per_mtok) / 1e6
    }
}

/// Known prices by "provider:model", with manual overrides taking precedence over fetched ones.
#[derive(Debug, Default)]
pub struct PriceBook {
    fetched: Mutex<HashMap<String, Price>>,
    overrides: Mutex<HashMap<String, Price>>,
}

impl PriceBook {
    pub fn set_fetched(&self, provider: &str, model: &str, price: Price) {
        self.fetched.lock().unwrap().insert(format!("{provider}:{model}"), price);
    }

    pub fn set_override(&self, provider: &str, model: &str, price: Price) {
        self.overrides.lock().unwrap().insert(format!("{provider}:{model}"), price);
    }

    pub fn get(&self, provider: &str, model: &str) -> Option<Price> {
        let key = format!("{provider}:{model}");
        self.overrides.lock().unwrap().get(&key).or(self.fetched.lock().unwrap().get(&key)).copied()
    }
}

/// Rough token count of text for estimates before a tokenizer has seen it (≈ 4 characters a token).
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4) + 4
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CostEstimate {
    /// Worst case: every member and the judge write `max_tokens`.
    pub total_usd: f64,
    pub per_member_usd: Vec<f64>,
    pub judge_usd: f64,
    /// Members whose price is unknown (counted as free in the total).
    pub unpriced: Vec<String>,
    /// How long the on-device seats take, one after another, at the model's measured speed (`None`:
    /// no on-device seat, or no generation measured yet).
    #[serde(default)]
    pub on_device_seconds: Option<f64>,
}

/// Tracks spending during a run and stops everything when the cap would be crossed.
#[derive(Debug)]
pub struct BudgetTracker {
    cap: Option<f64>,
    spent: Mutex<f64>,
    exhausted: CancellationToken,
}

impl BudgetTracker {
    pub fn new(cap: Option<f64>) -> Self {
        Self { cap, spent: Mutex::new(0.0), exhausted: CancellationToken::new() }
    }

    pub fn cap(&self) -> Option<f64> {
        self.cap
    }

    /// Cancelled once the cap is reached.
    pub fn exhausted(&self) -> &CancellationToken {
        &self.exhausted
    }

    pub fn spent(&self) -> f64 {
        *self.spent.lock().unwrap()
    }

    /// Adds `usd` (negative to correct an earlier provisional charge); trips the cap when crossed.
    pub fn charge(&self, usd: f64) {
        let mut spent = self.spent.lock().unwrap();
        *spent += usd;
        if let Some(cap) = self.cap {
            if *spent >= cap {
                self.exhausted.cancel();
            }
        }
    }

    /// Whether `usd` more would still fit under the cap.
    pub fn affords(&self, usd: f64) -> bool {
        self.cap.is_none_or(|cap| self.spent() + usd <= cap)
    }
}
