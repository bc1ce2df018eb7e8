#!/usr/bin/env bash
# Atelier vs llama.cpp on the same GGUF with the same thread count: prompt processing (pp512) and decode
# (tg128) speed as ratios Atelier / llama.cpp, plus Atelier's time to first token and peak RSS.
#
#   bench/vs-llamacpp.sh [MODEL.gguf] [THREADS]
#
# llama.cpp comes from a registry: the llama-cpp-python sdist on PyPI vendors it; we build its llama-bench
# with cmake from PyPI (once, ~6 min on 2 cores) under target/llamacpp. GGML_NATIVE builds it for this very
# CPU, the strongest baseline; Atelier's shipped binary instead picks its kernels at run time.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=${1:-$root/models/SmolLM2-135M-Instruct.Q4_1.gguf}
threads=${2:-$(nproc)}
prompt=${PROMPT_TOKENS:-512}
gen=${GEN_TOKENS:-128}
reps=${REPETITIONS:-3}
work=${LLAMACPP_DIR:-$root/target/llamacpp}
version=0.3.36

[ -f "$model" ] || { echo "no such model: $model" >&2; exit 1; }
bench_bin="$work/build/bin/llama-bench"
if [ ! -x "$bench_bin" ]; then
  echo "==> building llama.cpp's llama-bench (llama-cpp-python $version sdist from PyPI) in $work" >&2
  mkdir -p "$work"
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet cmake
  "$work/venv/bin/pip" download --quiet --no-deps --no-binary llama-cpp-python "llama-cpp-python==$version" -d "$work"
  tar xzf "$work/llama_cpp_python-$version.tar.gz" -C "$work"
  src="$work/llama_cpp_python-$version/vendor/llama.cpp"
  "$work/venv/bin/cmake" -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >&2
  "$work/venv/bin/cmake" --build "$work/build" --target llama-bench -j "$(nproc)" >&2
fi

echo "==> building atelier (release)" >&2
(cd "$root" && cargo build --release --quiet -p atelier-cli)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "==> llama.cpp: pp$prompt / tg$gen, $threads threads, $reps repetitions" >&2
"$bench_bin" -m "$model" -p "$prompt" -n "$gen" -t "$threads" -r "$reps" -o json > "$out/llamacpp.json"
echo "==> atelier: pp$prompt / tg$gen, $threads threads, $reps repetitions" >&2
"$root/target/release/atelier" bench --model "$model" --threads "$threads" --prompt-tokens "$prompt" \
  --gen-tokens "$gen" --repetitions "$reps" --json > "$out/atelier.json"

python3 - "$out/llamacpp.json" "$out/atelier.json" "$threads" <<'PY'
import json, platform, sys
ref = json.load(open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
threads = sys.argv[3]
pp = next(r for r in ref if r["n_prompt"] > 0 and r["n_gen"] == 0)
tg = next(r for r in ref if r["n_gen"] > 0 and r["n_prompt"] == 0)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
pp_ratio = ours["prompt"]["mean_tokens_per_second"] / pp["avg_ts"]
tg_ratio = ours["decode"]["mean_tokens_per_second"] / tg["avg_ts"]
print(f"model    {ours['model']} ({ours['architecture']}, {ours['quantization']})")
print(f"cpu      {cpu}, {threads} threads; atelier kernels: {ours['device']}")
print(f"{'':8} {'llama.cpp':>12} {'atelier':>12} {'ratio':>8}  target")
print(f"{'pp'+str(pp['n_prompt']):8} {pp['avg_ts']:>10.1f}/s {ours['prompt']['mean_tokens_per_second']:>10.1f}/s {pp_ratio:>8.2f}  >= 0.80")
print(f"{'tg'+str(tg['n_gen']):8} {tg['avg_ts']:>10.1f}/s {ours['decode']['mean_tokens_per_second']:>10.1f}/s {tg_ratio:>8.2f}  >= 1.00")
print(f"time to first token ({pp['n_prompt']} tokens): {ours['time_to_first_token_ms']:.0f} ms")
print(f"peak RSS {ours['peak_rss_mib']:.0f} MiB = {ours['rss_ratio']:.2f} x (GGUF {ours['gguf_mib']:.0f} MiB + KV {ours['kv_cache_mib']:.0f} MiB)  target <= 1.20")
print(json.dumps({"pp_ratio": round(pp_ratio, 3), "tg_ratio": round(tg_ratio, 3), "rss_ratio": round(ours["rss_ratio"], 3)}))
PY
