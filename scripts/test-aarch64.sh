#!/usr/bin/env bash
# Runs the engine's kernel tests for aarch64 (NEON and scalar levels against the scalar reference) under
# qemu user-mode emulation, on an x86-64 Debian machine. Not part of `test-all.sh`: cross-building the
# engine's dependencies takes ~12 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
run_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  run_root apt-get update -qq
  run_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
target=aarch64-unknown-linux-gnu
rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
# --nocapture: the tests print the levels they ran ("testing kernels at [Scalar, Neon]").
cargo test --locked -p atelier-engine --test kernels --target "$target" -- --nocapture
