#!/usr/bin/env bash
# Installs everything Atelier needs, builds it (release) and opens the app on the embedded model.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

scripts/install-deps.sh
echo "==> building the UI and the app (release; the first build takes several minutes)"
npm --prefix ui run build
cargo build --release --locked -p atelier-app -p atelier-cli
cat <<MSG

Atelier is built. The command-line twin runs on the same model:
  target/release/atelier generate "Write the first line of a mystery novel."
  target/release/atelier generate --help

Opening the app…
MSG
exec target/release/atelier-app "$@"
