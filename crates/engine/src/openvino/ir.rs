//! An OpenVINO model directory as optimum-intel exports it and OpenVINO's Hugging Face repositories ship
//! it: `openvino_model.xml`/`.bin` (a stateful decoder), `config.json`, the Hugging Face tokenizer files
//! and `generation_config.json`. Read and checked without the OpenVINO runtime, so every build can name
//! such a folder, list it as a model and say what it needs.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{RopeScaling, TransformerConfig};
use crate::error::{EngineError, Result};
use crate::gguf::ModelInfo;

pub const MODEL_XML: &str = "openvino_model.xml";
pub const MODEL_BIN: &str = "openvino_model.bin";
/// The small JSON files are read whole: a bound keeps a hostile folder from exhausting memory.
const MAX_JSON_BYTES: u64 = 64 << 20;
/// Layers, heads and widths beyond any published model are refused before anything is sized from them.
const MAX_DIMENSION: usize = 1 << 20;
/// Far above any real vocabulary (Gemma's is 262,144).
const MAX_VOCAB: u64 = 1 << 22;

/// Whether `path` is a folder holding an OpenVINO model (it has `openvino_model.xml`).
pub fn is_ir_dir(path: &Path) -> bool {
    path.is_dir() && path.join(MODEL_XML).is_file()
}

/// The parts of an OpenVINO model folder the engine reads itself.
#[derive(Debug, Clone)]
pub struct IrDirectory {
    pub path: PathBuf,
    /// `config.json`, or its `text_config` for a vision–language checkpoint.
    config: Value,
    model_type: String,
    pub tokenizer_json: Vec<u8>,
    pub tokenizer_config: Value,
    pub generation_config: Value,
    /// `chat_template.jinja`, else `tokenizer_config.json`'s `chat_template`.
    pub chat_template: Option<String>,
    quantization: String,
    weight_bytes: u64,
}

impl IrDirectory {
    pub fn open(path: &Path) -> Result<Self> {
        let bad = |detail: String| EngineError::OpenVinoModel { path: path.to_path_buf(), detail };
        if !path.exists() {
            return Err(EngineError::ModelNotFound { path: path.to_path_buf() });
        }
        if !path.is_dir() {
            return Err(bad("it is a file, not a folder".into()));
        }
        for required in [MODEL_XML, MODEL_BIN, "config.json", "tokenizer.json"] {
            if !path.join(required).is_file() {
                return Err(bad(format!("{required} is missing")));
            }
        }
        let weight_bytes = std::fs::metadata(path.join(MODEL_BIN)).map(|m| m.len()).unwrap_or(0);
        if weight_bytes == 0 {
            return Err(bad(format!("{MODEL_BIN} is empty")));
        }
        let full_config = read_json(path, "config.json")?.ok_or_else(|| bad("config.json is missing".into()))?;
        // A vision–language checkpoint (Mistral 3) keeps its decoder's settings under `text_config`.
        let config = match full_config.get("text_config") {
            Some(text) if text.is_object() => text.clone(),
            _ => full_config.clone(),
        };
        let model_type = config
            .get("model_type")
            .or_else(|| full_config.get("model_type"))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let tokenizer_json = read_bounded(path, "tokenizer.json")?.ok_or_else(|| bad("tokenizer.json is missing".into()))?;
        let tokenizer_config = read_json(path, "tokenizer_config.json")?.unwrap_or(Value::Null);
        let generation_config = read_json(path, "generation_config.json")?.unwrap_or(Value::Null);
        let chat_template = match read_bounded(path, "chat_template.jinja")? {
            Some(bytes) => Some(String::from_utf8(bytes).map_err(|_| bad("chat_template.jinja is not UTF-8".into()))?),
            None => template_from_config(&tokenizer_config),
        };
        let quantization = match compression_mode(&path.join(MODEL_XML)) {
            Some(mode) => mode,
            None => quantization(&read_json(path, "openvino_config.json")?.unwrap_or(Value::Null), &config),
        };
        let dir = Self {
            path: path.to_path_buf(),
            config,
            model_type,
            tokenizer_json,
            tokenizer_config,
            generation_config,
            chat_template,
            quantization,
            weight_bytes,
        };
        dir.transformer_config()?;
        Ok(dir)
    }

