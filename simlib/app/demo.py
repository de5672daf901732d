"""``make demo``: the Erlang C call centre, simulated and checked against theory.

The bundled ``call_centre.yaml`` is Call Centre Helper's worked Erlang C
example: 100 calls per 30 minutes, a 3-minute average handling time, 14
agents, a target of 80% of calls answered within 20 seconds. It is an M/M/14
queue, so every simulated number has an exact counterpart. The demo

1. simulates the scenario (20 replications, seed 1) and prints the station's
   metrics with their 95% intervals next to Erlang C;
2. re-staffs it with 12–16 agents and prints the simulated service level
   against Erlang C (13 agents miss the target, 14 meet it);
3. writes ``figures/demo_call_centre.png`` (service level against agents).

Run it with ``python -m simlib.app.demo`` (a few seconds).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd

import simlib
from simlib.plots.queueing import save_figure, simulated_vs_theory
from simlib.spec.units import SECONDS_PER_UNIT
from simlib.studies import teaching

__all__ = ["main", "REPLICATIONS", "SEED", "AGENTS"]

ROOT = Path(simlib.__file__).resolve().parents[1]
SCENARIO = ROOT / "data" / "scenarios" / "call_centre.yaml"
FIGURES = ROOT / "figures"

REPLICATIONS = 20
SEED = 1
AGENTS = range(12, 17)

_SHOWN = (
    "throughput",
    "p_wait",
    "mean_wait",
    "service_level",
    "utilization",
    "mean_queue",
    "mean_in_system",
    "mean_sojourn",
)


def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.4f}"


def _duration(value: float, unit: str) -> str:
    # Service-level thresholds are quoted in seconds in contact centres.
    return f"{value * SECONDS_PER_UNIT[unit]:.0f} s" if unit == "minute" else f"{value:g} {unit}s"


def _comparison_lines(table: pd.DataFrame) -> list[str]:
    """An aligned text table: metric, simulated mean, 95% CI, theory."""
    head = f"{'metric':<16}{'simulated':>11}  {'95% CI':<21}{'Erlang C':>10}"
    lines = [head, "-" * len(head)]
    for row in table.itertuples(index=False):
        ci = f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]"
        flag = "" if row.covered else "  (outside CI)"
        lines.append(f"{row.metric:<16}{_fmt(row.mean):>11}  {ci:<21}{_fmt(row.theory):>10}{flag}")
    return lines


def _staffing_lines(table: pd.DataFrame, target: float) -> list[str]:
    sl = table[table["metric"] == "service_level"]
    head = f"{'agents':>6}{'simulated SL':>14}  {'95% CI':<21}{'Erlang C':>10}  meets {target:.0%}"
    lines = [head, "-" * len(head)]
    for row in sl.itertuples(index=False):
        ci = f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]"
        meets = "yes" if row.theory >= target else "no"
        lines.append(
            f"{row.servers:>6}{_fmt(row.mean):>14}  {ci:<21}{_fmt(row.theory):>10}  {meets}"
        )
    return lines


def main() -> int:
    """Run the demo and print its tables; returns the process exit status."""
    start = time.perf_counter()
    scn = simlib.load_scenario(SCENARIO)
    station = scn.stations[0]
    assert scn.service_level is not None  # the bundled scenario sets the 80/20 target
    threshold, target = scn.service_level.threshold, scn.service_level.target

    res = simlib.run(scn, replications=REPLICATIONS, seed=SEED)
    theory = teaching.erlang_c_theory(scn)
    table = teaching.compare_with_theory(res, theory, station.name, _SHOWN)
    print(
        f"{scn.name}: {station.servers} agents, {scn.horizon:g} {scn.time_unit}s observed, "
        f"{REPLICATIONS} replications, seed {SEED}"
    )
    within = _duration(threshold, scn.time_unit)
    print(f"service level = share answered within {within}; times in {scn.time_unit}s\n")
    print("\n".join(_comparison_lines(table)))

    staffing = teaching.staffing_study(
        scn, AGENTS, replications=REPLICATIONS, seed=SEED, metrics=("service_level",)
    )
    print(f"\nStaffing: service level (target {target:.0%} within {within})\n")
    print("\n".join(_staffing_lines(staffing, target)))

    fig = simulated_vs_theory(
        staffing,
        "servers",
        "service_level",
        target=target,
        xlabel="agents",
        title=f"{scn.name}: service level vs agents",
    )
    path = save_figure(fig, "demo_call_centre", FIGURES)
    print(f"\nwrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
