#!/usr/bin/env bash
# Installs Atelier's .deb on a clean Debian 12 (a debootstrap chroot) and checks that the app starts
# and opens its window under Xvfb. Needs root and the Debian mirror; not part of every CI run (it
# needs a release bundle, ~30 min to build on 2 cores): run it after scripts/bundle.sh deb.
# Usage: sudo scripts/test-deb.sh [path/to/atelier.deb] [chroot dir]
set -euo pipefail
cd "$(dirname "$0")/.."
deb="${1:-$(ls -t target/release/bundle/deb/*.deb | head -1)}"
root="${2:-/tmp/atelier-deb-root}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

[ -d "$root/usr" ] || debootstrap --variant=minbase bookworm "$root" "$mirror"
mounted=()
cleanup() { for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done; }
trap cleanup EXIT
for m in proc sys dev dev/pts; do
  mountpoint -q "$root/$m" || { mount --bind "/$m" "$root/$m"; mounted+=("$root/$m"); }
done

cp "$deb" "$root/tmp/atelier.deb"
# What the test itself needs in the chroot (an X server and a window lister), not the app.
chroot "$root" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb x11-utils > /dev/null'
# The package's own dependencies come from its control file, as on a user's machine.
chroot "$root" /bin/sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/atelier.deb > /dev/null'
chroot "$root" dpkg -L atelier | grep -E 'bin/atelier-app$|SmolLM2.*gguf$|\.desktop$'

# Launch on a fresh display and wait for a window titled "Atelier".
chroot "$root" /bin/bash -c '
  export HOME=/root XDG_RUNTIME_DIR=/tmp/xdg && mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  Xvfb :77 -screen 0 1280x800x24 -nolisten tcp & xvfb=$!
  sleep 1
  DISPLAY=:77 atelier-app > /tmp/atelier-app.log 2>&1 & app=$!
  for _ in $(seq 1 60); do
    if DISPLAY=:77 xwininfo -root -tree | grep -q "\"Atelier\""; then
      echo "the Atelier window is up ($(DISPLAY=:77 xwininfo -root -tree | grep "\"Atelier\"" | head -1 | sed "s/^ *//"))"
      sleep 5
      kill -0 $app && echo "and still running after 5 s"
      # The embedded model comes with the package: the app loads it from its resources.
      grep -m1 "model ready" /tmp/atelier-app.log || { echo "the bundled model did not load:"; cat /tmp/atelier-app.log; kill $app $xvfb; exit 1; }
      kill $app $xvfb; exit 0
    fi
    sleep 1
  done
  echo "no Atelier window after 60 s; the app said:"; cat /tmp/atelier-app.log; kill $app $xvfb; exit 1'
