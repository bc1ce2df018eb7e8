//! The author's taste: blind picks between two answers, a leaderboard of models and settings fitted to
//! them (Bradley–Terry, with intervals), and a short rubric distilled from what the winners have in
//! common. With the project's style guide, the rubric becomes the judge's criteria. All of it stays in
//! the library; it reaches a model only as the judge's instructions.

use atelier_fusion::stats::{self, Game, Rating};
use atelier_store::{EntryKind, NewPick, Pick, PickOutcome, Store};
use serde::Serialize;

use crate::error::Result;

/// Decisive picks needed before a tendency is named in the rubric.
const MIN_PICKS_FOR_RUBRIC: usize = 3;
/// A tendency is named when the winners show it in at least this share of the picks that can show it.
const RUBRIC_AGREEMENT: f64 = 2.0 / 3.0;
/// The most of the style guide the judge reads.
const STYLE_GUIDE_CHARS: usize = 2000;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Leaderboard {
    /// Best first.
    pub ratings: Vec<Rating>,
    pub picks: usize,
    /// What the picks show, as the judge reads it.
    pub rubric: Vec<String>,
}

pub async fn record(store: &Store, pick: &NewPick) -> Result<Pick> {
    Ok(store.picks().add(pick).await?)
}

pub async fn leaderboard(store: &Store, project_id: Option<i64>) -> Result<Leaderboard> {
    let picks = store.picks().list(project_id).await?;
    Ok(Leaderboard { ratings: rank(&picks), picks: picks.len(), rubric: rubric(&picks) })
}

/// The picks as games between named contestants, fitted.
pub fn rank(picks: &[Pick]) -> Vec<Rating> {
    let mut names: Vec<String> = Vec::new();
    let mut index = |name: &str| match names.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    };
    let games: Vec<Game> = picks
        .iter()
        .map(|p| Game {
            first: index(&p.left_name),
            second: index(&p.right_name),
            score: match p.outcome {
                PickOutcome::Left => 1.0,
                PickOutcome::Right => 0.0,
                PickOutcome::Tie => 0.5,
            },
        })
        .collect();
    stats::leaderboard(&names, &games)
}

/// Measurable differences between what the writer picked and what they passed over.
struct Style {
    words: usize,
    words_per_sentence: f64,
    dialogue_share: f64,
    adverbs_per_100: f64,
}

fn style(text: &str) -> Style {
    let words: Vec<&str> = text.split_whitespace().collect();
    let sentences = text.split(['.', '!', '?']).filter(|s| s.split_whitespace().next().is_some()).count().max(1);
    let mut quoted = 0usize;
    let mut inside = false;
    for c in text.chars() {
        match c {
            '"' | '“' | '”' => inside = if c == '“' { true } else if c == '”' { false } else { !inside },
            _ if inside => quoted += 1,
            _ => {}
        }
    }
    let letters = text.chars().filter(|c| !c.is_whitespace()).count().max(1);
    let adverbs = words
        .iter()
        .map(|w| w.trim_matches(|c: char| !c.is_alphabetic()).to_lowercase())
        .filter(|w| w.len() > 4 && w.ends_with("ly") && !matches!(w.as_str(), "only" | "family" | "early" | "reply" | "holy" | "silly"))
        .count();
    Style {
        words: words.len(),
        words_per_sentence: words.len() as f64 / sentences as f64,
        dialogue_share: quoted as f64 / letters as f64,
        adverbs_per_100: adverbs as f64 * 100.0 / words.len().max(1) as f64,
    }
}

