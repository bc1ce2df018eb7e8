//! Choosing the next token from logits: penalties, temperature, top-k, top-p, min-p, seeded randomness.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    /// 0 means greedy decoding.
    pub temperature: f32,
    /// Keep the smallest set of tokens whose probabilities add up to `top_p` (1.0 = off).
    pub top_p: f32,
    /// Keep the `top_k` most likely tokens (0 = off).
    pub top_k: usize,
    /// Drop tokens less likely than `min_p` × the most likely one (0 = off).
    pub min_p: f32,
    /// Divide positive logits (multiply negative ones) of recently seen tokens (1.0 = off).
    pub repetition_penalty: f32,
    /// Subtract `frequency_penalty` × count of each recently seen token.
    pub frequency_penalty: f32,
    /// Subtract `presence_penalty` once from every recently seen token.
    pub presence_penalty: f32,
    /// How many recent tokens the penalties look at.
    pub penalty_window: usize,
    pub seed: u64,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_p: 0.95,
            top_k: 40,
            min_p: 0.05,
            repetition_penalty: 1.1,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            penalty_window: 64,
            seed: 42,
        }
    }
}

impl SamplingParams {
    /// Deterministic argmax decoding with no penalties.
    pub fn greedy() -> Self {
        Self { temperature: 0.0, top_p: 1.0, top_k: 0, min_p: 0.0, repetition_penalty: 1.0, ..Self::default() }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(EngineError::InvalidSampling(msg));
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return bad(format!("temperature must be ≥ 0, got {}", self.temperature));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!("top_p must be in (0, 1], got {}", self.top_p));
        }
        if !(0.0..=1.0).contains(&self.min_p) {
            return bad(format!("min_p must be in [0, 1], got {}", self.min_p));
        }
        if !(self.repetition_penalty.is_finite() && self.repetition_penalty > 0.0) {
            return bad(format!("repetition_penalty must be > 0, got {}", self.repetition_penalty));
        }
        if !self.frequency_penalty.is_finite() || !self.presence_penalty.is_finite() {
            return bad("penalties must be finite numbers".into());
        }
        Ok(())
    }
}

pub struct Sampler {
    params: SamplingParams,
    rng: StdRng,
    candidates: Vec<(u32, f32)>,
}

impl Sampler {
    pub fn new(params: SamplingParams) -> Result<Self> {
        params.validate()?;
        let rng = StdRng::seed_from_u64(params.seed);
        Ok(Self { params, rng, candidates: Vec::new() })
    }

    /// Picks the next token. `logits` is modified in place (penalties); `history` is every token so far.
    pub fn sample(&mut self, logits: &mut [f32], history: &[u32]) -> u32 {
        self.apply_penalties(logits, history);
        if self.params.temperature == 0.0 {
            return argmax(logits);
        }
        let inv_t = 1.0 / self.params.temperature;
        self.candidates.clear();
        self.candidates.extend(logits.iter().enumerate().filter(|(_, l)| l.is_finite()).map(|(i, &l)| (i as u32, l * inv_t)));
        if self.candidates.is_empty() {
            return argmax(logits);
        }
        let k = self.params.top_k;
        if k > 0 && k < self.candidates.len() {
            self.candidates.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
            self.candidates.truncate(k);
        }
        self.candidates.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        // Softmax over the survivors, in place.
        let max = self.candidates[0].1;
        let mut sum = 0.0f32;
        for c in self.candidates.iter_mut() {
            c.1 = (c.1 - max).exp();
            sum += c.1;
        }
        for c in self.candidates.iter_mut() {
            c.1 /= sum;
        }
        if self.params.min_p > 0.0 {
            let floor = self.candidates[0].1 * self.params.min_p;
            let keep = self.candidates.iter().take_while(|c| c.1 >= floor).count().max(1);
            self.candidates.truncate(keep);
        }
        if self.params.top_p < 1.0 {
            let mut cumulative = 0.0;
            let mut keep = self.candidates.len();
            for (i, c) in self.candidates.iter().enumerate() {
                cumulative += c.1;
                if cumulative >= self.params.top_p {
                    keep = i + 1;
                    break;
                }
            }
            self.candidates.truncate(keep);
        }
        let total: f32 = self.candidates.iter().map(|c| c.1).sum();
        let mut target = self.rng.random::<f32>() * total;
        for c in &self.candidates {
            target -= c.1;
            if target <= 0.0 {
                return c.0;
            }
        }
        self.candidates.last().map(|c| c.0).unwrap_or(0)
    }

