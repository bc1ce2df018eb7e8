//! Models the tests write themselves: the loader and generation on a random-weight llama GGUF.

mod common;

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

/// `atelier synth --mix`: each tensor gets the type llama.cpp's recipe gives it (the head in Q6_K,
/// `attn_v`/`ffn_down` in Q6_K in the layers with more bits, Q5_0 for rows no multiple of 256), and
/// the mixed file loads and generates.
#[test]
fn a_mixed_stand_in_has_llama_cpps_types_and_runs() {
    use atelier_engine::synth::mix::QuantMix;
    use candle_core::quantized::{gguf_file, GgmlDType};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mix.gguf");
    let spec = SyntheticSpec {
        n_layer: 8,
        n_embd: 256,
        n_ff: 640,
        n_head: 8,
        n_kv_head: 4,
        head_dim: 32,
        tied_embeddings: true,
        mix: Some(QuantMix::Q4KM),
        ..SyntheticSpec::tiny_llama()
    };
    spec.write(&path).unwrap();
    let content = gguf_file::Content::read(&mut std::fs::File::open(&path).unwrap()).unwrap();
    let ty = |name: &str| content.tensor_infos[name].ggml_dtype;
    assert_eq!(ty("token_embd.weight"), GgmlDType::Q6K, "tied embeddings are the head");
    // Layers 0 and 7 (the first and last eighth) and 3 and 6 ((i - 1) % 3 == 2) get more bits.
    for layer in 0..8 {
        let more = [0, 3, 6, 7].contains(&layer);
        assert_eq!(ty(&format!("blk.{layer}.attn_v.weight")), if more { GgmlDType::Q6K } else { GgmlDType::Q4K }, "layer {layer}");
        // ffn_down's rows are 640 wide: no multiple of 256, so Q6_K falls back to Q8_0 and Q4_K to Q5_0.
        assert_eq!(ty(&format!("blk.{layer}.ffn_down.weight")), if more { GgmlDType::Q8_0 } else { GgmlDType::Q5_0 }, "layer {layer}");
        assert_eq!(ty(&format!("blk.{layer}.attn_q.weight")), GgmlDType::Q4K);
    }
    let mut model = Model::load(&path, &LoadOptions::default()).unwrap();
    let request = GenerateRequest {
        prompt: Prompt::Raw("the cat sat".into()),
        max_tokens: 4,
        sampling: SamplingParams::greedy(),
        stop: vec![],
        response_format: None,
    };
    let reply = model.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap();
    assert!(reply.completion_tokens > 0);
}

/// A stand-in with the embedded model's tokenizer turns text into the embedded model's tokens and
/// renders its chat template, its vocabulary padded to the embedding; one too small for it is refused.
#[test]
fn a_stand_in_with_a_borrowed_tokenizer_counts_text_as_the_real_model_does() {
    use atelier_engine::synth::borrowed_tokenizer;
    use atelier_engine::{ChatMessage, Prompt};
    let borrowed = borrowed_tokenizer::read(&common::default_model()).unwrap();
    assert!(borrowed.iter().any(|(k, _)| k == "tokenizer.chat_template"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stand-in.gguf");
    let spec = SyntheticSpec { vocab_size: 49_408, context_length: 512, tokenizer: Some(borrowed.clone()), ..SyntheticSpec::tiny_llama() };
    spec.write(&path).unwrap();
    let mut stand_in = Model::load(&path, &LoadOptions::default()).unwrap();
    let real = Model::load(common::default_model(), &LoadOptions { context_length: Some(512), ..Default::default() }).unwrap();
    let text = "Mara counted the bollards on the quay, twice, before the fog came in.";
    assert_eq!(stand_in.tokenizer().encode_plain(text).unwrap(), real.tokenizer().encode_plain(text).unwrap());
    let chat = Prompt::Chat(vec![ChatMessage::system("Be brief."), ChatMessage::user(text)]);
    assert_eq!(stand_in.prompt_tokens(&chat).unwrap(), real.prompt_tokens(&chat).unwrap());
    assert_eq!(stand_in.tokenizer().vocab_size(), 49_408);
    let request = GenerateRequest { prompt: chat, max_tokens: 4, sampling: SamplingParams::greedy(), stop: vec![], response_format: None };
    assert!(stand_in.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap().completion_tokens > 0);

    let small = SyntheticSpec { tokenizer: Some(borrowed), ..SyntheticSpec::tiny_llama() };
    let err = small.write(dir.path().join("small.gguf")).unwrap_err();
    assert!(err.to_string().contains("more than the stand-in's 300 embedding rows"), "{err}");
}
