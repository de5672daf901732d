"""Segments as a latent mixture, with their own patience (issue 14).

Each new customer of a class belongs to segment s with probability π_s, drawn
on its own generator; a segment may set its own patience. The oracle is the
M/M/c/K+M queue whose waiting customers carry the patience rate of their
segment: a continuous-time Markov chain on (busy servers, the segments of the
queue in FCFS order), solved exactly below (it reduces to Erlang A when the
segments' rates are equal, which is checked first). Its per-segment
abandonment probability is the abandonment flow of the segment over its
arrival flow.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import SCENARIOS, assert_oracle, known_controls, single_station

import simlib
from simlib.engine.replication import build_network
from simlib.theory.queueing import erlang_a

BANK = SCENARIOS / "bank_value_chain.yaml"


def mixture_abandonment(lam: float, mu: float, c: int, k: int, shares: tuple[float, ...],
                        rates: tuple[float, ...]) -> tuple[list[float], float]:
    """Per-segment P(abandon) and P(blocked) of M/M/c/K+M with segment patience rates."""
    states = [(b, ()) for b in range(c)] + [
        (c, q) for n in range(k + 1) for q in itertools.product(range(len(shares)), repeat=n)]
    index = {s: i for i, s in enumerate(states)}
    gen = np.zeros((len(states), len(states)))
    for (b, q), i in index.items():
        for s, p in enumerate(shares):
            if b < c:
                gen[i, index[b + 1, ()]] += lam * p
            elif len(q) < k:
                gen[i, index[c, (*q, s)]] += lam * p
        if b:
            gen[i, index[(c, q[1:]) if q else (b - 1, ())]] += b * mu
        for j, s in enumerate(q):
            gen[i, index[c, q[:j] + q[j + 1:]]] += rates[s]
    np.fill_diagonal(gen, -gen.sum(axis=1))
    lhs = np.vstack([gen.T, np.ones(len(states))])
    pi = np.linalg.lstsq(lhs, np.r_[np.zeros(len(states)), 1.0], rcond=None)[0]
    abandon = [sum(pi[index[st]] * st[1].count(s) * rates[s] for st in states) / (lam * p)
               for s, p in enumerate(shares)]
    blocked = sum(pi[index[st]] for st in states if st[0] == c and len(st[1]) == k)
    return abandon, float(blocked)


def test_the_oracle_is_erlang_a_when_the_segments_are_alike():
    ab, blocked = mixture_abandonment(2.4, 1.0, 2, 8, (0.3, 0.7), (2.0, 2.0))
    ref = erlang_a(2.4, 1.0, 2, 0.5)
    assert blocked < 1e-5
    assert ab == pytest.approx([ref["p_abandon"]] * 2, rel=1e-4)
    ab, _ = mixture_abandonment(2.4, 1.0, 2, 4, (0.4, 0.6), (2.0, 0.5))
    assert ab[0] > 2 * ab[1]  # the oracle itself tells the segments apart


SHARES, MEANS, RATE = (0.4, 0.6), (0.5, 1.0), 3.0


class Recording:
    """A sampler that keeps what it handed out."""

    def __init__(self, sampler) -> None:
        self.sampler, self.drawn = sampler, []

    def next(self) -> float:
        x = self.sampler.next()
        self.drawn.append(x)
        return x


def mixture(horizon: float = 3000.0, class_patience: dict | None = None, **segment: dict) -> dict:
    data = single_station(rate=RATE, servers=2, horizon=horizon, warmup=50, queue_capacity=4)
    if class_patience is not None:
        data["classes"][0]["patience"] = class_patience
    data["quality"] = {"segments": {"c": [
        {"name": name, "share": share,
         **segment.get(name, {"patience": {"dist": "exponential", "mean": mean}})}
        for name, share, mean in zip(("impatient", "patient"), SHARES, MEANS, strict=True)]}}
    return data


@pytest.mark.statistical
@pytest.mark.filterwarnings("ignore::simlib.experiments.CapacityWarning")
def test_segment_shares_and_their_own_patience_against_the_mixture_oracle():
    """32 replications of 1,500 time units (about 4,500 customers each): the share of the
    first segment against π = 0.4 and each segment's abandonment share against the oracle,
    Bonferroni over the three, with the arrivals per replication as a control variate and
    the power of tests/support.py (a 3% bias in any of them is detected with probability
    >= 0.9: half-widths must be <= ±2.13%; reached ±1.0%, ±1.3%, ±1.8%)."""
    scn = simlib.load_scenario(mixture(horizon=1500))
    res = simlib.run(scn, replications=32, seed=3, progress=False)
    c = res.customers()
    per = c.groupby(["replication", "segment"]).abandoned.agg(["mean", "size"]).unstack()
    share = per["size"]["impatient"] / per["size"].sum(axis=1)
    theory, blocked = mixture_abandonment(RATE, 1.0, 2, 4, SHARES, tuple(1 / m for m in MEANS))
    assert_oracle({
        "share.impatient": (share.to_numpy(), SHARES[0]),
        "impatient.p_abandon": (per["mean"]["impatient"].to_numpy(), theory[0]),
        "patient.p_abandon": (per["mean"]["patient"].to_numpy(), theory[1]),
    }, known_controls(res, {("system", "arrivals"): RATE * 1500}))
    assert abs(c.blocked.mean() - blocked) < 0.1 * blocked  # the same queue, seen by both


@pytest.mark.filterwarnings("ignore::simlib.experiments.CapacityWarning")
def test_a_segment_without_patience_keeps_the_class_s_and_the_class_s_draws_stay_aligned():
    """A segment that sets no patience keeps the class's; one that does draws on its own
    generator, while the class's patience is drawn all the same at every visit (common
    random numbers): the class's draws are the same sequence (up to the run's last
    arrivals, which depend on when the system empties)."""
    exp1 = {"dist": "exponential", "mean": 1.0}
    at_once = {"patience": {"dist": "deterministic", "value": 1e-9}}
    base = simlib.load_scenario(mixture(horizon=400, class_patience=exp1, impatient={}, patient={}))
    own = simlib.load_scenario(mixture(horizon=400, class_patience=exp1, impatient=at_once, patient={}))
    drawn = []
    for scn in (base, own):
        network = build_network(scn, seed=4)
        assert (network.own_patience is None) == (scn is base)
        network.classes[0].patience = Recording(network.classes[0].patience)
        network.run()
        drawn.append(network.classes[0].patience.drawn)
    n = min(len(d) for d in drawn)
    assert n > 900 and drawn[0][:n] == drawn[1][:n] and abs(len(drawn[0]) - len(drawn[1])) <= 2
    c = simlib.run(own, replications=1, seed=4, progress=False).customers()
    imp = c.segment == "impatient"
    # Who has to wait among the impatient leaves at once; the others keep the class's patience.
    assert c[imp].abandoned.any() and (c[imp].wait < 1e-6).all()
    assert c[~imp].abandoned.any() and (c[~imp][c[~imp].abandoned].wait > 1e-3).mean() > 0.9


def test_segment_expectations_act_customer_by_customer():
    """Common random numbers: a stricter zone of tolerance for one segment lowers that
    segment's responsiveness customer by customer and leaves the other segment's rows as
    they were (no retention, so nothing feeds back on operations)."""
    def data(adequate: float) -> dict:
        d = simlib.load_scenario(BANK).to_dict()
        del d["retention"]
        d["horizon"] = 600
        d["quality"]["segments"] = {"customer": [
            {"name": "strict", "share": 0.3, "expected_wait": 2, "adequate_wait": adequate},
            {"name": "relaxed", "share": 0.7}]}
        return d
    a = simlib.run(simlib.load_scenario(data(8.0)), replications=1, seed=6, progress=False).customers()
    b = simlib.run(simlib.load_scenario(data(2.0)), replications=1, seed=6, progress=False).customers()
    assert (a.segment.to_numpy() == b.segment.to_numpy()).all()
    strict, late = a.segment == "strict", a.perceived_wait > 2.0
    assert (b[strict & late].responsiveness.to_numpy() < a[strict & late].responsiveness.to_numpy()).all()
    assert (b[strict & ~late].responsiveness.to_numpy() == a[strict & ~late].responsiveness.to_numpy()).all()
    cols = ["responsiveness", "satisfaction", "wait"]
    assert (b[~strict][cols].to_numpy() == a[~strict][cols].to_numpy()).all()


@pytest.mark.parametrize(
    "segments, message",
    [
        ([{"name": "a", "share": 0.5, "patience": {"dist": "exponential"}}, {"name": "b", "share": 0.5}],
         "quality.segments.c[0].patience"),
        ([{"name": "a", "share": 0.5}, {"name": "a", "share": 0.5}], "segment names must be unique"),
        ([{"name": "a", "share": 1.5}], "between 0 and 1"),
    ],
)
def test_segment_keys_are_validated_in_one_line(segments, message):
    data = single_station()
    data["quality"] = {"segments": {"c": segments}}
    with pytest.raises(simlib.ScenarioError) as info:
        simlib.load_scenario(data)
    text = str(info.value)
    assert message in text and "\n" not in text
