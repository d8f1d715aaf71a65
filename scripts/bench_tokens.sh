#!/usr/bin/env bash
# Token counting: ragtrace vs OpenAI's Python tiktoken (and bpe-openai,
# tiktoken-rs) on the same corpus, in the same run; prints the ratios that
# go into BENCHMARKS.md.
#
#   scripts/bench_tokens.sh            # needs python3 with tiktoken (see below)
#   PYTHON=/path/to/python scripts/bench_tokens.sh
#
# Python's tiktoken: python3 -m venv /tmp/tiktoken-venv &&
#   /tmp/tiktoken-venv/bin/pip install tiktoken==0.14.0
# It runs offline; see scripts/tiktoken_offline.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-/tmp/tiktoken-venv/bin/python}"
OUT="${OUT:-target/bench-tokens}"
mkdir -p "$OUT"

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== python tiktoken (single thread)"
"$PYTHON" scripts/tiktoken_bench.py > "$OUT/tiktoken.json"
echo "== cargo bench --bench tokens -- count/"
cargo bench --all-features --bench tokens -- count/ --warm-up-time 2 --measurement-time 5 \
    | tee "$OUT/criterion.txt" | grep -E "first use|^count|time:"
echo "== python tiktoken again (the machine is shared: bracket the Rust run)"
"$PYTHON" scripts/tiktoken_bench.py > "$OUT/tiktoken2.json"
"$PYTHON" - "$OUT" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
runs = [json.loads((out / f).read_text()) for f in ("tiktoken.json", "tiktoken2.json")]
def crit(group, name):
    est = json.loads(pathlib.Path(f"target/criterion/{group}/{name}/new/estimates.json").read_text())
    return est["median"]["point_estimate"] / 1e9
print()
print(f"{'corpus/encoding':<24}{'MB':>7}{'tiktoken py':>13}{'ragtrace':>10}{'bpe-openai':>11}{'tiktoken-rs':>12}{'vs py':>7}")
for key in runs[0]["count"]:
    py = min(r["count"][key]["seconds"] for r in runs)
    mb = runs[0]["count"][key]["bytes"] / 1e6
    group = f"count/{key}"
    ours, bpe, tkrs = (crit(group, n) for n in ("ragtrace", "bpe-openai", "tiktoken-rs"))
    f = lambda s: f"{mb / s:.1f}"
    print(f"{key:<24}{mb:>7.3f}{f(py):>13}{f(ours):>10}{f(bpe):>11}{f(tkrs):>12}{py / ours:>6.2f}x")
print("(MB/s; tiktoken py = best of both Python runs; ragtrace etc. = criterion median)")
print("first use (ms), python:", {k: round(v, 1) for k, v in runs[0]["first_use_ms"].items()})
PY
