//! Both GGUF tokenizer kinds against llama.cpp's ids (tests/fixtures/tokenizer_kinds.json, made by
//! tests/reference/tokenizer_fixtures.py): SentencePiece (`llama`) and Mistral's Tekken (`gpt2` + `tekken`).

mod common;

use atelier_engine::{GgufFile, Tokenizer, TokenizerKind};

fn check(kind: &str, expected_kind: TokenizerKind) -> Tokenizer {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("tokenizer_kinds.json")).unwrap()).unwrap();
    let section = &v[kind];
    let gguf = GgufFile::open(common::fixture(section["file"].as_str().unwrap())).unwrap();
    let tokenizer = Tokenizer::from_gguf(&gguf).unwrap();
    assert_eq!(tokenizer.kind(), expected_kind);
    for case in section["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let expected: Vec<u32> = case["ids"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as u32).collect();
        assert_eq!(tokenizer.encode(text, false).unwrap(), expected, "{kind}: {text:?}");
        if !case["special"].as_bool().unwrap() {
            assert_eq!(tokenizer.decode(&expected).unwrap(), text, "{kind}: decoding {text:?}");
        }
    }
    tokenizer
}

#[test]
fn sentencepiece_ids_match_llama_cpp_and_round_trip() {
    let t = check("sentencepiece", TokenizerKind::SentencePiece);
    // SentencePiece models start with BOS.
    assert_eq!(t.encode("the", true).unwrap().first(), t.bos_id().as_ref());
}

#[test]
fn tekken_ids_match_llama_cpp_and_round_trip() {
    let t = check("tekken", TokenizerKind::ByteLevelBpe);
    assert_eq!(t.encode("Hello", true).unwrap().first(), t.bos_id().as_ref());
    let inst = t.token_to_id("[INST]").unwrap();
    assert_eq!(t.encode("[INST]hi", false).unwrap()[0], inst);
}
