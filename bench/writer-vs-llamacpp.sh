#!/usr/bin/env bash
# The writer scenario side by side: Continue, Rewrite of the last paragraph, then a chat question on one
# long scene, timed to the first token in Atelier and in llama.cpp on the same GGUF, the same threads and
# exactly the same prompt tokens (Atelier writes them; llama.cpp replays them).
#
#   bench/writer-vs-llamacpp.sh [MODEL.gguf] [THREADS] [SCENE_TOKENS]
#
# llama.cpp runs through llama-cpp-python (its own build of the vendored llama.cpp, GGML_NATIVE, from the
# PyPI sdist; ~8 min on 2 cores the first time, under target/llamacpp). Its `generate` reuses the longest
# prefix of the previous request's tokens (one cache, as llama.cpp's server slot): the fair reference for
# a runtime that keeps one context.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=${1:-$root/models/SmolLM2-135M-Instruct.Q4_1.gguf}
threads=${2:-$(nproc)}
scene=${3:-4096}
gen=${GEN_TOKENS:-32}
work=${LLAMACPP_DIR:-$root/target/llamacpp}
version=0.3.36

[ -f "$model" ] || { echo "no such model: $model" >&2; exit 1; }
py="$work/venv-python/bin/python"
if ! "$py" -c "import llama_cpp" 2>/dev/null; then
  echo "==> building llama-cpp-python $version (vendored llama.cpp, GGML_NATIVE) in $work" >&2
  mkdir -p "$work"
  python3 -m venv "$work/venv-python"
  CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$work/venv-python/bin/pip" install --quiet --no-binary llama-cpp-python "llama-cpp-python==$version"
fi

echo "==> building atelier (release)" >&2
(cd "$root" && cargo build --release --quiet -p atelier-cli)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "==> atelier: writer scenario ($scene-token prompts, $threads threads)" >&2
"$root/target/release/atelier" bench --scenario writer --model "$model" --threads "$threads" --scene-tokens "$scene" \
  --gen-tokens "$gen" --tokens-out "$out/tokens.json" --json > "$out/atelier.json"

echo "==> llama.cpp: the same tokens" >&2
"$py" - "$model" "$threads" "$out" <<'PY'
import json, platform, sys, time
from llama_cpp import Llama

model, threads, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ours = json.load(open(f"{out}/atelier.json"))
requests = json.load(open(f"{out}/tokens.json"))
llm = Llama(model_path=model, n_ctx=ours["context_length"], n_threads=threads, n_threads_batch=threads,
            n_batch=512, n_ubatch=512, verbose=False)

def first_token_ms(tokens, max_tokens):
    started = time.perf_counter()
    first = None
    for i, _ in enumerate(llm.generate(tokens, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0)):
        if first is None:
            first = (time.perf_counter() - started) * 1000
        if i + 1 >= max_tokens:
            break
    return first

llm.eval(requests[0]["tokens"][:16])
llm.reset()
warm = [first_token_ms(r["tokens"], r["max_tokens"]) for r in requests]
cold = []
for r in requests:
    llm.reset()
    cold.append(first_token_ms(r["tokens"], r["max_tokens"]))

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"model    {ours['model']} ({ours['quantization']}), {ours['context_length']}-token context")
print(f"cpu      {cpu}, {threads} threads; atelier: {ours['device']}")
print(f"{'action':9} {'prompt':>7} {'computed':>9} {'atelier':>10} {'llama.cpp':>10} {'ratio':>7}   {'read ahead':>10} {'ratio':>7}   {'cold atelier':>12} {'cold llama':>11} {'ratio':>6}")
ratios, ready_ratios = {}, {}
for step, w, c in zip(ours["steps"], warm, cold):
    ratio, cold_ratio = w / step["first_token_ms"], c / step["cold_first_token_ms"]
    ready, ready_ratio = step["ready_first_token_ms"], w / step["ready_first_token_ms"]
    ratios[step["action"]], ready_ratios[step["action"]] = round(ratio, 2), round(ready_ratio, 2)
    print(f"{step['action']:9} {step['prompt_tokens']:>7} {step['computed_tokens']:>9} {step['first_token_ms'] / 1000:>9.2f}s {w / 1000:>9.2f}s "
          f"{ratio:>6.2f}x   {ready / 1000:>9.2f}s {ready_ratio:>6.2f}x   {step['cold_first_token_ms'] / 1000:>11.2f}s {c / 1000:>10.2f}s {cold_ratio:>5.2f}x")
print("ratio = llama.cpp's time to first token / Atelier's (above 1: Atelier answers sooner); read ahead: Atelier's click after the app")
print("computed the request while the writer paused (llama.cpp has no such step); targets: second and third actions <= 1.5 s")
print(json.dumps({"first_token_ratio": ratios, "read_ahead_first_token_ratio": ready_ratios}))
PY
