use std::path::PathBuf;

/// Every way the engine can fail, worded for the person who has to fix it.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("model file not found: {}. Pass a path to a .gguf file, or install the default model with `scripts/fetch-default-model.sh`", path.display())]
    ModelNotFound { path: PathBuf },

    #[error("no model found: the default model is not installed. Run `scripts/fetch-default-model.sh`, set ATELIER_MODEL, or pass --model PATH (looked in: {searched})")]
    NoDefaultModel { searched: String },

    #[error("{} is not a GGUF model file (it starts with {found:?}, not \"GGUF\"). Atelier loads GGUF files, e.g. from llama.cpp or Hugging Face", path.display())]
    NotGguf { path: PathBuf, found: String },

    #[error("{} is truncated or corrupt: {detail}. Download or copy the file again", path.display())]
    Corrupt { path: PathBuf, detail: String },

    #[error("{} uses the architecture `{arch}`, which Atelier cannot run yet (supported: {supported})", path.display())]
    UnsupportedArchitecture { path: PathBuf, arch: String, supported: String },

    #[error("{} stores tensor `{tensor}` as {dtype}, which Atelier cannot run yet", path.display())]
    UnsupportedTensorType { path: PathBuf, tensor: String, dtype: String },

    #[error("{} lacks the metadata key `{key}`; the GGUF was written by a converter Atelier does not understand", path.display())]
    MissingMetadata { path: PathBuf, key: String },

    #[error("{} lacks the tensor `{name}`", path.display())]
    MissingTensor { path: PathBuf, name: String },

    #[error("{} has an impossible model setting: {detail}. The file is damaged or was written by a broken converter", path.display())]
    BadHyperparameter { path: PathBuf, detail: String },

    #[error("{} has tensor `{tensor}` of shape {found}, but its settings need {expected}. The file is damaged or was written by a broken converter", path.display())]
    TensorShape { path: PathBuf, tensor: String, found: String, expected: String },

    #[error("{} declares more metadata than a model can need: {detail}. The file is damaged or hostile", path.display())]
    MetadataTooLarge { path: PathBuf, detail: String },

    /// A tensor's bytes are not where or how the kernels can read them (no file path at this level).
    #[error("tensor data: {0}")]
    TensorLayout(String),

    #[error("not enough memory to load this model: it needs about {needed_mib} MiB but only {available_mib} MiB are available. Close other programs or choose a smaller (more quantised) model")]
    InsufficientMemory { needed_mib: u64, available_mib: u64 },

    #[error("tokenizer: {0}")]
    Tokenizer(String),

    #[error("chat template: {0}")]
    Template(String),

    #[error("the model's chat template did too much work ({0}); it may loop forever. Use a model with a simpler template")]
    TemplateTooExpensive(String),

    #[error("the prompt is {prompt_tokens} tokens but the context holds {context_length}; shorten the prompt or raise the context length")]
    ContextOverflow { prompt_tokens: usize, context_length: usize },

    #[error("structured output: {0}")]
    Grammar(String),

    #[error("the prompt is empty")]
    EmptyPrompt,

    #[error("device: {0}")]
    Device(String),

    #[error("{} is not a usable OpenVINO model: {detail}. An OpenVINO model is a folder holding openvino_model.xml and .bin, config.json and tokenizer.json (see docs/npu.md)", path.display())]
    OpenVinoModel { path: PathBuf, detail: String },

    #[error("OpenVINO: {0}")]
    OpenVino(String),

    #[error("invalid sampling setting: {0}")]
    InvalidSampling(String),

    #[error("invalid load option: {0}")]
    InvalidOption(String),

    #[error("could not read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("inference failed: {0}")]
    Candle(#[from] candle_core::Error),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
