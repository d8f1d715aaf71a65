#!/usr/bin/env bash
# Reading traces back at scale: `ragtrace report` against DuckDB over the
# same SQLite store, in the same run; prints the side-by-side table that
# goes into BENCHMARKS.md ("Reading traces back").
#
#   scripts/bench_analysis.sh                # 100k, 1M and 5M spans
#   SIZES="100000 1000000" scripts/bench_analysis.sh
#   RUNS=3 scripts/bench_analysis.sh         # best of 3 for each side
#
# - builds the release binary and the store generator (examples/gen_store);
# - generates each store once (cached under target/bench-stores/, named by
#   size and by a hash of the schema and the generator, so a schema change
#   writes them anew);
# - runs `ragtrace report --group-by model --format json --quiet` under
#   /usr/bin/time -v (wall time, max RSS);
# - runs the same aggregation in DuckDB (benches/peers/analysis_duckdb.py,
#   DuckDB and its sqlite_scanner extension from PyPI in a venv this script
#   creates, loaded offline from the wheel) under /usr/bin/time -v;
# - checks that the exact sums agree (cost as integer picodollars) and
#   prints both with the ratio;
# - runs `ragtrace drift --format json` (daily windows, rolling baseline)
#   under /usr/bin/time -v (DuckDB has no drift counterpart here).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
SIZES="${SIZES:-100000 1000000 5000000}"
# Drift at scale: stores of retrieval spans only (30 days × 100,000 a day).
DRIFT_SIZES="${DRIFT_SIZES:-3000000}"
RUNS="${RUNS:-1}"
VENV="${VENV:-target/bench-venv}"
STORES=target/bench-stores
OUT=target/bench-analysis
mkdir -p "$STORES" "$OUT"

if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q duckdb==1.5.5 duckdb-extension-sqlite-scanner==1.5.5
fi
PYTHON="$VENV/bin/python"

echo "== building (release)"
cargo build -q --release --all-features --bin ragtrace --example gen_store
BIN="$CARGO_TARGET_DIR/release/ragtrace"
GEN="$CARGO_TARGET_DIR/release/examples/gen_store"
# The stores depend on the schema's SQL and on the generator.
SCHEMA_HASH=$( (sed -n '/^const V[0-9]*: &str = "/,/^";/p' src/store/schema.rs; cat examples/gen_store/synth.rs) \
    | sha256sum | cut -c1-10)

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $("$PYTHON" -c 'import duckdb; print("duckdb", duckdb.__version__)'), $(rustc --version)"

# `time -v` output to "wall_s max_rss_kib".
measure() {
    local log=$1
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
        /Maximum resident set size/ { rss = $2 }
        END { printf "%.2f %d\n", wall, rss }' "$log"
}

for spans in $SIZES; do
    db="$STORES/spans-$spans-$SCHEMA_HASH.db"
    if [[ ! -f "$db" ]]; then
        echo "== generating $db"
        rm -f "$STORES/spans-$spans-"*.db*
        "$GEN" --spans "$spans" --out "$db"
    fi
    size=$(du -m "$db" | cut -f1)
    best_ours=""; best_duck=""
    rm -f "$OUT/duckdb-$spans-run"*.json
    for run in $(seq "$RUNS"); do
        /usr/bin/time -v "$BIN" report --db "$db" --group-by model --format json --quiet \
            > "$OUT/ours-$spans.json" 2> "$OUT/ours-$spans.time"
        read -r wall rss < <(measure "$OUT/ours-$spans.time")
        if [[ -z "$best_ours" ]] || awk "BEGIN{exit !($wall < ${best_ours%% *})}"; then best_ours="$wall $rss"; fi
        /usr/bin/time -v "$PYTHON" benches/peers/analysis_duckdb.py "$db" report \
            > "$OUT/duckdb-$spans.json" 2> "$OUT/duckdb-$spans.time"
        cp "$OUT/duckdb-$spans.json" "$OUT/duckdb-$spans-run$run.json"
        read -r wall rss < <(measure "$OUT/duckdb-$spans.time")
        if [[ -z "$best_duck" ]] || awk "BEGIN{exit !($wall < ${best_duck%% *})}"; then best_duck="$wall $rss"; fi
    done
    best_drift=""
    for run in $(seq "$RUNS"); do
        /usr/bin/time -v "$BIN" drift --db "$db" --format json \
            > "$OUT/drift-$spans.json" 2> "$OUT/drift-$spans.time" || true
        read -r wall rss < <(measure "$OUT/drift-$spans.time")
        if [[ -z "$best_drift" ]] || awk "BEGIN{exit !($wall < ${best_drift%% *})}"; then best_drift="$wall $rss"; fi
    done
    read -r dwall drss <<< "$best_drift"
    printf "\n  ragtrace drift (daily windows, %s retrievals): %.2f s wall, %d MiB max RSS\n" \
        "$((spans / 5))" "$dwall" "$((drss / 1024))"
    "$PYTHON" - "$spans" "$size" "$OUT/ours-$spans.json" "$OUT/duckdb-$spans.json" $best_ours $best_duck <<'PY'
