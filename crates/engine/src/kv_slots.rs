//! Key/value caches of recent contexts kept beside the model's active one, so that going back to a
//! chapter after a chat question (or to the manuscript after another project's scene) recomputes only
//! from the first changed token. Least recently used goes first when their memory passes the budget.
//!
//! Switching costs no copy: the backend swaps its cache buffers with a slot's (see
//! [`crate::backend::Transformer::swap_cache`]).

/// A parked context: the tokens its cache holds and the cache itself.
pub(crate) struct Slot<C> {
    pub tokens: Vec<u32>,
    pub cache: C,
    /// The most tokens the cache has held: its pages stay mapped, so this is what it costs.
    pub high_water: usize,
    last_used: u64,
}

/// The parked contexts, bounded by bytes.
pub(crate) struct KvSlots<C> {
    slots: Vec<Slot<C>>,
    budget_bytes: u64,
    bytes_per_token: u64,
    clock: u64,
}

/// Tokens a parked context must share with a request beyond what the active cache shares, to be worth
/// switching to; below this the active cache serves.
pub(crate) const MIN_GAIN_TOKENS: usize = 16;

/// Contexts shorter than this are recomputed rather than parked: they cost little to redo.
pub(crate) const MIN_PARKED_TOKENS: usize = 64;

/// Parked contexts at most: each is a full-context allocation, which some systems commit up front.
pub(crate) const MAX_SLOTS: usize = 4;

impl<C> KvSlots<C> {
    pub fn new(budget_bytes: u64, bytes_per_token: u64) -> Self {
        Self { slots: Vec::new(), budget_bytes, bytes_per_token: bytes_per_token.max(1), clock: 0 }
    }

    /// Whether anything can be parked at all (a budget of at least one short context).
    pub fn enabled(&self) -> bool {
        self.budget_bytes >= self.bytes_per_token * MIN_PARKED_TOKENS as u64
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Bytes the parked caches hold.
    pub fn bytes(&self) -> u64 {
        self.slots.iter().map(|s| self.cost(s.high_water)).sum()
    }

    fn cost(&self, tokens: usize) -> u64 {
        tokens as u64 * self.bytes_per_token
    }

    /// The parked context sharing the longest prefix with `prompt`, if it shares more than `active`
    /// (what the active cache shares) plus [`MIN_GAIN_TOKENS`]: its index and shared length.
    pub fn best_match(&self, prompt: &[u32], active: usize) -> Option<(usize, usize)> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| (i, common_prefix(&s.tokens, prompt)))
            .filter(|&(_, shared)| shared >= active + MIN_GAIN_TOKENS)
            .max_by_key(|&(i, shared)| (shared, self.slots[i].last_used))
    }

    /// The slot at `index`, marked used now.
    pub fn touch(&mut self, index: usize) -> &mut Slot<C> {
        self.clock += 1;
        let slot = &mut self.slots[index];
        slot.last_used = self.clock;
        slot
    }

    /// Whether [`Self::park`] would keep a context of `tokens` tokens that has held `high_water`.
    pub fn would_keep(&self, tokens: usize, high_water: usize) -> bool {
        tokens >= MIN_PARKED_TOKENS && self.cost(high_water.max(tokens)) <= self.budget_bytes
    }

    /// Parks a context, evicting least recently used ones while over budget. A context that cannot fit
    /// even alone, or is too short to be worth it, is dropped; returns whether it was kept.
    pub fn park(&mut self, tokens: Vec<u32>, cache: C, high_water: usize) -> bool {
        let high_water = high_water.max(tokens.len());
        let cost = self.cost(high_water);
        if !self.would_keep(tokens.len(), high_water) {
            return false;
        }
        // A parked context that is a prefix of this one is served as well by this one.
        self.slots.retain(|s| common_prefix(&s.tokens, &tokens) < s.tokens.len());
        while self.bytes() + cost > self.budget_bytes || self.slots.len() >= MAX_SLOTS {
            let Some(oldest) = self.oldest() else { break };
            self.slots.swap_remove(oldest);
        }
        self.clock += 1;
        self.slots.push(Slot { tokens, cache, high_water, last_used: self.clock });
        true
    }

    /// Takes out the least recently used slot (its cache to reuse as a fresh one, and its high-water
    /// mark) when the budget leaves no room for another context of `tokens`.
    pub fn reclaim_for(&mut self, tokens: usize) -> Option<(C, usize)> {
        if self.slots.is_empty() || self.bytes() + self.cost(tokens) <= self.budget_bytes {
            return None;
        }
        let oldest = self.oldest()?;
        let slot = self.slots.swap_remove(oldest);
        Some((slot.cache, slot.high_water))
    }

    /// Drops contexts too short to keep, then the least recently used while over budget (after a switch
    /// parked the active context in a slot's place).
    pub fn enforce_budget(&mut self) {
        self.slots.retain(|s| s.tokens.len() >= MIN_PARKED_TOKENS);
        while self.bytes() > self.budget_bytes {
            let Some(oldest) = self.oldest() else { break };
            self.slots.swap_remove(oldest);
        }
    }

    fn oldest(&self) -> Option<usize> {
        self.slots.iter().enumerate().min_by_key(|(_, s)| s.last_used).map(|(i, _)| i)
    }

    pub fn clear(&mut self) {
        self.slots.clear();
    }

    #[cfg(test)]
    pub fn tokens(&self) -> impl Iterator<Item = &[u32]> {
        self.slots.iter().map(|s| s.tokens.as_slice())
    }
}

