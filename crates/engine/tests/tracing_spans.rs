//! A generation leaves enough in the log to explain a slow run: the load, prompt and decode spans with their
//! fields, and one closing event with the timings.

use std::io::Write;
use std::sync::{Arc, Mutex};

use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::{CancelToken, GenerateRequest, LoadOptions, Model};
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn load_prompt_and_decode_are_spans_and_the_end_is_one_event_with_timings() {
    let file = tempfile::Builder::new().suffix(".gguf").tempfile().unwrap();
    SyntheticSpec::tiny_llama().write(file.path()).unwrap();
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let mut model = Model::load(file.path(), &LoadOptions::default()).unwrap();
        let mut request = GenerateRequest::chat("Once upon a time");
        request.max_tokens = 3;
        request.sampling.temperature = 0.0;
        model.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap();
    });
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    println!("{text}");
    let line = |needle: &str| text.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no `{needle}` in\n{text}"));
    let load = line("model_load{");
    assert!(load.contains("architecture=\"llama\"") || load.contains("architecture=llama"), "{load}");
    assert!(load.contains("device=Cpu"), "{load}");
    let loaded = line("model loaded");
    assert!(loaded.contains("backend=\"atelier-cpu\"") || loaded.contains("backend=atelier-cpu"), "{loaded}");
    let prompt = line("prompt{prompt_tokens=");
    assert!(prompt.contains("cached_tokens=0"), "{prompt}");
    let decode = line("decode{completion_tokens=");
    assert!(decode.contains("stop_reason="), "{decode}");
    let finished = line("generation finished");
    for field in ["prompt_tokens=", "prompt_ms=", "time_to_first_token_ms=", "completion_tokens=", "decode_tokens_per_second=", "total_ms=", "stop_reason="] {
        assert!(finished.contains(field), "`{field}` missing from {finished}");
    }
    // Nothing per token at info level: one line per span close and the two events.
    assert!(text.lines().count() <= 8, "{text}");
}
