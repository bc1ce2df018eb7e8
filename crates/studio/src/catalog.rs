//! The model catalog: a short curated list shipped with the app (`catalog/models.toml`), each entry
//! judged against this machine — the memory it needs (the engine's own estimate from the GGUF header's
//! shape), whether it runs well, only just, or not at all here, and which quantisation of a family to
//! take.

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use atelier_engine::machine::Machine;
use atelier_engine::{KvCacheType, MemoryEstimate, ModelShape};
use atelier_store::{ModelRecord, Store};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StudioError};
use crate::models::ModelFormat;

const CATALOG_TOML: &str = include_str!("../catalog/models.toml");

/// The most memory a model may take and still "run well": the OS, the app and the writer's other
/// programs need the rest.
const RUNS_WELL_SHARE: f64 = 0.5;
/// Past this share of the machine's memory a model does not fit at all.
const FITS_SHARE: f64 = 0.85;
/// Weights above this run slowly on a CPU (decode reads every weight per token).
const SLOW_ON_CPU_BYTES: u64 = 6 << 30;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: u32,
    models: Vec<CatalogEntry>,
}

/// One model the app offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[derive(specta::Type)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    pub id: String,
    /// Entries of one family are the same model at different quantisations.
    pub family: String,
    pub name: String,
    pub quantization: String,
    pub publisher: String,
    pub licence: String,
    pub summary: String,
    pub parameters: u64,
    pub context_length: u32,
    pub size_bytes: u64,
    pub url: String,
    /// The model's page, for its card and licence.
    pub page: String,
    #[serde(default)]
    pub sha256: Option<String>,
    /// Ships with the app (the embedded model).
    #[serde(default)]
    pub builtin: bool,
    /// The model the first-run screen offers.
    #[serde(default)]
    pub first_run: bool,
    /// A GGUF file (the default), or an OpenVINO folder (`url` is then its repository), for NPUs and
    /// Intel GPUs.
    #[serde(default)]
    pub format: ModelFormat,
    pub shape: ModelShape,
}

impl CatalogEntry {
    /// The file name the download gives it (the downloader's own rule); an OpenVINO folder has none.
    pub fn file_name(&self) -> Result<String> {
        if self.format == ModelFormat::Openvino {
            return Err(StudioError::Invalid(format!(
                "{} is an OpenVINO folder, not one file: download its repository ({}) and import the folder in Models",
                self.name, self.url
            )));
        }
        let segment = self.url.rsplit('/').next().unwrap_or("");
        crate::download::sanitize_file_name(segment)
    }
}

/// The catalog shipped with this build.
#[derive(Debug)]
pub struct Catalog {
    pub version: u32,
    pub entries: Vec<CatalogEntry>,
}

impl Catalog {
    /// Reads and checks a catalog file.
    pub fn parse(text: &str) -> Result<Self> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| StudioError::Invalid(format!("the model catalog is malformed: {e}")))?;
        let mut ids = HashSet::new();
        for entry in &file.models {
            let bad = |why: &str| StudioError::Invalid(format!("model catalog entry `{}`: {why}", entry.id));
            if entry.id.is_empty() || !entry.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)) {
                return Err(bad("ids are lowercase letters, digits, '-', '_' and '.'"));
            }
            if !ids.insert(entry.id.as_str()) {
                return Err(bad("the id appears twice"));
            }
            if !entry.url.starts_with("https://") || !entry.page.starts_with("https://") {
                return Err(bad("addresses must be https://"));
            }
            match entry.format {
                ModelFormat::Gguf => {
                    entry.file_name().map_err(|_| bad("the address must end with a .gguf file name"))?;
                }
                ModelFormat::Openvino => {
                    let repository = entry.url.strip_prefix("https://huggingface.co/").unwrap_or("");
                    if repository.split('/').count() != 2 || entry.first_run || entry.builtin {
                        return Err(bad("an OpenVINO entry's address is its Hugging Face repository (https://huggingface.co/owner/name), and it is never built in or the first-run model"));
                    }
                }
            }
            if let Some(sha256) = &entry.sha256 {
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad("sha256 must be 64 hexadecimal characters"));
                }
            }
            let s = &entry.shape;
            if s.layers == 0 || s.kv_heads == 0 || s.head_dim == 0 || s.weight_bytes == 0 || entry.size_bytes < s.weight_bytes {
                return Err(bad("the shape needs layers, heads, a head size and weights no larger than the file"));
            }
        }
        Ok(Self { version: file.version, entries: file.models })
    }

    /// The catalog built into the app.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Catalog::parse(CATALOG_TOML).expect("the shipped catalog is checked by its tests"))
    }

    pub fn get(&self, id: &str) -> Result<&CatalogEntry> {
        self.entries.iter().find(|e| e.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.entries.iter().map(|e| e.id.as_str()).collect();
            StudioError::NotFound(format!("no model `{id}` in the catalog (it has: {})", known.join(", ")))
        })
    }
}

