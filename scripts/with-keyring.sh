#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring (the Secret Service) and a
# throw-away HOME, so tests use a real OS keychain without ever touching the user's own.
set -euo pipefail
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export HOME=$keyring_home ATELIER_REQUIRE_KEYRING=1
exec dbus-run-session -- bash -c 'echo -n atelier-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"' bash "$@"
