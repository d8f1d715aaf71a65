"""DuckDB, the peer for `ragtrace report --group-by model` (and drift), over
the same SQLite store file, through DuckDB's sqlite scanner extension.

    scripts/bench_analysis.sh    # creates the venv and runs this in the same run

DuckDB 1.5.5 and its sqlite_scanner extension both come from PyPI
(`duckdb==1.5.5 duckdb-extension-sqlite-scanner==1.5.5`); the extension is
loaded from the wheel's file, so nothing is downloaded at run time.

    python analysis_duckdb.py STORE.db report [--threads N]

Prints one JSON object: the groups and the total with exact sums (cost as
integer picodollars), per-call and per-request cost percentiles, and the
seconds the query took inside the process (`query_s`), besides what the
process as a whole took (measured outside, with /usr/bin/time).
"""

import json
import pathlib
import sys
import time

import duckdb
import duckdb_extension_sqlite_scanner

EXTENSION = next(
    pathlib.Path(duckdb_extension_sqlite_scanner.__file__).parent.glob(
        "extensions/*/sqlite_scanner.duckdb_extension"
    )
)

# The same groups and sums as `ragtrace report --group-by model`: each span
# goes to its model's group (`(none)` for spans without one); a request
# counts in every group it has a span in. The total is over requests (one
# per trace here: every trace has its root).
REPORT = """
WITH spans AS (
    SELECT trace_id, coalesce(model, '(none)') AS key, status, duration_ns,
           input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
           reasoning_tokens, usage_estimated, cost_picousd, cost_status,
           cost_input_picousd, cost_cache_read_picousd, cost_cache_write_picousd,
           cost_output_picousd, cost_reasoning_picousd
    FROM sqlite_scan($path, 'spans')
),
groups AS (
    SELECT key,
           count(DISTINCT trace_id) AS requests,
           count(*) AS spans,
           count(*) FILTER (WHERE status = 'error') AS errors,
           coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
           coalesce(sum(cache_read_tokens), 0)::BIGINT AS cache_read_tokens,
           coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
           coalesce(sum(cost_picousd::HUGEINT), 0) AS cost_picos,
           coalesce(sum(cost_input_picousd::HUGEINT), 0) AS cost_input_picos,
           coalesce(sum(cost_output_picousd::HUGEINT), 0) AS cost_output_picos,
           count(*) FILTER (WHERE cost_status = 'priced') AS priced_spans,
           count(*) FILTER (WHERE cost_status = 'unpriced') AS unpriced_spans,
           quantile_disc(coalesce(cost_picousd, 0), 0.5) FILTER (WHERE cost_status IS NOT NULL) AS call_cost_p50,
           quantile_disc(coalesce(cost_picousd, 0), 0.95) FILTER (WHERE cost_status IS NOT NULL) AS call_cost_p95,
           quantile_disc(duration_ns, 0.95) AS latency_p95_ns
    FROM spans GROUP BY key
),
requests AS (
    SELECT trace_id, coalesce(sum(cost_picousd::HUGEINT), 0) AS cost,
           count(*) AS spans
    FROM spans GROUP BY trace_id
)
SELECT 'group' AS kind, key, requests, spans, errors, input_tokens, cache_read_tokens,
       output_tokens, cost_picos, cost_input_picos, cost_output_picos, priced_spans,
       unpriced_spans, call_cost_p50, call_cost_p95, latency_p95_ns
FROM groups
UNION ALL
SELECT 'total', 'total', count(*), sum(spans), NULL, NULL, NULL, NULL, sum(cost), NULL, NULL,
       NULL, NULL, quantile_disc(cost, 0.5), quantile_disc(cost, 0.95), NULL
FROM requests
ORDER BY kind, cost_picos DESC
"""

COLUMNS = [
    "kind", "key", "requests", "spans", "errors", "input_tokens", "cache_read_tokens",
    "output_tokens", "cost_picos", "cost_input_picos", "cost_output_picos", "priced_spans",
    "unpriced_spans", "p50_picos", "p95_picos", "latency_p95_ns",
]


def main():
    path = sys.argv[1]
    what = sys.argv[2] if len(sys.argv) > 2 else "report"
    threads = None
    if "--threads" in sys.argv:
        threads = int(sys.argv[sys.argv.index("--threads") + 1])
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"LOAD '{EXTENSION}'")
    if threads:
        con.execute(f"SET threads = {threads}")
    load_s = time.perf_counter() - started
    if what != "report":
        raise SystemExit(f"unknown query {what}")
    started = time.perf_counter()
    rows = con.execute(REPORT, {"path": path}).fetchall()
    query_s = time.perf_counter() - started
    out = {"duckdb": duckdb.__version__, "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
           "load_s": load_s, "query_s": query_s, "groups": [], "total": None}
    for row in rows:
        item = {k: (int(v) if isinstance(v, (int,)) or (v is not None and k not in ("kind", "key")) else v)
                for k, v in zip(COLUMNS, row)}
        if item["kind"] == "total":
            out["total"] = item
        else:
            out["groups"].append(item)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
