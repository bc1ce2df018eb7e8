//! Structured output on real models: every sample parses against its schema, on the embedded model and
//! on a tiny random-weight model (where only the grammar makes the text valid); a format that admits
//! nothing is a clear error, not a hang.

mod common;

use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::{CancelToken, ChatMessage, EngineError, GenerateRequest, LoadOptions, Model, Prompt, ResponseFormat, SamplingParams, StopReason};

fn schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "mood": { "type": "string", "enum": ["calm", "stormy", "grey"] },
            "score": { "type": "integer", "minimum": 0, "maximum": 10 },
            "line": { "type": "string", "minLength": 1, "maxLength": 60 }
        },
        "required": ["mood", "score", "line"],
        "additionalProperties": false,
        "x-guidance": { "whitespace_flexible": false }
    })
}

fn request(temperature: f32, seed: u64, format: Option<ResponseFormat>) -> GenerateRequest {
    GenerateRequest {
        prompt: Prompt::Chat(vec![ChatMessage::user("Describe the sea at dawn as JSON with a mood, a score from 0 to 10 and one line.")]),
        max_tokens: 120,
        sampling: SamplingParams { temperature, seed, ..SamplingParams::default() },
        stop: Vec::new(),
        response_format: format,
    }
}

fn assert_valid(text: &str) {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    assert!(["calm", "stormy", "grey"].contains(&value["mood"].as_str().unwrap()), "{text}");
    assert!((0..=10).contains(&value["score"].as_i64().unwrap()), "{text}");
    let line = value["line"].as_str().unwrap();
    assert!(!line.is_empty() && line.chars().count() <= 60, "{text}");
    assert_eq!(value.as_object().unwrap().len(), 3, "{text}");
}

#[test]
fn every_sample_of_the_embedded_model_parses_against_the_schema() {
    let mut model = Model::load(common::default_model(), &LoadOptions { context_length: Some(1024), ..Default::default() }).unwrap();
    let format = ResponseFormat::json_schema("sea", schema());
    for (temperature, seed) in [(0.0, 0), (0.8, 1), (1.2, 2), (1.5, 3)] {
        let generation = model.generate(&request(temperature, seed, Some(format.clone())), &CancelToken::new(), &mut |_| {}).unwrap();
        assert_eq!(generation.stop_reason, StopReason::EndOfTurn, "{generation:?}");
        assert_valid(&generation.text);
        assert!(generation.timings.grammar_ms > 0.0);
    }
    // Unconstrained, no grammar time is spent.
    let free = model.generate(&request(1.2, 2, None), &CancelToken::new(), &mut |_| {}).unwrap();
    assert_eq!(free.timings.grammar_ms, 0.0);
}

#[test]
fn a_random_weight_model_writes_valid_json_only_because_of_the_grammar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    SyntheticSpec::tiny_llama().write(&path).unwrap();
    let mut model = Model::load(&path, &LoadOptions::default()).unwrap();
    let format = ResponseFormat::json_schema("sea", schema());
    let mut request = request(1.0, 0, Some(format));
    request.prompt = Prompt::Raw("the cat".into());
    request.max_tokens = 200;
    for seed in 0..4 {
        request.sampling.seed = seed;
        let generation = model.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap();
        assert_eq!(generation.stop_reason, StopReason::EndOfTurn, "{generation:?}");
        assert_valid(&generation.text);
    }
}

#[test]
fn a_format_that_admits_nothing_is_a_clear_error() {
    let mut model = Model::load(common::default_model(), &LoadOptions { context_length: Some(512), ..Default::default() }).unwrap();
    let impossible = [
        ResponseFormat::json_schema("none", serde_json::json!({ "type": "integer", "minimum": 5, "maximum": 2 })),
        ResponseFormat::json_schema("none", serde_json::json!({ "allOf": [{ "type": "string" }, { "type": "integer" }] })),
        ResponseFormat::Lark { grammar: "start: nothing\nnothing: \"a\" nothing".into() },
        ResponseFormat::Lark { grammar: "start: ((".into() },
    ];
    for format in impossible {
        let started = std::time::Instant::now();
        let error = model.generate(&request(0.0, 0, Some(format.clone())), &CancelToken::new(), &mut |_| {}).unwrap_err();
        assert!(matches!(error, EngineError::Grammar(_)), "{format:?}: {error}");
        assert!(error.to_string().starts_with("structured output: "), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{format:?} took {:?}", started.elapsed());
    }
    // The model is still usable afterwards.
    let generation = model.generate(&request(0.0, 0, None), &CancelToken::new(), &mut |_| {}).unwrap();
    assert!(generation.completion_tokens > 0);
}
