//! Writing GGUF files, apart from inference: the writer and the random-weight models built with it, for
//! tests, fuzz seeds, benchmarks and the CLI's `synth` command. Nothing on the inference path uses them.

pub mod borrowed_tokenizer;
pub mod gguf_writer;
pub mod mix;
pub mod synthetic;
