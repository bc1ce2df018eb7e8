#!/usr/bin/env python3
"""Builds the OpenVINO IR twin of the tiny random-weight Ministral 3 fixture and transformers' greedy tokens.

The checkpoint is the one `mistral3_reference.py` builds (same seed, same weights), given a chat template,
exported by optimum-intel's own exporter (stateful decoder with `beam_idx`, the layout OpenVINO GenAI's
LLMPipeline and the OpenVINO Hugging Face repositories use) at f32. Nobody in this project wrote the
reference tokens: they are transformers' `generate(do_sample=False)`; OpenVINO GenAI's Python LLMPipeline
cross-checks them on the CPU device. Not run by CI. Writes:

    tests/fixtures/mistral3-tiny-openvino/       the IR directory (openvino_model.xml/.bin, config, tokenizer)
    tests/fixtures/mistral3-tiny-openvino.json   prompts and the greedy tokens transformers and GenAI gave

Set up (≈6 GB, CPU torch; optimum-intel 2.2 pins transformers < 5.6, which lacks Ministral 3, so the newer
transformers goes in over it and only optimum's exporter is imported):
    python3 -m venv /tmp/ovx && /tmp/ovx/bin/pip install torch "optimum-intel[openvino]==2.2.0" \
        openvino==2026.4.1 openvino-tokenizers==2026.4.1.0 openvino-genai==2026.4.1.0 sentencepiece protobuf
    /tmp/ovx/bin/pip install --no-deps transformers==5.23.0 "tokenizers>=0.23.1,<0.24" huggingface-hub==2.4.0
Run:
    /tmp/ovx/bin/python tests/reference/mistral3_openvino.py
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mistral3_reference as ref  # noqa: E402

FIXTURES = ref.FIXTURES
OUT = FIXTURES / "mistral3-tiny-openvino"
# Mistral's own layout, spelled out in text: the tiny vocabulary has no [INST] tokens, so they become bytes.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}[INST] {{ message['content'] }} [/INST]"
    "{% elif message['role'] == 'system' %}[SYSTEM] {{ message['content'] }} [/SYSTEM]"
    "{% else %}{{ message['content'] }}{{ eos_token }}{% endif %}{% endfor %}"
)
RAW_PROMPTS = ["the then there", "Once upon a time", "é😀 bytes"]
CHAT_PROMPTS = ["Write the first line."]
NEW_TOKENS = 24


def tolerate_newer_transformers():
    """optimum-intel's package imports vision-model names that transformers 5.23 renamed; none is used here."""
    import importlib

    for module, names in {
        "transformers.models.qwen2_vl.modeling_qwen2_vl": ["VisionRotaryEmbedding"],
    }.items():
        mod = importlib.import_module(module)
        for name in names:
            if not hasattr(mod, name):
                setattr(mod, name, type(name, (), {}))
    for module, cls, names in [
        ("transformers.models.qwen2_vl.modeling_qwen2_vl", "Qwen2VLModel", ["get_rope_index"]),
        ("transformers.models.qwen2_5_vl.modeling_qwen2_5_vl", "Qwen2_5_VLModel", ["get_rope_index"]),
        ("transformers.models.qwen3_vl.modeling_qwen3_vl", "Qwen3VLModel",
         ["get_placeholder_mask", "get_rope_index", "get_video_features"]),
        ("transformers.models.qwen3_vl.modeling_qwen3_vl", "Qwen3VLVisionModel", ["rot_pos_emb"]),
        ("transformers.models.qwen3_5.modeling_qwen3_5", "Qwen3_5Model", ["get_placeholder_mask", "get_rope_index"]),
        ("transformers.models.qwen3_5.modeling_qwen3_5", "Qwen3_5VisionModel", ["rot_pos_emb"]),
    ]:
        klass = getattr(importlib.import_module(module), cls)
        for name in names:
            if not hasattr(klass, name):
                setattr(klass, name, lambda *a, **k: None)


def register_ministral3():
    """optimum-intel knows `mistral` text models; Ministral 3's decoder exports through the same config."""
    from optimum.exporters.openvino.model_configs import MistralOpenVINOConfig, register_in_tasks_manager

    register_in_tasks_manager("ministral3", "text-generation", "text-generation-with-past", library_name="transformers")(
        type("Ministral3OpenVINOConfig", (MistralOpenVINOConfig,), {})
    )


def main() -> None:
    tolerate_newer_transformers()
    from optimum.exporters.openvino import main_export
    from transformers import AutoTokenizer

    register_ministral3()
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "hf"
        hf_dir.mkdir()
        model, _ = ref.build_model(hf_dir)
        config = json.loads((hf_dir / "tokenizer_config.json").read_text())
        config["chat_template"] = CHAT_TEMPLATE
        (hf_dir / "tokenizer_config.json").write_text(json.dumps(config))
        if OUT.exists():
            shutil.rmtree(OUT)
        main_export(str(hf_dir), OUT, task="text-generation-with-past", library_name="transformers",
                    stateful=True, convert_tokenizer=True)
        tokenizer = AutoTokenizer.from_pretrained(hf_dir)

    cases = []
    for kind, text in [("raw", p) for p in RAW_PROMPTS] + [("chat", p) for p in CHAT_PROMPTS]:
        if kind == "chat":
            ids = tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=True,
                                                add_generation_prompt=True, return_dict=False)
            ids = ids["input_ids"] if isinstance(ids, dict) else list(ids)
        else:
            ids = tokenizer(text)["input_ids"]
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, do_sample=False,
                                 eos_token_id=None, pad_token_id=0, min_new_tokens=NEW_TOKENS)
        new = out[0, len(ids):].tolist()
        cases.append({"kind": kind, "text": text, "prompt_tokens": ids, "greedy_tokens": new,
                      "greedy_text": tokenizer.decode(new)})

    # OpenVINO GenAI's own pipeline on the same directory, as a cross-check of the export.
    import openvino_genai as ov_genai
    pipe = ov_genai.LLMPipeline(str(OUT), "CPU")
    for case in cases:
        cfg = ov_genai.GenerationConfig(max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False)
        cfg.ignore_eos = True
        import openvino as ov
        result = pipe.generate(ov_genai.TokenizedInputs(ov.Tensor([case["prompt_tokens"]]),
                                                        ov.Tensor([[1] * len(case["prompt_tokens"])])), cfg)
        case["genai_tokens"] = list(result.tokens[0])
        case["genai_agrees"] = case["genai_tokens"] == case["greedy_tokens"]
        print(case["kind"], repr(case["text"]), "GenAI agrees with transformers:", case["genai_agrees"])

    meta = {
        "reference": "transformers Ministral3ForCausalLM greedy generate (f32); IR by optimum-intel 2.2.0 main_export "
                     "(stateful); cross-checked by openvino-genai 2026.4.1 LLMPipeline on CPU",
        "new_tokens": NEW_TOKENS,
        "cases": cases,
    }
    (FIXTURES / "mistral3-tiny-openvino.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
