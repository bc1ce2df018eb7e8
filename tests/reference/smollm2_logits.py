#!/usr/bin/env python3
"""Reference logits of the embedded model (SmolLM2-135M-Instruct Q4_1), from two implementations:

- llama.cpp (f32 KV cache): quantised weights with 8-bit quantised activations, as it runs the model;
- transformers, which dequantises the GGUF to f32 weights: the exact architecture reference.

For each position of a fixed prompt it keeps llama.cpp's top 32 token ids and 16 fixed other ids (the full
49152-wide rows would make a 9 MB fixture). Not run by CI; needs torch, transformers, accelerate, gguf,
llama-cpp-python==0.3.36:
    /tmp/ref/bin/python tests/reference/smollm2_logits.py models/SmolLM2-135M-Instruct.Q4_1.gguf \
        > tests/fixtures/smollm2_logits.json
"""
import hashlib
import json
import sys

import os

import numpy as np
import torch
from llama_cpp import Llama
from transformers import AutoModelForCausalLM

PROMPT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
          "<|im_start|>user\nWrite the opening line of a novel set in a lighthouse.<|im_end|>\n"
          "<|im_start|>assistant\nThe keeper of the Wolf Rock light had not spoken to anyone in eleven days")


def main() -> None:
    path = sys.argv[1]
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    llm = Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=2, logits_all=True, type_k=0, type_v=0,
                verbose=False)
    tokens = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)], dtype=np.float32)
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(path)), gguf_file=os.path.basename(path),
                                                 torch_dtype=torch.float32).eval()
    with torch.no_grad():
        exact = model(torch.tensor([tokens])).logits[0].float().numpy()
    rng = np.random.default_rng(7)
    fixed = rng.choice(scores.shape[1], size=16, replace=False).tolist()
    positions = []
    for p in range(len(tokens)):
        top = np.argsort(-scores[p])[:32].tolist()
        ids = top + [i for i in fixed if i not in top]
        positions.append({"ids": ids, "llama_cpp": [round(float(scores[p, i]), 5) for i in ids],
                          "transformers_f32": [round(float(exact[p, i]), 5) for i in ids]})
    json.dump({"model_sha256": digest, "reference": "llama.cpp (llama-cpp-python 0.3.36, f32 KV cache); transformers 5.24 on dequantised f32 weights",
               "tokens": tokens, "positions": positions}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
