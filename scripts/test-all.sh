#!/usr/bin/env bash
# Installs the test dependencies and runs every test: Rust (unit + integration), UI unit (Vitest),
# UI pages (Playwright in Chromium), and the real app end to end (tauri-driver under Xvfb).
# Runs every suite even when one fails, prints each runner's summary, exits non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never NO_COLOR=1 FORCE_COLOR=0

scripts/install-deps.sh --test || { echo "dependency installation failed" >&2; exit 1; }

# The OpenVINO backend is built and tested too (one feature set for every step), on the runtime that
# install-deps put in .openvino/; its tests fail rather than skip when that runtime cannot be opened.
features=(--features atelier-engine/openvino)
export ATELIER_OPENVINO_DIR="$root/.openvino/openvino/libs" ATELIER_OPENVINO_REQUIRED=1

failed=()
results=()
step() {
  local name=$1
  shift
  echo
  echo "==> $name"
  local started=$SECONDS
  if "$@"; then
    results+=("ok      $name ($((SECONDS - started)) s)")
  else
    results+=("FAILED  $name ($((SECONDS - started)) s)")
    failed+=("$name")
  fi
}

# tauri::generate_context! embeds ui/dist, so the UI is built before any Rust build of the app.
step "UI build" npm --prefix ui run build
step "UI type check (svelte-check)" npm --prefix ui run check
# One build of every target (tests included) with one feature set, so the test run and the app binary
# for the end-to-end tests reuse it instead of compiling the dependency tree twice.
step "Rust build (all targets)" cargo build --workspace --all-targets --locked "${features[@]}"
# Under a private D-Bus session with gnome-keyring, so the keychain tests use the real Secret Service.
# The fuzz targets (fuzz/, bolero) run in the same invocation, so they share the build's feature set
# (`cargo test -p atelier-fuzz` alone would rebuild dependencies with other features): each replays the
# committed corpus and crash inputs, then random inputs for ATELIER_FUZZ_SECONDS (about 2 minutes in all).
step "Rust tests and fuzz targets (cargo test --workspace, fuzz ${ATELIER_FUZZ_SECONDS:-30} s each)" \
  env ATELIER_FUZZ_SECONDS="${ATELIER_FUZZ_SECONDS:-30}" scripts/with-keyring.sh cargo test --workspace --locked "${features[@]}"
step "UI unit tests (Vitest)" npm --prefix ui test
step "UI page tests (Playwright, Chromium)" npm --prefix ui run test:e2e
step "App end-to-end tests (tauri-driver, WebKitWebDriver, Xvfb)" npm --prefix tests/app test

echo
echo "==> Summary"
printf '  %s\n' "${results[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "${#failed[@]} suite(s) failed: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
