#!/usr/bin/env python3
"""Reference token ids for the two GGUF tokenizer kinds, from llama.cpp's own tokenizer.

- SentencePiece (`tokenizer.ggml.model = llama`): tests/fixtures/mistral3-tiny.gguf (made by
  mistral3_reference.py from a llama-style tokenizer.json).
- Tekken (`gpt2` with `tokenizer.ggml.pre = tekken`, Mistral's tiktoken-style vocabulary): a small byte-level
  BPE trained here with Hugging Face tokenizers using Tekken's split regex, written as
  tests/fixtures/tekken-tiny.gguf (vocabulary only).

Not run by CI. Needs gguf, tokenizers, llama-cpp-python==0.3.36:
    /tmp/ref/bin/python tests/reference/tokenizer_fixtures.py > tests/fixtures/tokenizer_kinds.json
"""
import json
import sys
from pathlib import Path

import gguf
from llama_cpp import Llama
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEKKEN_REGEX = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
                r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]"]
CORPUS = """The lighthouse keeper climbed the stairs at dusk. She counted 117 steps, as she had every night since 1998.
HTML and JSONParser are CamelCase words; so is McAllister. Don't split contractions badly: it's, we're, they'll.
Éloïse wrote «Les Misérables» notes in the margin — naïve, café, façade. 東京 and Zürich, 3.14159 and 2,718.
Paths like /usr/local/bin and C:\\Users\\writer, emails like ada@example.com, and code: fn main() { x += 1; }
""" * 8
CASES = [
    "The lighthouse keeper climbed 117 steps.",
    "JSONParser and McAllister met in Zürich at 9:45.",
    "  indented\n\n\ttabbed and   spaced ",
    "naïve café — «quoted» 東京 🙂",
    "it's, we're, they'll",
    "/usr/local/bin\r\nC:\\Users",
]
SPM_CASES = ["the cat sat on the mat", "  two leading spaces", "Ünïcode ☃ 日本", "line\nbreak", "the", "a"]


def build_tekken(path: Path) -> None:
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(TEKKEN_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([CORPUS], trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    types = [3 if t in SPECIALS else 1 for t in tokens]

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tekken-tiny")
    w.add_context_length(256)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("tekken")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(tokens.index("<s>"))
    w.add_eos_token_id(tokens.index("</s>"))
    w.add_unk_token_id(tokens.index("<unk>"))
    w.add_add_bos_token(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tok


def reference_ids(path: Path, cases: list[str], special_cases: list[str]) -> list[dict]:
    llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    return ([{"text": t, "special": False, "ids": llm.tokenize(t.encode(), add_bos=False, special=False)} for t in cases]
            + [{"text": t, "special": True, "ids": llm.tokenize(t.encode(), add_bos=False, special=True)} for t in special_cases])


def main() -> None:
    tekken_path = FIXTURES / "tekken-tiny.gguf"
    hf = build_tekken(tekken_path)
    tekken = reference_ids(tekken_path, CASES, ["[INST]Hello[/INST]"])
    agree = all(hf.encode(c["text"]).ids == c["ids"] for c in tekken if not c["special"])
    print(f"Hugging Face tokenizers agrees with llama.cpp on Tekken: {agree}", file=sys.stderr)
    spm = reference_ids(FIXTURES / "mistral3-tiny.gguf", SPM_CASES, ["<s>the</s>"])
    out = {"tokenizer": "llama.cpp via llama-cpp-python 0.3.36",
           "tekken": {"file": "tekken-tiny.gguf", "cases": tekken},
           "sentencepiece": {"file": "mistral3-tiny.gguf", "cases": spm}}
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
