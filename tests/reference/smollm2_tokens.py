#!/usr/bin/env python3
"""Reference token ids for the embedded model, from llama.cpp's own tokenizer (llama-cpp-python).

Not run by CI. Regenerate with:
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install llama-cpp-python==0.3.36
    /tmp/ref/bin/python tests/reference/smollm2_tokens.py models/SmolLM2-135M-Instruct.Q4_1.gguf \
        > tests/fixtures/smollm2_tokens.json
"""
import hashlib
import json
import sys

from llama_cpp import Llama

CASES = [
    "Hello world, how are you?",
    "Hello",
    " Hello",
    "In 2024, 12345 apples cost $3.50 (about 7%).",
    "I'm sure you're right; it's what they'd've said.",
    "  leading spaces,   runs of spaces\n\nand blank lines\n\ttabs ",
    "café naïve façade — “curly quotes” 日本語のテキスト 🙂👍🏽",
    "fn main() { println!(\"{}\", 1 + 2); } // code",
    "The novel's first line: It was a bright cold day in April, and the clocks were striking thirteen.",
]
SPECIAL_CASES = [
    "<|im_start|>user\nWrite a haiku.<|im_end|>\n<|im_start|>assistant\n",
]


def main() -> None:
    path = sys.argv[1]
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    llm = Llama(model_path=path, vocab_only=True, verbose=False)
    cases = [
        {"text": t, "special": False, "ids": llm.tokenize(t.encode(), add_bos=False, special=False)}
        for t in CASES
    ] + [
        {"text": t, "special": True, "ids": llm.tokenize(t.encode(), add_bos=False, special=True)}
        for t in SPECIAL_CASES
    ]
    # One case per line keeps diffs readable.
    print("{")
    print(f' "model_sha256": "{digest}",')
    print(' "tokenizer": "llama.cpp via llama-cpp-python 0.3.36",')
    print(' "cases": [')
    print(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
    print(" ]")
    print("}")


if __name__ == "__main__":
    main()