    /// The decoder's shape from `config.json`, checked: the engine's memory figures and the model view use it
    /// (the OpenVINO runtime computes from the IR itself).
    pub fn transformer_config(&self) -> Result<TransformerConfig> {
        let bad = |detail: String| EngineError::OpenVinoModel { path: self.path.clone(), detail };
        let dim = |key: &str| -> Result<Option<usize>> {
            match self.config.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => match v.as_u64().map(|n| n as usize) {
                    Some(n) if n > 0 && n <= MAX_DIMENSION => Ok(Some(n)),
                    _ => Err(bad(format!("config.json has an impossible {key}: {v}"))),
                },
            }
        };
        let need = |key: &str| dim(key)?.ok_or_else(|| bad(format!("config.json lacks {key}")));
        let n_embd = need("hidden_size")?;
        let n_head = need("num_attention_heads")?;
        let n_kv_head = dim("num_key_value_heads")?.unwrap_or(n_head);
        if n_head % n_kv_head != 0 {
            return Err(bad(format!("{n_head} attention heads cannot share {n_kv_head} key/value heads")));
        }
        let head_dim = dim("head_dim")?.unwrap_or(n_embd / n_head);
        let rope_theta = self
            .config
            .get("rope_parameters")
            .and_then(|r| r.get("rope_theta"))
            .or_else(|| self.config.get("rope_theta"))
            .and_then(Value::as_f64)
            .unwrap_or(10_000.0);
        Ok(TransformerConfig {
            architecture: self.model_type.clone(),
            n_layer: need("num_hidden_layers")?,
            n_embd,
            n_ff: need("intermediate_size")?,
            n_head,
            n_kv_head,
            head_dim,
            rope_dim: head_dim,
            rope_theta,
            rms_eps: self.config.get("rms_norm_eps").and_then(Value::as_f64).unwrap_or(1e-5),
            train_context: dim("max_position_embeddings")?.unwrap_or(2048),
            // Positions are the IR's business; the engine only sizes things from this config.
            rope_scaling: RopeScaling::None,
            attention_temperature: None,
        })
    }

    pub fn vocab_size(&self) -> Option<usize> {
        // Bounded: it sizes allocations, and config.json is untrusted.
        self.config.get("vocab_size").and_then(Value::as_u64).filter(|&n| n <= MAX_VOCAB).map(|n| n as usize)
    }

    pub fn info(&self) -> Result<ModelInfo> {
        let config = self.transformer_config()?;
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "OpenVINO model".into());
        let file_size = std::fs::read_dir(&self.path)
            .map(|entries| entries.flatten().filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum())
            .unwrap_or(self.weight_bytes);
        Ok(ModelInfo {
            path: self.path.clone(),
            name,
            architecture: config.architecture.clone(),
            quantization: self.quantization.clone(),
            file_size,
            parameters: parameters(&config, self.vocab_size().unwrap_or(0), self.tied_embeddings()),
            context_length: config.train_context,
        })
    }

    pub fn weight_bytes(&self) -> u64 {
        self.weight_bytes
    }

    fn tied_embeddings(&self) -> bool {
        self.config.get("tie_word_embeddings").and_then(Value::as_bool).unwrap_or(false)
    }
}

/// A llama-family decoder's parameter count from its shape (the IR's weights may be packed to 4 bits).
fn parameters(c: &TransformerConfig, vocab: usize, tied: bool) -> u64 {
    // Saturating: the numbers come from an untrusted config.json.
    let n = |x: usize| x as u64;
    let (e, f) = (n(c.n_embd), n(c.n_ff));
    let (q, kv) = (n(c.n_head).saturating_mul(n(c.head_dim)), n(c.n_kv_head).saturating_mul(n(c.head_dim)));
    let per_layer = [e.saturating_mul(q).saturating_mul(2), e.saturating_mul(kv).saturating_mul(2), e.saturating_mul(f).saturating_mul(3), e.saturating_mul(2)]
        .into_iter()
        .fold(0u64, u64::saturating_add);
    let embeddings = n(vocab).saturating_mul(e).saturating_mul(if tied { 1 } else { 2 });
    embeddings.saturating_add(n(c.n_layer).saturating_mul(per_layer)).saturating_add(e)
}

/// NNCF's weight compression as the IR records it (`<weight_compression><mode value="int4_asym"/>`, in
/// the `rt_info` at the end of the XML): "INT4", "INT8", "NF4"… Only the file's tail is read.
fn compression_mode(xml: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: u64 = 64 << 10;
    let mut file = std::fs::File::open(xml).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL))).ok()?;
    let mut tail = Vec::with_capacity(TAIL as usize);
    file.take(TAIL).read_to_end(&mut tail).ok()?;
    let tail = String::from_utf8_lossy(&tail);
    let section = &tail[tail.find("<weight_compression>")?..];
    let section = &section[..section.find("</weight_compression>")?];
    let value = section.split("<mode value=\"").nth(1)?.split('"').next()?;
    let kind = value.split('_').next().filter(|k| !k.is_empty() && k.len() <= 16 && k.bytes().all(|b| b.is_ascii_alphanumeric()))?;
    Some(kind.to_ascii_uppercase())
}

