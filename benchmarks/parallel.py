"""Speed-up of the executors: 16 replications with jobs=1, jobs=2 and Dask.

A replication is a pure function of (scenario, seed, r), so replications
spread over processes give identical results; what remains to measure is how
much faster they are. The model is the bank's contact centre (M/M/14, one
skill) observed for a long day, so one replication takes a few hundred
milliseconds: about the size where parallelism starts to pay.

Printed: seconds and speed-up of ``jobs=2`` against ``jobs=1`` (warm: the
forkserver already running, as in every experiment after the first in a
session; and cold: including its start), and of a Dask ``LocalCluster`` with
two single-threaded worker processes (the cluster started beforehand, its
start-up time printed separately). Targets: jobs=2 at least 1.8x on two
cores; Dask within 15% of jobs=2. Ratios come from one run on a possibly
busy machine; the script checks that all executors give identical results.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import simlib

ROOT = Path(__file__).resolve().parents[1]
REPLICATIONS = 16


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    from distributed import LocalCluster

    scn = simlib.load_scenario(ROOT / "data" / "scenarios" / "call_centre.yaml")
    scn = scn.with_overrides({"horizon": 24_000})  # 50 days: ~80,000 calls per replication
    kw = dict(replications=REPLICATIONS, seed=1, progress=False)
    print(f"{REPLICATIONS} replications of {scn.name} (horizon {scn.horizon:g} min); "
          f"{os.cpu_count()} cores")
    cold, two_cold = timed(lambda: simlib.run(scn, jobs=2, **kw))
    one_s, one = timed(lambda: simlib.run(scn, jobs=1, **kw))
    two_s, two = timed(lambda: simlib.run(scn, jobs=2, **kw))
    start_s, cluster = timed(lambda: LocalCluster(n_workers=2, threads_per_worker=1,
                                                  processes=True, dashboard_address=":0"))
    with cluster:
        simlib.run(scn, replications=2, seed=99, executor="dask",
                   address=cluster.scheduler_address, progress=False)  # workers import simlib
        dask_s, dask = timed(lambda: simlib.run(scn, executor="dask",
                                                address=cluster.scheduler_address, **kw))
    assert one.runs == two.runs == two_cold.runs == dask.runs, "executors disagree"
    print(f"jobs=1              {one_s:6.2f} s   1.00x")
    print(f"jobs=2 (warm)       {two_s:6.2f} s   {one_s / two_s:.2f}x   (target >= 1.8x)")
    print(f"jobs=2 (cold start) {cold:6.2f} s   {one_s / cold:.2f}x")
    print(f"Dask LocalCluster(2){dask_s:6.2f} s   {one_s / dask_s:.2f}x   "
          f"({two_s / dask_s:.0%} of jobs=2; target >= 85%); cluster start-up {start_s:.1f} s")
    print("results identical on every executor: yes")


if __name__ == "__main__":
    main()
