//! OpenVINO model folders as every build reads them, without the OpenVINO runtime: recognised, described,
//! tokenised as transformers does, refused with a precise reason when broken, and (in a build without the
//! `openvino` feature) refused with what to build instead. The runtime's own tests are openvino_backend.rs.

mod common;

use std::path::{Path, PathBuf};

use atelier_engine::openvino::ir::IrDirectory;
use atelier_engine::openvino::{is_ir_dir, tokenizer};
use atelier_engine::{DeviceChoice, EngineError, LoadOptions, Model};

fn ir_dir() -> PathBuf {
    common::fixture("mistral3-tiny-openvino")
}

fn copy() -> tempfile::TempDir {
    common::copy_dir(&ir_dir())
}

fn open_error(path: &Path) -> String {
    match IrDirectory::open(path) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_folder_is_recognised_and_described_from_its_config() {
    assert!(is_ir_dir(&ir_dir()));
    assert!(!is_ir_dir(&common::fixture("mistral3-tiny.gguf")));
    assert!(!is_ir_dir(&common::fixture("")));
    let dir = IrDirectory::open(&ir_dir()).unwrap();
    let config = dir.transformer_config().unwrap();
    assert_eq!((config.architecture.as_str(), config.n_layer, config.n_embd, config.n_head, config.n_kv_head), ("ministral3", 2, 64, 4, 2));
    assert_eq!(dir.vocab_size(), Some(320));
    let info = dir.info().unwrap();
    assert_eq!(info.name, "mistral3-tiny-openvino");
    assert_eq!(info.quantization, "FP32");
    // Every file of the folder counts toward its size; the weights dominate.
    assert!(info.file_size > dir.weight_bytes() && dir.weight_bytes() > 100_000, "{} {}", info.file_size, dir.weight_bytes());
    // The GGUF twin of the same checkpoint declares the same shape.
    let gguf = atelier_engine::GgufFile::open(common::fixture("mistral3-tiny.gguf")).unwrap();
    let twin = atelier_engine::transformer::TransformerConfig::from_gguf(&gguf).unwrap();
    assert_eq!((twin.n_layer, twin.n_embd, twin.n_ff, twin.head_dim), (config.n_layer, config.n_embd, config.n_ff, config.head_dim));
}

#[test]
fn raw_prompts_tokenise_as_transformers_does() {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("mistral3-tiny-openvino.json")).unwrap()).unwrap();
    let tokenizer = tokenizer::tokenizer(&IrDirectory::open(&ir_dir()).unwrap()).unwrap();
    let mut checked = 0;
    for case in meta["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "raw") {
        let expected: Vec<u32> = case["prompt_tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
        assert_eq!(tokenizer.encode_plain(case["text"].as_str().unwrap()).unwrap(), expected, "{}", case["text"]);
        checked += 1;
    }
    assert_eq!(checked, 3);
    // transformers' own decoding of the greedy reply.
    let case = &meta["cases"][0];
    let greedy: Vec<u32> = case["greedy_tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
    assert_eq!(tokenizer.decode(&greedy).unwrap(), case["greedy_text"].as_str().unwrap());
    assert_eq!(tokenizer.eos_id(), Some(2));
    assert!(tokenizer.stop_ids().contains(&2));
}

#[test]
fn broken_folders_say_what_is_wrong() {
    assert!(matches!(IrDirectory::open(&ir_dir().join("nowhere")), Err(EngineError::ModelNotFound { .. })));
    assert!(open_error(&ir_dir().join("config.json")).contains("it is a file, not a folder"));

    for missing in ["openvino_model.bin", "tokenizer.json", "config.json"] {
        let dir = copy();
        std::fs::remove_file(dir.path().join(missing)).unwrap();
        let message = open_error(dir.path());
        assert!(message.contains(&format!("{missing} is missing")), "{message}");
        assert!(message.contains("is not a usable OpenVINO model"), "{message}");
    }

    let empty_weights = copy();
    std::fs::write(empty_weights.path().join("openvino_model.bin"), b"").unwrap();
    assert!(open_error(empty_weights.path()).contains("openvino_model.bin is empty"));

    let cases: [(&str, &str, &str); 5] = [
        ("config.json", "{ not json", "config.json is not valid JSON"),
        ("config.json", r#"{"hidden_size": 64, "num_attention_heads": 0, "num_hidden_layers": 2, "intermediate_size": 8}"#, "impossible num_attention_heads"),
        ("config.json", r#"{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 8}"#, "config.json lacks num_hidden_layers"),
        ("config.json", r#"{"hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3, "num_hidden_layers": 2, "intermediate_size": 8}"#, "4 attention heads cannot share 3"),
        ("config.json", r#"{"hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 4000000000, "intermediate_size": 8}"#, "impossible num_hidden_layers"),
    ];
    for (file, text, expected) in cases {
        let dir = copy();
        std::fs::write(dir.path().join(file), text).unwrap();
        let message = open_error(dir.path());
        assert!(message.contains(expected), "{text}: {message}");
    }

    let bad_tokenizer = copy();
    std::fs::write(bad_tokenizer.path().join("tokenizer.json"), r#"{"model": {"type": "nonsense"}}"#).unwrap();
    let dir = IrDirectory::open(bad_tokenizer.path()).unwrap();
    let message = tokenizer::tokenizer(&dir).err().unwrap().to_string();
    assert!(message.contains("tokenizer.json cannot be read"), "{message}");

    // A huge JSON file is refused by its size, before it is read.
    let huge = copy();
    let file = std::fs::File::create(huge.path().join("tokenizer_config.json")).unwrap();
    file.set_len(65 << 20).unwrap();
    assert!(open_error(huge.path()).contains("tokenizer_config.json is 65 MiB"));
}

#[test]
fn the_npu_asks_for_an_openvino_model_by_name() {
    let gguf = common::fixture("mistral3-tiny.gguf");
    let err = Model::load(&gguf, &LoadOptions { device: DeviceChoice::Npu, ..Default::default() }).err().unwrap();
    assert!(matches!(err, EngineError::Device(_)), "{err}");
    let message = err.to_string();
    assert!(message.contains("the NPU runs OpenVINO models") && message.contains("mistral3-tiny.gguf is not one"), "{message}");
    assert!(message.contains("scripts/export-openvino.sh"), "{message}");
}

#[cfg(not(feature = "openvino"))]
#[test]
fn a_build_without_the_backend_says_how_to_get_it() {
    let err = Model::load(ir_dir(), &LoadOptions::default()).err().unwrap();
    assert!(err.to_string().contains(atelier_engine::openvino::NOT_COMPILED_IN), "{err}");
    let report = atelier_engine::openvino::runtime_report();
    assert!(report.devices.is_empty() && report.note.as_deref() == Some(atelier_engine::openvino::NOT_COMPILED_IN));
}
