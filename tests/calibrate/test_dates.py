"""Dates and timestamps in call logs are read one certain way or refused with one line."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import simlib.calibrate as sc
from simlib.calibrate.dates import DateFormatError, far_from_the_rest, parse_datetimes

MAP = sc.ColumnMap(arrival="arr", service_start="ss", service_end="se", outcome="out",
                   date="date", outcome_codes={"OK": "served", "HUP": "abandoned"})


def log(dates: list[str]) -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame({"date": dates, "arr": ["8:00:00"] * n, "ss": ["8:00:10"] * n,
                         "se": ["8:02:00"] * n, "out": ["OK"] * n})


def test_day_first_dates_are_recognised_when_a_day_exceeds_12():
    res = sc.ingest(log(["03/12/2024", "13/12/2024", "14/12/2024"]), MAP)
    assert res.origin == pd.Timestamp("2024-12-03")
    assert res.calls["day"].tolist() == [0, 10, 11]


def test_month_first_dates_are_recognised_when_a_month_position_exceeds_12():
    res = sc.ingest(log(["03/12/2024", "03/13/2024", "03/14/2024"]), MAP)
    assert res.origin == pd.Timestamp("2024-03-12")
    assert res.calls["day"].tolist() == [0, 1, 2]


def test_ambiguous_dates_are_refused_naming_the_column_and_the_option():
    with pytest.raises(sc.IngestError, match=r"column 'date': dates such as '03/12/2024' can be "
                                             r"read day-first or month-first; give "
                                             r"ColumnMap\(date_format="):
        sc.ingest(log(["03/12/2024", "04/12/2024"]), MAP)


def test_a_date_format_settles_the_ambiguity():
    res = sc.ingest(log(["03/12/2024", "04/12/2024"]), dataclasses.replace(MAP, date_format="%d/%m/%Y"))
    assert res.origin == pd.Timestamp("2024-12-03") and res.calls["day"].tolist() == [0, 1]


def test_dates_written_both_ways_are_refused():
    with pytest.raises(DateFormatError, match="both day-first and month-first"):
        parse_datetimes(pd.Series(["13/01/2024", "01/13/2024"]), "d")


def test_dates_that_read_the_same_both_ways_need_no_format():
    res = sc.ingest(log(["01/01/2024", "02/02/2024"]), MAP)
    assert res.calls["day"].tolist() == [0, 32]


def test_a_mistyped_year_is_reported_as_an_outlier_not_a_longer_log():
    dates = [f"1999-02-{d:02d}" for d in range(1, 29)] * 3 + ["1900-02-10"]
    with pytest.raises(sc.IngestError, match=r"date far outside the log's range in column "
                                             r"'date': 1 row\(s\), e.g. row 84: date='1900-02-10'"):
        sc.ingest(log(dates), MAP)
    res = sc.ingest(log(dates), MAP, errors="drop")
    assert res.origin == pd.Timestamp("1999-02-01")
    assert res.calls["day"].max() == 27 and len(res.calls) == 84


def test_outliers_rule_on_a_hand_worked_example():
    days = np.array([0.0, 1, 2, 3, 30, 40, 95, np.nan])
    # central range 0.06..88.5 (1st-99th percentile), margin max(31, 88.4): nothing is far
    assert not far_from_the_rest(days).any()
    days = np.concatenate([np.arange(100.0), [-500.0, 300.0]])
    flagged = far_from_the_rest(days)
    assert flagged.tolist() == [False] * 100 + [True, True]


def stamped(times: list[str]) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame({"arr": times, "ss": times, "se": times, "out": ["OK"] * n})


STAMP_MAP = sc.ColumnMap(arrival="arr", service_start="ss", service_end="se", outcome="out",
                         outcome_codes={"OK": "served"})


def test_one_fixed_offset_keeps_wall_clock_times():
    res = sc.ingest(stamped(["2024-03-01 08:00:00+01:00", "2024-03-01 09:30:00+01:00"]), STAMP_MAP)
    assert res.calls["arrival"].tolist() == [8 * 3600.0, 9.5 * 3600]


def test_mixed_time_zones_are_refused_unless_a_zone_is_given():
    times = ["2024-03-30 08:00:00+01:00", "2024-03-31 08:00:00+02:00"]
    with pytest.raises(sc.IngestError, match=r"column 'arr': mixes time zones \(\+01:00, \+02:00\); "
                                             r"give ColumnMap\(timezone=\.\.\.\)"):
        sc.ingest(stamped(times), STAMP_MAP)
    res = sc.ingest(stamped(times), dataclasses.replace(STAMP_MAP, timezone="Europe/Berlin"))
    # both are 8 a.m. local time in Berlin, on consecutive days (across the DST change)
    assert res.calls["arrival"].tolist() == [8 * 3600.0, 86_400 + 8 * 3600.0]


def test_times_with_and_without_a_zone_are_refused():
    with pytest.raises(sc.IngestError, match="some times carry a time zone and some do not"):
        sc.ingest(stamped(["2024-03-01 08:00:00+01:00", "2024-03-01 09:00:00"]), STAMP_MAP)


def test_an_unknown_zone_is_one_line():
    with pytest.raises(sc.IngestError, match="timezone: unknown time zone 'Mars/Olympus'"):
        sc.ColumnMap(arrival="a", timezone="Mars/Olympus")


def test_the_bundled_bank_log_reads_as_before(bank):
    assert bank.origin == pd.Timestamp("1999-02-01")
    assert bank.calls["day"].max() == 27


def test_dashed_day_first_dates_across_new_year_are_not_time_zones():
    res = sc.ingest(log(["31-12-2023", "01-01-2024", "13-01-2024"]), MAP)
    assert res.origin == pd.Timestamp("2023-12-31") and res.calls["day"].tolist() == [0, 1, 13]


def test_compact_dates_are_year_month_day():
    res = sc.ingest(log(["240312", "240313"]), MAP)  # pandas alone reads 240312 as 2012-03-24
    assert res.origin == pd.Timestamp("2024-03-12") and res.calls["day"].tolist() == [0, 1]
    with pytest.raises(sc.IngestError, match="compact dates of both 6 and 8 digits"):
        sc.ingest(log(["20240312", "240313"]), MAP)


def test_a_date_after_a_time_is_checked_for_ambiguity_too():
    with pytest.raises(DateFormatError, match="can be read day-first or month-first"):
        parse_datetimes(pd.Series(["10:00 03/04/2024", "10:00 05/04/2024"]), "c")


def test_one_offset_written_two_ways_is_one_zone():
    got = parse_datetimes(pd.Series(["2024-03-12 10:00+0100", "2024-03-12 11:00+01:00",
                                     "2024-03-12 12:00+01"]), "c")
    assert got.tolist() == [pd.Timestamp(f"2024-03-12 {h}:00") for h in (10, 11, 12)]
