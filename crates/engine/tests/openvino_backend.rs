//! The OpenVINO backend on OpenVINO's CPU device, on the tiny random-weight Ministral 3 exported to IR by
//! optimum-intel (tests/reference/mistral3_openvino.py): its greedy tokens against transformers' (which
//! OpenVINO GenAI's own LLMPipeline also reproduced), its logits against the transformers golden logits of
//! the same weights, and the engine's generation features on it. The runtime comes from PyPI's `openvino`
//! wheel (`ATELIER_OPENVINO_DIR`); the test command requires it (`ATELIER_OPENVINO_REQUIRED=1`), so these
//! tests fail rather than skip there.
#![cfg(feature = "openvino")]

mod common;

use std::path::PathBuf;

use atelier_engine::openvino::{is_ir_dir, runtime};
use atelier_engine::{CancelToken, ChatMessage, DeviceChoice, EngineError, GenerateRequest, LoadOptions, Model, Prompt, SamplingParams, StopReason};

fn ir_dir() -> PathBuf {
    common::fixture("mistral3-tiny-openvino")
}

/// Whether the runtime is here; without it a developer's run skips, the test command's run fails.
fn runtime_present() -> bool {
    match runtime::load() {
        Ok(_) => true,
        Err(why) if std::env::var_os("ATELIER_OPENVINO_REQUIRED").is_some() => panic!("OpenVINO runtime required: {why}"),
        Err(why) => {
            eprintln!("skipped: {why}");
            false
        }
    }
}

fn load() -> Model {
    Model::load(ir_dir(), &LoadOptions { device: DeviceChoice::Cpu, threads: Some(2), ..Default::default() }).unwrap()
}

struct Case {
    prompt: Prompt,
    prompt_tokens: Vec<u32>,
    greedy_tokens: Vec<u32>,
}

fn cases() -> Vec<Case> {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("mistral3-tiny-openvino.json")).unwrap()).unwrap();
    let ids = |v: &serde_json::Value| v.as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect::<Vec<_>>();
    meta["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let text = case["text"].as_str().unwrap().to_string();
            let prompt =
                if case["kind"] == "chat" { Prompt::Chat(vec![ChatMessage::user(text)]) } else { Prompt::Raw(text) };
            // GenAI's pipeline reproduced transformers on every case when the fixture was made.
            assert_eq!(case["genai_tokens"], case["greedy_tokens"]);
            Case { prompt, prompt_tokens: ids(&case["prompt_tokens"]), greedy_tokens: ids(&case["greedy_tokens"]) }
        })
        .collect()
}

fn greedy(prompt: Prompt, max_tokens: usize) -> GenerateRequest {
    GenerateRequest { prompt, max_tokens, sampling: SamplingParams::greedy(), stop: Vec::new(), response_format: None }
}

#[test]
fn the_folder_is_recognised_and_described() {
    assert!(is_ir_dir(&ir_dir()));
    assert!(!is_ir_dir(&common::fixture("mistral3-tiny.gguf")));
    if !runtime_present() {
        return;
    }
    let model = load();
    assert_eq!(model.backend_name(), "openvino");
    assert_eq!(model.info().architecture, "ministral3");
    assert_eq!(model.info().quantization, "FP32");
    assert_eq!(model.config().n_layer, 2);
    assert_eq!(model.config().n_kv_head, 2);
    assert!(model.device_name().starts_with("OpenVINO CPU"), "{}", model.device_name());
}

#[test]
fn prompts_tokenise_as_transformers_does() {
    if !runtime_present() {
        return;
    }
    let model = load();
    for case in cases() {
        assert_eq!(model.prompt_tokens(&case.prompt).unwrap(), case.prompt_tokens, "{:?}", case.prompt);
    }
}

