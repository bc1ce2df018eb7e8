//! A guard in front of the SSE parser: a line longer than the cap ends the stream with an error instead
//! of growing the parser's buffer without bound (a server that never sends a newline).

use futures::{Stream, StreamExt};

/// What the byte stream under the parser can fail with.
#[derive(Debug)]
pub enum SseTransportError<E> {
    Transport(E),
    LineTooLong { cap: usize },
}

impl<E: std::fmt::Display> std::fmt::Display for SseTransportError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => e.fmt(f),
            Self::LineTooLong { cap } => write!(f, "a stream line is over {cap} bytes"),
        }
    }
}

/// Passes chunks through while no line (bytes between `\n` or `\r`) exceeds `cap`; then yields one
/// [`SseTransportError::LineTooLong`] and ends.
pub fn cap_lines<S, B, E>(stream: S, cap: usize) -> impl Stream<Item = Result<B, SseTransportError<E>>>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    let mut line = 0usize;
    let mut failed = false;
    stream
        .map(move |chunk| {
            if failed {
                return None;
            }
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => return Some(Err(SseTransportError::Transport(e))),
            };
            for &byte in chunk.as_ref() {
                if byte == b'\n' || byte == b'\r' {
                    line = 0;
                } else {
                    line += 1;
                    if line > cap {
                        failed = true;
                        return Some(Err(SseTransportError::LineTooLong { cap }));
                    }
                }
            }
            Some(Ok(chunk))
        })
        .take_while(|item| futures::future::ready(item.is_some()))
        .filter_map(futures::future::ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_endless_line_is_cut_at_the_cap() {
        let chunks: Vec<Result<Vec<u8>, std::convert::Infallible>> = vec![Ok(b"data: ok\n\n".to_vec()), Ok(vec![b'x'; 600]), Ok(vec![b'x'; 600]), Ok(b"\n".to_vec())];
        let out: Vec<_> = cap_lines(futures::stream::iter(chunks), 1000).collect().await;
        assert_eq!(out.len(), 3, "two chunks pass, then one error and the end");
        assert!(matches!(out[2], Err(SseTransportError::LineTooLong { cap: 1000 })));
        // Short lines in many chunks pass untouched.
        let many: Vec<Result<Vec<u8>, std::convert::Infallible>> = (0..100).map(|_| Ok(b"data: 0123456789\n".to_vec())).collect();
        assert_eq!(cap_lines(futures::stream::iter(many), 64).filter(|r| futures::future::ready(r.is_ok())).count().await, 100);
    }
}
