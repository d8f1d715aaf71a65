#!/usr/bin/env python3
"""OpenAI's Python `tiktoken` on the benchmark corpus, single thread.

Prints one JSON object: for each corpus group and encoding, the seconds one
`len(enc.encode_ordinary(text))` on the whole text takes in each of 60
samples (each sample times a batch of calls, as criterion does), the bytes
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


def samples(fn, text: str, count: int = 60, sample_seconds: float = 0.05) -> tuple[list[float], int]:
    """Per-call seconds of `count` samples, each a batch of calls lasting about `sample_seconds`."""
    start = time.perf_counter()
    result = fn(text)  # warm up, and size the batches
    batch = max(1, int(sample_seconds / max(time.perf_counter() - start, 1e-9)))
    per_call = []
    for _ in range(count):
        start = time.perf_counter()
        for _ in range(batch):
            fn(text)
        per_call.append((time.perf_counter() - start) / batch)
    return per_call, result


def random_lossy(n: int) -> str:
    """The same bytes as benches/tokens.rs's xorshift, decoded lossily."""
    state, mask, out = 0x9E3779B97F4A7C15, (1 << 64) - 1, bytearray()
    for _ in range(n):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        out.append((state >> 24) & 0xFF)
    return out.decode("utf-8", errors="replace")


def adversarial() -> None:
    """tiktoken on the inputs of benches/tokens.rs's `adversarial` group."""
    enc = tiktoken_offline.encodings(("o200k_base",))["o200k_base"]
    mixed = corpus("natural")
    kinds = {
        "spaces": lambda n: " " * n,
        "one-char": lambda n: "a" * n,
        "random-lossy": random_lossy,
        "mixed-scripts": lambda n: (mixed * (n // len(mixed) + 1))[:n],
    }
    out = {}
    for kind, make in kinds.items():
        for size in (64 << 10, 256 << 10, 1 << 20):
            text = make(size)
            start = time.perf_counter()
            try:
                tokens = len(enc.encode_ordinary(text))
            except BaseException as e:  # tiktoken's Rust core panics into Python
                tokens = f"{type(e).__name__}: {str(e)[:60]}"
            out[f"{kind}/{size}"] = {
                "seconds": time.perf_counter() - start,
                "bytes": len(text.encode("utf-8")),
                "tokens": tokens,
            }
    json.dump(out, sys.stdout, indent=1)
    print()


def main() -> None:
    if sys.argv[1:] == ["--adversarial"]:
        return adversarial()
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
            seconds, tokens = samples(lambda t: len(enc.encode_ordinary(t)), text)
            out["count"][f"{group}/{name}"] = {
                "samples": seconds,
                "bytes": len(text.encode("utf-8")),
                "tokens": tokens,
            }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
