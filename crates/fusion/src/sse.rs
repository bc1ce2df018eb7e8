//! A guard in front of the SSE parser. It drops a leading byte-order mark (the SSE specification allows
//! one; eventsource-stream 0.2.3 panics on it), and ends the stream with an error when one line or one
//! event grows past its cap, instead of letting the parser's buffer grow without bound (a server that
//! never sends a newline, or never a blank line).

use futures::{Stream, StreamExt};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the byte stream under the parser can fail with.
#[derive(Debug)]
pub enum SseTransportError<E> {
    Transport(E),
    LineTooLong { cap: usize },
    EventTooLarge { cap: usize },
}

impl<E: std::fmt::Display> std::fmt::Display for SseTransportError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => e.fmt(f),
            Self::LineTooLong { cap } => write!(f, "a stream line is over {cap} bytes"),
            Self::EventTooLarge { cap } => write!(f, "a stream event is over {cap} bytes"),
        }
    }
}

#[derive(Default)]
struct Guard {
    line: usize,
    event: usize,
    previous: u8,
    /// Bytes of the stream's start kept back while they may still be a split byte-order mark.
    start: Option<Vec<u8>>,
    failed: bool,
}

impl Guard {
    /// Strips a leading BOM, which may arrive split across chunks; `None` while more bytes are needed.
    fn strip_bom(&mut self, chunk: &[u8]) -> Option<Vec<u8>> {
        let Some(mut start) = self.start.take() else { return Some(chunk.to_vec()) };
        start.extend_from_slice(chunk);
        if start.len() < BOM.len() && BOM.starts_with(&start) {
            self.start = Some(start);
            return None;
        }
        Some(if start.starts_with(BOM) { start.split_off(BOM.len()) } else { start })
    }

    fn check<E>(&mut self, bytes: &[u8], line_cap: usize, event_cap: usize) -> Result<(), SseTransportError<E>> {
        for &byte in bytes {
            let crlf = byte == b'\n' && self.previous == b'\r';
            self.previous = byte;
            if byte == b'\n' || byte == b'\r' {
                if crlf {
                    continue;
                }
                if self.line == 0 {
                    // A blank line ends the event.
                    self.event = 0;
                }
                self.line = 0;
                continue;
            }
            self.line += 1;
            self.event += 1;
            if self.line > line_cap {
                return Err(SseTransportError::LineTooLong { cap: line_cap });
            }
            if self.event > event_cap {
                return Err(SseTransportError::EventTooLarge { cap: event_cap });
            }
        }
        Ok(())
    }
}

/// Passes the bytes through (less a leading BOM) while no line exceeds `line_cap` and no event
/// `event_cap`; then yields one error and ends.
pub fn guard<S, B, E>(stream: S, line_cap: usize, event_cap: usize) -> impl Stream<Item = Result<Vec<u8>, SseTransportError<E>>>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    let mut guard = Guard { start: Some(Vec::new()), ..Guard::default() };
    stream
        .map(Some)
        // A stream that ends while a possible BOM is still held back gives those bytes up.
        .chain(futures::stream::iter([None]))
        .map(move |chunk| {
            if guard.failed {
                return None;
            }
            let bytes = match chunk {
                Some(Ok(chunk)) => match guard.strip_bom(chunk.as_ref()) {
                    Some(bytes) => bytes,
                    None => return Some(Ok(Vec::new())),
                },
                Some(Err(e)) => return Some(Err(SseTransportError::Transport(e))),
                None => guard.start.take().unwrap_or_default(),
            };
            if let Err(e) = guard.check(&bytes, line_cap, event_cap) {
                guard.failed = true;
                return Some(Err(e));
            }
            Some(Ok(bytes))
        })
        .take_while(|item| futures::future::ready(item.is_some()))
        .filter_map(|item| futures::future::ready(item.filter(|r| !matches!(r, Ok(b) if b.is_empty()))))
}

/// The line cap alone (events bounded only by the line cap times their line count).
pub fn cap_lines<S, B, E>(stream: S, cap: usize) -> impl Stream<Item = Result<Vec<u8>, SseTransportError<E>>>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    guard(stream, cap, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Chunks = Vec<Result<Vec<u8>, std::convert::Infallible>>;

    async fn run(chunks: Chunks, line: usize, event: usize) -> Vec<Result<Vec<u8>, SseTransportError<std::convert::Infallible>>> {
        guard(futures::stream::iter(chunks), line, event).collect().await
    }

    #[tokio::test]
    async fn an_endless_line_is_cut_at_the_cap() {
        let chunks: Chunks = vec![Ok(b"data: ok\n\n".to_vec()), Ok(vec![b'x'; 600]), Ok(vec![b'x'; 600]), Ok(b"\n".to_vec())];
        let out = run(chunks, 1000, usize::MAX).await;
        assert_eq!(out.len(), 3, "two chunks pass, then one error and the end");
        assert!(matches!(out[2], Err(SseTransportError::LineTooLong { cap: 1000 })));
        // Short lines in many chunks pass untouched.
        let many: Chunks = (0..100).map(|_| Ok(b"data: 0123456789\n".to_vec())).collect();
        assert_eq!(run(many, 64, 1 << 20).await.iter().filter(|r| r.is_ok()).count(), 100);
    }

    #[tokio::test]
    async fn an_event_that_never_ends_is_cut_at_the_cap_with_crlf_lines_too() {
        for newline in ["\n", "\r\n", "\r"] {
            let chunks: Chunks = (0..1000).map(|_| Ok(format!("data: x{newline}").into_bytes())).collect();
            let out = run(chunks, 64, 1000).await;
            assert!(matches!(out.last(), Some(Err(SseTransportError::EventTooLarge { cap: 1000 }))), "{newline:?}");
            // Events that end (a blank line) never trip it.
            let chunks: Chunks = (0..1000).map(|_| Ok(format!("data: x{newline}{newline}").into_bytes())).collect();
            assert!(run(chunks, 64, 1000).await.iter().all(|r| r.is_ok()), "{newline:?}");
        }
    }

    #[tokio::test]
    async fn a_leading_byte_order_mark_is_dropped_even_split_across_chunks() {
        let whole = |out: Vec<Result<Vec<u8>, SseTransportError<std::convert::Infallible>>>| {
            out.into_iter().map(|r| r.unwrap()).flatten().collect::<Vec<u8>>()
        };
        assert_eq!(whole(run(vec![Ok(b"\xEF\xBB\xBFdata: a\n\n".to_vec())], 64, 1024).await), b"data: a\n\n");
        let split: Chunks = vec![Ok(b"\xEF".to_vec()), Ok(b"\xBB".to_vec()), Ok(b"\xBFdata: a\n\n".to_vec())];
        assert_eq!(whole(run(split, 64, 1024).await), b"data: a\n\n");
        // No BOM: bytes pass as they are, even a short stream that only looks like one's start.
        assert_eq!(whole(run(vec![Ok(b"data: a\n\n".to_vec())], 64, 1024).await), b"data: a\n\n");
        assert_eq!(whole(run(vec![Ok(b"\xEF".to_vec())], 64, 1024).await), b"\xEF");
        // A BOM later in the stream is data, not stripped.
        assert_eq!(whole(run(vec![Ok(b"d".to_vec()), Ok(b"\xEF\xBB\xBF".to_vec())], 64, 1024).await), b"d\xEF\xBB\xBF");
    }
}
