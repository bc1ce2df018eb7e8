#!/usr/bin/env bash
# The OpenVINO backend beside Atelier's own engine on the same model and threads: prompt processing and
# decode speed of an OpenVINO folder (`atelier bench --backend openvino --device DEVICE`) and of the GGUF
# it was made from (Atelier's CPU kernels), as ratios OpenVINO / Atelier.
#
#   bench/vs-openvino.sh MODEL.gguf OPENVINO_FOLDER [THREADS] [DEVICE]
#
# The folder comes from scripts/export-openvino.sh (same weights, re-quantised by NNCF, so the two files
# are the same model at different 4-bit formats). DEVICE is cpu (default), gpu or npu: with an NPU this is
# the ready command for its figures. The runtime is ATELIER_OPENVINO_DIR (install-deps --test puts PyPI's
# wheel in .openvino/). ATELIER_OPENVINO_CPU_PRECISION=bf16 measures the CPU device at bf16 instead of f32.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 2 ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
gguf=$1
folder=$2
threads=${3:-$(nproc)}
device=${4:-cpu}
prompt=${PROMPT_TOKENS:-512}
gen=${GEN_TOKENS:-128}
reps=${REPETITIONS:-3}
export ATELIER_OPENVINO_DIR=${ATELIER_OPENVINO_DIR:-$root/.openvino/openvino/libs}

echo "==> building atelier with the OpenVINO backend (release)" >&2
(cd "$root" && cargo build --release --quiet --locked -p atelier-cli --features openvino)
bench() { "$root/target/release/atelier" bench --threads "$threads" --prompt-tokens "$prompt" --gen-tokens "$gen" --repetitions 1 --json "$@"; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Alternating one run at a time, each side's best run counting: a shared machine's speed drifts.
for i in $(seq "$reps"); do
  echo "==> round $i of $reps: atelier on the GGUF, then OpenVINO $device on the folder (pp$prompt / tg$gen, $threads threads)" >&2
  bench --model "$gguf" --device cpu > "$out/atelier-$i.json"
  bench --model "$folder" --backend openvino --device "$device" > "$out/openvino-$i.json"
done

python3 - "$out" "$reps" "$threads" "$device" <<'PY'
import json, sys
out, reps, threads, device = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
load = lambda side: [json.load(open(f"{out}/{side}-{i}.json")) for i in range(1, reps + 1)]
ours, theirs = load("atelier"), load("openvino")
best = lambda runs, what: max(r[what]["mean_tokens_per_second"] for r in runs)
pp = best(theirs, "prompt") / best(ours, "prompt")
tg = best(theirs, "decode") / best(ours, "decode")
a, o = ours[0], theirs[0]
print(f"{a['model']}: Atelier {a['quantization']} on {a['device']} vs {o['quantization']} on {o['device']}")
print(f"  prompt  Atelier {best(ours, 'prompt'):8.1f} tok/s   OpenVINO {best(theirs, 'prompt'):8.1f} tok/s   ratio {pp:.2f}")
print(f"  decode  Atelier {best(ours, 'decode'):8.1f} tok/s   OpenVINO {best(theirs, 'decode'):8.1f} tok/s   ratio {tg:.2f}")
print(f"  peak RSS Atelier {max(r['peak_rss_mib'] for r in ours):.0f} MiB   OpenVINO {max(r['peak_rss_mib'] for r in theirs):.0f} MiB")
print(f"  load    Atelier {min(r['load_ms'] for r in ours):.0f} ms   OpenVINO {min(r['load_ms'] for r in theirs):.0f} ms")
print(json.dumps({"device": device, "threads": int(threads), "pp_ratio": round(pp, 3), "tg_ratio": round(tg, 3)}))
PY
