//! The GGUF header walked before candle parses it, without allocating for what it declares: a header
//! that claims a 2^60-element array, a 2^40-byte string, impossible counts or a bad alignment fails here.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{EngineError, Result};

/// Most bytes of metadata (strings, plus 32 per parsed value) a header may make us hold. Real models
/// need tens of MiB (a 256k-token vocabulary with scores and merges).
pub const MAX_METADATA_MEMORY: u64 = 256 << 20;
/// Longest single metadata string (an embedded tokenizer.json is tens of MiB).
const MAX_METADATA_STRING: u64 = 64 << 20;
const MAX_KEY_LENGTH: u64 = 64 << 10;
const MAX_ARRAY_DEPTH: usize = 4;
/// Largest `general.alignment` accepted.
pub const MAX_ALIGNMENT: u64 = 1 << 20;
/// What candle charges in memory per parsed metadata value (`Value` is 32 bytes).
const VALUE_COST: u64 = 32;

/// Walks the header from the start of `reader`, checking every count, length and type against the file.
pub(super) fn scan_header(reader: &mut BufReader<File>, file_size: u64, path: &Path) -> Result<()> {
    let mut scan = HeaderScan { reader, file_size, path, memory: 0, pos: 0 };
    scan.run()
}

struct HeaderScan<'a> {
    reader: &'a mut BufReader<File>,
    file_size: u64,
    path: &'a Path,
    /// Memory the parsed metadata will take.
    memory: u64,
    pos: u64,
}

