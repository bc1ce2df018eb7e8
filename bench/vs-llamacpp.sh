#!/usr/bin/env bash
# Atelier vs llama.cpp on the same GGUF with the same thread count: prompt processing (pp512) and decode
# (tg128) speed as ratios Atelier / llama.cpp, plus Atelier's time to first token and peak RSS.
#
#   bench/vs-llamacpp.sh [MODEL.gguf] [THREADS]
#
# DEPTH=4096 measures both with that many tokens already in the context (llama-bench -d, atelier bench
# --depth). Each side keeps its own default key/value cache (Atelier f32, llama.cpp f16); KV_CACHE=f16
# stores Atelier's in f16 too, like for like (llama-bench has no f32 cache type).
#
# Without a model it runs three files: the embedded SmolLM2 (Q4_1), and the same model re-quantised by
# llama.cpp's own quantiser to Q4_K_M, the mix a real Q4_K_M download has (SmolLM2's 576-wide rows are
# no multiple of 256, so most of its tensors become Q5_0, then Q8_0, Q6_K and Q4_K), and to Q8_0
# (REQUANTISE="Q4_K_M" picks which).
#
# llama.cpp comes from a registry: the llama-cpp-python sdist on PyPI vendors it; we build its llama-bench
# with cmake from PyPI (once, ~6 min on 2 cores) under target/llamacpp. GGML_NATIVE builds it for this very
# CPU, the strongest baseline; Atelier's shipped binary instead picks its kernels at run time.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
embedded=$root/models/SmolLM2-135M-Instruct.Q4_1.gguf
model=${1:-$embedded}
threads=${2:-$(nproc)}
prompt=${PROMPT_TOKENS:-512}
gen=${GEN_TOKENS:-128}
reps=${REPETITIONS:-5}
depth=${DEPTH:-0}
kv=${KV_CACHE:-f32}
case $kv in
  f32) llama_kv=() ;;
  *) llama_kv=(-ctk "$kv" -ctv "$kv") ;;
esac
work=${LLAMACPP_DIR:-$root/target/llamacpp}
version=0.3.36

[ -f "$model" ] || { echo "no such model: $model" >&2; exit 1; }
bench_bin="$work/build/bin/llama-bench"
quantize_bin="$work/build/bin/llama-quantize"
if [ ! -x "$bench_bin" ] || [ ! -x "$quantize_bin" ]; then
  echo "==> building llama.cpp's llama-bench (llama-cpp-python $version sdist from PyPI) in $work" >&2
  mkdir -p "$work"
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet cmake
  "$work/venv/bin/pip" download --quiet --no-deps --no-binary llama-cpp-python "llama-cpp-python==$version" -d "$work"
  tar xzf "$work/llama_cpp_python-$version.tar.gz" -C "$work"
  src="$work/llama_cpp_python-$version/vendor/llama.cpp"
  "$work/venv/bin/cmake" -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >&2
  "$work/venv/bin/cmake" --build "$work/build" --target llama-bench llama-quantize -j "$(nproc)" >&2
fi

echo "==> building atelier (release)" >&2
(cd "$root" && cargo build --release --quiet -p atelier-cli)

