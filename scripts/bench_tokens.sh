#!/usr/bin/env bash
# Token counting: ragtrace vs OpenAI's Python tiktoken (and bpe-openai,
# tiktoken-rs) on the same corpus, in the same run; prints the ratios that
# go into BENCHMARKS.md.
#
#   scripts/bench_tokens.sh                  # wall-clock throughput
#   scripts/bench_tokens.sh --instructions   # also instruction counts (valgrind, slow)
#   scripts/bench_tokens.sh --adversarial    # also hostile inputs at 64 KiB..1 MiB
#
# Python's tiktoken, once: python3 -m venv /tmp/tiktoken-venv &&
#   /tmp/tiktoken-venv/bin/pip install tiktoken==0.14.0
# (or set PYTHON). It runs offline; see scripts/tiktoken_offline.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-/tmp/tiktoken-venv/bin/python}"
OUT=target/bench-tokens
mkdir -p "$OUT"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== python tiktoken (single thread)"
"$PYTHON" scripts/tiktoken_bench.py > "$OUT/tiktoken.json"
echo "== cargo bench --bench tokens -- count/"
cargo bench --all-features --bench tokens -- count/ --warm-up-time 2 --measurement-time 5 \
    | tee "$OUT/criterion.txt" | grep -E "first use|^count|time:"
echo "== python tiktoken again (the machine is shared: bracket the Rust run)"
"$PYTHON" scripts/tiktoken_bench.py > "$OUT/tiktoken2.json"
"$PYTHON" - "$OUT" <<'PY'
import json, sys, pathlib, statistics
out = pathlib.Path(sys.argv[1])
runs = [json.loads((out / f).read_text()) for f in ("tiktoken.json", "tiktoken2.json")]
def rust(key, name):
    path = pathlib.Path("target/criterion") / f"count_{key.replace('/', '_')}" / name / "new/sample.json"
    s = json.loads(path.read_text())
    return [t / 1e9 / i for t, i in zip(s["times"], s["iters"])]
print()
print(f"{'corpus/encoding':<22}{'KB':>5}  {'MB/s (median of samples; best sample)':<60}{'ragtrace vs py':>16}")
print(f"{'':<22}{'':>5}  {'tiktoken py':>15}{'ragtrace':>15}{'bpe-openai':>15}{'tiktoken-rs':>15}{'median':>8}{'best':>8}")
for key in runs[0]["count"]:
    py = runs[0]["count"][key]["samples"] + runs[1]["count"][key]["samples"]
    mb = runs[0]["count"][key]["bytes"] / 1e6
    cols = [py] + [rust(key, n) for n in ("ragtrace", "bpe-openai", "tiktoken-rs")]
    cell = lambda xs: f"{mb / statistics.median(xs):.1f}; {mb / min(xs):.1f}"
    med = statistics.median(py) / statistics.median(cols[1])
    best = min(py) / min(cols[1])
    print(f"{key:<22}{mb * 1e3:>5.0f}  " + "".join(f"{cell(c):>15}" for c in cols) + f"{med:>7.2f}x{best:>7.2f}x")
print("Each sample is a batch of calls; Python's samples are pooled from the runs before and after criterion's.")
print("first use, python get_encoding (ms):", {k: round(v) for k, v in runs[0]["first_use_ms"].items()})
PY

if [[ " $* " == *" --instructions "* ]]; then
    echo "== instructions per pass over the natural corpus, o200k_base (valgrind callgrind)"
    bench=$(cargo bench --all-features --bench tokens --no-run --message-format=json 2>/dev/null \
        | "$PYTHON" -c 'import json,sys; print([j["executable"] for j in map(json.loads, sys.stdin) if j.get("reason")=="compiler-artifact" and j.get("target",{}).get("name")=="tokens" and j.get("executable")][0])')
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*Collected : //p'; }
    N=50
    base=$(TOKENS_PASSES=none:natural:$N ir "$bench")
    ours=$(TOKENS_PASSES=ours:natural:$N ir "$bench")
    bpe=$(TOKENS_PASSES=bpe-openai:natural:$N ir "$bench")
    cat > "$OUT/py_passes.py" <<'PYX'
import sys
sys.path.insert(0, "scripts")
import tiktoken_bench, tiktoken_offline
enc = tiktoken_offline.encodings(("o200k_base",))["o200k_base"]
text = tiktoken_bench.corpus("natural")
enc.encode_ordinary("warm up")
for _ in range(int(sys.argv[1])):
    enc.encode_ordinary(text)
PYX
    py0=$(ir "$PYTHON" "$OUT/py_passes.py" 0)
    py=$(ir "$PYTHON" "$OUT/py_passes.py" $N)
    "$PYTHON" - "$N" "$base" "$ours" "$bpe" "$py0" "$py" <<'PY'
import sys
n, base, ours, bpe, py0, py = (int(x.replace(",", "")) for x in sys.argv[1:])
per = lambda a, b: (b - a) / n
o, b, p = per(base, ours), per(base, bpe), per(py0, py)
print(f"instructions per pass: python tiktoken {p/1e6:.2f}M, ragtrace {o/1e6:.2f}M ({p/o:.2f}x fewer), bpe-openai {b/1e6:.2f}M ({p/b:.2f}x fewer)")
PY
fi

if [[ " $* " == *" --adversarial "* ]]; then
    echo "== hostile inputs, o200k_base: cargo bench --bench tokens -- adversarial/ and tiktoken on the same text"
    cargo bench --all-features --bench tokens -- adversarial/ --warm-up-time 1 --measurement-time 3 \
        > "$OUT/adversarial.txt"
    "$PYTHON" scripts/tiktoken_bench.py --adversarial > "$OUT/tiktoken_adversarial.json" 2>/dev/null
    "$PYTHON" - "$OUT" <<'PY'
import json, sys, pathlib, statistics
out = pathlib.Path(sys.argv[1])
py = json.loads((out / "tiktoken_adversarial.json").read_text())
print(f"{'input/bytes':<24}{'ragtrace MB/s':>15}{'tiktoken py MB/s':>18}  tiktoken py tokens")
for key, r in py.items():
    kind, size = key.split("/")
    s = json.loads((pathlib.Path("target/criterion") / f"adversarial_{kind}" / size / "new/sample.json").read_text())
    ours = statistics.median(t / 1e9 / i for t, i in zip(s["times"], s["iters"]))
    mb = r["bytes"] / 1e6
    py_rate = f"{mb / r['seconds']:.1f}" if isinstance(r["tokens"], int) else "failed"
    print(f"{key:<24}{mb / ours:>15.1f}{py_rate:>18}  {r['tokens']}")
print("ragtrace: criterion median; tiktoken py: one call each (a failed call is tiktoken panicking).")
PY
fi
