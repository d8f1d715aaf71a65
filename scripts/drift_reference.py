#!/usr/bin/env python3
"""Reference numbers for ragtrace's drift statistics (src/analysis/stats.rs).

Creates a virtual environment, installs numpy and scipy there, draws fixed
seeded samples, and writes tests/fixtures/drift_reference.json with the
samples and what numpy and scipy compute from them:

- quantiles (numpy's default linear method),
- scipy.stats.ks_2samp (two-sided, method="auto"): exact cases (both samples
  at most 10 000, equal and unequal sizes, ties) and asymptotic ones (one
  sample over 10 000), and scipy.stats.kstwo.sf over every branch of its
  method choice,
- PSI on the baseline's decile bins (numpy.quantile edges, unique,
  searchsorted side="right", empty bins as 1e-4),
- Jensen-Shannon divergence base 2 (scipy.spatial.distance.jensenshannon
  squared),
- scipy.stats.chi2.sf and scipy.stats.chi2_contingency (no correction).

Run from the repository root:  python3 scripts/drift_reference.py
CI does not run it; the JSON it writes is committed.
"""

import json
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get(
    "DRIFT_REFERENCE_VENV", os.path.join(ROOT, "target", "drift-reference-venv")
)
OUT = os.path.join(ROOT, "tests", "fixtures", "drift_reference.json")


def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        venv.create(VENV, with_pip=True)
        subprocess.check_call(
            [python, "-m", "pip", "install", "--quiet", "numpy", "scipy"]
        )
    return python


def main():
    if os.environ.get("DRIFT_REFERENCE_IN_VENV") != "1":
        python = ensure_venv()
        env = dict(os.environ, DRIFT_REFERENCE_IN_VENV="1")
        sys.exit(subprocess.call([python, os.path.abspath(__file__)], env=env))
    generate()


def generate():
    import numpy as np
    import scipy
    from scipy import stats
    from scipy.spatial import distance

    rng = np.random.default_rng(20261130)

    def sample(n, mean, sd, digits=5):
        return [round(float(v), digits) for v in rng.normal(mean, sd, n)]

    samples = {
        "small_a": sample(8, 0.70, 0.08),
        "small_b": sample(11, 0.62, 0.08),
        "equal_a": sample(20, 0.70, 0.08),
        "equal_b": sample(20, 0.66, 0.08),
        "window": sample(200, 0.70, 0.08),
        "baseline": sample(1400, 0.70, 0.08),
        "shifted": sample(200, 0.66, 0.08),
        "ties_a": sample(150, 0.70, 0.08, digits=2),
        "ties_b": sample(300, 0.69, 0.08, digits=2),
        "big": sample(10001, 0.70, 0.08),
        "tiny": sample(30, 0.74, 0.08),
        "mid_same": sample(2500, 0.70, 0.08),
        "mid_shifted": sample(2500, 0.69, 0.08),
    }

    ks_pairs = [
        ("small_a", "small_b"),
        ("equal_a", "equal_b"),
        ("window", "baseline"),
        ("shifted", "baseline"),
        ("ties_a", "ties_b"),
        ("big", "tiny"),
        ("big", "mid_same"),
        ("big", "mid_shifted"),
    ]
    ks = []
    for a, b in ks_pairs:
        result = stats.ks_2samp(samples[a], samples[b])
        n = max(len(samples[a]), len(samples[b]))
        ks.append(
            {
                "a": a,
                "b": b,
                "method": "exact" if n <= 10000 else "asymptotic",
                "d": float(result.statistic),
                "p_value": float(result.pvalue),
            }
        )

    kstwo = []
    for n, x in [
        (10, 0.07),  # t <= 0.5
        (10, 0.08),  # 0.5 < t <= 1 (Ruben-Gambino)
        (500, 0.0015),  # t <= 1, n > 140
        (10, 0.95),  # t >= n - 1
        (40, 0.55),  # x >= 0.5
        (50, 0.1),  # n <= 140, small n x^2 (Durbin)
        (50, 0.2),  # n <= 140, Pomeranz region
        (50, 0.35),  # n <= 140, large n x^2
        (140, 0.05),
        (2000, 0.01),  # n x^1.5 <= 1.4 (Durbin)
        (2000, 0.02),  # Pelz-Good
        (2000, 0.03),  # Pelz-Good, n x^2 near 2.2
        (2000, 0.05),  # 2 * smirnov
        (2500, 0.025),
        (7500, 0.012),
        (200000, 0.002),  # Pelz-Good, large n
        (2000, 0.45),  # n x^2 >= 370
    ]:
        kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})

    quantiles = []
    for name in ["window", "baseline", "ties_a", "small_a"]:
        values = np.array(samples[name])
        for q in [0.0, 0.1, 0.25, 0.5, 0.9, 1.0]:
            quantiles.append(
                {"sample": name, "q": q, "value": float(np.quantile(values, q))}
            )

    def psi_case(base_name, window_name):
        base = np.array(samples[base_name])
        window = np.array(samples[window_name])
        edges = np.unique(np.quantile(base, np.arange(1, 10) / 10.0))
        def fractions(values):
            bins = np.searchsorted(edges, values, side="right")
            counts = np.bincount(bins, minlength=len(edges) + 1).astype(float)
            fr = counts / counts.sum()
            fr[counts == 0] = 1e-4
            return fr
        e, a = fractions(base), fractions(window)
        contributions = (a - e) * np.log(a / e)
        return {
            "baseline": base_name,
            "window": window_name,
            "edges": [float(v) for v in edges],
            "contributions": [float(v) for v in contributions],
            "psi": float(contributions.sum()),
        }

    psi = [
        psi_case("baseline", "window"),
        psi_case("baseline", "shifted"),
        psi_case("ties_b", "ties_a"),
        psi_case("baseline", "tiny"),
    ]

    js_cases = []
    for p, q in [
        ([10, 20, 30, 40], [40, 30, 20, 10]),
        ([5, 0, 3, 1, 1], [0, 4, 3, 2, 1]),
        ([1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 2, 2, 2, 2]),
        ([100, 0], [0, 7]),
    ]:
        js_cases.append(
            {"p": p, "q": q, "js": float(distance.jensenshannon(p, q, base=2) ** 2)}
        )

    chi2 = []
    for x, df in [(0.5, 1), (3.0, 1), (17.5, 9), (33.7, 9), (5.0, 9), (1050.0, 999), (40.0, 3)]:
        chi2.append({"x": x, "df": df, "sf": float(stats.chi2.sf(x, df))})

    contingency = []
    for a, b in [
        ([5, 6, 4, 0, 5, 7, 3, 5, 6, 9], [140, 139, 141, 140, 140, 140, 141, 139, 140, 140]),
        ([30, 20, 10], [25, 25, 12]),
        ([0, 12, 40, 3], [7, 100, 310, 2]),
    ]:
        # categories empty in both are left out, as chi2_homogeneity does
        table = np.array([a, b], dtype=float)
        table = table[:, table.sum(axis=0) > 0]
        statistic, p_value, df, _ = stats.chi2_contingency(table, correction=False)
        contingency.append(
            {"a": a, "b": b, "statistic": float(statistic), "df": int(df), "p_value": float(p_value)}
        )

    out = {
        "generator": "scripts/drift_reference.py",
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "samples": samples,
        "ks_2samp": ks,
        "kstwo_sf": kstwo,
        "quantiles": quantiles,
        "psi": psi,
        "js": js_cases,
        "chi2_sf": chi2,
        "chi2_contingency": contingency,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
