#!/usr/bin/env python3
"""Expected renderings of chat templates, from transformers' own renderer (what apply_chat_template uses).

The Mistral templates are the ones llama.cpp ships for its tests (models/templates in the llama-cpp-python
0.3.36 sdist); smollm2.jinja is the embedded model's. Not run by CI:
    /tmp/ref/bin/python tests/reference/chat_templates.py > tests/fixtures/chat_templates/expected.json
"""
import json
import sys
from pathlib import Path

from transformers.utils.chat_template_utils import render_jinja_template

DIR = Path(__file__).resolve().parents[1] / "fixtures" / "chat_templates"
TOKENS = {
    "ministral-3-reasoning-2512.jinja": ("<s>", "</s>"),
    "mistral-small-3.2.jinja": ("<s>", "</s>"),
    "mistral-nemo-2407.jinja": ("<s>", "</s>"),
    "smollm2.jinja": ("<|im_start|>", "<|im_end|>"),
}
CONVERSATIONS = {
    "system_and_user": [
        {"role": "system", "content": "You are a careful editor of literary fiction."},
        {"role": "user", "content": "Tighten this sentence: \"It was, in a way, sort of a dark night.\""},
    ],
    "multi_turn": [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Name a poet."},
        {"role": "assistant", "content": "Wisława Szymborska."},
        {"role": "user", "content": "And a novelist? Use “quotes” and émojis 🙂 if you like."},
    ],
    "roles_out_of_order": [
        {"role": "system", "content": "x"},
        {"role": "user", "content": "first"},
        {"role": "user", "content": "second"},
    ],
}


def main() -> None:
    cases = []
    for template_file, (bos, eos) in TOKENS.items():
        template = (DIR / template_file).read_text()
        for name, messages in CONVERSATIONS.items():
            case = {"template": template_file, "conversation": name, "messages": messages, "bos": bos, "eos": eos}
            try:
                rendered, _ = render_jinja_template(conversations=[messages], chat_template=template,
                                                    add_generation_prompt=True, bos_token=bos, eos_token=eos)
                case["expected"] = rendered[0]
            except Exception as e:  # the template refused the conversation
                case["error"] = str(e)
            cases.append(case)
    json.dump({"renderer": "transformers 5.24 render_jinja_template", "cases": cases}, sys.stdout,
              ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
