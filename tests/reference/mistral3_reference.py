#!/usr/bin/env python3
"""Builds the tiny random-weight Ministral 3 (`mistral3`) fixture and its golden logits.

Nobody in this project wrote the reference: the model is Hugging Face transformers' Ministral3ForCausalLM,
the GGUF comes from llama.cpp's own converter, and llama.cpp (llama-cpp-python, f32 KV cache) cross-checks
the logits. Not run by CI. Writes:

    tests/fixtures/mistral3-tiny.gguf          the model (f32 weights)
    tests/fixtures/mistral3-tiny.logits.f32    little-endian f32 logits, [positions, vocab] (transformers)
    tests/fixtures/mistral3-tiny.json          tokens, shapes, config and the llama.cpp agreement

Set up (≈6 GB, CPU torch):
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch transformers sentencepiece safetensors \
        protobuf numpy llama-cpp-python==0.3.36
    pip download --no-deps --no-binary llama-cpp-python llama-cpp-python==0.3.36 -d /tmp/lcpp
    tar xzf /tmp/lcpp/llama_cpp_python-0.3.36.tar.gz -C /tmp/lcpp
Run:
    /tmp/ref/bin/python tests/reference/mistral3_reference.py \
        --converter /tmp/lcpp/llama_cpp_python-0.3.36/vendor/llama.cpp
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VOCAB = 320
POSITIONS = 200  # well beyond the YaRN original context of 16
SEED = 1234


def tiny_tokenizer_json() -> dict:
    """A llama-style (SentencePiece BPE) tokenizer: 3 specials, 256 byte tokens, a few pieces and merges."""
    specials = ["<unk>", "<s>", "</s>"]
    bytes_ = [f"<0x{b:02X}>" for b in range(256)]
    pieces = ["▁", "e", "t", "a", "o", "h", "n", "▁t", "he", "▁the", "in", "er", "an", "▁a", "on", "re"]
    vocab = {tok: i for i, tok in enumerate(specials + bytes_ + pieces)}
    # Fill up to VOCAB with more single letters / pairs so the embedding matrix has VOCAB rows.
    letters = "bcdfgijklmpqrsuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'"
    for ch in letters:
        if len(vocab) >= VOCAB:
            break
        vocab.setdefault(ch, len(vocab))
    i = 0
    while len(vocab) < VOCAB:
        vocab.setdefault(f"▁{letters[i % len(letters)]}{letters[(i * 7) % len(letters)]}", len(vocab))
        i += 1
    merges = ["▁ t", "h e", "▁t he", "i n", "e r", "a n", "▁ a", "o n", "r e"]
    return {
        "version": "1.0",
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
            for i, t in enumerate(specials)
        ],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def build_model(out_dir: Path):
    from transformers import Ministral3Config, Ministral3ForCausalLM, LlamaTokenizerFast

    config = Ministral3Config(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256,
        rms_norm_eps=1e-5, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=None,
        rope_parameters={
            "rope_type": "yarn", "rope_theta": 1e6, "factor": 16.0, "original_max_position_embeddings": 16,
            "max_position_embeddings": 256, "beta_fast": 32.0, "beta_slow": 1.0, "mscale": 1.0,
            "mscale_all_dim": 1.0, "llama_4_scaling_beta": 0.1,
        },
    )
    torch.manual_seed(SEED)
    model = Ministral3ForCausalLM(config).eval()
    # Default init (std 0.02) makes attention nearly uniform and hides RoPE bugs: re-initialise larger.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embed_tokens" in name:
                p.normal_(0.0, 1.0)
            elif "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0.0, 1.5 / math.sqrt(p.shape[-1]))
    model.save_pretrained(out_dir, safe_serialization=True)
    (out_dir / "tokenizer.json").write_text(json.dumps(tiny_tokenizer_json()))
    (out_dir / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "LlamaTokenizerFast", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "add_bos_token": True, "add_eos_token": False, "model_max_length": 256,
    }))
    LlamaTokenizerFast.from_pretrained(out_dir)  # the converter reads it the same way
    return model, config


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--converter", required=True, help="llama.cpp source dir (convert_hf_to_gguf.py, gguf-py)")
    args = ap.parse_args()
    converter = Path(args.converter)

    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "hf"
        hf_dir.mkdir()
        model, config = build_model(hf_dir)
        gguf_path = FIXTURES / "mistral3-tiny.gguf"
        env = dict(os.environ, PYTHONPATH=str(converter / "gguf-py"))
        subprocess.run([sys.executable, str(converter / "convert_hf_to_gguf.py"), str(hf_dir),
                        "--outtype", "f32", "--outfile", str(gguf_path)], check=True, env=env)

    rng = np.random.default_rng(SEED)
    tokens = [1] + rng.integers(3, VOCAB, size=POSITIONS - 1).tolist()
    with torch.no_grad():
        logits = model(torch.tensor([tokens])).logits[0].float().numpy()
    logits.astype("<f4").tofile(FIXTURES / "mistral3-tiny.logits.f32")

    # The same logits from llama.cpp, with an f32 KV cache (its default f16 cache costs ~5e-2).
    from llama_cpp import Llama
    llm = Llama(model_path=str(FIXTURES / "mistral3-tiny.gguf"), n_ctx=256, n_batch=256, logits_all=True,
                type_k=0, type_v=0, verbose=False)
    llm.eval(tokens)
    ref = np.array(llm.scores[:POSITIONS], dtype=np.float32)
    agreement = {
        f"{lo}-{hi - 1}": float(np.abs(ref[lo:hi] - logits[lo:hi]).max())
        for lo, hi in [(0, 16), (16, 32), (32, 64), (64, 128), (128, POSITIONS)]
    }
    print("transformers vs llama.cpp, max |Δlogit| by positions:", agreement)

    meta = {
        "reference": "transformers Ministral3ForCausalLM (f32); GGUF by llama.cpp convert_hf_to_gguf.py (llama-cpp-python 0.3.36 sdist)",
        "tokens": tokens,
        "shape": [POSITIONS, VOCAB],
        "llama_cpp_max_abs_diff": agreement,
        "config": config.to_dict()["rope_parameters"],
    }
    (FIXTURES / "mistral3-tiny.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
