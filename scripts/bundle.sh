#!/usr/bin/env bash
# Builds Atelier's installable packages (default: the .deb) with the embedded model inside them, and
# prints their sizes. Usage: scripts/bundle.sh [deb|appimage|deb,appimage] [--debug]
# The embedded model is added by src-tauri/tauri.bundle.json, merged only here, so a plain build does
# not need it. AppImage needs linuxdeploy, which tauri downloads from GitHub: without the internet only
# the .deb can be built.
set -euo pipefail
cd "$(dirname "$0")/.."
bundles="${1:-deb}"
shift || true
[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] || bash scripts/fetch-default-model.sh
npm --prefix ui run tauri build -- --bundles "$bundles" --config ../src-tauri/tauri.bundle.json --ci "$@"
profile=release
for arg in "$@"; do [ "$arg" = "--debug" ] && profile=debug; done
find "target/$profile/bundle" -maxdepth 2 -type f \( -name '*.deb' -o -name '*.AppImage' \) -printf '%s\t%p\n' \
  | awk -F'\t' '{ printf "%s  %.1f MB\n", $2, $1 / 1e6 }'