#[test]
fn greedy_tokens_agree_with_transformers() {
    if !runtime_present() {
        return;
    }
    let mut model = load();
    for case in cases() {
        // Token by token through the backend: the ids themselves.
        let mut logits = model.eval(&case.prompt_tokens, 0).unwrap();
        let mut ours = Vec::new();
        for _ in 0..case.greedy_tokens.len() {
            let next = atelier_engine::sampling::argmax(&logits);
            ours.push(next);
            logits = model.eval(&[next], case.prompt_tokens.len() + ours.len() - 1).unwrap();
        }
        assert_eq!(ours, case.greedy_tokens, "{:?}", case.prompt);
        // And through `generate`, the path the app takes: the text the engine streams for those ids (stray
        // bytes of random weights that never complete a character are held back, as for a GGUF model).
        let generation = model.generate(&greedy(case.prompt.clone(), case.greedy_tokens.len()), &CancelToken::new(), &mut |_| {}).unwrap();
        let mut stream = model.tokenizer().decode_stream();
        let expected: String = case.greedy_tokens.iter().filter_map(|&id| stream.step(id).unwrap()).collect();
        assert_eq!(generation.text, expected, "{:?}", case.prompt);
        assert_eq!(generation.completion_tokens, case.greedy_tokens.len());
        assert_eq!(generation.stop_reason, StopReason::MaxTokens);
    }
}

#[test]
fn logits_agree_with_the_transformers_golden_logits() {
    if !runtime_present() {
        return;
    }
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("mistral3-tiny.json")).unwrap()).unwrap();
    let tokens: Vec<u32> = meta["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
    let bytes = std::fs::read(common::fixture("mistral3-tiny.logits.f32")).unwrap();
    let golden: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    let mut model = Model::load(
        ir_dir(),
        &LoadOptions { device: DeviceChoice::Cpu, context_length: Some(256), threads: Some(2), ..Default::default() },
    )
    .unwrap();
    let ours = model.logits(&tokens).unwrap();
    let vocab = golden.len() / tokens.len();
    let worst = ours
        .iter()
        .enumerate()
        .flat_map(|(p, row)| row.iter().zip(&golden[p * vocab..(p + 1) * vocab]).map(|(a, b)| (a - b).abs()))
        .fold(0.0f32, f32::max);
    // The same weights as the GGUF fixture; 200 positions reach far past YaRN's original context of 16.
    assert!(worst < 1e-3, "max |Δlogit| {worst}");
}

#[test]
fn a_new_prompt_starts_over_and_a_continued_one_reuses_the_cache() {
    if !runtime_present() {
        return;
    }
    let cases = cases();
    let mut model = load();
    let fresh = |case: &Case| {
        let mut model = load();
        model.generate(&greedy(case.prompt.clone(), 8), &CancelToken::new(), &mut |_| {}).unwrap().text
    };
    // After another prompt the state cannot be trimmed: the backend must start over, and match a fresh model.
    model.generate(&greedy(cases[1].prompt.clone(), 8), &CancelToken::new(), &mut |_| {}).unwrap();
    let second = model.generate(&greedy(cases[0].prompt.clone(), 8), &CancelToken::new(), &mut |_| {}).unwrap();
    assert_eq!(second.text, fresh(&cases[0]));
    assert_eq!(second.timings.prompt_tokens_processed, second.prompt_tokens);
    // A prompt that extends the cached tokens runs only the new ones.
    let mut text = match &cases[0].prompt {
        Prompt::Raw(text) => text.clone(),
        other => panic!("{other:?}"),
    };
    text.push_str(&second.text);
    text.push_str(" the");
    let longer = Case { prompt: Prompt::Raw(text), prompt_tokens: Vec::new(), greedy_tokens: Vec::new() };
    let continued = model.generate(&greedy(longer.prompt.clone(), 8), &CancelToken::new(), &mut |_| {}).unwrap();
    assert!(continued.timings.prompt_tokens_processed < continued.prompt_tokens, "{:?}", continued.timings);
    assert_eq!(continued.text, fresh(&longer));
}

#[test]
fn stop_strings_end_the_reply_before_them() {
    if !runtime_present() {
        return;
    }
    let mut model = load();
    let case = &cases()[0];
    let full = model.tokenizer().decode(&case.greedy_tokens).unwrap();
    let stop = "jj";
    let at = full.find(stop).expect("the greedy reply repeats a letter");
    let mut request = greedy(case.prompt.clone(), case.greedy_tokens.len());
    request.stop = vec![stop.into()];
    let generation = model.generate(&request, &CancelToken::new(), &mut |_| {}).unwrap();
    assert_eq!(generation.stop_reason, StopReason::StopString);
    assert_eq!(generation.text, full[..at]);
}

