//! Stop strings: streamed text is held back while it might be the start of one, and cut at the first.

/// Holds back text that might be the start of a stop string, and cuts the text at the first one.
pub(crate) struct StopFilter<'a> {
    stops: &'a [String],
    text: String,
    emitted: usize,
}

impl<'a> StopFilter<'a> {
    pub fn new(stops: &'a [String]) -> Self {
        Self { stops, text: String::new(), emitted: 0 }
    }

    /// Adds a piece; returns the text that is safe to show and whether a stop string was hit.
    pub fn push(&mut self, piece: &str) -> (String, bool) {
        let search_from = self.emitted.saturating_sub(self.stops.iter().map(String::len).max().unwrap_or(0));
        let search_from = floor_char_boundary(&self.text, search_from);
        self.text.push_str(piece);
        let hit = self
            .stops
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| self.text[search_from..].find(s.as_str()).map(|i| search_from + i))
            .min();
        if let Some(at) = hit {
            self.text.truncate(at);
            let ready = self.text.get(self.emitted..).unwrap_or("").to_string();
            self.emitted = self.text.len();
            return (ready, true);
        }
        let safe_end = self.text.len() - self.held_back();
        let ready = self.text[self.emitted..safe_end].to_string();
        self.emitted = safe_end;
        (ready, false)
    }

    /// Length of the longest suffix of the text that is a proper prefix of a stop string.
    fn held_back(&self) -> usize {
        let mut longest = 0;
        for stop in self.stops {
            for (len, _) in stop.char_indices().skip(1) {
                if len > longest && self.text.len() >= len && self.text.is_char_boundary(self.text.len() - len) && self.text.ends_with(&stop[..len]) {
                    longest = len;
                }
            }
        }
        longest.min(self.text.len() - self.emitted)
    }

    pub fn finish(&mut self) -> String {
        let rest = self.text[self.emitted..].to_string();
        self.emitted = self.text.len();
        rest
    }

    /// All the text kept (up to the first stop string).
    pub fn into_text(self) -> String {
        self.text
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (Vec<String>, String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut f = StopFilter::new(&stops);
        let mut out = Vec::new();
        let mut hit = false;
        for p in pieces {
            let (ready, h) = f.push(p);
            out.push(ready);
            if h {
                hit = true;
                break;
            }
        }
        out.push(f.finish());
        (out, f.text.clone(), hit)
    }

    #[test]
    fn stop_string_split_across_pieces_is_cut_and_never_shown() {
        let (out, text, hit) = run(&["\nUser:"], &["Hello", " there\n", "Us", "er: hi"]);
        assert!(hit);
        assert_eq!(text, "Hello there");
        assert_eq!(out.concat(), "Hello there");
        assert!(out.iter().all(|p| !p.contains('\n')));
    }

    #[test]
    fn held_back_text_is_released_when_it_stops_matching() {
        let (out, text, hit) = run(&["END"], &["the E", "ND", "x"]);
        assert!(hit);
        assert_eq!(text, "the ");
        let (out2, text2, hit2) = run(&["END"], &["the E", "ast"]);
        assert!(!hit2);
        assert_eq!(text2, "the East");
        assert_eq!(out2[0], "the ");
        assert_eq!(out2.concat(), "the East");
        assert_eq!(out.concat(), "the ");
    }

    #[test]
    fn multibyte_text_is_held_back_on_char_boundaries() {
        let (out, text, hit) = run(&["é!"], &["café", " ok"]);
        assert!(!hit);
        assert_eq!(text, "café ok");
        assert_eq!(out[0], "caf");
        assert_eq!(out.concat(), "café ok");
    }
}
