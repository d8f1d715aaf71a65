"""LiteLLM's own cost lookup, timed on the spans benches/pricing.rs prices.

The peer for `cargo bench --bench pricing`: LiteLLM's `cost_per_token`,
which Phoenix, tokencost and others build on, with its bundled price table
(LITELLM_LOCAL_MODEL_COST_MAP=True keeps it off the network).

    python3 -m venv /tmp/peer-venv && /tmp/peer-venv/bin/pip install litellm
    /tmp/peer-venv/bin/python benches/peers/litellm_cost.py

Prints, per case, the mean time per call and the cost LiteLLM computes
(so the two tools can be seen to agree where they should).
"""

import importlib.metadata
import os
import time

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm  # noqa: E402

litellm.suppress_debug_info = True

CASES = [
    ("exact key", dict(model="gpt-4o-mini", prompt_tokens=1200, completion_tokens=80,
                       cache_read_input_tokens=1024)),
    ("dated alias", dict(model="gpt-4o-mini-2024-07-18", prompt_tokens=1200, completion_tokens=80)),
    # cost_per_token takes no 1-hour cache writes: all 1,500 writes are 5-minute ones here.
    ("bedrock id (normalized, cached)",
     dict(model="bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", prompt_tokens=12000,
          completion_tokens=900, cache_read_input_tokens=8000, cache_creation_input_tokens=1500)),
    ("long context + batch", dict(model="gemini-2.5-pro", prompt_tokens=250000, completion_tokens=4000,
                                  cache_read_input_tokens=50000, service_tier="batch")),
    ("unknown model (unpriced)", dict(model="my-local-llama-70b", prompt_tokens=1000, completion_tokens=100)),
]


def call(kwargs):
    try:
        prompt, completion = litellm.cost_per_token(**kwargs)
        return f"{prompt + completion:.10f}"
    except Exception as error:  # LiteLLM raises for a model it cannot price
        return f"raised {type(error).__name__}"


def main():
    print(f"litellm {importlib.metadata.version('litellm')}, {len(litellm.model_cost)} entries")
    for name, kwargs in CASES:
        for _ in range(200):  # warm-up
            call(kwargs)
        n = 0
        start = time.perf_counter_ns()
        while True:
            call(kwargs)
            n += 1
            elapsed = time.perf_counter_ns() - start
            if elapsed > 2_000_000_000 or n >= 200_000:
                break
        print(f"{name:<34} {elapsed / n / 1000:10.2f} us/call   cost {call(kwargs)}")


if __name__ == "__main__":
    main()