#[test]
fn cancelling_stops_at_the_next_token() {
    if !runtime_present() {
        return;
    }
    let mut model = load();
    let cancel = CancelToken::new();
    let mut chunks = 0;
    let request = GenerateRequest { sampling: SamplingParams { seed: 7, temperature: 1.0, ..Default::default() }, ..greedy(Prompt::Raw("Once upon".into()), 200) };
    let generation = model
        .generate(&request, &cancel, &mut |_| {
            chunks += 1;
            cancel.cancel();
        })
        .unwrap();
    assert_eq!(generation.stop_reason, StopReason::Cancelled);
    assert!(chunks >= 1 && generation.completion_tokens < 10, "{} tokens", generation.completion_tokens);
}

#[test]
fn streamed_pieces_are_whole_utf8_and_add_up_to_the_reply() {
    if !runtime_present() {
        return;
    }
    let model = load();
    // "é", "😀" and "ï" are byte-fallback tokens here: two to four ids per character.
    let text = "é😀 naïve";
    let ids = model.tokenizer().encode_plain(text).unwrap();
    assert!(ids.len() > text.chars().count(), "{ids:?}");
    let mut stream = model.tokenizer().decode_stream();
    let mut pieces = Vec::new();
    for id in &ids {
        if let Some(piece) = stream.step(*id).unwrap() {
            pieces.push(piece);
        }
    }
    assert!(pieces.iter().all(|p| !p.contains('\u{FFFD}')), "{pieces:?}");
    assert_eq!(pieces.concat().trim_start(), text);

    // Sampled replies of random weights are mostly stray bytes: what streams still adds up to the text.
    let mut model = model;
    let mut streamed = String::new();
    let request = GenerateRequest { sampling: SamplingParams { seed: 3, temperature: 1.5, ..Default::default() }, ..greedy(Prompt::Raw(text.into()), 48) };
    let generation = model.generate(&request, &CancelToken::new(), &mut |chunk| streamed.push_str(chunk.text)).unwrap();
    assert_eq!(streamed, generation.text);
    assert!(generation.timings.time_to_first_token_ms > 0.0);
}

#[test]
fn broken_model_files_give_clear_errors() {
    if !runtime_present() {
        return;
    }
    let copy = || common::copy_dir(&ir_dir());
    let options = LoadOptions { device: DeviceChoice::Cpu, ..Default::default() };
    let message = |dir: &tempfile::TempDir| match Model::load(dir.path(), &options) {
        Ok(_) => panic!("a broken folder loaded"),
        Err(e) => e.to_string(),
    };

    let truncated_xml = copy();
    let xml = std::fs::read(ir_dir().join("openvino_model.xml")).unwrap();
    std::fs::write(truncated_xml.path().join("openvino_model.xml"), &xml[..xml.len() / 2]).unwrap();
    assert!(message(&truncated_xml).contains("openvino_model.xml cannot be read"), "{}", message(&truncated_xml));

    let short_weights = copy();
    let bin = std::fs::read(ir_dir().join("openvino_model.bin")).unwrap();
    std::fs::write(short_weights.path().join("openvino_model.bin"), &bin[..bin.len() / 3]).unwrap();
    assert!(message(&short_weights).contains("not a usable OpenVINO model"), "{}", message(&short_weights));

    // The runtime-free checks of a folder are in openvino_folder.rs.
}

#[test]
fn the_device_list_tells_the_truth() {
    if !runtime_present() {
        return;
    }
    let devices = runtime::devices().unwrap();
    assert!(devices.iter().any(|d| d.id == "CPU"), "{devices:?}");
    // Asking for an NPU this machine lacks names what it has instead.
    if !devices.iter().any(|d| d.id == "NPU") {
        let err = Model::load(ir_dir(), &LoadOptions { device: DeviceChoice::Npu, ..Default::default() }).err().unwrap();
        assert!(matches!(err, EngineError::Device(_)));
        assert!(err.to_string().contains("OpenVINO found no NPU on this machine (it has: CPU"), "{err}");
    }
}
