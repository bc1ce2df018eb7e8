//! The tokenizer rebuilt from the embedded model's GGUF metadata against llama.cpp's own ids
//! (tests/fixtures/smollm2_tokens.json, made by tests/reference/smollm2_tokens.py).

mod common;

use atelier_engine::{GgufFile, Tokenizer, TokenizerKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    special: bool,
    ids: Vec<u32>,
}

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

fn tokenizer() -> Tokenizer {
    let gguf = GgufFile::open(common::default_model()).unwrap();
    Tokenizer::from_gguf(&gguf).unwrap()
}

fn reference() -> Reference {
    let text = std::fs::read_to_string(common::fixture("smollm2_tokens.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn encodes_like_llama_cpp() {
    let tokenizer = tokenizer();
    assert_eq!(tokenizer.kind(), TokenizerKind::ByteLevelBpe);
    let reference = reference();
    assert!(reference.cases.len() >= 8);
    for case in &reference.cases {
        let ids = tokenizer.encode(&case.text, false).unwrap();
        assert_eq!(ids, case.ids, "ids differ for {:?}", case.text);
    }
}

#[test]
fn the_design_sentence_has_the_documented_ids() {
    let ids = tokenizer().encode("Hello world, how are you?", false).unwrap();
    assert_eq!(ids, [19556, 905, 28, 638, 359, 346, 47]);
}

#[test]
fn plain_text_round_trips() {
    let tokenizer = tokenizer();
    for case in reference().cases.iter().filter(|c| !c.special) {
        let ids = tokenizer.encode(&case.text, false).unwrap();
        assert_eq!(tokenizer.decode(&ids).unwrap(), case.text);
    }
}

#[test]
fn streaming_decode_rebuilds_multibyte_text_piece_by_piece() {
    let tokenizer = tokenizer();
    let text = "naïve café — 日本語 🙂👍🏽 done";
    let ids = tokenizer.encode(text, false).unwrap();
    // Some emoji span several tokens: a piece must never carry half a character.
    let mut stream = tokenizer.decode_stream();
    let mut pieces = Vec::new();
    for id in ids {
        if let Some(piece) = stream.step(id).unwrap() {
            assert!(!piece.contains('\u{FFFD}'), "broken UTF-8 in {piece:?}");
            pieces.push(piece);
        }
    }
    assert_eq!(pieces.concat(), text);
    assert!(pieces.len() > 5);
}

#[test]
fn chat_markers_are_single_tokens_and_end_generation() {
    let tokenizer = tokenizer();
    let start = tokenizer.token_to_id("<|im_start|>").unwrap();
    let end = tokenizer.token_to_id("<|im_end|>").unwrap();
    let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>", false).unwrap();
    assert_eq!(ids.first(), Some(&start));
    assert_eq!(ids.last(), Some(&end));
    assert!(tokenizer.stop_ids().contains(&end));
}
