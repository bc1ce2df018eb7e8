//! Fuzz targets for what cloud services send back: the SSE stream (line cap, event parser, chunk JSON),
//! the `Retry-After` header and the judge's verdict. A hostile or broken server must never crash the app.

use std::path::{Path, PathBuf};
use std::time::Duration;

use atelier_fusion::judge::{label, parse_verdict, JudgeTask, FINAL_MARKER};
use atelier_fusion::openai::{parse_retry_after, Chunk, MAX_RETRY_AFTER};
use atelier_fusion::sse::{cap_lines, SseTransportError};
use atelier_fusion::Price;
use atelier_fuzz::{Bytes, Guard, INTERESTING};
use eventsource_stream::{EventStreamError, Eventsource};
use futures::StreamExt;

fn crash_path(target: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{target}.abort-input"))
}

// ---------------------------------------------------------------------------------------------------
// 3. SSE streams
// ---------------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum Item {
    Event { event: String, data: String, id: String },
    LineTooLong,
    Other(String),
}

/// The stream as openai.rs reads it: the line cap, then the event parser; each event's data as JSON.
fn events(chunks: Vec<Vec<u8>>, cap: usize) -> Vec<Item> {
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    let mut events = cap_lines(stream, cap).eventsource();
    futures::executor::block_on(async {
        let mut out = Vec::new();
        while let Some(event) = events.next().await {
            match event {
                Ok(event) => {
                    let data = event.data.trim();
                    if !data.is_empty() && data != "[DONE]" {
                        let _ = serde_json::from_str::<serde_json::Value>(data);
                        if let Ok(chunk) = serde_json::from_str::<Chunk>(data) {
                            if let Some(u) = chunk.usage {
                                let price = Price { input_per_mtok: 3.0, output_per_mtok: 15.0 };
                                let _ = u.cost.unwrap_or_else(|| price.cost(u.prompt_tokens, u.completion_tokens));
                            }
                        }
                    }
                    out.push(Item::Event { event: event.event, data: event.data, id: event.id });
                }
                Err(EventStreamError::Transport(SseTransportError::LineTooLong { .. })) => {
                    out.push(Item::LineTooLong);
                    break;
                }
                Err(e) => {
                    out.push(Item::Other(e.to_string()));
                    break;
                }
            }
        }
        out
    })
}

/// Bytes between line ends, as `cap_lines` counts them.
fn longest_line(body: &[u8]) -> usize {
    body.split(|b| *b == b'\n' || *b == b'\r').map(<[u8]>::len).max().unwrap_or(0)
}

fn exercise_sse(input: &[u8]) {
    let mut r = Bytes::new(input);
    let cap = 8 + r.u8() as usize * 8;
    let mut seed = r.u8() as u32 | 1;
    let body = r.rest();
    // crashes/bom-at-start: eventsource-stream 0.2.3 panicked on a stream that starts with a UTF-8 BOM;
    // the guard in front of it strips one (whatever the chunking), so lines are measured without it.
    let raw = body;
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let mut chunks = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (1 + (seed >> 16) as usize % 64).min(rest.len());
        chunks.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    let split = events(chunks, cap);
    let too_long = longest_line(body) > cap;
    assert_eq!(
        split.last() == Some(&Item::LineTooLong),
        too_long,
        "a line of {} bytes with the cap at {cap}: {:?}",
        longest_line(body),
        split.last()
    );
    // The events must not depend on where the network cut the bytes (for text; invalid UTF-8 is reported
    // at whichever chunk holds it).
    if !too_long && std::str::from_utf8(body).is_ok() {
        let whole = events(vec![body.to_vec()], cap);
        let ok = |items: &[Item]| items.iter().filter(|i| matches!(i, Item::Event { .. })).count();
        let n = ok(&split).min(ok(&whole));
        assert_eq!(split[..n], whole[..n], "chunked and whole streams differ");
    }
}

#[test]
fn sse_stream() {
    let guard = Guard::new(crash_path("sse_stream"));
    bolero::check!().with_test_time(atelier_fuzz::test_time()).with_max_len(8 << 10).for_each(|input: &[u8]| {
        guard.run(input, || exercise_sse(input))
    });
}

// ---------------------------------------------------------------------------------------------------
// 4. Retry-After
// ---------------------------------------------------------------------------------------------------

fn check_retry_after(value: &str) {
    if let Some(d) = parse_retry_after(value) {
        assert!(d <= MAX_RETRY_AFTER, "{value:?} gave {d:?}");
        assert!(d <= Duration::from_secs(3600));
    }
}

