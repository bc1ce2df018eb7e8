#!/usr/bin/env bash
# Converts a Hugging Face checkpoint (a hub id or a local folder) or a GGUF file into an OpenVINO model
# folder for Atelier's OpenVINO backend (Intel NPU and GPU, and OpenVINO's CPU device), with INT4 weights
# by default, using optimum-intel's own exporter. Not run by the test command.
#
#   scripts/export-openvino.sh mistralai/Mistral-7B-Instruct-v0.3 ~/models/mistral-7b-int4-ov
#   scripts/export-openvino.sh models/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smollm2-ov --group-size 64
#
# Any further arguments go to `optimum-cli export openvino` (e.g. --weight-format int8|fp16, --ratio 0.8,
# --sym, or --group-size 64 where a layer's width is not a multiple of 128, as SmolLM2's 576 is). A GGUF
# file is first turned back into a transformers checkpoint by transformers itself (its weights
# dequantised), so the IR holds the same model the GGUF did, re-quantised by OpenVINO's NNCF. The
# exporter lives in its own virtual environment (a few GB: torch, optimum-intel), ATELIER_EXPORT_VENV,
# made on first use (PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu makes it smaller). A hub id
# needs the internet (and, for gated models, `huggingface-cli login` first); the folder is used offline.
set -euo pipefail
if [ $# -lt 2 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
source_model=$1
out=$2
shift 2
venv=${ATELIER_EXPORT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/atelier/openvino-export}
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/optimum-cli" ]; then
  echo "==> making the exporter's environment in $venv (once)"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet torch "optimum-intel[openvino]==2.2.0" openvino==2026.4.1 openvino-tokenizers==2026.4.1.0 \
    nncf sentencepiece protobuf gguf accelerate
fi

weight_format=()
case " $* " in
  *" --weight-format "*) ;;
  *) weight_format=(--weight-format int4) ;;
esac

checkpoint=$source_model
cleanup=""
if [ -f "$source_model" ] && [[ "$source_model" == *.gguf ]]; then
  checkpoint=$(mktemp -d)
  cleanup=$checkpoint
  trap 'rm -rf "$cleanup"' EXIT
  echo "==> reading $source_model into a transformers checkpoint"
  "$venv/bin/python" - "$source_model" "$checkpoint" <<'PY'
import sys
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer

gguf = Path(sys.argv[1]).resolve()
out = sys.argv[2]
tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
model.save_pretrained(out)
tokenizer.save_pretrained(out)
PY
fi

echo "==> exporting to $out ${weight_format[*]} $*"
"$venv/bin/optimum-cli" export openvino --model "$checkpoint" --task text-generation-with-past \
  "${weight_format[@]}" "$@" "$out"
test -f "$out/openvino_model.xml" || { echo "the exporter wrote no openvino_model.xml in $out" >&2; exit 1; }
echo "==> done: $out (load it with: atelier bench --model \"$out\" --device cpu|gpu|npu)"
