"""Multi-skill speed: simlib's agent pools against a hand-written SimPy model, in one run.

The same contact centre (3 classes, 2 pools, overflow delays, patience,
longest-idle agent selection; about 0.8 of its 9 agents busy) is simulated
in this process by

* simlib, with every metric of docs/metrics.md for station, classes, pools
  and the system;
* an equivalent SimPy model written by hand the way a SimPy user would: one
  process per call, idle agents per pool as lists of idle-since times, one
  list of waiting calls scanned in arrival order, ``any_of`` over the
  call's grant, patience and overflow events; it records only the waits.

Each model runs once to warm up, then ``--repeat`` times; the median run
gives its calls per second. It prints both and the ratio (issue 15, item 7).
Run: ``python benchmarks/multiskill.py [--horizon T] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import simpy

import simlib

POOLS = {"general": 6, "specialist": 3}
#: class -> (arrival rate, patience mean, pools in order, overflow_after, {pool: mean service})
CLASSES: dict[str, tuple[float, float, tuple[str, ...], float, dict[str, float]]] = {
    "regular": (1.6, 4.0, ("general", "specialist"), 0.5, {"general": 3.0, "specialist": 3.5}),
    "stock": (0.6, 4.0, ("specialist", "general"), 1.0, {"specialist": 2.0, "general": 4.0}),
    "internet": (0.4, 4.0, ("specialist", "general"), 0.0, {"specialist": 2.5, "general": 3.0}),
}


def scenario(horizon: float) -> simlib.Scenario:
    def exp(mean: float) -> dict[str, Any]:
        return {"dist": "exponential", "mean": mean}

    return simlib.load_scenario({
        "name": "bench-multiskill",
        "horizon": horizon,
        "classes": [{"name": k, "arrivals": {"rate": lam}, "patience": exp(pat)}
                    for k, (lam, pat, _, _, _) in CLASSES.items()],
        "stations": [{
            "name": "contact",
            "pools": [{"name": p, "servers": n,
                       "service": {k: exp(v[4][p]) for k, v in CLASSES.items() if p in v[2]}}
                      for p, n in POOLS.items()],
            "selection": "longest_idle",
            "policies": {k: {"pools": list(v[2]), "overflow_after": v[3]} for k, v in CLASSES.items()},
        }],
        "targets": {"service_level": {"threshold": 0.33, "target": 0.8}},
    })


def run_simlib(horizon: float, seed: int) -> int:
    res = simlib.run(scenario(horizon), replications=1, seed=seed, progress=False)
    return int(res.runs[0]["system"]["arrivals"])


def run_simpy(horizon: float, seed: int) -> int:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    idle = {p: [0.0] * n for p, n in POOLS.items()}
    waiting: list[tuple[str, float, simpy.Event]] = []  # (class, arrival time, grant)
    waits: list[float] = []

    def pick(pools: tuple[str, ...]) -> str | None:
        best = None
        for p in pools:
            if idle[p] and (best is None or idle[p][0] < idle[best][0]):
                best = p
        return best

    def call(k: str):
        t0 = env.now
        _, pat, pools, delay, means = CLASSES[k]
        need = {p: rng.exponential(means[p]) for p in pools}
        patience = env.timeout(rng.exponential(pat))
        pool = pick(pools if delay == 0 else pools[:1])
        if pool is not None:
            idle[pool].pop(0)
        else:
            entry = (k, t0, env.event())
            waiting.append(entry)
            overflow = env.timeout(delay) if delay > 0 else None
            while pool is None:
                watch: list[simpy.Event] = [entry[2], patience]
                fired = yield env.any_of(watch + ([overflow] if overflow is not None else []))
                if entry[2].triggered:
                    pool = entry[2].value
                elif patience in fired:
                    waiting.remove(entry)
                    waits.append(env.now - t0)
                    return
                else:
                    overflow = None
                    pool = pick(pools)
                    if pool is not None:
                        waiting.remove(entry)
                        idle[pool].pop(0)
        waits.append(env.now - t0)
        yield env.timeout(need[pool])
        for entry in waiting:
            _, _, listed, wait_for, _ = CLASSES[entry[0]]
            if pool == listed[0] or (pool in listed and env.now - entry[1] >= wait_for):
                waiting.remove(entry)
                entry[2].succeed(pool)
                return
        idle[pool].append(env.now)

    def source(k: str, rate: float):
        while True:
            yield env.timeout(rng.exponential(1 / rate))
            env.process(call(k))

    for k, v in CLASSES.items():
        env.process(source(k, v[0]))
    env.run(until=horizon)
    return len(waits)


def measure(fn, horizon: float, repeat: int) -> tuple[float, int]:
    fn(horizon / 10, seed=0)  # warm: imports, caches, the first allocation of everything
    rates, calls = [], 0
    for k in range(repeat):
        start = time.perf_counter()
        calls = fn(horizon, seed=k + 1)
        rates.append(calls / (time.perf_counter() - start))
    return statistics.median(rates), calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=float, default=40_000.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rates = {}
    for name, fn in (("simlib (full metrics)", run_simlib), ("hand-written SimPy", run_simpy)):
        rate, calls = measure(fn, args.horizon, args.repeat)
        rates[name] = rate
        print(f"{name:24s} {calls:>9,d} calls  {rate:>11,.0f} calls/s (median of {args.repeat})")
    ratio = rates["simlib (full metrics)"] / rates["hand-written SimPy"]
    print(f"simlib / hand-written SimPy = {ratio:.2f}")


if __name__ == "__main__":
    main()