/// "INT4", "INT8", "FP16"… from optimum's `openvino_config.json`, else the checkpoint's dtype.
fn quantization(openvino_config: &Value, config: &Value) -> String {
    let weights = &openvino_config["quantization_config"];
    if let Some(bits) = weights.get("bits").and_then(Value::as_u64) {
        return format!("INT{bits}");
    }
    if let Some(dtype) = openvino_config.get("dtype").and_then(Value::as_str).filter(|d| !d.is_empty()) {
        return dtype.to_ascii_uppercase();
    }
    let dtype = config.get("dtype").or_else(|| config.get("torch_dtype")).and_then(Value::as_str).unwrap_or("unknown");
    match dtype {
        "float32" => "FP32".into(),
        "float16" => "FP16".into(),
        "bfloat16" => "BF16".into(),
        other => other.to_ascii_uppercase(),
    }
}

/// `chat_template` is a string, or a list of `{name, template}` of which "default" is the chat one.
fn template_from_config(tokenizer_config: &Value) -> Option<String> {
    match tokenizer_config.get("chat_template")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(named) => named
            .iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
            .or_else(|| named.first())
            .and_then(|t| t.get("template")?.as_str().map(str::to_string)),
        _ => None,
    }
}

fn read_bounded(dir: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    let path = dir.join(name);
    let io = |source| EngineError::Io { path: path.clone(), source };
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    // Checked on the open handle, and read through a cap: a link to a FIFO or /dev/zero stops here.
    let too_big = |len: u64| EngineError::OpenVinoModel {
        path: dir.to_path_buf(),
        detail: format!("{name} is {} MiB or more; no model needs more than {} MiB there", len >> 20, MAX_JSON_BYTES >> 20),
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(EngineError::OpenVinoModel { path: dir.to_path_buf(), detail: format!("{name} is not a regular file") });
    }
    if meta.len() > MAX_JSON_BYTES {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_JSON_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_JSON_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(Some(bytes))
}

fn read_json(dir: &Path, name: &str) -> Result<Option<Value>> {
    let Some(bytes) = read_bounded(dir, name)? else { return Ok(None) };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| EngineError::OpenVinoModel { path: dir.to_path_buf(), detail: format!("{name} is not valid JSON ({e})") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_templates_pick_the_default_one() {
        let config = serde_json::json!({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]});
        assert_eq!(template_from_config(&config).as_deref(), Some("D"));
        assert_eq!(template_from_config(&serde_json::json!({"chat_template": "S"})).as_deref(), Some("S"));
        assert_eq!(template_from_config(&Value::Null), None);
    }

    #[test]
    fn quantisation_comes_from_the_ir_s_own_compression_record() {
        let dir = tempfile::tempdir().unwrap();
        let xml = dir.path().join(MODEL_XML);
        let body = "<layer/>".repeat(20_000);
        std::fs::write(&xml, format!("<net>{body}<rt_info><nncf><weight_compression><group_size value=\"64\" /><mode value=\"int4_asym\" /></weight_compression></nncf></rt_info></net>")).unwrap();
        assert_eq!(compression_mode(&xml).as_deref(), Some("INT4"));
        std::fs::write(&xml, "<net><rt_info><nncf><weight_compression><mode value=\"nf4\" /></weight_compression></nncf></rt_info></net>").unwrap();
        assert_eq!(compression_mode(&xml).as_deref(), Some("NF4"));
        // No record (an uncompressed export), or a hostile one: nothing is claimed.
        std::fs::write(&xml, "<net><rt_info></rt_info></net>").unwrap();
        assert_eq!(compression_mode(&xml), None);
        std::fs::write(&xml, "<net><weight_compression><mode value=\"<script>\" /></weight_compression></net>").unwrap();
        assert_eq!(compression_mode(&xml), None);
    }

    #[test]
    fn quantisation_comes_from_the_export_settings() {
        let ov = serde_json::json!({"quantization_config": {"bits": 4, "group_size": 128}});
        assert_eq!(quantization(&ov, &Value::Null), "INT4");
        assert_eq!(quantization(&Value::Null, &serde_json::json!({"dtype": "float16"})), "FP16");
    }
}
