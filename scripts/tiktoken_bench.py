#!/usr/bin/env python3
"""OpenAI's Python `tiktoken` on the benchmark corpus, single thread.

Prints one JSON object: for each corpus group and encoding, the best-of-N
seconds for `len(enc.encode_ordinary(text))` on the whole text, the bytes,
and the count; plus the time `get_encoding` took (first use). Used by
scripts/bench_tokens.sh, which sets it beside `cargo bench --bench tokens`.
The corpus is read exactly as benches/tokens.rs reads it.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiktoken  # noqa: E402
import tiktoken_offline  # noqa: E402

CORPUS = tiktoken_offline.REPO / "tests" / "fixtures" / "tokens" / "corpus"
SYNTHETIC = {"random_lossy.txt", "repeated.txt", "whitespace.txt"}


def corpus(group: str) -> str:
    names = sorted(p.name for p in CORPUS.iterdir() if (group == "synthetic") == (p.name in SYNTHETIC))
    return "".join((CORPUS / n).read_text(encoding="utf-8") for n in names)


def best_of(fn, text: str, min_seconds: float = 3.0) -> tuple[float, int]:
    fn(text)  # warm up
    best, total, result = float("inf"), 0.0, 0
    while total < min_seconds:
        start = time.perf_counter()
        result = fn(text)
        elapsed = time.perf_counter() - start
        best, total = min(best, elapsed), total + elapsed
    return best, result


def main() -> None:
    tiktoken_offline.install()
    out = {"tiktoken": tiktoken.__version__, "python": sys.version.split()[0], "first_use_ms": {}, "count": {}}
    encs = {}
    for name in ("o200k_base", "cl100k_base"):
        start = time.perf_counter()
        encs[name] = tiktoken.get_encoding(name)
        out["first_use_ms"][name] = (time.perf_counter() - start) * 1e3
    for group in ("natural", "synthetic"):
        text = corpus(group)
        for name, enc in encs.items():
            seconds, tokens = best_of(lambda t: len(enc.encode_ordinary(t)), text)
            out["count"][f"{group}/{name}"] = {
                "seconds": seconds,
                "bytes": len(text.encode("utf-8")),
                "tokens": tokens,
            }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