pub(crate) fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(first: u32, len: usize) -> Vec<u32> {
        (first..first + len as u32).collect()
    }

    #[test]
    fn the_longest_shared_prefix_wins_only_when_it_beats_the_active_cache() {
        let mut slots = KvSlots::new(10_000, 1);
        assert!(slots.park(context(0, 200), "chapter", 200));
        assert!(slots.park(context(1000, 100), "chat", 100));
        let mut request = context(0, 150);
        request.extend(context(5000, 20));
        assert_eq!(slots.best_match(&request, 0), Some((0, 150)));
        // The active cache already shares 140: ten more is not worth a switch.
        assert_eq!(slots.best_match(&request, 140), None);
        assert_eq!(slots.best_match(&context(7000, 50), 0), None);
    }

    #[test]
    fn the_least_recently_used_goes_first_and_the_budget_holds() {
        let mut slots = KvSlots::new(300, 1);
        assert!(slots.park(context(0, 100), 'a', 100));
        assert!(slots.park(context(1000, 100), 'b', 100));
        slots.touch(0); // 'a' used again: 'b' is now the oldest
        assert!(slots.park(context(2000, 150), 'c', 150));
        let kept: Vec<u32> = slots.tokens().map(|t| t[0]).collect();
        assert_eq!(kept.len(), 2);
        assert!(kept.contains(&0) && kept.contains(&2000), "{kept:?}");
        assert!(slots.bytes() <= 300);
        // Too big for the whole budget, or too short to be worth keeping: not parked.
        assert!(!slots.park(context(3000, 400), 'd', 400));
        assert!(!slots.park(context(4000, MIN_PARKED_TOKENS - 1), 'e', 10));
        // The high-water mark counts, not just the tokens held now.
        assert!(slots.park(context(5000, 100), 'f', 290));
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn a_context_replaces_parked_prefixes_of_itself_and_a_full_budget_hands_back_a_cache() {
        let mut slots = KvSlots::new(250, 1);
        assert!(slots.park(context(0, 100), 'a', 100));
        assert!(slots.park(context(0, 180), 'b', 180));
        assert_eq!(slots.len(), 1, "the 100-token context is a prefix of the 180-token one");
        assert_eq!(slots.reclaim_for(50), None, "room for 50 more");
        assert_eq!(slots.reclaim_for(100), Some(('b', 180)));
        assert_eq!(slots.len(), 0);
        // After a switch left a short context or too many bytes parked, the budget is restored.
        assert!(slots.park(context(0, 100), 'c', 100));
        assert!(slots.park(context(1000, 100), 'd', 100));
        let swapped = slots.touch(0);
        swapped.tokens.truncate(10);
        slots.enforce_budget();
        assert_eq!(slots.tokens().map(|t| t[0]).collect::<Vec<_>>(), vec![1000]);
        assert!(!KvSlots::<()>::new(10, 1).enabled());
    }
}