import json, sys
from decimal import Decimal
spans, size, ours_path, duck_path = sys.argv[1:5]
ours_wall, ours_rss, duck_wall, duck_rss = map(float, sys.argv[5:9])
ours = json.load(open(ours_path))
duck = json.load(open(duck_path))
import glob
query_s = min(json.load(open(p))["query_s"] for p in glob.glob(duck_path[:-5] + "-run*.json"))
picos = lambda usd: int(Decimal(usd) * 10**12)
problems = []
def check(what, a, b):
    if a != b:
        problems.append(f"{what}: ragtrace {a} != duckdb {b}")
by_key = {g["key"]: g for g in ours["groups"]}
for g in duck["groups"]:
    o = by_key.get(g["key"])
    if o is None:
        problems.append(f"group {g['key']} missing from ragtrace")
        continue
    t = o["totals"]
    check(f"{g['key']} requests", o["requests"], g["requests"])
    check(f"{g['key']} spans", t["spans"], g["spans"])
    check(f"{g['key']} errors", t["errors"], g["errors"])
    check(f"{g['key']} input tokens", t["tokens"]["input"], g["input_tokens"])
    check(f"{g['key']} cache-read tokens", t["tokens"]["cache_read"], g["cache_read_tokens"])
    check(f"{g['key']} output tokens", t["tokens"]["output"], g["output_tokens"])
    check(f"{g['key']} cost", picos(t["cost"]), g["cost_picos"])
    check(f"{g['key']} input cost", picos(t["cost_by_kind"]["input"]), g["cost_input_picos"])
    check(f"{g['key']} output cost", picos(t["cost_by_kind"]["output"]), g["cost_output_picos"])
    check(f"{g['key']} priced", t["priced_spans"], g["priced_spans"])
    check(f"{g['key']} unpriced", t["unpriced_spans"], g["unpriced_spans"])
check("groups", len(ours["groups"]), len(duck["groups"]))
total = ours["total"]
check("total requests", total["requests"], duck["total"]["requests"])
check("total spans", total["totals"]["spans"], duck["total"]["spans"])
check("total cost", picos(total["totals"]["cost"]), duck["total"]["cost_picos"])
p50o, p95o = picos(total["cost"]["p50"]), picos(total["cost"]["p95"])
p50d, p95d = duck["total"]["p50_picos"], duck["total"]["p95_picos"]
status = "totals match exactly" if not problems else "MISMATCH: " + "; ".join(problems)
print(f"\n{int(spans):>9,} spans ({total['requests']:,} requests, {size} MiB store): {status}")
print(f"  total cost {total['totals']['cost']} USD; per-request p50/p95 ragtrace {p50o}/{p95o}, duckdb {p50d}/{p95d} picousd")
print(f"  {'':<34}{'wall s':>8}{'max RSS MiB':>13}")
print(f"  {'ragtrace report --group-by model':<34}{ours_wall:>8.2f}{ours_rss / 1024:>13.0f}")
print(f"  {'duckdb ' + duck['duckdb'] + ' (' + str(duck['threads']) + ' threads)':<34}{duck_wall:>8.2f}{duck_rss / 1024:>13.0f}"
      f"   (query alone, best run: {query_s:.2f} s)")
print(f"  ratio duckdb / ragtrace: {duck_wall / ours_wall:.2f}x wall time (best of {len(glob.glob(duck_path[:-5] + '-run*.json'))} runs each)")
if problems:
    sys.exit(1)
PY
done

for retrievals in $DRIFT_SIZES; do
    db="$STORES/retrievals-$retrievals-$SCHEMA_HASH.db"
    if [[ ! -f "$db" ]]; then
        echo "== generating $db"
        rm -f "$STORES/retrievals-$retrievals-"*.db*
        "$GEN" --spans "$retrievals" --retrievals-only --out "$db"
    fi
    best_drift=""
    for run in $(seq "$RUNS"); do
        /usr/bin/time -v "$BIN" drift --db "$db" --format json \
            > "$OUT/drift-r$retrievals.json" 2> "$OUT/drift-r$retrievals.time" || true
        read -r wall rss < <(measure "$OUT/drift-r$retrievals.time")
        if [[ -z "$best_drift" ]] || awk "BEGIN{exit !($wall < ${best_drift%% *})}"; then best_drift="$wall $rss"; fi
    done
    read -r dwall drss <<< "$best_drift"
    printf "\n%s retrievals over 30 days (%s MiB store, retrieval spans only): ragtrace drift %.2f s wall, %d MiB max RSS\n" \
        "$retrievals" "$(du -m "$db" | cut -f1)" "$dwall" "$((drss / 1024))"
done
