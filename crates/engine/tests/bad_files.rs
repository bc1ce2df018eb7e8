//! Every kind of bad model file gets its own clear, typed error.

mod common;

use std::io::Write;

use atelier_engine::gguf_writer::GgufWriter;
use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::{EngineError, GgufFile, LoadOptions, Model};

fn load(path: &std::path::Path) -> EngineError {
    match Model::load(path, &LoadOptions::default()) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e,
    }
}

#[test]
fn a_missing_file_is_not_found() {
    let err = load(std::path::Path::new("/nonexistent/model.gguf"));
    assert!(matches!(err, EngineError::ModelNotFound { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/model.gguf"));
}

#[test]
fn a_text_file_is_not_gguf() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"<html>not a model</html>").unwrap();
    let err = load(file.path());
    assert!(matches!(err, EngineError::NotGguf { .. }), "{err}");
    assert!(err.to_string().contains("<htm"), "{err}");
}

#[test]
fn an_empty_file_is_not_gguf() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let err = load(file.path());
    assert!(matches!(err, EngineError::NotGguf { .. }), "{err}");
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn a_directory_is_not_gguf() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(load(dir.path()), EngineError::NotGguf { .. } | EngineError::Io { .. }));
}

fn truncated_copy(len: u64) -> tempfile::NamedTempFile {
    let bytes = std::fs::read(common::default_model()).unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes[..len as usize]).unwrap();
    file
}

#[test]
fn a_file_cut_in_its_tensor_data_is_truncated() {
    let file = truncated_copy(20 << 20);
    let err = load(file.path());
    assert!(matches!(err, EngineError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn a_file_cut_in_its_header_is_corrupt() {
    let file = truncated_copy(4096);
    let err = load(file.path());
    assert!(matches!(err, EngineError::Corrupt { .. }), "{err}");
}

#[test]
fn an_unknown_architecture_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("neox.gguf");
    let mut spec = SyntheticSpec::tiny_llama();
    spec.architecture = "gptneox".into();
    spec.write(&path).unwrap();
    let err = load(&path);
    match &err {
        EngineError::UnsupportedArchitecture { arch, .. } => assert_eq!(arch, "gptneox"),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("llama, mistral3"));
}

#[test]
fn an_unsupported_tensor_type_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iq2.gguf");
    let mut w = GgufWriter::new();
    w.meta("general.architecture", "llama");
    // ggml type 16 is IQ2_XXS (66 bytes per 256 values).
    w.raw_tensor("blk.0.attn_q.weight", &[256, 256], 16, vec![0; 256 * 66]);
    w.write(&path).unwrap();
    let err = load(&path);
    assert!(matches!(err, EngineError::UnsupportedTensorType { .. }), "{err}");
    assert!(err.to_string().contains("IQ2_XXS"), "{err}");
}

#[test]
fn a_model_without_its_weights_names_the_missing_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty-llama.gguf");
    let good = dir.path().join("good.gguf");
    SyntheticSpec::tiny_llama().write(&good).unwrap();
    // Same metadata, no tensors.
    let gguf = GgufFile::open(&good).unwrap();
    let mut w = GgufWriter::new();
    for key in ["general.architecture", "tokenizer.ggml.model"] {
        w.meta(key, gguf.string(key).unwrap());
    }
    for key in ["llama.block_count", "llama.embedding_length", "llama.feed_forward_length", "llama.attention.head_count"] {
        w.meta(key, gguf.usize(key).unwrap() as u32);
    }
    w.meta("tokenizer.ggml.tokens", atelier_engine::gguf_writer::MetaValue::Strings(vec!["a".into(), "b".into(), "ab".into()]));
    w.meta("tokenizer.ggml.merges", atelier_engine::gguf_writer::MetaValue::Strings(vec!["a b".into()]));
    w.write(&path).unwrap();
    let err = load(&path);
    assert!(matches!(err, EngineError::MissingTensor { ref name, .. } if name == "token_embd.weight"), "{err}");
}

#[test]
fn a_model_too_big_for_memory_is_refused_before_loading() {
    let options = LoadOptions { memory_budget: Some(50 << 20), ..Default::default() };
    let err = match Model::load(common::default_model(), &options) {
        Ok(_) => panic!("loaded within a 50 MiB budget"),
        Err(e) => e,
    };
    assert!(matches!(err, EngineError::InsufficientMemory { available_mib: 50, .. }), "{err}");
}

#[test]
fn a_vision_projector_file_says_to_open_the_language_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mmproj.gguf");
    let mut w = GgufWriter::new();
    w.meta("general.architecture", "clip").meta("general.type", "mmproj");
    w.raw_tensor("v.patch_embd.weight", &[4, 4], 0, vec![0; 64]);
    w.write(&path).unwrap();
    let err = load(&path);
    assert!(matches!(err, EngineError::UnsupportedArchitecture { .. }), "{err}");
    assert!(err.to_string().contains("mmproj"), "{err}");
}

#[test]
fn vision_tensors_in_a_multimodal_file_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.gguf");
    let multimodal = dir.path().join("multimodal.gguf");
    let spec = SyntheticSpec::tiny_llama();
    spec.write(&plain).unwrap();
    spec.write_with(&multimodal, |w| {
        w.meta("clip.has_vision_encoder", true);
        w.raw_tensor("v.blk.0.attn_q.weight", &[256, 256], 0, vec![0; 256 * 256 * 4]);
        w.raw_tensor("mm.input_projection.weight", &[64, 256], 0, vec![0; 64 * 256 * 4]);
    })
    .unwrap();
    let text_bytes = GgufFile::open(&plain).unwrap().tensor_bytes();
    assert_eq!(GgufFile::open(&multimodal).unwrap().tensor_bytes(), text_bytes);
    let model = Model::load(&multimodal, &LoadOptions::default()).unwrap();
    assert_eq!(model.info().parameters, GgufFile::open(&plain).unwrap().parameter_count());
}
