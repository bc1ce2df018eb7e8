//! Models the tests write themselves: the loader and generation on a random-weight llama GGUF.

use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::{CancelToken, ChatFormat, GenerateRequest, LoadOptions, Model, Prompt, SamplingParams};

#[test]
fn a_tiny_random_llama_loads_and_generates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    SyntheticSpec::tiny_llama().write(&path).unwrap();
    let mut model = Model::load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(model.info().architecture, "llama");
    assert_eq!(model.context_length(), 256);
    // No chat template in the file, but the vocabulary has ChatML markers.
    assert!(matches!(model.chat_template().format(), ChatFormat::ChatMl));
    let request = GenerateRequest {
        prompt: Prompt::Raw("the cat".into()),
        max_tokens: 8,
        sampling: SamplingParams::greedy(),
        stop: vec![],
        response_format: None,
    };
    let a = model.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap();
    let b = model.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap();
    assert_eq!(a.text, b.text);
    assert!(a.completion_tokens > 0);
}

#[test]
fn logits_of_one_batch_equal_logits_token_by_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    SyntheticSpec::tiny_llama().write(&path).unwrap();
    let mut model = Model::load(&path, &LoadOptions::default()).unwrap();
    let tokens = model.tokenizer().encode("the weather in the hills", false).unwrap();
    let batch = model.logits(&tokens).unwrap();
    // Incremental: prefix logits from generation of growing prompts must match the batch rows.
    for n in 1..=tokens.len() {
        let prefix = model.logits(&tokens[..n]).unwrap();
        let last = prefix.last().unwrap();
        let diff = last.iter().zip(&batch[n - 1]).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(diff < 1e-3, "position {}: {diff}", n - 1);
    }
}
