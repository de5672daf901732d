"""Time to calibrate the bank month and to validate out of sample (issue 12, item 8).

Run: ``python benchmarks/calibrate.py``. Measures, in one process, reading
the CSV, ingestion (validation, call table, event table), calibration of all
28 days (profiles, service fits and hourly profiles per class, censored ML
and Kaplan-Meier patience per class, agents on duty and effective agents,
after-call work, Poisson and Erlang-A checks) and the scenario dict (target
under 5 s); then the out-of-sample protocol: calibrate on the weekdays of
1-14 February, validate on those of 15-28 February with 40 replications of
10-day groups on 2 worker processes (target under 2 minutes). Module imports
are timed separately (paid once per session).
"""

from __future__ import annotations

import time

TARGET_S = 5.0
TARGET_VALIDATION_S = 120.0


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
    weekdays = sorted(set(cal.staffing["day"]) & set(sc.calibrate(log, day_type="weekday").days))
    first = [d for d in weekdays if d < 14]
    second = [d for d in weekdays if d >= 14]
    t6 = time.perf_counter()
    val = sc.out_of_sample(log, first, second, replications=40, seed=1, jobs=2)
    t7 = time.perf_counter()
    cov = ", ".join(f"{m} {c:.0%}" for m, c in val.coverage.items())
    print(
        f"out of sample      {t7 - t6:6.2f} s  (1-14 -> 15-28 Feb, 40 x {len(second)} days, 2 jobs; "
        f"coverage {cov})  target < {TARGET_VALIDATION_S:.0f} s  "
        f"{'OK' if t7 - t6 < TARGET_VALIDATION_S else 'TOO SLOW'}"
    )


if __name__ == "__main__":
    main()
