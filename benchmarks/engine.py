"""Engine speed: simlib against a minimal SimPy model and Ciw, measured in one run.

The same M/M/c queue (lambda = 9, mu = 1, c = 10, about 225,000 customers) is
simulated in this process by

* simlib, with every metric of docs/metrics.md for station, class and system;
* a minimal hand-written SimPy model: one generator process per customer and a
  ``simpy.Resource``, recording only the waits (what most scripts do);
* Ciw, the queueing-network library.

It prints customers per second for each and the ratios. Targets (issue 2):
simlib >= 0.8 x the minimal SimPy model and >= 2 x Ciw.
Run: ``python benchmarks/engine.py [--horizon T] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import simpy

import simlib

ARRIVAL_RATE, SERVICE_RATE, SERVERS = 9.0, 1.0, 10


def scenario(horizon: float) -> simlib.Scenario:
    return simlib.load_scenario(
        {
            "name": "bench-mmc",
            "horizon": horizon,
            "warmup": 0,
            "classes": [{"name": "c", "arrivals": {"rate": ARRIVAL_RATE}}],
            "stations": [
                {"name": "s", "servers": SERVERS,
                 "service": {"dist": "exponential", "mean": 1 / SERVICE_RATE}}
            ],
            "targets": {"service_level": {"threshold": 0.2, "target": 0.8}},
        }
    )


def run_simlib(horizon: float, seed: int) -> int:
    res = simlib.run(scenario(horizon), replications=1, seed=seed, progress=False)
    return int(res.runs[0]["system"]["arrivals"])


def run_minimal_simpy(horizon: float, seed: int) -> int:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)
    waits: list[float] = []

    def customer(env: simpy.Environment):
        arrive = env.now
        with servers.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(rng.exponential(1 / SERVICE_RATE))

    def source(env: simpy.Environment):
        while True:
            yield env.timeout(rng.exponential(1 / ARRIVAL_RATE))
            env.process(customer(env))

    env.process(source(env))
    env.run(until=horizon)
    return len(waits)


def run_ciw(horizon: float, seed: int) -> int:
    import ciw

    ciw.seed(seed)  # Ciw's own generator; this benchmark process owns it
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=ARRIVAL_RATE)],
        service_distributions=[ciw.dists.Exponential(rate=SERVICE_RATE)],
        number_of_servers=[SERVERS],
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(horizon)
    return len(sim.get_all_records())


def measure(fn, horizon: float, repeat: int) -> tuple[float, int]:
    best = float("inf")
    customers = 0
    for k in range(repeat):
        start = time.perf_counter()
        customers = fn(horizon, seed=k + 1)
        best = min(best, time.perf_counter() - start)
    return customers / best, customers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=float, default=25_000.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ciw-horizon", type=float, default=None,
                        help="horizon for Ciw (default: same as the others)")
    args = parser.parse_args()
    rates = {}
    for name, fn, horizon, repeat in (
        ("simlib (full metrics)", run_simlib, args.horizon, args.repeat),
        ("minimal SimPy", run_minimal_simpy, args.horizon, args.repeat),
        ("Ciw", run_ciw, args.ciw_horizon or args.horizon, 1),
    ):
        rate, customers = measure(fn, horizon, repeat)
        rates[name] = rate
        print(f"{name:24s} {customers:>9,d} customers  {rate:>11,.0f} customers/s")
    simlib_rate = rates["simlib (full metrics)"]
    print(f"simlib / minimal SimPy = {simlib_rate / rates['minimal SimPy']:.2f}  (target >= 0.8, goal >= 2)")
    print(f"simlib / Ciw           = {simlib_rate / rates['Ciw']:.2f}  (target >= 2)")


if __name__ == "__main__":
    main()
