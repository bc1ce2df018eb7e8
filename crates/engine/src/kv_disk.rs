//! Contexts' key/value caches saved on disk, so that reopening a project continues its scene instead of
//! computing it again. One file a context, named by the model's fingerprint and a hash of the tokens;
//! the folder is capped in bytes, oldest first out. A file is only a cache: one that is stale, cut
//! short, of another model or shape, or fails its checksum is ignored (and removed), never trusted.
//!
//! Layout (little-endian): magic, version, model fingerprint (32 bytes), layers, KV heads, head size,
//! token count, bytes per value (4: f32, 2: f16), the tokens, then each layer's keys and values for
//! those positions (head by head), then the SHA-256 of everything before it. A file's name starts with
//! the model's fingerprint and the cache's value type: a model lists only the files it could read.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::{KvCacheType, TransformerConfig};
use crate::error::{EngineError, Result};
use crate::gguf::read_up_to;

const MAGIC: &[u8; 4] = b"ATKV";
const VERSION: u32 = 2;
const HEADER_BYTES: u64 = 4 + 4 + 32 + 5 * 4;
const EXTENSION: &str = "atkv";
/// Free space a save leaves on the disk at least.
const FREE_MARGIN: u64 = 1 << 30;

/// The shape a cache file must have to be read into this model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheShape {
    pub n_layer: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    /// Positions the model's cache holds: a file with more tokens is not this model's.
    pub context_length: usize,
    pub kv: KvCacheType,
}

impl CacheShape {
    pub fn of(config: &TransformerConfig, context_length: usize, kv: KvCacheType) -> Self {
        Self { n_layer: config.n_layer, n_kv_head: config.n_kv_head, head_dim: config.head_dim, context_length, kv }
    }

    /// Bytes of one KV head's keys (or values) for `tokens` positions.
    fn head_bytes(&self, tokens: usize) -> usize {
        tokens * self.head_dim * self.kv.value_bytes()
    }

    fn file_bytes(&self, tokens: usize) -> u64 {
        HEADER_BYTES + 4 * tokens as u64 + (2 * self.n_layer * self.n_kv_head * self.head_bytes(tokens)) as u64 + 32
    }
}

/// A folder of saved contexts for one model.
pub(crate) struct DiskCache {
    dir: PathBuf,
    fingerprint: [u8; 32],
    shape: CacheShape,
    cap_bytes: u64,
    /// The last listing and the folder's modification time it was read at: a request that the memory
    /// slots miss lists the folder again only when a file came or went.
    listed: std::sync::Mutex<Option<(std::time::SystemTime, Vec<Saved>)>>,
}

/// What reading the cache can give: the tokens of a saved context and its file.
#[derive(Clone)]
pub(crate) struct Saved {
    pub tokens: Vec<u32>,
    path: PathBuf,
}

impl DiskCache {
    pub fn new(dir: PathBuf, fingerprint: [u8; 32], shape: CacheShape, cap_bytes: u64) -> Self {
        Self { dir, fingerprint, shape, cap_bytes, listed: std::sync::Mutex::new(None) }
    }

    fn prefix(&self) -> String {
        format!("{}-{}-", hex(&self.fingerprint[..8]), self.shape.kv.name())
    }

    fn path_for(&self, tokens: &[u32]) -> PathBuf {
        let mut hash = Sha256::new();
        for t in tokens {
            hash.update(t.to_le_bytes());
        }
        self.dir.join(format!("{}{}.{EXTENSION}", self.prefix(), hex(&hash.finalize()[..12])))
    }

    /// Whether `tokens` are saved already.
    pub fn contains(&self, tokens: &[u32]) -> bool {
        self.path_for(tokens).is_file()
    }