/// How well a model suits this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FitVerdict {
    RunsWell,
    Tight,
    TooBig,
    /// An OpenVINO model where Atelier has no OpenVINO runtime.
    NeedsOpenvino,
}

impl FitVerdict {
    pub fn label(self) -> &'static str {
        match self {
            Self::RunsWell => "Runs well",
            Self::Tight => "Tight",
            Self::TooBig => "Too big for this machine",
            Self::NeedsOpenvino => "Needs OpenVINO",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[derive(specta::Type)]
pub struct Fit {
    pub verdict: FitVerdict,
    pub reason: String,
    /// Where it would run: "CPU" or a GPU's name.
    pub runs_on: String,
    /// Free space where models are kept, and whether the file fits in it.
    pub free_disk: Option<u64>,
    pub disk_ok: bool,
}

/// Judges a model needing `estimate` on `machine`.
pub fn fit(estimate: &MemoryEstimate, size_bytes: u64, machine: &Machine, free_disk: Option<u64>) -> Fit {
    let needed = estimate.total;
    let disk_ok = free_disk.is_none_or(|free| free >= size_bytes);
    let judged = |verdict, reason: String, runs_on: &str| Fit { verdict, reason, runs_on: runs_on.into(), free_disk, disk_ok };
    if let Some(gpu) = machine.gpus.iter().find(|g| g.memory.is_some_and(|m| needed as f64 <= m as f64 * FITS_SHARE)) {
        let memory = gpu.memory.unwrap_or_default();
        return judged(FitVerdict::RunsWell, format!("needs about {}; fits in {}'s {}", bytes(needed), gpu.name, bytes(memory)), &gpu.name);
    }
    let runs_on = machine.gpus.first().map(|g| g.name.as_str()).unwrap_or("CPU");
    let Some(total) = machine.total_memory else {
        return judged(FitVerdict::Tight, format!("needs about {}; Atelier cannot read how much memory this machine has", bytes(needed)), runs_on);
    };
    let available = machine.available_memory.unwrap_or(total);
    if needed as f64 > total as f64 * FITS_SHARE {
        return judged(FitVerdict::TooBig, format!("needs about {}; this machine has {} in all", bytes(needed), bytes(total)), runs_on);
    }
    if needed > available {
        return judged(
            FitVerdict::Tight,
            format!("needs about {}; only {} of this machine's {} are free now: close other programs first", bytes(needed), bytes(available), bytes(total)),
            runs_on,
        );
    }
    if needed as f64 > total as f64 * RUNS_WELL_SHARE {
        return judged(
            FitVerdict::Tight,
            format!("needs about {} of this machine's {}: other programs will have little room", bytes(needed), bytes(total)),
            runs_on,
        );
    }
    if machine.gpus.is_empty() && estimate.weights > SLOW_ON_CPU_BYTES {
        return judged(
            FitVerdict::Tight,
            format!("fits ({} of {}), but a model this size writes slowly on a CPU; a smaller one answers much sooner", bytes(needed), bytes(total)),
            runs_on,
        );
    }
    judged(FitVerdict::RunsWell, format!("needs about {} of this machine's {} ({} free now)", bytes(needed), bytes(total), bytes(available)), runs_on)
}

/// An OpenVINO model runs where OpenVINO has a device: the NPU first, then an Intel GPU, then its CPU
/// device (judged like a CPU: the machine's memory). Without the runtime it does not run at all.
fn openvino_fit(estimate: &MemoryEstimate, size_bytes: u64, machine: &Machine, free_disk: Option<u64>) -> Fit {
    let devices = &machine.openvino.devices;
    let family = |f: &str| devices.iter().find(|d| d.id == f || d.id.starts_with(&format!("{f}.")));
    // The device Automatic loads it on (a GPU, else the CPU); the NPU is the writer's choice, as its first
    // compile takes minutes.
    let Some(device) = family("GPU").or_else(|| family("CPU")).or_else(|| family("NPU")) else {
        let why = machine.openvino.note.clone().unwrap_or_else(|| "OpenVINO lists no device here".into());
        return Fit { verdict: FitVerdict::NeedsOpenvino, reason: why, runs_on: "OpenVINO".into(), free_disk, disk_ok: free_disk.is_none_or(|f| f >= size_bytes) };
    };
    let runs_on = format!("{} (OpenVINO)", device.name.clone().unwrap_or_else(|| device.id.clone()));
    // The memory rules are the CPU's: an NPU and an integrated GPU share the machine's memory.
    let cpu_only = Machine { gpus: Vec::new(), ..machine.clone() };
    let mut judged = fit(estimate, size_bytes, &cpu_only, free_disk);
    if let Some(npu) = family("NPU").filter(|npu| npu.id != device.id) {
        let npu = npu.name.clone().unwrap_or_else(|| npu.id.clone());
        judged.reason = format!("{}; it also runs on the {npu}: choose NPU in Settings → Models", judged.reason);
    }
    Fit { runs_on, ..judged }
}

/// A catalog entry as this machine sees it.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct CatalogItem {
    pub entry: CatalogEntry,
    /// Memory at the context Atelier would load it with.
    pub estimate: MemoryEstimate,
    pub fit: Fit,
    /// The quantisation of its family to take on this machine.
    pub recommended: bool,
    /// The library's model, once downloaded.
    pub installed: Option<ModelRecord>,
}

/// The catalog judged for this machine.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
pub struct CatalogView {
    pub version: u32,
    pub machine: Machine,
    pub items: Vec<CatalogItem>,
    /// What the first-run screen offers: the first-run model's recommended quantisation, when it fits.
    pub first_run: Option<String>,
    /// The last download's measured speed (bytes per second), for time estimates; `None` before any.
    pub download_speed: Option<f64>,
}

/// The shipped catalog judged for this machine now, with the library's models, the context Settings
/// loads with, the free disk in `models_dir` and the last measured download speed.
pub async fn current(store: &Store, models_dir: &Path) -> Result<CatalogView> {
    let library = store.models().list().await?;
    let options = crate::models::load_options(Some(store)).await;
    let dir = models_dir.to_path_buf();
    let (machine, free_disk) = tokio::task::spawn_blocking(move || (atelier_engine::machine::machine(), atelier_engine::machine::free_disk(&dir)))
        .await
        .map_err(|e| StudioError::Internal(e.to_string()))?;
    let mut view = view(Catalog::builtin(), machine, free_disk, options.context_length, options.kv_cache, &library);
    view.download_speed = store.settings().get::<f64>(crate::downloads::SPEED_KEY).await.ok().flatten();
    Ok(view)
}

/// Judges every entry: `context_length` and `kv` are the context and key/value cache Atelier loads
/// with (Settings), `library` the models already installed.
pub fn view(
    catalog: &Catalog,
    machine: Machine,
    free_disk: Option<u64>,
    context_length: Option<usize>,
    kv: KvCacheType,
    library: &[ModelRecord],
) -> CatalogView {
    let mut items: Vec<CatalogItem> = catalog
        .entries
        .iter()
        .map(|entry| {
            // The compact cache is Atelier's CPU kernels' own: on a GPU (candle) or OpenVINO it stays f32.
            let kv = if entry.format == ModelFormat::Gguf && machine.gpus.is_empty() { kv } else { KvCacheType::F32 };
            let estimate = entry.shape.estimate_with(context_length, kv);
            let fit = match entry.format {
                ModelFormat::Gguf => fit(&estimate, entry.size_bytes, &machine, free_disk),
                ModelFormat::Openvino => openvino_fit(&estimate, entry.size_bytes, &machine, free_disk),
            };
            CatalogItem { entry: entry.clone(), estimate, fit, recommended: false, installed: installed(entry, library) }
        })
        .collect();
    let families: Vec<String> = items.iter().map(|i| i.entry.family.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    for family in families {
        if let Some(best) = recommended_in(&items, &family) {
            items[best].recommended = true;
        }
    }
    let first_run = items
        .iter()
        .find(|i| i.entry.first_run)
        .and_then(|first| items.iter().find(|i| i.entry.family == first.entry.family && i.recommended))
        .filter(|i| i.fit.verdict != FitVerdict::TooBig)
        .map(|i| i.entry.id.clone());
    CatalogView { version: catalog.version, machine, items, first_run, download_speed: None }
}

/// Which quantisation of `family` to take: on a GPU the largest that runs well (memory is the limit); on
/// a CPU the smallest that runs well, since decode reads every weight per token and 4-bit files answer
/// much sooner for little loss; else the smallest that fits at all.
fn recommended_in(items: &[CatalogItem], family: &str) -> Option<usize> {
    let mut members: Vec<usize> = (0..items.len()).filter(|&i| items[i].entry.family == family).collect();
    members.sort_by_key(|&i| items[i].entry.size_bytes);
    let runs_well = |i: &usize| items[*i].fit.verdict == FitVerdict::RunsWell;
    let on_gpu = |i: &usize| items[*i].fit.runs_on != "CPU";
    members
        .iter()
        .rev()
        .find(|i| runs_well(i) && on_gpu(i))
        .or_else(|| members.iter().find(|i| runs_well(i)))
        .or_else(|| members.iter().find(|i| items[**i].fit.verdict == FitVerdict::Tight))
        .copied()
}

/// The library's copy of `entry`: the same address, the same sha256, or the file name a download of it
/// gets (also what the embedded model is installed as).
fn installed(entry: &CatalogEntry, library: &[ModelRecord]) -> Option<ModelRecord> {
    // An OpenVINO folder keeps its repository's name (`huggingface-cli download … --local-dir <name>`).
    let file_name = match entry.format {
        ModelFormat::Gguf => entry.file_name().ok(),
        ModelFormat::Openvino => entry.url.rsplit('/').next().map(str::to_string),
    };
    library
        .iter()
        .find(|m| {
            m.source_url.as_deref() == Some(entry.url.as_str())
                || (entry.sha256.is_some() && m.sha256 == entry.sha256)
                || file_name.as_deref().is_some_and(|name| std::path::Path::new(&m.path).file_name().is_some_and(|f| f == name))
        })
        .cloned()
}

/// Bytes for people: "2.1 GB", "512 MB".
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else {
        format!("{:.0} MB", n / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_engine::machine::{Cpu, Gpu, Npu, OpenVino};

    fn machine(total_gb: f64, free_gb: f64) -> Machine {
        Machine {
            os: "linux x86_64".into(),
            cpu: Cpu { name: None, threads: 2, kernels: "avx2".into(), features: vec![] },
            total_memory: Some((total_gb * 1e9) as u64),
            available_memory: Some((free_gb * 1e9) as u64),
            gpus: vec![],
            gpu_note: None,
            npu: Npu { present: false, name: None, used: false, note: String::new() },
            openvino: OpenVino { compiled_in: false, library: None, version: None, devices: vec![], note: None },
        }
    }

    fn verdicts(m: &Machine) -> Vec<(String, FitVerdict, bool)> {
        view(Catalog::builtin(), m.clone(), Some(1 << 40), None, KvCacheType::F32, &[])
            .items
            .into_iter()
            .map(|i| (i.entry.id, i.fit.verdict, i.recommended))
            .collect()
    }

    fn verdict_of<'a>(v: &'a [(String, FitVerdict, bool)], id: &str) -> &'a (String, FitVerdict, bool) {
        v.iter().find(|(i, ..)| i == id).unwrap()
    }

    #[test]
    fn the_shipped_catalog_parses_and_offers_ministral_first() {
        let catalog = Catalog::builtin();
        let first: Vec<_> = catalog.entries.iter().filter(|e| e.first_run).collect();
        assert_eq!(first.len(), 1);
        assert!(first[0].name.starts_with("Ministral 3 3B"));
        for family in ["Ministral 3 3B", "Ministral 3 8B", "Mistral Small 3.2 24B", "SmolLM2 135M"] {
            assert!(catalog.entries.iter().any(|e| e.family == family), "{family}");
        }
        assert!(catalog.get("nope").unwrap_err().to_string().contains("ministral-3-3b-q4_k_m"));
    }

    #[test]
    fn bad_catalogs_are_refused_with_the_entry_named() {
        let good = CATALOG_TOML;
        let http = good.replacen("url = \"https://", "url = \"http://", 1);
        assert!(Catalog::parse(&http).unwrap_err().to_string().contains("https"));
        let first = good.find("[[models]]").unwrap();
        let second = first + 1 + good[first + 1..].find("[[models]]").unwrap();
        let twice = format!("{good}\n{}", &good[first..second]);
        assert!(Catalog::parse(&twice).is_err());
        assert!(Catalog::parse("version = 1\nmodels = []\nextra = 2").is_err());
        let sha = good.replacen("sha256 = \"", "sha256 = \"zz", 1);
        assert!(Catalog::parse(&sha).unwrap_err().to_string().contains("sha256"));
    }

    #[test]
    fn an_openvino_folder_runs_where_openvino_has_a_device_and_is_not_fetched_as_a_file() {
        use atelier_engine::machine::OpenVinoDevice;
        let id = "mistral-7b-instruct-v0.1-int4-ov";
        let entry = Catalog::builtin().get(id).unwrap();
        assert_eq!(entry.format, ModelFormat::Openvino);
        // No runtime: it does not run here, and the reason is the runtime's.
        let mut m = machine(32.0, 24.0);
        m.openvino.note = Some("no OpenVINO runtime found".into());
        let item = view(Catalog::builtin(), m.clone(), Some(1 << 40), None, KvCacheType::F32, &[]).items.into_iter().find(|i| i.entry.id == id).unwrap();
        assert_eq!((item.fit.verdict, item.fit.reason.as_str(), item.recommended), (FitVerdict::NeedsOpenvino, "no OpenVINO runtime found", false));
        // With a GPU and an NPU it runs where Automatic puts it (the GPU), judged by the machine's memory
        // (both share it), and says the NPU is one setting away.
        m.openvino = OpenVino {
            compiled_in: true,
            library: None,
            version: None,
            devices: vec![
                OpenVinoDevice { id: "CPU".into(), name: None },
                OpenVinoDevice { id: "GPU.0".into(), name: Some("Intel(R) Arc(TM) Graphics".into()) },
                OpenVinoDevice { id: "NPU".into(), name: Some("Intel(R) AI Boost".into()) },
            ],
            note: None,
        };
        let item = view(Catalog::builtin(), m.clone(), Some(1 << 40), None, KvCacheType::F32, &[]).items.into_iter().find(|i| i.entry.id == id).unwrap();
        assert_eq!((item.fit.verdict, item.fit.runs_on.as_str()), (FitVerdict::RunsWell, "Intel(R) Arc(TM) Graphics (OpenVINO)"));
        assert!(item.fit.reason.contains("Intel(R) AI Boost: choose NPU in Settings"), "{}", item.fit.reason);
        let small = view(Catalog::builtin(), machine(4.0, 3.0), Some(1 << 40), None, KvCacheType::F32, &[]).items.into_iter().find(|i| i.entry.id == id).unwrap();
        assert_eq!(small.fit.verdict, FitVerdict::NeedsOpenvino);
        // The downloader, which fetches one file, refuses it and says how to get the folder.
        let refused = entry.file_name().unwrap_err().to_string();
        assert!(refused.contains("OpenVINO folder") && refused.contains("import the folder"), "{refused}");
        // A folder of the repository's name in the library is the installed copy.
        let record = ModelRecord {
            id: 3,
            path: format!("/home/writer/models/{id}"),
            name: id.into(),
            architecture: "mistral".into(),
            quantization: "INT4".into(),
            size_bytes: 3_900_000_000,
            parameters: 7_241_732_096,
            sha256: None,
            source_url: None,
            is_default: false,
            added_at: 0,
        };
        assert_eq!(installed(entry, &[record]).map(|r| r.id), Some(3));
        // An OpenVINO entry's address is a repository, never a file.
        let bad = CATALOG_TOML.replace("url = \"https://huggingface.co/OpenVINO/mistral-7b-instruct-v0.1-int4-ov\"", "url = \"https://huggingface.co/OpenVINO/x/resolve/main/openvino_model.bin\"");
        assert!(Catalog::parse(&bad).unwrap_err().to_string().contains("repository"));
    }

    #[test]
    fn verdicts_follow_the_machine() {
        // A 64 GB workstation: every Ministral runs well; on its CPU the 4-bit 3B is the one to take
        // (it answers sooner); the 24B fits but is slow on a CPU.
        let big = verdicts(&machine(64.0, 48.0));
        assert_eq!(verdict_of(&big, "ministral-3-3b-q8_0").1, FitVerdict::RunsWell);
        assert!(verdict_of(&big, "ministral-3-3b-q4_k_m").2);
        assert!(!verdict_of(&big, "ministral-3-3b-q8_0").2);
        assert_eq!(verdict_of(&big, "mistral-small-3.2-24b-q4_k_m").1, FitVerdict::Tight);
        // With a 24 GB GPU, memory is the limit and the 8-bit 3B is the one to take.
        let mut gpu = machine(64.0, 48.0);
        gpu.gpus.push(Gpu { backend: "cuda".into(), name: "CUDA:0".into(), memory: Some(24 << 30) });
        let with_gpu = verdicts(&gpu);
        assert!(verdict_of(&with_gpu, "ministral-3-3b-q8_0").2);
        assert!(!verdict_of(&with_gpu, "ministral-3-3b-q4_k_m").2);
        // An 8 GB laptop: the 4-bit 3B runs well and is recommended over the 8-bit one, the 24B does not fit.
        let laptop = verdicts(&machine(8.0, 6.0));
        assert_eq!(verdict_of(&laptop, "ministral-3-3b-q4_k_m").1, FitVerdict::RunsWell);
        assert!(verdict_of(&laptop, "ministral-3-3b-q4_k_m").2);
        assert_eq!(verdict_of(&laptop, "mistral-small-3.2-24b-q4_k_m").1, FitVerdict::TooBig);
        // A 4 GB machine: the 3B at 4 bits is tight, at 8 bits too big; only the built-in model runs well.
        let small = verdicts(&machine(4.0, 3.5));
        assert_eq!(verdict_of(&small, "ministral-3-3b-q4_k_m").1, FitVerdict::Tight);
        assert_eq!(verdict_of(&small, "ministral-3-3b-q8_0").1, FitVerdict::TooBig);
        assert_eq!(verdict_of(&small, "smollm2-135m-q4_1").1, FitVerdict::RunsWell);
        // 2 GB: the first-run screen offers no download.
        assert_eq!(view(Catalog::builtin(), machine(2.0, 1.5), None, None, KvCacheType::F32, &[]).first_run, None);
        assert_eq!(view(Catalog::builtin(), machine(8.0, 6.0), None, None, KvCacheType::F32, &[]).first_run.as_deref(), Some("ministral-3-3b-q4_k_m"));
    }

    #[test]
    fn reasons_say_why_and_memory_in_use_counts() {
        let entry = Catalog::builtin().get("ministral-3-3b-q4_k_m").unwrap();
        let estimate = entry.shape.estimate(None);
        let busy = fit(&estimate, entry.size_bytes, &machine(16.0, 2.0), Some(1 << 40));
        assert_eq!(busy.verdict, FitVerdict::Tight);
        assert!(busy.reason.contains("close other programs"), "{}", busy.reason);
        let no_disk = fit(&estimate, entry.size_bytes, &machine(16.0, 12.0), Some(1 << 30));
        assert!(!no_disk.disk_ok);
        let mut with_gpu = machine(4.0, 3.0);
        with_gpu.gpus.push(Gpu { backend: "cuda".into(), name: "CUDA:0".into(), memory: Some(24 << 30) });
        let on_gpu = fit(&estimate, entry.size_bytes, &with_gpu, None);
        assert_eq!((on_gpu.verdict, on_gpu.runs_on.as_str()), (FitVerdict::RunsWell, "CUDA:0"));
        let unknown = Machine { total_memory: None, available_memory: None, ..machine(1.0, 1.0) };
        assert_eq!(fit(&estimate, entry.size_bytes, &unknown, None).verdict, FitVerdict::Tight);
    }

    #[test]
    fn a_longer_context_needs_more_memory() {
        let entry = Catalog::builtin().get("ministral-3-3b-q4_k_m").unwrap();
        assert!(entry.shape.estimate(Some(32_768)).total > entry.shape.estimate(None).total + (5 << 30));
    }

    #[test]
    fn an_f16_cache_lets_a_32k_context_of_the_3b_model_fit_an_8_gb_machine() {
        let at = |kv| {
            let items = view(Catalog::builtin(), machine(8.0, 7.5), Some(1 << 40), Some(32_768), kv, &[]).items;
            items.into_iter().find(|i| i.entry.id == "ministral-3-3b-q4_k_m").unwrap().fit.verdict
        };
        assert_eq!(at(KvCacheType::F32), FitVerdict::TooBig);
        assert_ne!(at(KvCacheType::F16), FitVerdict::TooBig);
        // Where a GPU runs it, the cache is candle's f32 whatever the setting.
        let mut with_gpu = machine(8.0, 7.5);
        with_gpu.gpus.push(Gpu { backend: "cuda".into(), name: "CUDA:0".into(), memory: Some(8 << 30) });
        let on_gpu = |kv| {
            let items = view(Catalog::builtin(), with_gpu.clone(), Some(1 << 40), Some(32_768), kv, &[]).items;
            items.into_iter().find(|i| i.entry.id == "ministral-3-3b-q4_k_m").unwrap().estimate
        };
        assert_eq!(on_gpu(KvCacheType::F16), on_gpu(KvCacheType::F32));
    }
}
