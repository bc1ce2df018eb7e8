//! Opening GGUF files: validation with actionable errors, metadata and tensor access, a model summary.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::Device;
use serde::Serialize;

use super::header::scan_header;
use crate::error::{EngineError, Result};

/// Architectures the engine can run (GGUF `general.architecture`).
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama", "mistral3"];

/// An opened, validated GGUF file: its header is parsed and its tensor data is known to be complete.
pub struct GgufFile {
    path: PathBuf,
    reader: BufReader<File>,
    content: Content,
    file_size: u64,
}

/// What a user wants to know about a model before loading it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelInfo {
    pub path: PathBuf,
    pub name: String,
    pub architecture: String,
    /// The most common weight type among the matrices, e.g. "Q4_1".
    pub quantization: String,
    pub file_size: u64,
    pub parameters: u64,
    pub context_length: usize,
}

impl GgufFile {
    /// Opens and validates `path`: the magic, the header and that every tensor lies inside the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let io_err = |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::NotFound {
                EngineError::ModelNotFound { path: path.clone() }
            } else {
                EngineError::Io { path: path.clone(), source }
            }
        };
        let file = File::open(&path).map_err(io_err)?;
        let file_size = file.metadata().map_err(io_err)?.len();
        if file.metadata().map_err(io_err)?.is_dir() {
            return Err(EngineError::NotGguf { path, found: "a directory".into() });
        }
        let mut reader = BufReader::new(file);
        let mut magic = [0u8; 4];
        let read = read_up_to(&mut reader, &mut magic).map_err(io_err)?;
        if read < 4 || &magic != b"GGUF" {
            return Err(EngineError::NotGguf { path, found: describe_magic(&magic[..read]) });
        }
        reader.rewind().map_err(io_err)?;
        scan_header(&mut reader, file_size, &path)?;
        reader.rewind().map_err(io_err)?;
        let content = Content::read(&mut reader).map_err(|e| header_error(&path, e))?;
        let gguf = Self { path, reader, content, file_size };
        gguf.check_tensor_extents()?;
        Ok(gguf)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    pub fn content(&self) -> &Content {
        &self.content
    }

    pub fn architecture(&self) -> Result<String> {
        self.string("general.architecture")
    }

    /// Fails unless the architecture is one the engine implements.
    pub fn require_supported_architecture(&self) -> Result<String> {
        let arch = self.architecture()?;
        if !SUPPORTED_ARCHITECTURES.contains(&arch.as_str()) {
            let mut supported = SUPPORTED_ARCHITECTURES.join(", ");
            if arch == "clip" || self.opt_string("general.type").as_deref() == Some("mmproj") {
                supported.push_str("; this file is a vision projector (mmproj), open the language model GGUF instead");
            }
            return Err(EngineError::UnsupportedArchitecture { path: self.path.clone(), arch, supported });
        }
        Ok(arch)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    fn missing(&self, key: &str) -> EngineError {
        EngineError::MissingMetadata { path: self.path.clone(), key: key.to_string() }
    }

    fn wrong_type(&self, key: &str, expected: &str) -> EngineError {
        EngineError::Corrupt {
            path: self.path.clone(),
            detail: format!("metadata `{key}` is not {expected}"),
        }
    }

    pub fn string(&self, key: &str) -> Result<String> {
        let value = self.get(key).ok_or_else(|| self.missing(key))?;
        value.to_string().cloned().map_err(|_| self.wrong_type(key, "a string"))
    }

    pub fn opt_string(&self, key: &str) -> Option<String> {
        self.get(key).and_then(|v| v.to_string().ok().cloned())
    }

    /// Any integer type, as GGUF writers disagree on widths.
    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let n = match value {
            Value::U8(v) => *v as u64,
            Value::I8(v) if *v >= 0 => *v as u64,
            Value::U16(v) => *v as u64,
            Value::I16(v) if *v >= 0 => *v as u64,
            Value::U32(v) => *v as u64,
            Value::I32(v) if *v >= 0 => *v as u64,
            Value::U64(v) => *v,
            Value::I64(v) if *v >= 0 => *v as u64,
            _ => return Err(self.wrong_type(key, "a non-negative integer")),
        };
        Ok(Some(n))
    }

    pub fn usize(&self, key: &str) -> Result<usize> {
        self.opt_u64(key)?.map(|v| v as usize).ok_or_else(|| self.missing(key))
    }

    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>> {
        Ok(self.opt_u64(key)?.map(|v| v as usize))
    }

    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let x = match value {
            Value::F32(v) => *v as f64,
            Value::F64(v) => *v,
            _ => match self.opt_u64(key) {
                Ok(Some(n)) => n as f64,
                _ => return Err(self.wrong_type(key, "a number")),
            },
        };
        Ok(Some(x))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong_type(key, "a boolean")),
        }
    }

    pub fn array(&self, key: &str) -> Result<&Vec<Value>> {
        let value = self.get(key).ok_or_else(|| self.missing(key))?;
        value.to_vec().map_err(|_| self.wrong_type(key, "an array"))
    }

    pub fn opt_array(&self, key: &str) -> Result<Option<&Vec<Value>>> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.array(key).map(Some),
        }
    }

    pub fn has_tensor(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// Where a tensor's bytes are in the file: its type, shape (candle order) and absolute offset.
    pub fn tensor_location(&self, name: &str) -> Result<(GgmlDType, Vec<usize>, u64)> {
        let info = self
            .content
            .tensor_infos
            .get(name)
            .ok_or_else(|| EngineError::MissingTensor { path: self.path.clone(), name: name.to_string() })?;
        Ok((info.ggml_dtype, info.shape.dims().to_vec(), self.content.tensor_data_offset.saturating_add(info.offset)))
    }

    /// Maps the whole file read-only: weights are used in place, loaded by the OS as they are touched.
    pub fn map(&self) -> Result<memmap2::Mmap> {
        let file = File::open(&self.path).map_err(|source| EngineError::Io { path: self.path.clone(), source })?;
        // SAFETY: the file is opened read-only; if another program truncates it while mapped, reads of the
        // missing part fault, as with llama.cpp's mmap loading.
        unsafe { memmap2::Mmap::map(&file) }.map_err(|source| EngineError::Io { path: self.path.clone(), source })
    }

    /// Reads one tensor onto `device`; the bytes are copied once, from the file into the tensor.
    pub fn tensor(&mut self, name: &str, device: &Device) -> Result<QTensor> {
        if !self.has_tensor(name) {
            return Err(EngineError::MissingTensor { path: self.path.clone(), name: name.to_string() });
        }
        self.content.tensor(&mut self.reader, name, device).map_err(|e| EngineError::Corrupt {
            path: self.path.clone(),
            detail: format!("tensor `{name}`: {}", e.to_string().lines().next().unwrap_or_default()),
        })
    }

    /// Bytes of the text model's tensors, i.e. the memory its weights take once loaded. Vision-tower
    /// tensors that multimodal GGUFs carry (`v.*`, `mm.*`) are never loaded and not counted.
    pub fn tensor_bytes(&self) -> u64 {
        self.content
            .tensor_infos
            .iter()
            .filter(|(name, _)| !is_vision_tensor(name))
            .fold(0u64, |sum, (_, t)| sum.saturating_add(tensor_size_in_bytes(t.ggml_dtype, t.shape.elem_count())))
    }

    /// Parameters of the text model (vision tensors left out).
    pub fn parameter_count(&self) -> u64 {
        self.content
            .tensor_infos
            .iter()
            .filter(|(name, _)| !is_vision_tensor(name))
            .fold(0u64, |sum, (_, t)| sum.saturating_add(t.shape.elem_count() as u64))
    }

    pub fn info(&self) -> Result<ModelInfo> {
        let architecture = self.architecture()?;
        // Users know a model by its file name; GGUF `general.name` is often a training-run label.
        let name = self
            .path
            .file_stem()
            .map(|s| display_name(&s.to_string_lossy()))
            .or_else(|| self.opt_string("general.name"))
            .unwrap_or_else(|| "model".into());
        let parameters = self.parameter_count();
        let context_length = self.opt_usize(&format!("{architecture}.context_length"))?.unwrap_or(0);
        Ok(ModelInfo {
            path: self.path.clone(),
            name,
            architecture,
            quantization: self.dominant_weight_type(),
            file_size: self.file_size,
            parameters,
            context_length,
        })
    }

    fn dominant_weight_type(&self) -> String {
        let mut counts: Vec<(GgmlDType, u64)> = Vec::new();
        for info in self.content.tensor_infos.values().filter(|t| t.shape.rank() >= 2) {
            let elems = info.shape.elem_count() as u64;
            match counts.iter_mut().find(|(d, _)| *d == info.ggml_dtype) {
                Some((_, n)) => *n = n.saturating_add(elems),
                None => counts.push((info.ggml_dtype, elems)),
            }
        }
        counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(d, _)| dtype_name(d).to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    fn check_tensor_extents(&self) -> Result<()> {
        for (name, info) in &self.content.tensor_infos {
            let elems = info.shape.elem_count();
            let block = info.ggml_dtype.block_size();
            if elems % block != 0 {
                return Err(EngineError::Corrupt {
                    path: self.path.clone(),
                    detail: format!("tensor `{name}` has {elems} elements, not a multiple of its block size {block}"),
                });
            }
            let end = self
                .content
                .tensor_data_offset
                .saturating_add(info.offset)
                .saturating_add(tensor_size_in_bytes(info.ggml_dtype, elems));
            if end > self.file_size {
                return Err(EngineError::Corrupt {
                    path: self.path.clone(),
                    detail: format!(
                        "the file ends at byte {} but tensor `{name}` needs bytes up to {end} (the file is truncated)",
                        self.file_size
                    ),
                });
            }
        }
        Ok(())
    }
}

/// "SmolLM2-135M-Instruct.Q4_1" → "SmolLM2-135M-Instruct": the file stem without its quantisation tag.
pub fn display_name(stem: &str) -> String {
    let is_quant_tag = |tag: &str| {
        let t = tag.to_ascii_uppercase();
        ["Q2", "Q3", "Q4", "Q5", "Q6", "Q8", "IQ", "F16", "F32", "BF16", "TQ"].iter().any(|p| t.starts_with(p))
    };
    match stem.rfind(['.', '-']) {
        Some(i) if i > 0 && is_quant_tag(&stem[i + 1..]) => stem[..i].to_string(),
        _ => stem.to_string(),
    }
}

fn is_vision_tensor(name: &str) -> bool {
    name.starts_with("v.") || name.starts_with("mm.")
}

/// Saturates rather than wraps, so a hostile shape reads as "too big" in every size check.
pub fn tensor_size_in_bytes(dtype: GgmlDType, elems: usize) -> u64 {
    ((elems / dtype.block_size()) as u64).saturating_mul(dtype.type_size() as u64)
}

pub fn dtype_name(dtype: GgmlDType) -> &'static str {
    match dtype {
        GgmlDType::F32 => "F32",
        GgmlDType::F16 => "F16",
        GgmlDType::BF16 => "BF16",
        GgmlDType::Q4_0 => "Q4_0",
        GgmlDType::Q4_1 => "Q4_1",
        GgmlDType::Q5_0 => "Q5_0",
        GgmlDType::Q5_1 => "Q5_1",
        GgmlDType::Q8_0 => "Q8_0",
        GgmlDType::Q8_1 => "Q8_1",
        GgmlDType::Q2K => "Q2_K",
        GgmlDType::Q3K => "Q3_K",
        GgmlDType::Q4K => "Q4_K",
        GgmlDType::Q5K => "Q5_K",
        GgmlDType::Q6K => "Q6_K",
        GgmlDType::Q8K => "Q8_K",
    }
}

