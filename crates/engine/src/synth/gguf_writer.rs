//! A small GGUF (v3) writer: test fixtures, synthetic models of a real model's shape for benchmarks.
//! Unlike candle's writer it can write any metadata type and raw tensors of any ggml type id.

use std::io::{BufWriter, Write};
use std::path::Path;

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

use crate::error::{EngineError, Result};

const ALIGNMENT: usize = 32;

#[derive(Debug, Clone)]
pub enum MetaValue {
    U32(u32),
    I32(i32),
    U64(u64),
    F32(f32),
    Bool(bool),
    Str(String),
    Strings(Vec<String>),
    I32s(Vec<i32>),
    F32s(Vec<f32>),
}

impl From<&str> for MetaValue {
    fn from(s: &str) -> Self {
        Self::Str(s.to_string())
    }
}
impl From<String> for MetaValue {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}
impl From<u32> for MetaValue {
    fn from(v: u32) -> Self {
        Self::U32(v)
    }
}
impl From<f32> for MetaValue {
    fn from(v: f32) -> Self {
        Self::F32(v)
    }
}
impl From<bool> for MetaValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

struct RawTensor {
    name: String,
    /// candle order: the last dimension is the contiguous one.
    shape: Vec<usize>,
    ggml_type: u32,
    data: Vec<u8>,
}

#[derive(Default)]
pub struct GgufWriter {
    metadata: Vec<(String, MetaValue)>,
    tensors: Vec<RawTensor>,
}

impl GgufWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn meta(&mut self, key: impl Into<String>, value: impl Into<MetaValue>) -> &mut Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// A tensor stored as given: `ggml_type` is ggml's type id, `data` its encoded bytes.
    pub fn raw_tensor(&mut self, name: impl Into<String>, shape: &[usize], ggml_type: u32, data: Vec<u8>) -> &mut Self {
        self.tensors.push(RawTensor { name: name.into(), shape: shape.to_vec(), ggml_type, data });
        self
    }

    /// An f32 tensor (row-major, `shape` in candle order), stored as `dtype` (quantised by candle).
    pub fn tensor(&mut self, name: impl Into<String>, shape: &[usize], values: Vec<f32>, dtype: GgmlDType) -> Result<&mut Self> {
        let tensor = Tensor::from_vec(values, shape, &Device::Cpu)?;
        let data = match dtype {
            GgmlDType::F32 => tensor.flatten_all()?.to_vec1::<f32>()?.iter().flat_map(|v| v.to_le_bytes()).collect(),
            _ => QTensor::quantize(&tensor, dtype)?.data()?.into_owned(),
        };
        Ok(self.raw_tensor(name, shape, ggml_type_id(dtype), data))
    }

    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |source: std::io::Error| EngineError::Io { path: path.to_path_buf(), source };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = BufWriter::new(file);
        self.write_to(&mut w).map_err(io)?;
        w.flush().map_err(io)
    }

    fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        let mut header = Vec::new();
        header.extend_from_slice(b"GGUF");
        header.extend_from_slice(&3u32.to_le_bytes());
        header.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        header.extend_from_slice(&(self.metadata.len() as u64).to_le_bytes());
        for (key, value) in &self.metadata {
            put_string(&mut header, key);
            put_value(&mut header, value);
        }
        let mut offset = 0usize;
        for t in &self.tensors {
            put_string(&mut header, &t.name);
            header.extend_from_slice(&(t.shape.len() as u32).to_le_bytes());
            for dim in t.shape.iter().rev() {
                header.extend_from_slice(&(*dim as u64).to_le_bytes());
            }
            header.extend_from_slice(&t.ggml_type.to_le_bytes());
            header.extend_from_slice(&(offset as u64).to_le_bytes());
            offset += t.data.len().div_ceil(ALIGNMENT) * ALIGNMENT;
        }
        header.resize(header.len().div_ceil(ALIGNMENT) * ALIGNMENT, 0);
        w.write_all(&header)?;
        for t in &self.tensors {
            w.write_all(&t.data)?;
            let padding = t.data.len().div_ceil(ALIGNMENT) * ALIGNMENT - t.data.len();
            w.write_all(&vec![0u8; padding])?;
        }
        Ok(())
    }
}

pub fn ggml_type_id(dtype: GgmlDType) -> u32 {
    match dtype {
        GgmlDType::F32 => 0,
        GgmlDType::F16 => 1,
        GgmlDType::Q4_0 => 2,
        GgmlDType::Q4_1 => 3,
        GgmlDType::Q5_0 => 6,
        GgmlDType::Q5_1 => 7,
        GgmlDType::Q8_0 => 8,
        GgmlDType::Q8_1 => 9,
        GgmlDType::Q2K => 10,
        GgmlDType::Q3K => 11,
        GgmlDType::Q4K => 12,
        GgmlDType::Q5K => 13,
        GgmlDType::Q6K => 14,
        GgmlDType::Q8K => 15,
        GgmlDType::BF16 => 30,
    }
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, value: &MetaValue) {
    const U32: u32 = 4;
    const I32: u32 = 5;
    const F32: u32 = 6;
    const BOOL: u32 = 7;
    const STRING: u32 = 8;
    const ARRAY: u32 = 9;
    const U64: u32 = 10;
    let array_header = |out: &mut Vec<u8>, elem: u32, len: usize| {
        out.extend_from_slice(&ARRAY.to_le_bytes());
        out.extend_from_slice(&elem.to_le_bytes());
        out.extend_from_slice(&(len as u64).to_le_bytes());
    };
    match value {
        MetaValue::U32(v) => {
            out.extend_from_slice(&U32.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        MetaValue::I32(v) => {
            out.extend_from_slice(&I32.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        MetaValue::U64(v) => {
            out.extend_from_slice(&U64.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        MetaValue::F32(v) => {
            out.extend_from_slice(&F32.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        MetaValue::Bool(v) => {
            out.extend_from_slice(&BOOL.to_le_bytes());
            out.push(*v as u8);
        }
        MetaValue::Str(s) => {
            out.extend_from_slice(&STRING.to_le_bytes());
            put_string(out, s);
        }
        MetaValue::Strings(items) => {
            array_header(out, STRING, items.len());
            for s in items {
                put_string(out, s);
            }
        }
        MetaValue::I32s(items) => {
            array_header(out, I32, items.len());
            for v in items {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        MetaValue::F32s(items) => {
            array_header(out, F32, items.len());
            for v in items {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}
