"""Queue timelines, animations and swim-lane charts built from event traces.

The timeline of a hand-made deterministic case is checked count by count; on
random scenarios its time-average must equal the engine's own ``mean_queue``
and busy servers (two independent computations of the same integral); the
animation must have the frames asked for and play without a network.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from support import SCENARIOS

import simlib
from simlib.plots import animation
from simlib.studies import teaching


def hand_made(tmp_csv):
    # One server, service 3, patience 3.5, at most 2 waiting. By hand:
    #   c0 arrives 0, served 0-3;  c1 arrives 1, waits 1-3, served 3-6;
    #   c2 arrives 2, waits, abandons at 5.5;  c3 arrives 2.5, queue full: blocked;
    #   c4 arrives 4, waits 4-6, served 6-9.
    path = tmp_csv("arrivals.csv", "time\n0\n1\n2\n2.5\n4\n")
    spec = {
        "name": "hand", "horizon": 10, "warmup": 0,
        "classes": [{"name": "k", "arrivals": {"trace": str(path)},
                     "patience": {"dist": "deterministic", "value": 3.5}}],
        "stations": [{"name": "desk", "servers": 1, "queue_capacity": 2,
                      "service": {"dist": "deterministic", "value": 3}}],
    }
    scn = simlib.load_scenario(spec)
    return scn, simlib.run(scn, replications=1, seed=0, trace=True, progress=False)


def test_timeline_of_a_hand_made_case(tmp_csv):
    scn, res = hand_made(tmp_csv)
    tl = animation.queue_timeline(res.trace(), scn)
    assert list(tl.columns) == animation.TIMELINE_COLUMNS
    got = [(r.time, r.waiting, r.in_service) for r in tl.itertuples()]
    assert got == [
        (0.0, 0, 1),    # warm-up is 0: the empty start and c0's start collapse
        (1.0, 1, 1),
        (2.0, 2, 1),    # c3 at 2.5 is blocked: no change
        (3.0, 1, 1),    # c0 ends, c1 starts
        (4.0, 2, 1),
        (5.5, 1, 1),    # c2 abandons
        (6.0, 0, 1),    # c1 ends, c4 starts
        (9.0, 0, 0),
    ]
    assert (tl["in_system"] == tl["waiting"] + tl["in_service"]).all()
    assert (tl["servers"] == 1).all()
    # Area under the queue: 1 + 2 + 1 + 2*1.5 + 0.5 = 7.5 over a horizon of 10.
    lq = animation.time_average(tl, "waiting", 0, scn.horizon)[(0, "desk")]
    assert lq == pytest.approx(0.75)
    assert res.value("desk", "mean_queue") == pytest.approx(0.75)


def test_stays_pair_waits_and_services(tmp_csv):
    _, res = hand_made(tmp_csv)
    st = animation.stays(res.trace())
    waits = st[st.kind == "wait"].set_index("customer")
    assert waits.loc[2, "outcome"] == "abandoned" and waits.loc[2, "finish"] == 5.5
    assert list(waits.index) == [1, 2, 4]  # c0 never waited, c3 was blocked
    services = st[st.kind == "service"]
    assert list(services.customer) == [0, 1, 4]
    assert (services.finish - services.begin == 3).all()


@pytest.mark.parametrize("name", ["value_chain.yaml", "bank_value_chain.yaml", "bank_branch_day.yaml"])
def test_time_average_equals_the_engine_metrics(name):
    scn = simlib.load_scenario(SCENARIOS / name)
    res = simlib.run(scn, replications=2, seed=4, trace=True, progress=False, jobs=1)
    tl = animation.queue_timeline(res.trace(), scn)
    lq = animation.time_average(tl, "waiting", 0.0, scn.horizon)
    busy = animation.time_average(tl, "in_service", 0.0, scn.horizon)
    for r, run in enumerate(res.runs):
        for st in scn.stations:
            assert lq[(r, st.name)] == pytest.approx(run[st.name]["mean_queue"], rel=1e-9, abs=1e-12)
            # Busy server-time ÷ scheduled server-time: the mean of the
            # timeline's "servers" column is the scheduled mean.
            sched = animation.time_average(tl, "servers", 0.0, scn.horizon)[(r, st.name)]
            assert busy[(r, st.name)] / sched == pytest.approx(run[st.name]["utilization"], rel=1e-9)


def test_timeline_of_a_real_log_without_replication_column():
    trace = pd.DataFrame(
        {
            "customer": [1, 1, 2, 2, 1, 2, 2],
            "station": ["s"] * 7,
            "event": ["arrival", "start", "arrival", "queue", "end", "start", "end"],
            "time": [10.0, 10.0, 12.0, 12.0, 15.0, 15.0, 20.0],
        }
    )
    tl = animation.queue_timeline(trace)
    assert [(r.time, r.waiting, r.in_service) for r in tl.itertuples()] == [
        (10.0, 0, 1), (12.0, 1, 1), (15.0, 0, 1), (20.0, 0, 0)
    ]
    assert tl["servers"].isna().all() and (tl["replication"] == 0).all()


@pytest.fixture(scope="module")
def mm1_trace():
    scn = teaching.mmc_scenario(0.8, horizon=300, warmup=30)
    res = simlib.run(scn, replications=1, seed=2, trace=True, progress=False)
    return scn, res.trace()


def test_animation_frames_and_offline_html(mm1_trace):
    scn, trace = mm1_trace
    anim = animation.animate_queue(trace, scenario=scn, start=0, end=100, frames=7, dpi=40)
    assert len(list(anim.new_frame_seq())) == 7
    html = animation.to_html(anim)
    assert html.count("data:image/png;base64") == 7
    # No external resource: "://" cannot occur in base64 frame data, so any
    # occurrence would be a URL (matplotlib's player links a CDN stylesheet).
    assert "://" not in html
    assert "<link" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" in html  # it is the JavaScript player, not a static image


def test_animation_refuses_bad_arguments(mm1_trace):
    scn, trace = mm1_trace
    with pytest.raises(ValueError, match="station 'nowhere'"):
        animation.animate_queue(trace, station="nowhere")
    with pytest.raises(ValueError, match="frames"):
        animation.animate_queue(trace, frames=0)
    with pytest.raises(ValueError, match="empty window"):
        animation.animate_queue(trace, start=50, end=10)


def test_embed_limit_drops_frames(mm1_trace):
    scn, trace = mm1_trace
    anim = animation.animate_queue(trace, scenario=scn, frames=6, dpi=40)
    # A limit far below one frame keeps (at most) the first.
    html = animation.to_html(anim, embed_limit=1e-6)
    assert html.count("data:image/png;base64") < 6


def test_swimlane_has_one_lane_per_customer():
    scn = simlib.load_scenario(SCENARIOS / "bank_value_chain.yaml")
    trace = simlib.run(scn, replications=1, seed=1, trace=True, progress=False).trace()
    fig = animation.swimlane(trace, customers=12, scenario=scn)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 12
    ids = [int(x) for x in labels]
    first = trace.groupby("customer")["time"].min()
    assert (first[ids] >= 0).all() and list(first[ids]) == sorted(first[ids])
    # An explicit list, including an abandoning and a returning customer.
    chosen = [
        int(trace.loc[trace.event == "abandon", "customer"].iloc[0]),
        int(trace.loc[trace.event == "return", "customer"].iloc[0]),
        0,
    ]
    fig = animation.swimlane(trace, customers=chosen, scenario=scn)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [str(c) for c in chosen]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"abandon", "return (retention)", "contact"} <= set(legend)


def test_plot_timeline_draws_one_panel_per_station():
    scn = simlib.load_scenario(SCENARIOS / "value_chain.yaml")
    trace = simlib.run(scn, replications=1, seed=1, trace=True, progress=False).trace()
    tl = animation.queue_timeline(trace, scn)
    fig = animation.plot_timeline(tl, scenario=scn, end=120)
    assert len(fig.axes) == 3
    assert np.allclose(fig.axes[0].get_xlim(), (0, 120))
