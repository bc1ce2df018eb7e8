//! Hostile model files: each gives a specific error, quickly, never a panic, abort or huge allocation.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use atelier_engine::cpu::matmul::{QMatrix, Storage};
use atelier_engine::cpu::quant::WeightType;
use atelier_engine::gguf_writer::{GgufWriter, MetaValue};
use atelier_engine::synthetic::SyntheticSpec;
use atelier_engine::{EngineError, LoadOptions, Model};

/// Loads `path`, proving it neither panics nor takes long, and returns the error.
fn load_err(path: &Path) -> EngineError {
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| Model::load(path, &LoadOptions::default())));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    match result {
        Err(_) => panic!("loading {} panicked", path.display()),
        Ok(Ok(_)) => panic!("{} loaded", path.display()),
        Ok(Err(e)) => e,
    }
}

/// The tiny synthetic model with `edit` applied to its spec and extra metadata (later keys win).
fn synthetic(edit: impl FnOnce(&mut SyntheticSpec), extra: impl FnOnce(&mut GgufWriter)) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".gguf").tempfile().unwrap();
    let mut spec = SyntheticSpec::tiny_llama();
    edit(&mut spec);
    spec.write_with(file.path(), extra).unwrap();
    file
}

fn with_meta(key: &'static str, value: MetaValue) -> tempfile::NamedTempFile {
    synthetic(|_| {}, move |w| {
        w.meta(key, value);
    })
}

/// A v3 header with the given counts and raw metadata bytes, padded with zeros to `size` bytes.
fn raw_gguf(tensors: u64, kvs: u64, body: &[u8], size: usize) -> tempfile::NamedTempFile {
    let mut bytes = b"GGUF".to_vec();
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&tensors.to_le_bytes());
    bytes.extend_from_slice(&kvs.to_le_bytes());
    bytes.extend_from_slice(body);
    bytes.resize(size.max(bytes.len()), 0);
    let mut file = tempfile::Builder::new().suffix(".gguf").tempfile().unwrap();
    file.write_all(&bytes).unwrap();
    file
}

fn key(name: &str, ty: u32) -> Vec<u8> {
    let mut out = (name.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&ty.to_le_bytes());
    out
}

