//! The machine's memory read bandwidth, measured the way decode reads weights: every thread streams its
//! share of a buffer far larger than any cache. Decode speed is then reported as a fraction of it.

use std::time::Instant;

/// Best of a few passes over 1 GiB with `threads` threads, in bytes per second.
pub fn read_bandwidth(threads: usize) -> f64 {
    const BYTES: usize = 1 << 30;
    let buffer: Vec<u64> = (0..BYTES / 8).map(|i| i as u64).collect();
    let threads = threads.max(1);
    let chunk = buffer.len().div_ceil(threads);
    let mut best = f64::MAX;
    let mut checksum = 0u64;
    for _ in 0..4 {
        let started = Instant::now();
        let sums: Vec<u64> = std::thread::scope(|scope| {
            let workers: Vec<_> = buffer.chunks(chunk).map(|part| scope.spawn(move || sum(part))).collect();
            workers.into_iter().map(|w| w.join().unwrap_or(0)).collect()
        });
        best = best.min(started.elapsed().as_secs_f64());
        checksum = checksum.wrapping_add(sums.into_iter().fold(0, u64::wrapping_add));
    }
    // Used, so the reads cannot be optimised away.
    std::hint::black_box(checksum);
    BYTES as f64 / best
}

/// Eight independent sums: the loads, not one dependency chain, set the pace.
fn sum(part: &[u64]) -> u64 {
    let mut lanes = [0u64; 8];
    let mut blocks = part.chunks_exact(8);
    for block in &mut blocks {
        for (lane, value) in lanes.iter_mut().zip(block) {
            *lane = lane.wrapping_add(*value);
        }
    }
    blocks.remainder().iter().chain(&lanes).fold(0, |a, b| a.wrapping_add(*b))
}
