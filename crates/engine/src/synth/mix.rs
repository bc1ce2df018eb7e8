//! llama.cpp's per-tensor types for a file type, so that a stand-in is quantised like a real download
//! of that type. Follows `llama_tensor_get_type` in llama.cpp's `src/llama-quant.cpp` for the tensors
//! of a dense llama-family model: the output head (and tied embeddings) in Q6_K, `attn_v` and
//! `ffn_down` in Q6_K in the layers `use_more_bits` picks, and the fallbacks for rows that are no
//! multiple of 256 (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0).

use candle_core::quantized::GgmlDType;

/// A file type of llama.cpp's quantiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantMix {
    Q4KM,
    Q5KM,
    Q8_0,
}

/// What a tensor is for, as far as the recipe tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorRole {
    TokenEmbedding,
    Output,
    AttentionValue,
    FeedForwardDown,
    /// Every other matrix (q, k, output projection, gate, up).
    Other,
}

/// The layers that get more bits: the first and last eighth, and every third one between.
fn use_more_bits(layer: usize, n_layer: usize) -> bool {
    layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2
}

impl QuantMix {
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "q4_k_m" => Some(Self::Q4KM),
            "q5_k_m" => Some(Self::Q5KM),
            "q8_0" => Some(Self::Q8_0),
            _ => None,
        }
    }

    fn default_type(self) -> GgmlDType {
        match self {
            Self::Q4KM => GgmlDType::Q4K,
            Self::Q5KM => GgmlDType::Q5K,
            Self::Q8_0 => GgmlDType::Q8_0,
        }
    }

    /// The type of a matrix with rows of `cols` values, in `layer` of `n_layer` (for per-layer roles);
    /// `tied`: the token embeddings are the output head too.
    pub fn tensor_type(self, role: TensorRole, layer: usize, n_layer: usize, cols: usize, tied: bool) -> GgmlDType {
        let default = self.default_type();
        let chosen = match role {
            TensorRole::Output | TensorRole::TokenEmbedding if role == TensorRole::Output || tied => {
                if cols % default.block_size() != 0 || default == GgmlDType::Q8_0 {
                    GgmlDType::Q8_0
                } else {
                    GgmlDType::Q6K
                }
            }
            TensorRole::AttentionValue | TensorRole::FeedForwardDown if self != Self::Q8_0 && use_more_bits(layer, n_layer) => GgmlDType::Q6K,
            _ => default,
        };
        fallback(chosen, cols)
    }
}

/// K-quants need rows that are whole 256-value super-blocks; llama.cpp then uses a 32-value type.
fn fallback(ty: GgmlDType, cols: usize) -> GgmlDType {
    if cols % 256 == 0 {
        return ty;
    }
    match ty {
        GgmlDType::Q4K => GgmlDType::Q5_0,
        GgmlDType::Q5K => GgmlDType::Q5_1,
        GgmlDType::Q6K => GgmlDType::Q8_0,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recipe_matches_llama_cpps_on_smollm2_and_ministral_3() {
        // SmolLM2-135M (30 layers, 576 wide, 1536 feed-forward, tied): what llama-quantize wrote for
        // Q4_K_M — 166 Q5_0, 16 Q4_K, 15 Q8_0 and 14 Q6_K tensors, token_embd (tied) Q8_0.
        let (n, d, ff) = (30, 576, 1536);
        let mut counts = std::collections::HashMap::new();
        let mix = QuantMix::Q4KM;
        *counts.entry(mix.tensor_type(TensorRole::TokenEmbedding, 0, n, d, true)).or_insert(0) += 1;
        for layer in 0..n {
            for (role, cols) in [(TensorRole::Other, d), (TensorRole::Other, d), (TensorRole::AttentionValue, d), (TensorRole::Other, d), (TensorRole::Other, d), (TensorRole::Other, d), (TensorRole::FeedForwardDown, ff)] {
                *counts.entry(mix.tensor_type(role, layer, n, cols, true)).or_insert(0) += 1;
            }
        }
        assert_eq!(counts.get(&GgmlDType::Q5_0), Some(&166));
        assert_eq!(counts.get(&GgmlDType::Q4K), Some(&16));
        assert_eq!(counts.get(&GgmlDType::Q8_0), Some(&15));
        assert_eq!(counts.get(&GgmlDType::Q6K), Some(&14));
        // Ministral 3 3B (26 layers, 3072 wide, tied): nothing falls back.
        assert_eq!(QuantMix::Q4KM.tensor_type(TensorRole::TokenEmbedding, 0, 26, 3072, true), GgmlDType::Q6K);
        assert_eq!(QuantMix::Q4KM.tensor_type(TensorRole::FeedForwardDown, 0, 26, 9216, true), GgmlDType::Q6K);
        assert_eq!(QuantMix::Q4KM.tensor_type(TensorRole::FeedForwardDown, 4, 26, 9216, true), GgmlDType::Q4K);
        assert_eq!(QuantMix::Q5KM.tensor_type(TensorRole::Other, 4, 26, 3072, true), GgmlDType::Q5K);
        assert_eq!(QuantMix::Q8_0.tensor_type(TensorRole::Output, 0, 26, 3072, false), GgmlDType::Q8_0);
    }
}
