//! The statistics behind "which is better": a Bradley–Terry fit of pairwise picks with intervals from
//! its Fisher information (the writer's leaderboard), and Wilson intervals for win rates (the fusion eval). Both
//! report how sure they are, so three picks do not read as a verdict.

use serde::Serialize;

/// One comparison: `first` against `second`, scoring 1 (first won), 0.5 (tie) or 0 (second won).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Game {
    pub first: usize,
    pub second: usize,
    pub score: f64,
}

/// A contestant's place on the leaderboard, on an Elo-like scale (mean 1500; +400 = ten times the odds).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Rating {
    pub name: String,
    pub rating: f64,
    /// The 95 % interval of `rating` (normal approximation from the fit's Fisher information).
    pub low: f64,
    pub high: f64,
    pub wins: usize,
    pub losses: usize,
    pub ties: usize,
}

const ELO_SCALE: f64 = 400.0 / std::f64::consts::LN_10;
const Z95: f64 = 1.959_964;

/// Each contestant's score (wins, ties as halves) and the meetings of every pair, with one virtual tie
/// between every pair: it keeps a contestant who never won (or never lost) finite.
fn tally(players: usize, games: &[Game]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut wins = vec![0.5 * players.saturating_sub(1) as f64; players];
    let mut meetings = vec![vec![1.0f64; players]; players];
    for (i, row) in meetings.iter_mut().enumerate() {
        row[i] = 0.0;
    }
    for g in games.iter().filter(|g| g.first < players && g.second < players && g.first != g.second) {
        wins[g.first] += g.score;
        wins[g.second] += 1.0 - g.score;
        meetings[g.first][g.second] += 1.0;
        meetings[g.second][g.first] += 1.0;
    }
    (wins, meetings)
}

/// Log-strengths by minorisation–maximisation (Hunter 2004), centred on zero.
pub fn fit(players: usize, games: &[Game]) -> Vec<f64> {
    if players == 0 {
        return Vec::new();
    }
    let (wins, meetings) = tally(players, games);
    let mut strength = vec![1.0f64; players];
    for _ in 0..10_000 {
        let mut change = 0.0f64;
        for i in 0..players {
            let denominator: f64 = (0..players).filter(|&j| j != i).map(|j| meetings[i][j] / (strength[i] + strength[j])).sum();
            let updated = if denominator > 0.0 { wins[i] / denominator } else { strength[i] };
            change = change.max((updated / strength[i]).ln().abs());
            strength[i] = updated;
        }
        // Only ratios matter: keep the geometric mean at one.
        let mean_log = strength.iter().map(|s| s.ln()).sum::<f64>() / players as f64;
        strength.iter_mut().for_each(|s| *s /= mean_log.exp());
        if change < 1e-10 {
            break;
        }
    }
    strength.iter().map(|s| s.ln()).collect()
}

/// The variance of each log-strength: the diagonal of the pseudo-inverse of the fit's information
/// matrix (a graph Laplacian, so its pseudo-inverse is (L + J/n)⁻¹ − J/n).
fn variances(theta: &[f64], games: &[Game]) -> Vec<f64> {
    let n = theta.len();
    let (_, meetings) = tally(n, games);
    let mut a = vec![vec![1.0 / n as f64; n]; n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let p = 1.0 / (1.0 + (theta[j] - theta[i]).exp());
                let information = meetings[i][j] * p * (1.0 - p);
                a[i][j] -= information;
                a[i][i] += information;
            }
        }
    }
    match invert(a) {
        Some(inverse) => (0..n).map(|i| (inverse[i][i] - 1.0 / n as f64).max(0.0)).collect(),
        None => vec![f64::INFINITY; n],
    }
}

/// Gauss–Jordan with partial pivoting; `None` for a singular matrix.
fn invert(mut a: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut inverse: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
    for column in 0..n {
        let pivot = (column..n).max_by(|&x, &y| a[x][column].abs().total_cmp(&a[y][column].abs()))?;
        if a[pivot][column].abs() < 1e-12 {
            return None;
        }
        a.swap(column, pivot);
        inverse.swap(column, pivot);
        let scale = a[column][column];
        for k in 0..n {
            a[column][k] /= scale;
            inverse[column][k] /= scale;
        }
        for row in 0..n {
            if row != column {
                let factor = a[row][column];
                for k in 0..n {
                    a[row][k] -= factor * a[column][k];
                    inverse[row][k] -= factor * inverse[column][k];
                }
            }
        }
    }
    Some(inverse)
}