    fn apply_penalties(&self, logits: &mut [f32], history: &[u32]) {
        let p = &self.params;
        if p.repetition_penalty == 1.0 && p.frequency_penalty == 0.0 && p.presence_penalty == 0.0 {
            return;
        }
        let window = &history[history.len().saturating_sub(p.penalty_window)..];
        let mut counts: Vec<(u32, u32)> = Vec::with_capacity(window.len());
        for &t in window {
            match counts.iter_mut().find(|(id, _)| *id == t) {
                Some((_, n)) => *n += 1,
                None => counts.push((t, 1)),
            }
        }
        for (id, n) in counts {
            let Some(l) = logits.get_mut(id as usize) else { continue };
            if p.repetition_penalty != 1.0 {
                *l = if *l > 0.0 { *l / p.repetition_penalty } else { *l * p.repetition_penalty };
            }
            *l -= p.frequency_penalty * n as f32 + p.presence_penalty;
        }
    }
}

pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    let mut best_value = f32::NEG_INFINITY;
    for (i, &v) in logits.iter().enumerate() {
        if v > best_value {
            best = i;
            best_value = v;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(params: SamplingParams) -> Sampler {
        Sampler::new(params).unwrap()
    }

    #[test]
    fn greedy_takes_the_largest_logit() {
        let mut s = sampler(SamplingParams::greedy());
        assert_eq!(s.sample(&mut [0.1, 3.0, -1.0, 2.9], &[]), 1);
    }

    #[test]
    fn same_seed_same_choices() {
        let params = SamplingParams { temperature: 1.5, top_p: 1.0, top_k: 0, min_p: 0.0, ..SamplingParams::default() };
        let logits: Vec<f32> = (0..50).map(|i| (i as f32 * 0.37).sin()).collect();
        let run = |seed| {
            let mut s = sampler(SamplingParams { seed, ..params.clone() });
            (0..30).map(|_| s.sample(&mut logits.clone(), &[])).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn top_k_one_is_greedy() {
        let params = SamplingParams { temperature: 5.0, top_k: 1, repetition_penalty: 1.0, ..SamplingParams::default() };
        let mut s = sampler(params);
        for _ in 0..20 {
            assert_eq!(s.sample(&mut [1.0, 1.5, 1.2], &[]), 1);
        }
    }

    #[test]
    fn top_p_keeps_only_the_nucleus() {
        // Token 0 holds ~88% of the mass; with top_p 0.5 nothing else survives.
        let params = SamplingParams { temperature: 1.0, top_p: 0.5, top_k: 0, min_p: 0.0, repetition_penalty: 1.0, ..SamplingParams::default() };
        let mut s = sampler(params);
        for _ in 0..50 {
            assert_eq!(s.sample(&mut [4.0, 2.0, 1.0, 0.0], &[]), 0);
        }
    }

    #[test]
    fn min_p_drops_unlikely_tokens() {
        let params = SamplingParams { temperature: 1.0, top_p: 1.0, top_k: 0, min_p: 0.5, repetition_penalty: 1.0, ..SamplingParams::default() };
        let mut s = sampler(params);
        let mut seen = [0usize; 3];
        for _ in 0..200 {
            seen[s.sample(&mut [2.0, 2.0, -3.0], &[]) as usize] += 1;
        }
        assert_eq!(seen[2], 0);
        assert!(seen[0] > 0 && seen[1] > 0);
    }

    #[test]
    fn repetition_penalty_changes_the_choice() {
        let params = SamplingParams { repetition_penalty: 2.0, ..SamplingParams::greedy() };
        let mut s = sampler(params);
        assert_eq!(s.sample(&mut [3.0, 2.0], &[0]), 1);
    }

    #[test]
    fn presence_and_frequency_penalties_subtract() {
        let params = SamplingParams { frequency_penalty: 0.5, presence_penalty: 1.0, ..SamplingParams::greedy() };
        let s = sampler(params);
        let mut logits = [3.0, 2.0, 1.0];
        s.apply_penalties(&mut logits, &[0, 0, 1]);
        assert_eq!(logits, [3.0 - 1.0 - 1.0, 2.0 - 0.5 - 1.0, 1.0]);
    }

    #[test]
    fn invalid_settings_are_refused() {
        assert!(Sampler::new(SamplingParams { temperature: -1.0, ..Default::default() }).is_err());
        assert!(Sampler::new(SamplingParams { top_p: 0.0, ..Default::default() }).is_err());
        assert!(Sampler::new(SamplingParams { min_p: 1.5, ..Default::default() }).is_err());
    }
}
