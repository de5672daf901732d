"""Survey-analytics timings: EFA and five-factor CFA on 22 items x 10,000 respondents.

Run ``python benchmarks/survey.py``. Targets (issue 3): EFA < 1 s, CFA < 5 s.
Data are simulated from a SERVQUAL-like five-factor structure (fixed seed).
Peers measured in the same run: statsmodels' ``Factor`` (ML extraction plus
oblimin rotation, the closest Python EFA) and semopy's CFA of the same model.
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
    t_efa_ml_ob = timed(lambda: efa(data, 5, method="ml", rotation="oblimin"))
    t_sm = timed(lambda: _statsmodels_efa(data))
    t_semopy = timed(lambda: _semopy_cfa(data), repeat=1)
    print("survey analytics, 22 items x 10,000 respondents (best of 3)")
    print(f"  EFA minres+oblimin : {t_efa:6.3f} s   target < 1 s")
    print(f"  EFA ml+promax      : {t_efa_ml:6.3f} s   target < 1 s")
    print(f"  statsmodels Factor ml+oblimin (peer): {t_sm:6.3f} s   "
          f"simlib EFA ml+oblimin {t_efa_ml_ob:6.3f} s: {t_sm / t_efa_ml_ob:4.2f}x the peer's speed")
    print(f"  CFA 5 factors (ML) : {t_cfa:6.3f} s   target < 5 s")
    print(f"  semopy CFA (peer)  : {t_semopy:6.3f} s   simlib CFA runs at {t_semopy / t_cfa:4.2f}x the peer's speed")


def _statsmodels_efa(data: pd.DataFrame) -> None:
    from statsmodels.multivariate.factor import Factor

    fa = Factor(data.to_numpy(), n_factor=5, method="ml").fit()
    fa.rotate("oblimin")


def _semopy_cfa(data: pd.DataFrame) -> None:
    import semopy

    spec = "\n".join(
        f"{d} =~ " + " + ".join(f"p{i:02d}" for i in items) for d, items in SERVQUAL22.items()
    )
    semopy.Model(spec).fit(data)


if __name__ == "__main__":
    main()