    /// This model's saved contexts (their tokens only: the caches stay on disk until one is chosen). A
    /// file that is damaged is removed; one this model cannot use now (a longer context than it holds)
    /// or cannot read at the moment is skipped and kept.
    pub fn list(&self) -> Vec<Saved> {
        let modified = std::fs::metadata(&self.dir).and_then(|m| m.modified()).ok();
        let mut listed = self.listed.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(modified), Some((at, saved))) = (modified, listed.as_ref()) {
            if *at == modified {
                return saved.clone();
            }
        }
        // Kept under the time read before listing: a file that came (or a damaged one removed) meanwhile
        // changes the folder's time, and the next request lists it again.
        let saved = self.read_listing();
        *listed = modified.map(|at| (at, saved.clone()));
        saved
    }

    fn forget_listing(&self) {
        *self.listed.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn read_listing(&self) -> Vec<Saved> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let prefix = self.prefix();
        let model = format!("{}-", hex(&self.fingerprint[..8]));
        let typed = |name: &str| KvCacheType::ALL.iter().any(|kv| name.starts_with(&format!("{model}{}-", kv.name())));
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == EXTENSION))
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                // This model's files of the first version (no value type in the name) can never be read.
                if name.starts_with(&model) && !typed(&name) {
                    let _ = std::fs::remove_file(p);
                }
                name.starts_with(&prefix)
            })
            // Regular files only: opening a FIFO would block the model's thread.
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
            .filter_map(|path| match self.read_tokens(&path) {
                Ok(Some(tokens)) => Some(Saved { tokens, path }),
                Ok(None) | Err(EngineError::Io { .. }) => None,
                Err(_) => {
                    let _ = std::fs::remove_file(&path);
                    None
                }
            })
            .collect()
    }

    /// A file's header checked against this model: the number of positions it holds.
    fn check_header(&self, header: &[u8; HEADER_BYTES as usize], path: &Path) -> Result<usize> {
        let word = |at: usize| u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
        let shape = [self.shape.n_layer, self.shape.n_kv_head, self.shape.head_dim].map(|d| d as u32);
        let same_shape = [word(40), word(44), word(48)] == shape && word(56) == self.shape.kv.value_bytes() as u32;
        if &header[..4] != MAGIC || word(4) != VERSION || header[8..40] != self.fingerprint || !same_shape {
            return Err(stale(path, "not this model's cache"));
        }
        Ok(word(52) as usize)
    }

    /// The header and tokens of a file, checked against this model and the file's length; `None` when
    /// it holds more positions than this model's context.
    fn read_tokens(&self, path: &Path) -> Result<Option<Vec<u32>>> {
        let file = File::open(path).map_err(|e| io(path, e))?;
        let len = file.metadata().map_err(|e| io(path, e))?.len();
        let mut r = BufReader::new(file);
        let mut header = [0u8; HEADER_BYTES as usize];
        r.read_exact(&mut header).map_err(|e| read_error(path, e))?;
        let tokens = self.check_header(&header, path)?;
        if tokens > self.shape.context_length {
            return Ok(None);
        }
        if tokens == 0 || len != self.shape.file_bytes(tokens) {
            return Err(stale(path, "cut short or of another length"));
        }
        let mut bytes = vec![0u8; 4 * tokens];
        r.read_exact(&mut bytes).map_err(|e| read_error(path, e))?;
        Ok(Some(bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()))
    }

    /// Reads a saved context's cache into `layers` (each layer's keys then values, head by head, for
    /// `saved.tokens.len()` positions, as [`Self::save`] wrote them) in one pass, checking its checksum as
    /// it goes; a file that fails is removed. On an error `layers` hold garbage: the caller keeps no
    /// tokens for them (they are computed again and overwritten).
    pub fn load<'a>(&self, saved: &Saved, layers: impl Iterator<Item = &'a mut [u8]>) -> Result<()> {
        let path = &saved.path;
        let result = (|| {
            let file = File::open(path).map_err(|e| io(path, e))?;
            if file.metadata().map_err(|e| io(path, e))?.len() != self.shape.file_bytes(saved.tokens.len()) {
                return Err(stale(path, "size mismatch"));
            }
            let mut r = BufReader::with_capacity(1 << 20, file);
            let mut hash = Sha256::new();
            // The file is still the one listed (same model, shape, length and tokens)…
            let mut header = [0u8; HEADER_BYTES as usize];
            r.read_exact(&mut header).map_err(|e| read_error(path, e))?;
            let mut ids = vec![0u8; 4 * saved.tokens.len()];
            r.read_exact(&mut ids).map_err(|e| read_error(path, e))?;
            hash.update(header);
            hash.update(&ids);
            let same_tokens = ids.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).eq(saved.tokens.iter().copied());
            if self.check_header(&header, path)? != saved.tokens.len() || !same_tokens {
                return Err(stale(path, "changed since it was listed"));
            }
            // …and its cache, checksummed on the way into the slices.
            let per_head = self.shape.head_bytes(saved.tokens.len());
            let mut slices = 0;
            for slice in layers {
                if slice.len() != per_head {
                    return Err(stale(path, "shape mismatch"));
                }
                r.read_exact(slice).map_err(|e| read_error(path, e))?;
                hash.update(&*slice);
                slices += 1;
            }
            if slices != 2 * self.shape.n_layer * self.shape.n_kv_head {
                return Err(stale(path, "shape mismatch"));
            }
            let mut stored = [0u8; 32];
            r.read_exact(&mut stored).map_err(|e| read_error(path, e))?;
            if hash.finalize()[..] != stored[..] {
                return Err(stale(path, "checksum mismatch"));
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(path);
            self.forget_listing();
        }
        result
    }

    /// Writes a context (its tokens and its cache's slices, in the order [`Self::load`] reads them) to a
    /// temporary file renamed into place, then trims the folder to its cap, oldest first.
    /// `None` when it is not written: larger than the folder's cap, or the disk is nearly full (the
    /// writer's library shares it).
    pub fn save<'a>(&self, tokens: &[u32], layers: impl Iterator<Item = &'a [u8]>) -> Result<Option<PathBuf>> {
        let size = self.shape.file_bytes(tokens.len());
        if size > self.cap_bytes {
            return Ok(None);
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        if fs2::available_space(&self.dir).is_ok_and(|free| free < size.saturating_add(FREE_MARGIN)) {
            return Ok(None);
        }
        self.trim(self.cap_bytes - size);
        let path = self.path_for(tokens);
        // Unique to this process: two app instances never write into one file.
        let partial = path.with_extension(format!("{}.partial", std::process::id()));
        let written = (|| {
            let mut hash = Sha256::new();
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&partial).map_err(|e| io(&partial, e))?);
            let mut put = |bytes: &[u8], w: &mut BufWriter<File>| -> std::io::Result<()> {
                hash.update(bytes);
                w.write_all(bytes)
            };
            let mut header = Vec::with_capacity(HEADER_BYTES as usize);
            header.extend_from_slice(MAGIC);
            header.extend_from_slice(&VERSION.to_le_bytes());
            header.extend_from_slice(&self.fingerprint);
            for d in [self.shape.n_layer, self.shape.n_kv_head, self.shape.head_dim, tokens.len(), self.shape.kv.value_bytes()] {
                header.extend_from_slice(&(d as u32).to_le_bytes());
            }
            put(&header, &mut w).map_err(|e| io(&partial, e))?;
            let ids: Vec<u8> = tokens.iter().flat_map(|t| t.to_le_bytes()).collect();
            put(&ids, &mut w).map_err(|e| io(&partial, e))?;
            for slice in layers {
                put(slice, &mut w).map_err(|e| io(&partial, e))?;
            }
            let digest = hash.finalize();
            w.write_all(&digest).map_err(|e| io(&partial, e))?;
            w.into_inner().map_err(|e| io(&partial, e.into_error()))?.sync_all().map_err(|e| io(&partial, e))?;
            std::fs::rename(&partial, &path).map_err(|e| io(&path, e))
        })();
        if written.is_err() {
            // A full disk leaves no half file behind.
            let _ = std::fs::remove_file(&partial);
        }
        // This process's own changes are seen at once, whatever the file system's clock resolution.
        self.forget_listing();
        written?;
        Ok(Some(path))
    }

    /// Removes the oldest files (of any model) until the folder holds at most `cap` bytes, and partial
    /// files a crash left behind.
    fn trim(&self, cap: u64) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .flatten()
            .filter(|e| {
                let path = e.path();
                let stale_partial = path.extension().is_some_and(|x| x == "partial")
                    && e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < hour_ago);
                if stale_partial {
                    let _ = std::fs::remove_file(&path);
                }
                path.extension().is_some_and(|x| x == EXTENSION)
            })
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        files.sort();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        for (_, len, path) in files {
            if total <= cap {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// Who a model is, cheaply: its size, its header and metadata, and samples of its weights (hashing a
/// whole 2 GB file would cost seconds at every load).
pub(crate) fn fingerprint(path: &Path) -> Result<[u8; 32]> {
    const SAMPLE: u64 = 1 << 20;
    let mut file = File::open(path).map_err(|e| io(path, e))?;
    let len = file.metadata().map_err(|e| io(path, e))?.len();
    let mut hash = Sha256::new();
    hash.update(len.to_le_bytes());
    let mut buf = vec![0u8; SAMPLE as usize];
    for at in [0, len / 4, len / 2, len.saturating_sub(SAMPLE)] {
        file.seek(SeekFrom::Start(at)).map_err(|e| io(path, e))?;
        let n = read_up_to(&mut file, &mut buf).map_err(|e| io(path, e))?;
        hash.update(&buf[..n]);
    }
    Ok(hash.finalize().into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io(path: &Path, source: std::io::Error) -> EngineError {
    EngineError::Io { path: path.to_path_buf(), source }
}

/// A file that ends too soon is damaged; any other read error may pass (a lock, too many open files).
fn read_error(path: &Path, e: std::io::Error) -> EngineError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        stale(path, "cut short")
    } else {
        io(path, e)
    }
}

fn stale(path: &Path, why: &str) -> EngineError {
    EngineError::Corrupt { path: path.to_path_buf(), detail: format!("saved context cache: {why}") }
}