/// ggml's names for the type ids candle cannot read, so the error names what the file holds.
fn ggml_type_name(id: u32) -> String {
    let name = match id {
        16 => "IQ2_XXS",
        17 => "IQ2_XS",
        18 => "IQ3_XXS",
        19 => "IQ1_S",
        20 => "IQ4_NL",
        21 => "IQ3_S",
        22 => "IQ2_S",
        23 => "IQ4_XS",
        24 => "I8",
        25 => "I16",
        26 => "I32",
        27 => "I64",
        28 => "F64",
        29 => "IQ1_M",
        34 => "TQ1_0",
        35 => "TQ2_0",
        39 => "MXFP4",
        _ => return format!("ggml type {id}"),
    };
    name.to_string()
}

fn header_error(path: &Path, err: candle_core::Error) -> EngineError {
    // candle may append a backtrace: the first line is the message.
    let message = err.to_string().lines().next().unwrap_or_default().to_string();
    if let Some(id) = message.strip_prefix("unknown dtype for tensor ").and_then(|s| s.trim().parse().ok()) {
        return EngineError::UnsupportedTensorType {
            path: path.to_path_buf(),
            tensor: "one or more tensors".into(),
            dtype: ggml_type_name(id),
        };
    }
    let detail = if message.contains("failed to fill whole buffer") || message.contains("UnexpectedEof") {
        "the header ends before it is complete (the file is truncated)".to_string()
    } else {
        format!("the header cannot be read ({message})")
    };
    EngineError::Corrupt { path: path.to_path_buf(), detail }
}

pub(crate) fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn describe_magic(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (the file is empty)".into();
    }
    if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("\"{}\"", String::from_utf8_lossy(bytes))
    } else {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn display_names_drop_the_quantisation_tag() {
        assert_eq!(display_name("SmolLM2-135M-Instruct.Q4_1"), "SmolLM2-135M-Instruct");
        assert_eq!(display_name("Ministral-3-3B-Instruct-2512-Q4_K_M"), "Ministral-3-3B-Instruct-2512");
        assert_eq!(display_name("my-model"), "my-model");
        assert_eq!(display_name("mistral-7b-instruct-v0.3.f16"), "mistral-7b-instruct-v0.3");
    }
}
