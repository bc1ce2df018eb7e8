//! What the store's benchmarks share: deterministic prose and latency percentiles.

use std::time::{Duration, Instant};

const WORDS: &[&str] = &[
    "the", "harbour", "fog", "lifted", "slowly", "boats", "went", "out", "morning", "light", "salt", "tar", "gulls",
    "rope", "tide", "captain", "letter", "window", "rain", "river", "city", "night", "lamp", "street", "train",
    "winter", "garden", "mother", "silence", "promise", "storm", "bridge", "market", "violin", "orchard", "ledger",
    "chapter", "whisper", "lantern", "cellar", "compass", "meadow", "ember", "quarrel", "voyage", "thread", "mirror",
];
/// Rare words sprinkled into a few texts, so a selective query has something to find.
const RARE: &[&str] = &["marzipan", "quixotic", "zeppelin", "obsidian"];

/// A small deterministic generator (xorshift), so every run writes the same library.
pub struct Prose(pub u64);

impl Prose {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn text(&mut self, words: usize) -> String {
        let mut out = String::with_capacity(words * 7);
        for i in 0..words {
            if i > 0 {
                out.push(if i % 14 == 0 { '.' } else { ' ' });
                if i % 14 == 0 {
                    out.push(' ');
                }
            }
            let word = if self.next() % 997 == 0 { RARE[(self.next() % RARE.len() as u64) as usize] } else { WORDS[(self.next() % WORDS.len() as u64) as usize] };
            out.push_str(word);
        }
        out
    }
}

pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    pub fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index].as_secs_f64() * 1000.0
    }

    pub fn row(&self, name: &str) -> serde_json::Value {
        let (p50, p95, p99) = (self.percentile(0.5), self.percentile(0.95), self.percentile(0.99));
        println!("{name:<44} {:>7} {:>9.3} {:>9.3} {:>9.3}", self.0.len(), p50, p95, p99);
        serde_json::json!({ "name": name, "samples": self.0.len(), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99 })
    }
}

pub async fn timed<T>(samples: &mut Vec<Duration>, call: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let value = call.await;
    samples.push(started.elapsed());
    value
}

