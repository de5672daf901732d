"""Ingestion: the bundled bank log, validation errors, the event layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simlib.calibrate as sc

# ---------------------------------------------------------------- facts of data/callcentre/README.md


def test_bank_raw_facts_of_the_readme():
    raw = sc.load_bank()
    assert len(raw) == 33_344
    assert raw["outcome"].value_counts().to_dict() == {
        "AGENT": 27_162,
        "HANG": 5_904,
        "PHANTOM": 278,
    }
    assert raw["date"].min() == "1999-02-01" and raw["date"].max() == "1999-02-28"
    assert (raw["q_time"] > 0).mean() == pytest.approx(0.55, abs=0.005)
    waited = raw[raw["q_time"] > 0]
    assert (waited["outcome"] == "HANG").mean() == pytest.approx(0.215, abs=0.0005)
    served = raw[raw["outcome"] == "AGENT"]
    assert served["ser_time"].mean() == pytest.approx(176, abs=0.5)
    assert served["ser_time"].median() == 107


def test_bank_ingested(bank):
    assert bank.n_rows == 33_344
    assert bank.dropped == {"ignore:PHANTOM": 278}
    calls = bank.calls
    assert len(calls) == 33_344 - 278
    assert calls["outcome"].value_counts()[["served", "abandoned"]].tolist() == [27_162, 5_904]
    assert calls["customer"].is_unique
    assert calls["day"].min() == 0 and calls["day"].max() == 27
    assert bank.origin == pd.Timestamp("1999-02-01")
    # 50 served calls have no service times; the others match ser_time exactly.
    assert calls.loc[calls["outcome"] == "served", "service"].isna().sum() == 50
    assert np.nanmedian(calls["service"]) == 107
    assert (calls["wait"].dropna() >= 0).all() and (calls["service"].dropna() >= 0).all()


def test_bank_midnight_crossing_is_unwrapped(bank):
    raw = sc.load_bank()
    # Call AA0101-... served from 23:59:43 to 0:01:28 (105 s) on the next day.
    row = raw[(raw["ser_start"] == "23:59:43") & (raw["ser_exit"] == "0:01:28")].iloc[0]
    call = bank.calls.set_index("customer").loc[f"{row['vru_line']}-{row['call_id']}"]
    assert call["service"] == 105 == row["ser_time"]
    assert call["service_end"] > call["service_start"]


# ---------------------------------------------------------------- validation errors

MAP = sc.ColumnMap(
    arrival="arr",
    queue_start="qs",
    queue_exit="qe",
    service_start="ss",
    service_end="se",
    outcome="out",
    agent="agent",
    date="date",
    queue_time="qt",
    outcome_codes={"OK": "served", "HUP": "abandoned", "TEST": "ignore"},
    missing=("0:00:00",),
)


def good_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": ["2024-03-04"] * 4,
            "arr": ["8:00:00", "8:01:00", "8:02:00", "23:59:50"],
            "qs": ["8:00:00", "8:01:00", "0:00:00", "23:59:50"],
            "qe": ["8:00:30", "8:02:00", "0:00:00", "0:00:10"],
            "ss": ["8:00:30", "0:00:00", "8:02:00", "0:00:10"],
            "se": ["8:03:30", "0:00:00", "8:04:00", "0:01:10"],
            "out": ["OK", "HUP", "OK", "OK"],
            "agent": ["ann", None, "bob", "ann"],
            "qt": [30, 60, 0, 20],
        }
    )


def test_good_log_values():
    res = sc.ingest(good_log(), MAP)
    c = res.calls
    assert c["wait"].tolist() == [30.0, 60.0, 0.0, 20.0]
    assert c["service"].tolist()[0] == 180.0 and np.isnan(c["service"].iloc[1])
    assert c["service"].iloc[3] == 60.0  # crossed midnight
    assert c["abandoned"].tolist() == [False, True, False, False]
    assert c["arrival"].iloc[0] == 8 * 3600
    ev = res.events
    assert set(ev.columns) >= {"customer", "class", "station", "event", "time", "agent", "date"}
    assert ev["event"].value_counts()[["arrival", "queue", "start", "end", "abandon"]].tolist() == [
        4,
        3,
        3,
        3,
        1,
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("qe", "8:0x:30", "unparseable time in column 'qe': 1 row(s), e.g. row 0: qe='8:0x:30'"),
        ("se", "8:00:10", "service ends before it starts: 1 row(s), e.g. row 0"),
        ("qt", -5, "negative duration in column 'qt': 1 row(s)"),
        ("out", "WHAT", "unknown outcome code(s) ['WHAT']"),
    ],
)
def test_errors_name_the_problem_count_and_examples(column, value, message):
    log = good_log()
    log[column] = log[column].astype(object)
    log.loc[0, column] = value
    with pytest.raises(sc.IngestError) as err:
        sc.ingest(log, MAP)
    text = str(err.value)
    assert message in text
    assert "\n" not in text


def test_error_counts_all_bad_rows():
    log = good_log()
    log["arr"] = ["8:00:00", "junk", "more junk", "23:59:50"]
    with pytest.raises(
        sc.IngestError, match=r"column 'arr': 2 row\(s\), e.g. row 1: arr='junk'; row 2"
    ):
        sc.ingest(log, MAP)


def test_drop_mode_and_ignored_records_are_counted():
    log = pd.concat([good_log()] * 2, ignore_index=True)
    log.loc[0, "se"] = "8:00:10"  # ends before start
    log.loc[1, "out"] = "TEST"  # ignored record
    log.loc[2, "out"] = "BAD"
    res = sc.ingest(log, MAP, errors="drop")
    assert len(res.calls) == 5
    assert res.dropped["ignore:TEST"] == 1
    assert res.dropped["service ends before it starts"] == 1
    assert sum(v for k, v in res.dropped.items() if k.startswith("unknown outcome")) == 1


def test_missing_columns_and_dates():
    with pytest.raises(sc.IngestError, match="columns not in the log: queue_time='qt'"):
        sc.ingest(good_log().drop(columns="qt"), MAP)
    m = sc.ColumnMap(arrival="arr", service_start="ss", service_end="se", missing=("0:00:00",))
    with pytest.raises(sc.IngestError, match="map a date column"):
        sc.ingest(good_log(), m)


def test_numeric_seconds_without_outcome():
    log = pd.DataFrame({"a": [0.0, 10.0, 20.0], "s": [1.0, np.nan, 25.0], "e": [4.0, np.nan, 30.0]})
    res = sc.ingest(log, sc.ColumnMap(arrival="a", service_start="s", service_end="e"))
    assert res.calls["outcome"].tolist() == ["served", "abandoned", "served"]
    assert res.calls["service"].tolist()[0] == 3.0


def test_queue_end_rebuilt_from_duration():
    # A queue entry at exactly midnight looks like the missing marker 0:00:00.
    log = good_log()
    log.loc[3, ["arr", "qs", "qe", "ss", "se", "qt"]] = [
        "0:00:00",
        "0:00:00",
        "0:00:20",
        "0:00:20",
        "0:01:00",
        20,
    ]
    c = sc.ingest(log, MAP).calls
    assert c["wait"].iloc[3] == 20.0 and c["queued"].iloc[3]


# ---------------------------------------------------------------- event layout round trip


def test_events_round_trip(make_trace):
    ev = make_trace(days=1)
    calls = sc.calls_from_events(ev)
    back = sc.calls_from_events(sc.events_from_calls(calls))
    cols = ["customer", "class", "arrival", "queue_start", "wait", "service", "abandoned", "agent"]
    pd.testing.assert_frame_equal(
        calls[cols].reset_index(drop=True), back[cols].reset_index(drop=True), check_dtype=False
    )


def test_calls_from_events_rules():
    ev = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2, 3, 3, 4],
            "class": "c",
            "station": "s",
            "event": [
                "arrival",
                "start",
                "end",
                "arrival",
                "abandon",
                "arrival",
                "block",
                "arrival",
            ],
            "time": [0.0, 5.0, 9.0, 1.0, 4.0, 2.0, 2.0, 3.0],
        }
    )
    c = sc.calls_from_events(ev).set_index("customer")
    # No queue events at all: waits are measured from the arrival.
    assert c.loc[1, "wait"] == 5.0 and c.loc[1, "service"] == 4.0
    assert c.loc[2, "wait"] == 3.0 and c.loc[2, "abandoned"]
    assert c.loc[3, "outcome"] == "blocked"
    assert c.loc[4, "outcome"] == "open" and np.isnan(c.loc[4, "wait"])
    with pytest.raises(ValueError, match="unknown event names"):
        sc.calls_from_events(ev.assign(event="arrive"))
    with pytest.raises(ValueError, match="pass station="):
        sc.calls_from_events(pd.concat([ev, ev.assign(station="t")]))


@pytest.mark.parametrize(
    ("arrival", "message"),
    [
        ([0.0, np.nan, 20.0], "missing time in column 'a': 1 row(s), e.g. row 1: a=nan"),
        ([0.0, np.inf, 20.0], "non-finite time in column 'a': 1 row(s), e.g. row 1: a=inf"),
        (pd.to_datetime(["2024-03-04 08:00", None, "2024-03-04 08:02"]),
         "missing time in column 'a': 1 row(s), e.g. row 1: a=NaT"),
    ],
)
def test_typed_arrival_columns_reject_missing_and_non_finite_times(arrival, message):
    # numeric and datetime columns skip the text parser but not the missing-value check:
    # a NaN arrival used to be kept with a meaningless day
    log = pd.DataFrame({"a": arrival, "s": arrival, "e": arrival})
    cmap = sc.ColumnMap(arrival="a", service_start="s", service_end="e")
    with pytest.raises(sc.IngestError) as err:
        sc.ingest(log, cmap)
    assert message in str(err.value) and "\n" not in str(err.value)
    res = sc.ingest(log, cmap, errors="drop")
    assert len(res.calls) == 2 and np.isfinite(res.calls["arrival"]).all()
    assert res.calls["day"].tolist() == [res.calls["day"].iloc[0]] * 2
