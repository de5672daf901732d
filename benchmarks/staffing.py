"""Staffing-plan speed: analytic plans for 96 intervals and ISA for a 24-hour day.

Targets (issue 6): an analytic plan (SIPP, lagged SIPP, MOL) for 96 quarter-hour
intervals in under 50 ms; ISA for a 24-hour day in under 60 s on 2 cores.
The day is ``data/scenarios/call_centre_day.yaml`` (48 half-hour intervals,
lognormal service, abandonment); the 96-interval day re-plans it on 15-minute
intervals. Prints the median of several runs (analytic) and one ISA run, with its
iterations and replications.
Run: ``python benchmarks/staffing.py [--replications R] [--jobs J]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import simlib
from simlib.planning import staffing
from simlib.spec.targets import DelayTarget

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "call_centre_day.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200, help="ISA replications per iteration")
    parser.add_argument("--jobs", type=int, default=2, help="ISA worker processes")
    parser.add_argument("--repeat", type=int, default=20, help="analytic runs to take the median of")
    args = parser.parse_args()
    scn = simlib.load_scenario(SCENARIO)
    delay = DelayTarget(0.2)
    for method, target in [("sipp", delay), ("lagged-sipp", delay), ("mol", delay), ("mol", None)]:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            plan = staffing.staffing_plan(scn, method, target, interval=15)
            times.append(time.perf_counter() - t0)
        label = "P(wait) <= 0.2" if target else "80% in 20 s (Erlang A)"
        ms = 1e3 * statistics.median(times)
        print(f"{method:12s} {label:24s} {len(plan.table)} intervals: {ms:7.1f} ms "
              f"(target < 50 ms: {'ok' if ms < 50 else 'MISSED'})")
    t0 = time.perf_counter()
    plan = staffing.staffing_plan(scn, "isa", delay, replications=args.replications, seed=1,
                                  jobs=args.jobs)
    dt = time.perf_counter() - t0
    print(f"isa          P(wait) <= 0.2           {len(plan.table)} intervals: {dt:7.1f} s "
          f"({plan.iterations} iterations x {args.replications} replications, jobs={args.jobs}, "
          f"converged={plan.converged}; target < 60 s: {'ok' if dt < 60 else 'MISSED'})")


if __name__ == "__main__":
    main()
