"""Load OpenAI's `tiktoken` encodings without network access.

tiktoken downloads its BPE rank files (`o200k_base.tiktoken`,
`cl100k_base.tiktoken`) from OpenAI's public blob storage on first use and
checks each against a SHA-256 pinned in tiktoken's own source
(`tiktoken_ext/openai_public.py`). This machine reaches package registries
only, so we hand tiktoken the very same published files from another
registry package: the Rust crate `bpe-openai` ships them gzipped in its
sources (`data/<name>.tiktoken.gz`), and cargo has already downloaded that
crate into its registry cache as a dependency of ragtrace.

How: `tiktoken.load.read_file` (the function that would do the download) is
replaced by one that reads `<name>.tiktoken.gz` from the crate and refuses
anything else; the cache directory (TIKTOKEN_CACHE_DIR) is a fresh temporary
one so no stale file is used. tiktoken's `read_file_cached` then verifies the
SHA-256 as usual and raises on any mismatch, so the encoders built are exactly
the ones tiktoken would build online.
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import tempfile
from pathlib import Path

import tiktoken
import tiktoken.load

REPO = Path(__file__).resolve().parent.parent


def rank_file_dir() -> Path:
    """The `data/` directory of the bpe-openai crate ragtrace depends on."""
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--all-features"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    for package in meta["packages"]:
        if package["name"] == "bpe-openai":
            return Path(package["manifest_path"]).parent / "data"
    raise SystemExit("bpe-openai is not in ragtrace's dependency graph; run `cargo fetch` first")


def install() -> Path:
    """Routes tiktoken's download through the local rank files; returns their directory."""
    data = rank_file_dir()

    def read_file(blobpath: str) -> bytes:
        name = blobpath.rsplit("/", 1)[-1]
        local = data / f"{name}.gz"
        if not name.endswith(".tiktoken") or not local.is_file():
            raise RuntimeError(f"offline: no local copy of {blobpath}")
        with gzip.open(local, "rb") as f:
            return f.read()

    tiktoken.load.read_file = read_file
    os.environ["TIKTOKEN_CACHE_DIR"] = tempfile.mkdtemp(prefix="tiktoken-cache-")
    return data


def encodings(names=("o200k_base", "cl100k_base")) -> dict[str, tiktoken.Encoding]:
    install()
    return {name: tiktoken.get_encoding(name) for name in names}
