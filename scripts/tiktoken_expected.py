#!/usr/bin/env python3
"""Writes the token counts OpenAI's `tiktoken` gives on the fixture corpus.

Run once (and again only when the corpus changes); commit the output:

    python3 -m venv /tmp/tiktoken-venv
    /tmp/tiktoken-venv/bin/pip install tiktoken==0.14.0
    /tmp/tiktoken-venv/bin/python scripts/tiktoken_expected.py

Needs no network beyond PyPI: see tiktoken_offline.py for how the encodings
are loaded from the rank files cargo already downloaded. It also (re)writes
the synthetic fixtures (long white-space and character runs, random bytes
decoded lossily), deterministically, before counting.

Output: tests/fixtures/tokens/expected.json, read by tests/tokens_fixtures.rs:
for every file and encoding, the count of the whole file and of each line
(lines split after every "\n", the newline kept, like Rust's split_inclusive).
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

import tiktoken

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiktoken_offline  # noqa: E402

FIXTURES = tiktoken_offline.REPO / "tests" / "fixtures" / "tokens"
CORPUS = FIXTURES / "corpus"


def write_synthetic() -> None:
    """Inputs that are awkward for tokenizers, kept small enough for tiktoken
    itself (it panics on a million spaces; the Rust tests go that far)."""
    rng = random.Random(20240601)
    runs = []
    for n in (1, 2, 3, 7, 31, 64, 127, 128, 129, 255, 1000, 4097):
        runs.append("word" + " " * n + "word")
        runs.append("\t" * n + "x")
        runs.append("\n" * n + " y")
        runs.append(" \n" * (n // 2 + 1) + "  z")
        runs.append("\r\n" * n + "end" + " " * n)
    runs.append(" " * 20000)
    runs.append("\u3000" * 3000 + "\u00a0" * 3000 + "\t \n" * 2000)
    (CORPUS / "whitespace.txt").write_text("|".join(runs), encoding="utf-8", newline="")

    repeated = [
        "a" * 20000,
        "ab" * 10000,
        "0" * 9001,
        "!" * 5000,
        "é" * 4000,
        "中" * 4000,
        "😀" * 2000,
        "\u0301" * 3000,
        "'s" * 3000,
        "A" * 7000 + "b",
    ]
    (CORPUS / "repeated.txt").write_text("\n".join(repeated), encoding="utf-8", newline="")

    raw = bytes(rng.getrandbits(8) for _ in range(16384))
    lossy = raw.decode("utf-8", errors="replace")
    (CORPUS / "random_lossy.txt").write_text(lossy, encoding="utf-8", newline="")


def lines(text: str) -> list[str]:
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch == "\n":
            out.append(text[start : i + 1])
            start = i + 1
    if start < len(text):
        out.append(text[start:])
    return out


def main() -> None:
    write_synthetic()
    encs = tiktoken_offline.encodings()
    files = {}
    for path in sorted(CORPUS.iterdir()):
        text = path.read_bytes().decode("utf-8")
        files[path.name] = {
            name: {
                "whole": len(enc.encode_ordinary(text)),
                "lines": [len(enc.encode_ordinary(line)) for line in lines(text)],
            }
            for name, enc in encs.items()
        }
    expected = {
        "generator": "scripts/tiktoken_expected.py",
        "tiktoken": tiktoken.__version__,
        "python": sys.version.split()[0],
        "corpus_sha256": {
            name: hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() for name in files
        },
        "files": files,
    }
    out = FIXTURES / "expected.json"
    out.write_text(json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    total = sum(len(f["o200k_base"]["lines"]) for f in files.values())
    print(f"wrote {out.relative_to(tiktoken_offline.REPO)}: {len(files)} files, {total} lines")


if __name__ == "__main__":
    main()
