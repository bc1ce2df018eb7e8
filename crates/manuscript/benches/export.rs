//! Export time of a novel-length manuscript: 150,000 words in 40 chapters (4 parts) and 200 scenes,
//! written to every format, and read back from every format that imports. The budget is 2 s per
//! export. `cargo bench -p atelier-manuscript --bench export [-- RUNS]`; prints a table and a JSON line.

use std::time::{Duration, Instant};

use atelier_manuscript::{export, import, Chapter, Format, Manuscript, ProjectKind, Scene};

const WORDS: &[&str] = &[
    "the", "harbour", "fog", "lifted", "slowly", "boats", "went", "out", "morning", "light", "salt", "tar", "gulls",
    "rope", "tide", "captain", "letter", "window", "rain", "river", "city", "night", "lamp", "street", "train",
    "winter", "garden", "mother", "silence", "promise", "storm", "bridge", "market", "violin", "orchard", "ledger",
    "whisper", "lantern", "cellar", "compass", "meadow", "ember", "quarrel", "voyage", "thread", "mirror", "café",
    "naïve", "&", "<b>", "\"quoted\"", "it's",
];
const BUDGET_MS: f64 = 2_000.0;

/// A small deterministic generator (xorshift), so every run exports the same book.
struct Prose(u64);

impl Prose {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `words` words in sentences of about 14 and paragraphs of about 80 words.
    fn text(&mut self, words: usize) -> String {
        let mut out = String::with_capacity(words * 7);
        for i in 0..words {
            if i > 0 {
                if i % 80 == 0 {
                    out.push_str(".\n\n");
                } else if i % 14 == 0 {
                    out.push_str(". ");
                } else {
                    out.push(' ');
                }
            }
            out.push_str(WORDS[(self.next() % WORDS.len() as u64) as usize]);
        }
        out.push('.');
        out
    }
}

fn manuscript() -> Manuscript {
    let mut prose = Prose(0x9E37_79B9_7F4A_7C15);
    let chapters = (0..40)
        .map(|c| Chapter {
            part: (c % 10 == 0).then(|| format!("Part {}", c / 10 + 1)),
            title: format!("Chapter {}: The {}", c + 1, WORDS[c % WORDS.len()]),
            scenes: (0..5).map(|s| Scene { title: format!("Scene {}.{}", c + 1, s + 1), text: prose.text(750) }).collect(),
        })
        .collect();
    Manuscript { title: "The Long Harbour".into(), author: "Ada Writer".into(), kind: ProjectKind::Novel, chapters }
}

fn percentile(samples: &[Duration], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

fn row(name: &str, samples: &[Duration], bytes: usize, budget: Option<f64>) -> serde_json::Value {
    let (p50, p95) = (percentile(samples, 0.5), percentile(samples, 0.95));
    let ratio = budget.map(|b| p95 / b);
    let ratio_text = ratio.map(|r| format!("{r:.3}")).unwrap_or_else(|| "-".into());
    println!("{name:<22} {:>7} {:>10.1} {:>10.1} {:>10} {:>12}", samples.len(), p50, p95, ratio_text, bytes);
    serde_json::json!({ "name": name, "samples": samples.len(), "p50_ms": p50, "p95_ms": p95, "p95_over_budget": ratio, "bytes": bytes })
}

fn main() {
    let runs = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10usize).max(1);
    let m = manuscript();
    println!("manuscript: {} words, {} chapters, {} scenes; {runs} runs each; budget {BUDGET_MS} ms an export", m.words(), m.chapters.len(), m.scene_count());
    println!("{:<22} {:>7} {:>10} {:>10} {:>10} {:>12}", "operation", "samples", "p50 ms", "p95 ms", "p95/2 s", "bytes");
    let mut results = Vec::new();
    for format in Format::ALL {
        let mut samples = Vec::with_capacity(runs);
        let mut bytes = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            bytes = export(&m, format).unwrap();
            samples.push(started.elapsed());
        }
        results.push(row(&format!("export {}", format.extension()), &samples, bytes.len(), Some(BUDGET_MS)));
        if format == Format::Epub {
            continue;
        }
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let back = import(&bytes, format).unwrap();
            samples.push(started.elapsed());
            assert_eq!(back.chapters.len(), m.chapters.len());
        }
        results.push(row(&format!("import {}", format.extension()), &samples, bytes.len(), None));
    }
    println!("{}", serde_json::json!({ "words": m.words(), "chapters": m.chapters.len(), "scenes": m.scene_count(), "budget_ms": BUDGET_MS, "results": results }));
}
