"""Time to calibrate the whole bank month (issue 7, item 9: target under 5 s).

Run: ``python benchmarks/calibrate.py``. Measures, in one process, reading
the CSV, ingestion (validation, call table, event table), calibration of all
28 days (profiles, service fits per class, Kaplan-Meier patience per class,
agents on duty, Poisson and Erlang-A checks) and the scenario dict. Module
imports are timed separately (paid once per session).
"""

from __future__ import annotations

import time

TARGET_S = 5.0


def main() -> None:
    t0 = time.perf_counter()
    import lifelines  # noqa: F401  (imported lazily by the library; timed with imports)

    import simlib.calibrate as sc

    t1 = time.perf_counter()
    raw = sc.load_bank()
    t2 = time.perf_counter()
    log = sc.ingest(raw, sc.BANK_MAPPING)
    t3 = time.perf_counter()
    cal = sc.calibrate(log)
    t4 = time.perf_counter()
    sc.to_scenario(cal)
    t5 = time.perf_counter()
    total = t5 - t1
    print(f"imports            {t1 - t0:6.2f} s (once per session)")
    print(f"read CSV           {t2 - t1:6.2f} s ({len(raw):,} rows)")
    print(f"ingest             {t3 - t2:6.2f} s ({len(log.calls):,} calls)")
    print(f"calibrate (month)  {t4 - t3:6.2f} s ({len(cal.days)} days, {len(cal.classes)} classes)")
    print(f"to_scenario        {t5 - t4:6.2f} s")
    print(
        f"total              {total:6.2f} s  target < {TARGET_S:.0f} s  "
        f"ratio {total / TARGET_S:.2f} of the budget  {'OK' if total < TARGET_S else 'TOO SLOW'}"
    )


if __name__ == "__main__":
    main()