compare() {
local model=$1
out=$(mktemp -d)
# The two run alternately, one repetition at a time, and each side's best run counts: a shared VM's speed
# drifts by tens of percent over minutes, and back-to-back blocks of runs would compare different machines.
for i in $(seq "$reps"); do
  echo "==> round $i of $reps: llama.cpp, then atelier (pp$prompt / tg$gen at depth $depth, $threads threads)" >&2
  "$bench_bin" -m "$model" -p "$prompt" -n "$gen" -d "$depth" "${llama_kv[@]}" -t "$threads" -r 1 -o json > "$out/llamacpp-$i.json"
  "$root/target/release/atelier" bench --model "$model" --threads "$threads" --prompt-tokens "$prompt" \
    --gen-tokens "$gen" --depth "$depth" --kv-cache "$kv" --repetitions 1 --json > "$out/atelier-$i.json"
done

python3 - "$out" "$reps" "$threads" <<'PY'
import json, platform, sys
out, reps, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
refs = [json.load(open(f"{out}/llamacpp-{i}.json")) for i in range(1, reps + 1)]
runs = [json.load(open(f"{out}/atelier-{i}.json")) for i in range(1, reps + 1)]
ref_pp = [next(r for r in ref if r["n_prompt"] > 0 and r["n_gen"] == 0) for ref in refs]
ref_tg = [next(r for r in ref if r["n_gen"] > 0 and r["n_prompt"] == 0) for ref in refs]
best = lambda xs: max(xs)
mean = lambda xs: sum(xs) / len(xs)
pp_ref, tg_ref = [r["avg_ts"] for r in ref_pp], [r["avg_ts"] for r in ref_tg]
pp_ours = [r["prompt"]["mean_tokens_per_second"] for r in runs]
tg_ours = [r["decode"]["mean_tokens_per_second"] for r in runs]
ours = max(runs, key=lambda r: r["prompt"]["mean_tokens_per_second"])
pp_ratio, tg_ratio = best(pp_ours) / best(pp_ref), best(tg_ours) / best(tg_ref)
rss_ratio = max(r["rss_ratio"] for r in runs)
peak_rss = max(r["peak_rss_mib"] for r in runs)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"model    {ours['model']} ({ours['architecture']}, {ours['quantization']})")
print(f"cpu      {cpu}, {threads} threads; atelier kernels: {ours['device']}")
print(f"context  depth {ours['depth']} (llama.cpp n_depth {ref_pp[0].get('n_depth', 0)}); key/value cache: "
      f"atelier {ours['kv_cache']}, llama.cpp {ref_pp[0].get('type_k', 'f16')}")
print(f"best of {reps} alternating runs (mean in brackets)")
print(f"{'':8} {'llama.cpp':>22} {'atelier':>22} {'ratio':>14}  target")
for name, n, ref, us, ratio, target in [
    ("pp", ref_pp[0]["n_prompt"], pp_ref, pp_ours, pp_ratio, ">= 0.80"),
    ("tg", ref_tg[0]["n_gen"], tg_ref, tg_ours, tg_ratio, ">= 1.00"),
]:
    print(f"{name + str(n):8} {best(ref):>10.1f}/s ({mean(ref):>7.1f}) {best(us):>10.1f}/s ({mean(us):>7.1f}) "
          f"{ratio:>6.2f} ({mean(us) / mean(ref):>5.2f})  {target}")
print(f"time to first token ({ref_pp[0]['n_prompt']} tokens{' after ' + str(ours['depth']) + ' in the context' if ours['depth'] else ''}): {min(r['time_to_first_token_ms'] for r in runs):.0f} ms")
print(f"peak RSS {peak_rss:.0f} MiB = {rss_ratio:.2f} x (GGUF {ours['file_mib']:.0f} MiB + KV {ours['kv_cache_mib']:.0f} MiB)  target <= 1.20")
print(json.dumps({"depth": ours["depth"], "kv_cache": ours["kv_cache"], "pp_ratio": round(pp_ratio, 3), "tg_ratio": round(tg_ratio, 3), "rss_ratio": round(rss_ratio, 3)}))
PY
rm -rf "$out"
}

compare "$model"
if [ $# -eq 0 ]; then
  # The file types of the catalog's downloads: Q4_K_M (a mix) and Q8_0.
  for type in ${REQUANTISE:-Q4_K_M Q8_0}; do
    requantised=$work/SmolLM2-135M-Instruct.$type.gguf
    if [ ! -f "$requantised" ]; then
      echo "==> re-quantising the embedded model to $type with llama.cpp's quantiser" >&2
      "$quantize_bin" --allow-requantize "$embedded" "$requantised" "$type" >&2
    fi
    echo
    compare "$requantised"
  done
fi