impl HeaderScan<'_> {
    fn corrupt(&self, detail: impl Into<String>) -> EngineError {
        EngineError::Corrupt { path: self.path.to_path_buf(), detail: detail.into() }
    }

    fn too_large(&self, detail: impl Into<String>) -> EngineError {
        EngineError::MetadataTooLarge { path: self.path.to_path_buf(), detail: detail.into() }
    }

    fn remaining(&self) -> u64 {
        self.file_size.saturating_sub(self.pos)
    }

    fn truncated(&self) -> EngineError {
        self.corrupt("the header ends before it is complete (the file is truncated)")
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.reader.read_exact(&mut buf).map_err(|_| self.truncated())?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    fn skip(&mut self, n: u64) -> Result<()> {
        if n > self.remaining() {
            return Err(self.truncated());
        }
        let n = i64::try_from(n).map_err(|_| self.truncated())?;
        self.reader.seek_relative(n).map_err(|_| self.truncated())?;
        self.pos += n as u64;
        Ok(())
    }

    fn charge(&mut self, bytes: u64, what: &str) -> Result<()> {
        self.memory = self.memory.saturating_add(bytes);
        if self.memory > MAX_METADATA_MEMORY {
            return Err(self.too_large(format!(
                "{what} takes the metadata past {} MiB",
                MAX_METADATA_MEMORY >> 20
            )));
        }
        Ok(())
    }

    /// A length-prefixed string's length, checked against the file and `max`; the bytes are not read.
    fn string_len(&mut self, v1: bool, max: u64, what: &str) -> Result<u64> {
        let len = if v1 { self.u32()? as u64 } else { self.u64()? };
        if len > max {
            return Err(self.too_large(format!("{what} is {len} bytes long (at most {max} are accepted)")));
        }
        if len > self.remaining() {
            return Err(self.corrupt(format!("{what} is {len} bytes long but the file ends {} bytes later", self.remaining())));
        }
        Ok(len)
    }

    fn key(&mut self, v1: bool) -> Result<String> {
        let len = self.string_len(v1, MAX_KEY_LENGTH, "a metadata key")?;
        let mut buf = vec![0u8; len as usize];
        self.reader.read_exact(&mut buf).map_err(|_| self.truncated())?;
        self.pos += len;
        self.charge(len + VALUE_COST, "a key")?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    fn run(&mut self) -> Result<()> {
        let _magic = self.bytes::<4>()?;
        let version = self.u32()?;
        if !(1..=3).contains(&version) {
            return Err(self.corrupt(format!("GGUF version {version} is unknown (1 to 3 are)")));
        }
        let v1 = version == 1;
        let prefix = if v1 { 4 } else { 8 };
        let (tensor_count, kv_count) = if v1 { (self.u32()? as u64, self.u32()? as u64) } else { (self.u64()?, self.u64()?) };
        // Each entry takes some bytes on disk, so the file size bounds both counts.
        let min_kv = prefix + 4 + 1;
        let min_tensor = prefix + 4 + 4 + 8;
        if kv_count.saturating_mul(min_kv).saturating_add(tensor_count.saturating_mul(min_tensor)) > self.remaining() {
            return Err(self.corrupt(format!(
                "the header declares {tensor_count} tensors and {kv_count} metadata entries, more than a {}-byte file holds",
                self.file_size
            )));
        }
        for _ in 0..kv_count {
            let key = self.key(v1)?;
            let ty = self.u32()?;
            if key == "general.alignment" {
                self.alignment(ty)?;
            } else {
                self.value(ty, v1, 0, &key)?;
            }
        }
        for _ in 0..tensor_count {
            let name = self.key(v1)?;
            let dims = self.u32()?;
            if dims > 4 {
                return Err(self.corrupt(format!("tensor `{name}` has {dims} dimensions (at most 4 exist)")));
            }
            let mut elems: u64 = 1;
            for _ in 0..dims {
                let dim = if v1 { self.u32()? as u64 } else { self.u64()? };
                elems = elems.checked_mul(dim).ok_or_else(|| self.corrupt(format!("tensor `{name}` has an impossible shape")))?;
            }
            // No ggml type packs more than 8 weights in a byte: a bigger tensor cannot lie in this file.
            if elems > self.file_size.saturating_mul(8) || usize::try_from(elems).is_err() {
                return Err(self.corrupt(format!("tensor `{name}` claims {elems} elements, more than the file can hold")));
            }
            self.skip(4 + 8)?;
        }
        Ok(())
    }

    fn alignment(&mut self, ty: u32) -> Result<()> {
        // candle honours only 8/16/32-bit alignments.
        let value = match ty {
            0 | 1 => self.bytes::<1>()?[0] as i64 as u64,
            2 | 3 => u16::from_le_bytes(self.bytes()?) as u64,
            4 | 5 => self.u32()? as u64,
            _ => return Err(self.corrupt("`general.alignment` is not a 32-bit integer")),
        };
        if value == 0 || !value.is_power_of_two() || value > MAX_ALIGNMENT {
            return Err(self.corrupt(format!(
                "`general.alignment` is {value}; it must be a power of two no larger than {MAX_ALIGNMENT}"
            )));
        }
        self.charge(VALUE_COST, "`general.alignment`")
    }

    fn value(&mut self, ty: u32, v1: bool, depth: usize, key: &str) -> Result<()> {
        let fixed = |ty: u32| -> Option<u64> {
            match ty {
                0 | 1 | 7 => Some(1),
                2 | 3 => Some(2),
                4..=6 => Some(4),
                10..=12 => Some(8),
                _ => None,
            }
        };
        if let Some(size) = fixed(ty) {
            self.charge(VALUE_COST, key)?;
            return self.skip(size);
        }
        match ty {
            8 => {
                let len = self.string_len(v1, MAX_METADATA_STRING, &format!("the string `{key}`"))?;
                self.charge(len.saturating_add(VALUE_COST), key)?;
                self.skip(len)
            }
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(self.corrupt(format!("`{key}` nests arrays more than {MAX_ARRAY_DEPTH} deep")));
                }
                let elem_ty = self.u32()?;
                let len = if v1 { self.u32()? as u64 } else { self.u64()? };
                let min_size = match elem_ty {
                    8 => if v1 { 4 } else { 8 },
                    9 => 4 + if v1 { 4 } else { 8 },
                    t => fixed(t).ok_or_else(|| self.corrupt(format!("`{key}` is an array of unknown type {t}")))?,
                };
                if len.saturating_mul(min_size) > self.remaining() {
                    return Err(self.corrupt(format!(
                        "`{key}` claims {len} elements, more than the rest of the file ({} bytes) holds",
                        self.remaining()
                    )));
                }
                self.charge(len.saturating_mul(VALUE_COST).saturating_add(VALUE_COST), key)?;
                match fixed(elem_ty) {
                    Some(size) => self.skip(len * size),
                    None => {
                        for _ in 0..len {
                            self.value(elem_ty, v1, depth + 1, key)?;
                        }
                        Ok(())
                    }
                }
            }
            t => Err(self.corrupt(format!("`{key}` has unknown value type {t}"))),
        }
    }
}