/// The input as the header, then an HTTP date and a number built from it (so random bytes reach the
/// date arithmetic and the float clamp).
fn exercise_retry_after(input: &[u8]) {
    check_retry_after(&String::from_utf8_lossy(input));
    let mut r = Bytes::new(input);
    let num = |r: &mut Bytes| -> String {
        match r.u8() % 4 {
            0 => r.u8().to_string(),
            1 => r.u16().to_string(),
            2 => r.pick(INTERESTING).to_string(),
            _ => format!("-{}", r.u32()),
        }
    };
    let day = *r.pick(&["Mon", "Sun", "Xyz", ""]);
    let month = *r.pick(&["Jan", "Feb", "Mar", "Dec", "Foo"]);
    let (d, y, h, m, s) = (num(&mut r), num(&mut r), num(&mut r), num(&mut r), num(&mut r));
    check_retry_after(&format!("{day}, {d} {month} {y} {h}:{m}:{s} GMT"));
    let f = f64::from_bits(r.u64());
    check_retry_after(&format!("{f}"));
    check_retry_after(&format!("{f:e}"));
    check_retry_after(&format!("  {}  ", r.pick(INTERESTING)));
}

#[test]
fn retry_after() {
    let guard = Guard::new(crash_path("retry_after"));
    bolero::check!().with_test_time(atelier_fuzz::test_time()).with_max_len(256).for_each(|input: &[u8]| {
        guard.run(input, || exercise_retry_after(input))
    });
}

// ---------------------------------------------------------------------------------------------------
// 5. The judge's verdict
// ---------------------------------------------------------------------------------------------------

fn check_verdict(raw: &str, n: usize) {
    let labels: Vec<String> = (0..n).map(label).collect();
    for task in [JudgeTask::Pick, JudgeTask::Merge] {
        if let Ok((verdict, _final_text)) = parse_verdict(raw, &labels, task) {
            assert!(!verdict.scores.is_empty());
            for (l, score) in &verdict.scores {
                assert!(labels.contains(l), "score for unknown label {l}");
                assert!((0.0..=10.0).contains(score), "score {score}");
            }
            if let Some(best) = &verdict.best {
                assert!(labels.contains(best), "best is unknown label {best}");
            }
            if task == JudgeTask::Pick {
                assert!(verdict.best.is_some());
            }
            for insight in &verdict.unique_insights {
                assert!(insight.response.is_empty() || labels.contains(&insight.response));
            }
        }
    }
}

fn json_value(r: &mut Bytes, depth: usize) -> serde_json::Value {
    use serde_json::Value;
    match r.u8() % if depth > 3 { 5 } else { 7 } {
        0 => Value::Null,
        1 => Value::Bool(r.bool()),
        2 => match r.u8() % 3 {
            0 => Value::from(r.u8() as i64 - 20),
            1 => Value::from(*r.pick(INTERESTING)),
            _ => serde_json::Number::from_f64(f64::from_bits(r.u64())).map(Value::Number).unwrap_or(Value::Null),
        },
        3 => Value::String(r.pick(&["A", "B", "Response A", " b ", "**C**", "Z", "AA", "", "null", "None", "7.5", "1e400"]).to_string()),
        4 => {
            let n = r.u8() as usize % 24;
            Value::String(String::from_utf8_lossy(r.take(n)).into_owned())
        }
        5 => Value::Array((0..r.u8() % 4).map(|_| json_value(r, depth + 1)).collect()),
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..r.u8() % 4 {
                let key = r.pick(&["A", "B", "C", "response", "insight", "Response B", "x"]).to_string();
                map.insert(key, json_value(r, depth + 1));
            }
            Value::Object(map)
        }
    }
}

/// The input as the judge's reply; then a verdict-shaped JSON object built from it, fenced or not,
/// followed by the final-answer marker or not.
fn exercise_verdict(input: &[u8]) {
    let mut r = Bytes::new(input);
    let n = r.u8() as usize % 5 + 1;
    check_verdict(&String::from_utf8_lossy(r.rest()), n);

    let mut r = Bytes::new(input);
    let n = r.u8() as usize % 30 + 1;
    let mut obj = serde_json::Map::new();
    for _ in 0..r.u8() % 9 {
        let key = *r.pick(&["scores", "best", "consensus", "contradictions", "unique_insights", "blind_spots", "minority_report", "final_answer", "extra"]);
        let value = if key == "scores" && r.bool() {
            let mut scores = serde_json::Map::new();
            for _ in 0..r.u8() % 4 {
                scores.insert(label(r.u8() as usize % 40), json_value(&mut r, 3));
            }
            serde_json::Value::Object(scores)
        } else {
            json_value(&mut r, 0)
        };
        obj.insert(key.to_string(), value);
    }
    let json = serde_json::Value::Object(obj).to_string();
    let fenced = if r.bool() { format!("Here it is:\n```json\n{json}\n```") } else { json };
    let tail = String::from_utf8_lossy(r.rest()).into_owned();
    check_verdict(&format!("{fenced}\n{FINAL_MARKER}\n{tail}"), n);
    check_verdict(&format!("{fenced}{tail}"), n);
}

#[test]
fn judge_verdict() {
    let guard = Guard::new(crash_path("judge_verdict"));
    bolero::check!().with_test_time(atelier_fuzz::test_time()).with_max_len(4 << 10).for_each(|input: &[u8]| {
        guard.run(input, || exercise_verdict(input))
    });
}