/// The leaderboard of `names` from `games`, best first, with 95 % intervals.
pub fn leaderboard(names: &[String], games: &[Game]) -> Vec<Rating> {
    let players = names.len();
    let theta = fit(players, games);
    let variance = variances(&theta, games);
    let mut ratings: Vec<Rating> = (0..players)
        .map(|i| {
            let (mut wins, mut losses, mut ties) = (0, 0, 0);
            for g in games {
                let score = if g.first == i {
                    g.score
                } else if g.second == i {
                    1.0 - g.score
                } else {
                    continue;
                };
                match score {
                    s if s > 0.75 => wins += 1,
                    s if s < 0.25 => losses += 1,
                    _ => ties += 1,
                }
            }
            let half = Z95 * variance[i].sqrt();
            Rating {
                name: names[i].clone(),
                rating: 1500.0 + ELO_SCALE * theta[i],
                low: 1500.0 + ELO_SCALE * (theta[i] - half),
                high: 1500.0 + ELO_SCALE * (theta[i] + half),
                wins,
                losses,
                ties,
            }
        })
        .collect();
    ratings.sort_by(|a, b| b.rating.total_cmp(&a.rating).then_with(|| a.name.cmp(&b.name)));
    ratings
}

/// The 95 % Wilson score interval of `successes` out of `n` (ties counted by the caller as halves).
pub fn wilson(successes: f64, n: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let p = (successes / n).clamp(0.0, 1.0);
    let denominator = 1.0 + Z95 * Z95 / n;
    let centre = (p + Z95 * Z95 / (2.0 * n)) / denominator;
    let half = Z95 * ((p * (1.0 - p) + Z95 * Z95 / (4.0 * n)) / n).sqrt() / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair plays `n` games whose wins follow the known strengths exactly.
    fn games_from(strengths: &[f64], n: usize) -> Vec<Game> {
        let mut games = Vec::new();
        for i in 0..strengths.len() {
            for j in i + 1..strengths.len() {
                let wins = (n as f64 * strengths[i] / (strengths[i] + strengths[j])).round() as usize;
                games.extend((0..n).map(|k| Game { first: i, second: j, score: if k < wins { 1.0 } else { 0.0 } }));
            }
        }
        games
    }

    #[test]
    fn the_fit_recovers_a_known_preference_matrix() {
        let strengths = [8.0, 4.0, 2.0, 1.0];
        let theta = fit(4, &games_from(&strengths, 2000));
        for i in 0..4 {
            for j in 0..4 {
                let fitted = (theta[i] - theta[j]).exp();
                let truth = strengths[i] / strengths[j];
                assert!((fitted / truth - 1.0).abs() < 0.03, "{i} vs {j}: {fitted} vs {truth}");
            }
        }
    }

    #[test]
    fn few_picks_give_wide_overlapping_intervals_and_many_give_a_verdict() {
        let names: Vec<String> = ["fused", "member"].map(String::from).to_vec();
        let few = [Game { first: 0, second: 1, score: 1.0 }, Game { first: 0, second: 1, score: 1.0 }, Game { first: 1, second: 0, score: 0.0 }];
        let board = leaderboard(&names, &few);
        assert_eq!(board[0].name, "fused");
        assert_eq!((board[0].wins, board[0].losses), (3, 0));
        assert!(board[1].high >= board[0].low, "three picks must not separate them: {board:?}");
        let many = games_from(&[3.0, 1.0], 300);
        let board = leaderboard(&names, &many);
        assert!(board[1].high < board[0].low, "300 picks at 3:1 must: {board:?}");
        assert!((board[0].rating - board[1].rating - ELO_SCALE * 3f64.ln()).abs() < 20.0, "{board:?}");
    }

    #[test]
    fn ties_count_half_and_nothing_is_not_a_verdict() {
        let theta = fit(2, &[Game { first: 0, second: 1, score: 0.5 }; 10]);
        assert!(theta[0].abs() < 1e-9 && theta[1].abs() < 1e-9);
        assert!(fit(0, &[]).is_empty());
        let board = leaderboard(&["a".into(), "b".into()], &[]);
        assert_eq!(board[0].rating, 1500.0);
    }

    #[test]
    fn wilson_intervals_match_the_textbook() {
        let (low, high) = wilson(8.0, 10.0);
        assert!((low - 0.4902).abs() < 1e-3 && (high - 0.9433).abs() < 1e-3, "{low} {high}");
        assert_eq!(wilson(0.0, 0.0), (0.0, 1.0));
    }
}
