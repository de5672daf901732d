"""Shared fixtures: the bundled bank log (ingested once) and a synthetic trace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simlib.calibrate as sc


@pytest.fixture(scope="session")
def bank() -> sc.IngestResult:
    return sc.ingest_bank()


@pytest.fixture(scope="session")
def bank_weekday(bank: sc.IngestResult) -> sc.Calibration:
    return sc.calibrate(bank, day_type="weekday")


def synthetic_events(
    seed: int = 7,
    days: int = 3,
    rate: float = 0.05,
    offered_wait_mean: float = 60.0,
    patience_mean: float = 200.0,
    service_mean: float = 150.0,
    service_cv: float = 1.2,
    agents: int = 5,
) -> pd.DataFrame:
    """A trace in the event-log layout (docs/traces.md#event-log-layout) with known parameters.

    Each customer arrives by a homogeneous Poisson process, would wait an
    exponential "offered wait" V, has exponential patience P and lognormal
    service S: they abandon at P if P < V, otherwise start service at V. The
    censoring (V independent of P) is what the patience estimators assume.
    """
    rng = np.random.default_rng(seed)
    horizon = days * 86_400.0
    n = rng.poisson(rate * horizon)
    t = np.sort(rng.uniform(0.0, horizon, n))
    v = rng.exponential(offered_wait_mean, n)
    p = rng.exponential(patience_mean, n)
    sigma2 = np.log1p(service_cv**2)
    s = rng.lognormal(np.log(service_mean) - sigma2 / 2, np.sqrt(sigma2), n)
    ab = p < v
    agent = np.array([f"A{k}" for k in rng.integers(0, agents, n)], dtype=object)
    cust = np.arange(n)
    rows = [
        pd.DataFrame({"customer": cust, "event": "arrival", "time": t}),
        pd.DataFrame({"customer": cust, "event": "queue", "time": t}),
        pd.DataFrame({"customer": cust[ab], "event": "abandon", "time": (t + p)[ab]}),
        pd.DataFrame(
            {"customer": cust[~ab], "event": "start", "time": (t + v)[~ab], "agent": agent[~ab]}
        ),
        pd.DataFrame(
            {"customer": cust[~ab], "event": "end", "time": (t + v + s)[~ab], "agent": agent[~ab]}
        ),
    ]
    ev = pd.concat(rows, ignore_index=True).sort_values("time", kind="stable")
    ev["class"] = np.where(ev["customer"] % 4 == 0, "vip", "std")
    ev["station"] = "contact"
    return ev.reset_index(drop=True)


@pytest.fixture(scope="session")
def trace() -> pd.DataFrame:
    return synthetic_events()


@pytest.fixture(scope="session")
def make_trace():
    return synthetic_events
