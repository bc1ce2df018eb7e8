#!/usr/bin/env bash
# Installs what Atelier needs on Debian 12 / Ubuntu 22.04+: system libraries (apt), the Rust toolchain and
# Node.js checks, npm packages, the embedded default model; with --test also the test tools
# (Xvfb, WebKitWebDriver, tauri-driver, Chromium, gnome-keyring, epubcheck, python-docx, the OpenVINO
# runtime for the OpenVINO backend's tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true

run_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=(
  build-essential pkg-config curl file libssl-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libxdo-dev
  libsecret-1-dev libdbus-1-dev dbus-x11 gnome-keyring
)
if $with_tests; then
  # epubcheck validates the EPUB export (Debian's package brings its JRE); python-docx reads the DOCX
  # export back in crates/manuscript's tests.
  apt_packages+=(xvfb xauth webkit2gtk-driver chromium imagemagick epubcheck)
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt: installing ${missing[*]}"
  run_root apt-get update -qq
  run_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if $with_tests && ! python3 -c 'import docx' >/dev/null 2>&1; then
  echo "==> pip: python-docx"
  # An externally managed Python (Debian 12+) refuses a plain install; the flag is for that case only.
  python3 -m pip install --quiet python-docx 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages python-docx
fi

if $with_tests && ! ls "$root"/.openvino/openvino/libs/libopenvino_c.so* >/dev/null 2>&1; then
  # The OpenVINO backend's tests run on OpenVINO's CPU device, with the runtime libraries of PyPI's wheel
  # (only its libs/ are used; nothing is imported into Python).
  echo "==> pip: the OpenVINO runtime into .openvino/"
  python3 -m pip install --quiet --no-deps --upgrade --target "$root/.openvino" openvino==2026.4.1 2>/dev/null ||
    python3 -m pip install --quiet --no-deps --upgrade --break-system-packages --target "$root/.openvino" openvino==2026.4.1
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || {
    echo "==> installing Rust (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  }
  export PATH="$HOME/.cargo/bin:$PATH"
fi

node_ok() { command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)'; }
if ! node_ok; then
  echo "Atelier's UI build needs Node.js 20.19 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "Install it from https://nodejs.org or your distribution, then run this again." >&2
  exit 1
fi

echo "==> npm: UI packages"
npm ci --prefix "$root/ui" --no-audit --no-fund --loglevel=error
if $with_tests; then
  echo "==> npm: app test packages"
  npm ci --prefix "$root/tests/app" --no-audit --no-fund --loglevel=error
  if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "==> cargo: tauri-driver"
    cargo install tauri-driver --version '^2' --locked --quiet
  fi
fi

echo "==> the embedded default model"
"$root/scripts/fetch-default-model.sh"