/// The rubric: each tendency the winners show in most of the picks that can show it, with its count,
/// then the writer's own words. Empty until there are enough decisive picks.
pub fn rubric(picks: &[Pick]) -> Vec<String> {
    let decided: Vec<(Style, Style)> = picks
        .iter()
        .filter_map(|p| match p.outcome {
            PickOutcome::Left => Some((style(&p.left_text), style(&p.right_text))),
            PickOutcome::Right => Some((style(&p.right_text), style(&p.left_text))),
            PickOutcome::Tie => None,
        })
        .collect();
    if decided.len() < MIN_PICKS_FOR_RUBRIC {
        return Vec::new();
    }
    let mut lines = Vec::new();
    // (the winner's value minus the loser's, relative threshold, text when lower, text when higher)
    type Measure = fn(&Style) -> f64;
    let tendencies: [(Measure, f64, &str, &str); 4] = [
        (|s| s.words as f64, 0.1, "Prefers the tighter answer: shorter", "Prefers the fuller answer: longer"),
        (|s| s.words_per_sentence, 0.1, "Prefers shorter sentences", "Prefers longer, flowing sentences"),
        (|s| s.dialogue_share, 0.05, "Prefers less dialogue", "Prefers more dialogue"),
        (|s| s.adverbs_per_100, 0.25, "Prefers fewer -ly adverbs", "Tolerates more -ly adverbs"),
    ];
    for (measure, threshold, lower, higher) in tendencies {
        let (mut less, mut more) = (0usize, 0usize);
        for (winner, loser) in &decided {
            let (w, l) = (measure(winner), measure(loser));
            let scale = w.abs().max(l.abs());
            if scale == 0.0 || (w - l).abs() / scale < threshold {
                continue;
            }
            if w < l {
                less += 1;
            } else {
                more += 1;
            }
        }
        let shown = less + more;
        if shown < MIN_PICKS_FOR_RUBRIC {
            continue;
        }
        if less as f64 >= RUBRIC_AGREEMENT * shown as f64 {
            lines.push(format!("{lower} in {less} of {shown} picks"));
        } else if more as f64 >= RUBRIC_AGREEMENT * shown as f64 {
            lines.push(format!("{higher} in {more} of {shown} picks"));
        }
    }
    let reasons: Vec<&str> = picks.iter().rev().filter_map(|p| p.reason.as_deref()).take(5).collect();
    for reason in reasons.into_iter().rev() {
        lines.push(format!("In the writer's words: \u{201c}{reason}\u{201d}"));
    }
    lines
}

/// What the judge judges by in this project: its style guide, then the rubric of the writer's picks.
pub async fn judge_criteria(store: &Store, project_id: i64) -> Result<Option<String>> {
    let guides: Vec<String> = store
        .bible()
        .list(project_id)
        .await?
        .into_iter()
        .filter(|e| e.kind == EntryKind::StyleGuide)
        .map(|e| format!("{}: {}", e.name.trim(), e.description.trim()))
        .collect();
    let rubric = rubric(&store.picks().list(Some(project_id)).await?);
    if guides.is_empty() && rubric.is_empty() {
        return Ok(None);
    }
    let mut text = String::from("Judge by this author's taste.");
    if !guides.is_empty() {
        let mut guide = guides.join("\n");
        guide.truncate(crate::writing::floor_char_boundary(&guide, STYLE_GUIDE_CHARS.min(guide.len())));
        text.push_str("\nTheir style guide:\n");
        text.push_str(&guide);
    }
    if !rubric.is_empty() {
        text.push_str("\nWhat their own blind picks show:\n");
        for line in &rubric {
            text.push_str("- ");
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok(Some(text.trim_end().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(left: &str, right: &str, outcome: PickOutcome, left_text: &str, right_text: &str) -> Pick {
        Pick {
            id: 0,
            project_id: Some(1),
            run_id: None,
            left_name: left.into(),
            right_name: right.into(),
            outcome,
            left_text: left_text.into(),
            right_text: right_text.into(),
            reason: None,
            created_at: 0,
        }
    }

    const TIGHT: &str = "The gulls woke first. Mara watched.";
    const LOOSE: &str = "The gulls, who were always the first to wake in Saltmouth, slowly and noisily rose over the harbour while Mara quietly watched them from the sea wall.";

    #[test]
    fn the_rubric_names_what_the_winners_share_once_there_are_enough_picks() {
        let two = vec![pick("a", "b", PickOutcome::Left, TIGHT, LOOSE), pick("b", "a", PickOutcome::Right, LOOSE, TIGHT)];
        assert!(rubric(&two).is_empty(), "two picks are not a taste");
        let mut picks = two;
        picks.push(pick("a", "c", PickOutcome::Left, TIGHT, LOOSE));
        picks.push(pick("c", "b", PickOutcome::Tie, LOOSE, LOOSE));
        picks[2].reason = Some("less throat-clearing".into());
        let lines = rubric(&picks);
        assert!(lines.iter().any(|l| l == "Prefers the tighter answer: shorter in 3 of 3 picks"), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("Prefers shorter sentences")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("Prefers fewer -ly adverbs")), "{lines:?}");
        assert!(lines.last().unwrap().contains("less throat-clearing"));
    }

    #[test]
    fn picks_rank_their_contestants() {
        let picks: Vec<Pick> = (0..12).map(|i| pick("fused:merge", "local:t=0.8", if i < 10 { PickOutcome::Left } else { PickOutcome::Right }, "", "")).collect();
        let board = rank(&picks);
        assert_eq!(board[0].name, "fused:merge");
        assert_eq!((board[0].wins, board[0].losses), (10, 2));
        assert!(board[0].rating > board[1].rating);
    }
}
