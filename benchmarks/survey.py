"""Survey-analytics timings: EFA and five-factor CFA on 22 items x 10,000 respondents.

Run ``python benchmarks/survey.py``. Targets (issue 3): EFA < 1 s, CFA < 5 s.
Data are simulated from a SERVQUAL-like five-factor structure (fixed seed).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from simlib.servqual import SERVQUAL22, cfa, efa


def simulate(n: int = 10_000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dims = list(SERVQUAL22)
    phi = np.full((5, 5), 0.5) + 0.5 * np.eye(5)
    f = rng.multivariate_normal(np.zeros(5), phi, size=n)
    cols = {}
    for j, d in enumerate(dims):
        for i in SERVQUAL22[d]:
            lam = rng.uniform(0.6, 0.85)
            cols[f"p{i:02d}"] = lam * f[:, j] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
    return pd.DataFrame(cols)


def timed(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    data = simulate()
    model = SERVQUAL22.model("p")
    t_efa = timed(lambda: efa(data, 5, method="minres", rotation="oblimin"))
    t_efa_ml = timed(lambda: efa(data, 5, method="ml", rotation="promax"))
    t_cfa = timed(lambda: cfa(data, model))
    print("survey analytics, 22 items x 10,000 respondents (best of 3)")
    print(f"  EFA minres+oblimin : {t_efa:6.3f} s   target < 1 s   ratio {1 / t_efa:5.1f}x")
    print(f"  EFA ml+promax      : {t_efa_ml:6.3f} s   target < 1 s   ratio {1 / t_efa_ml:5.1f}x")
    print(f"  CFA 5 factors (ML) : {t_cfa:6.3f} s   target < 5 s   ratio {5 / t_cfa:5.1f}x")


if __name__ == "__main__":
    main()
