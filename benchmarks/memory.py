"""Peak memory of a long run: 10 million customers in bounded memory.

The engine keeps streaming statistics only (counters and running sums; no
per-customer records unless ``interval=`` or ``trace=True`` asks for them), so
memory should not grow with the number of customers. This script simulates
an M/M/10 queue at utilisation 0.9 long enough for about 10 million arrivals,
in a fresh subprocess, and prints that process's peak resident set size
(``resource.getrusage``) next to its size after importing simlib.

Run: ``python benchmarks/memory.py [customers]`` (default 10,000,000; about a
minute on one core). The target is a peak under 300 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import simlib
from simlib.engine import simulate

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

customers = int(sys.argv[1])
rate = 9.0  # per minute; 10 servers with mean service 1 minute: rho = 0.9
scn = simlib.load_scenario({
    "name": "mm10-long", "horizon": customers / rate, "warmup": 100.0,
    "classes": [{"name": "c", "arrivals": {"rate": rate}}],
    "stations": [{"name": "s", "servers": 10, "service": {"dist": "exponential", "mean": 1.0}}],
})
after_import = peak_mb()
start = time.perf_counter()
record = simulate(scn, seed=1, replication=0)
seconds = time.perf_counter() - start
print(json.dumps({"after_import_mb": after_import, "peak_mb": peak_mb(), "seconds": seconds,
                  "arrivals": record.metrics["system"]["arrivals"],
                  "mean_wait": record.metrics["system"]["mean_wait"]}))
"""


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    wall = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(customers)], check=True,
                         capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    wall = time.perf_counter() - wall
    rate = result["arrivals"] / result["seconds"]
    print(f"M/M/10 at rho=0.9, {result['arrivals']:,.0f} customers in {result['seconds']:.1f} s "
          f"({rate:,.0f} customers/s; {wall:.1f} s with start-up)")
    print(f"peak RSS {result['peak_mb']:.0f} MB (after import {result['after_import_mb']:.0f} MB; "
          f"target < 300 MB): {'OK' if result['peak_mb'] < 300 else 'ABOVE TARGET'}")
    print(f"mean wait {result['mean_wait']:.4f} min (Erlang C: 0.6687)")


if __name__ == "__main__":
    main()