fn assert_corrupt(err: &EngineError, needle: &str) {
    assert!(matches!(err, EngineError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains(needle), "{err}");
}

fn assert_bad_setting(err: &EngineError, needle: &str) {
    assert!(matches!(err, EngineError::BadHyperparameter { .. }), "{err:?}");
    assert!(err.to_string().contains(needle), "{err}");
}

#[test]
fn alignment_zero_non_power_of_two_or_huge_is_refused() {
    for value in [0u32, 3, 48, 1 << 30] {
        let file = with_meta("general.alignment", MetaValue::U32(value));
        assert_corrupt(&load_err(file.path()), "general.alignment");
    }
    // The writer's own 32 is fine.
    let file = with_meta("general.alignment", MetaValue::U32(32));
    Model::load(file.path(), &LoadOptions::default()).unwrap();
}

#[test]
fn a_2_to_the_60_element_array_fails_fast() {
    for elem_type in [8u32, 0, 9] {
        let mut body = key("tokenizer.ggml.tokens", 9);
        body.extend_from_slice(&elem_type.to_le_bytes());
        body.extend_from_slice(&(1u64 << 60).to_le_bytes());
        let file = raw_gguf(0, 1, &body, 4096);
        assert_corrupt(&load_err(file.path()), "claims");
    }
}

#[test]
fn a_2_to_the_40_byte_string_fails_fast() {
    let mut body = key("general.name", 8);
    body.extend_from_slice(&(1u64 << 40).to_le_bytes());
    let file = raw_gguf(0, 1, &body, 4096);
    let err = load_err(file.path());
    assert!(matches!(err, EngineError::MetadataTooLarge { .. }), "{err:?}");
}

#[test]
fn metadata_that_would_take_hundreds_of_mib_is_refused() {
    // Ten million one-byte values: 10 MB on disk, over 300 MiB once parsed.
    let n = 10_000_000u64;
    let mut body = key("general.padding", 9);
    body.extend_from_slice(&0u32.to_le_bytes());
    body.extend_from_slice(&n.to_le_bytes());
    let size = body.len() + n as usize + 64;
    let file = raw_gguf(0, 1, &body, size);
    let err = load_err(file.path());
    assert!(matches!(err, EngineError::MetadataTooLarge { .. }), "{err:?}");
}

#[test]
fn tensor_and_entry_counts_beyond_the_file_are_refused() {
    let file = raw_gguf(1 << 40, 0, &[], 4096);
    assert_corrupt(&load_err(file.path()), "tensors");
    let file = raw_gguf(0, 1 << 40, &[], 4096);
    assert_corrupt(&load_err(file.path()), "metadata entries");
}

#[test]
fn a_tensor_whose_shape_overflows_is_refused() {
    let file = synthetic(|_| {}, |w| {
        w.raw_tensor("blk.0.huge.weight", &[1 << 32, 1 << 32, 1 << 32], 0, Vec::new());
    });
    assert_corrupt(&load_err(file.path()), "blk.0.huge.weight");
}

#[test]
fn head_counts_that_cannot_work_are_refused() {
    let cases = [("attention.head_count", 0u32), ("attention.head_count_kv", 0), ("attention.head_count_kv", 3)];
    for (k, v) in cases {
        let file = synthetic(|_| {}, |w| {
            w.meta(format!("llama.{k}"), v);
        });
        assert_bad_setting(&load_err(file.path()), "heads");
    }
}

#[test]
fn a_key_length_of_2_to_the_40_is_caught_before_any_allocation() {
    let file = with_meta("llama.attention.key_length", MetaValue::U64(1 << 40));
    let err = load_err(file.path());
    assert!(matches!(err, EngineError::TensorShape { .. } | EngineError::BadHyperparameter { .. }), "{err:?}");
    // So large that heads × length overflows.
    let file = with_meta("llama.attention.key_length", MetaValue::U64(1 << 62));
    assert_bad_setting(&load_err(file.path()), "key length");
}

#[test]
fn a_context_length_of_2_to_the_32_is_refused() {
    let file = with_meta("llama.context_length", MetaValue::U64(1 << 32));
    assert_bad_setting(&load_err(file.path()), "context length");
}

#[test]
fn a_block_count_that_does_not_match_the_tensors_is_refused() {
    for blocks in [0u64, 1 << 40] {
        let file = with_meta("llama.block_count", MetaValue::U64(blocks));
        assert_bad_setting(&load_err(file.path()), "block count");
    }
}

#[test]
fn an_embedding_length_of_zero_or_one_that_lies_is_refused() {
    let file = with_meta("llama.embedding_length", MetaValue::U32(0));
    assert_bad_setting(&load_err(file.path()), "embedding length");
    let file = with_meta("llama.embedding_length", MetaValue::U32(32));
    let err = load_err(file.path());
    assert!(matches!(err, EngineError::TensorShape { .. }), "{err:?}");
}

#[test]
fn a_vocabulary_that_does_not_match_the_embedding_is_refused() {
    // 300 embedding rows, 290 tokens.
    let file = synthetic(|_| {}, |w| {
        let tokens: Vec<String> = (0..290).map(|i| format!("t{i}")).collect();
        w.meta("tokenizer.ggml.tokens", MetaValue::Strings(tokens))
            .meta("tokenizer.ggml.token_type", MetaValue::I32s(vec![1; 290]))
            .meta("tokenizer.ggml.merges", MetaValue::Strings(Vec::new()));
    });
    let err = load_err(file.path());
    assert!(matches!(err, EngineError::TensorShape { .. }), "{err:?}");
    assert!(err.to_string().contains("token_embd.weight"), "{err}");
}

#[test]
fn a_layer_tensor_of_the_wrong_shape_is_refused_on_both_backends() {
    // attn_q written for 3 heads while the settings say 4.
    let file = synthetic(|_| {}, |w| {
        w.tensor("blk.1.attn_q.weight", &[48, 64], vec![0.0; 48 * 64], candle_core::quantized::GgmlDType::F32).unwrap();
    });
    for candle_on_cpu in [false, true] {
        let options = LoadOptions { candle_on_cpu, ..LoadOptions::default() };
        let err = catch_unwind(AssertUnwindSafe(|| Model::load(file.path(), &options))).expect("no panic").err().unwrap();
        assert!(matches!(err, EngineError::TensorShape { ref tensor, .. } if tensor == "blk.1.attn_q.weight"), "{err:?}");
    }
}

#[test]
fn a_quantised_matrix_outside_its_bytes_or_misaligned_is_an_error() {
    let bytes = vec![0u8; 34 * 4];
    let ty = WeightType::Q8_0;
    assert!(QMatrix::new(ty, 4, 32, Storage::owned(&bytes), 0).is_ok());
    let cases = [(5, 32, 0), (4, 32, 2), (4, 33, 0), (usize::MAX / 2, 32, 0), (4, 32, usize::MAX - 8)];
    for (rows, cols, offset) in cases {
        let result = catch_unwind(|| QMatrix::new(ty, rows, cols, Storage::owned(&bytes), offset));
        let err = result.expect("no panic").err().unwrap_or_else(|| panic!("{rows}×{cols}@{offset} accepted"));
        assert!(matches!(err, EngineError::TensorLayout(_)), "{err:?}");
    }
}

#[test]
fn a_sentencepiece_vocabulary_of_huge_pieces_fails_instead_of_hanging() {
    // Deriving merges from three 200 KB pieces would hash about 10^11 bytes.
    let file = synthetic(|_| {}, |w| {
        let mut tokens: Vec<String> = (0..297).map(|i| format!("t{i}")).collect();
        tokens.extend((0..3).map(|i| format!("{i}").repeat(200_000)));
        w.meta("tokenizer.ggml.model", "llama")
            .meta("tokenizer.ggml.tokens", MetaValue::Strings(tokens))
            .meta("tokenizer.ggml.scores", MetaValue::F32s(vec![0.0; 300]))
            .meta("tokenizer.ggml.token_type", MetaValue::I32s(vec![1; 300]));
    });
    let err = load_err(file.path());
    assert!(matches!(err, EngineError::Tokenizer(_)), "{err:?}");
}

/// Found by the gguf_load fuzz target: a rotary dimension of 0 loaded, then the first forward pass
/// panicked in candle-nn ("chunk_size must not be zero").
#[test]
fn a_rotary_dimension_of_zero_is_refused() {
    let file = with_meta("llama.rope.dimension_count", MetaValue::U32(0));
    assert_bad_setting(&load_err(file.path()), "rotary dimension");
}
