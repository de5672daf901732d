"""The quality layer of a replication: encounters, failures, experience, returns, money.

When a scenario has any of the optional blocks ``quality``, ``failures``,
``retention`` or ``economics`` (:mod:`simlib.spec.quality`), the service
network hands its customers to this layer at five points:

* a customer is created (``on_new``): expectations are set — the class's, or
  the updated ones a returning customer brings back — and the crowding they
  find is noted;
* a customer arrives at a station (``on_arrive``): the station is remembered,
  so station-level satisfaction means "customers who passed through here";
* a service starts (``on_start``): the wait before it is filed as
  pre-process (before the first service), in-process or recovery; the
  encounter with staff is scored from their courtesy, competence and training
  and from how loaded the station is (stress) — a recovery encounter is kept
  apart, as the recovery's quality — and whether the service will fail is
  drawn from a logistic model of competence, training and load;
* a service ends (``after_service``): a failed service detours to its
  recovery station (or is repeated); after the recovery the journey continues
  from the station that failed, whether the recovery succeeded is drawn, and
  the share of the failure's loss it restores is set from the recovery's
  quality, speed and justice (:class:`~simlib.spec.quality.RecoverySpec`);
* a customer leaves (``on_leave``): the experience model
  (:func:`simlib.engine.experience.evaluate`) turns what happened into perceptions and
  satisfaction, the customer may complain and may decide to return, in which
  case a new arrival is scheduled with updated expectations (the retention
  loop of the service-profit chain).

A new customer of a class with segments is drawn into one (its own
generator of the ``quality`` stream, so no other draw moves); a segment with
its own patience replaces the class's patience draw at every visit (the
``patience`` hook; the segment's values come from its own generator of the
``patience`` stream, and the class's value is drawn all the same, so other
customers' patience stays as it was); with word of mouth, a new customer's
expected wait moves towards an exponentially smoothed average of the waits
recent customers of the class experienced.

With a ``word_of_mouth`` block, a departing customer tells others: a
satisfied one brings referred new customers (scheduled after a delay, like a
returning customer), a dissatisfied one deters prospective new customers (each
turns away the next spontaneous arrival of the class, through ``admit``), so
the arrival rate of new customers moves with the service they hear about (the
acquisition side of the chain).

With ``quality.residents``, each new customer is one of the residents, drawn uniformly
(a returning customer stays who they were); at a station that a ``continuity`` indicator
names, a :class:`~simlib.engine.carers.CarerRoster` names the carer of every service
(``on_start``) and frees them when it ends (``on_release``, the one hook the network
calls only for a layer that tells servers apart), and each customer's continuity is read
from it when they leave.

Random numbers come from the ``quality``, ``failures``, ``retention``,
``word_of_mouth``, ``residents`` and ``carers`` streams, so switching the quality model on
leaves arrivals, services, patience and routing unchanged (common random numbers).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from simpy.events import Event

from simlib.engine.carers import CarerRoster
from simlib.engine.events import Host, Metrics, Outcome, Step
from simlib.engine.experience import Visit, evaluate, reference_wait
from simlib.engine.rng import BlockSampler
from simlib.spec.quality import CUSTOMER_COLUMNS, DIMENSIONS, STAFF_REFERENCE

__all__ = ["QualityLayer", "CUSTOMER_COLUMNS", "customer_columns", "poisson_count"]

_SUB = ("attitude", "behaviour", "expertise", "ambient", "design", "social", "waiting",
        "tangibles_outcome", "valence")



def customer_columns(quality: Any) -> tuple[str, ...]:
    """The columns of the experience rows under the quality block ``quality``: those of
    :data:`CUSTOMER_COLUMNS`, then ``resident`` (1..N) when ``quality.residents`` is set,
    then one per setting indicator (``quality.indicators``, NaN for a customer of a class
    the indicator does not cover)."""
    indicators = quality.indicators if quality is not None else None
    resident = ("resident",) if quality is not None and quality.residents is not None else ()
    return (*CUSTOMER_COLUMNS, *resident, *(ind.name for ind in indicators or ()))


class _Normal:
    """Standard normal draws in blocks (duck-types a Distribution for BlockSampler)."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.standard_normal(size)


class _Unit:
    """Uniform(0, 1) draws in blocks."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.random(size)


#: What a referred new customer brings to ``on_new`` (nothing but being new).
_REFERRED = ("referred",)


def poisson_count(u: float, mean: float) -> int:
    """The Poisson(``mean``) count whose CDF first exceeds the uniform ``u`` (inversion:
    one uniform per customer, so the stream stays aligned across variants)."""
    p = math.exp(-mean)
    cdf, n = p, 0
    while u >= cdf and n < 1000:
        n += 1
        p *= mean / n
        cdf += p
    return n


class _State:
    """Quality-model state of one customer."""

    __slots__ = (
        "expected_wait", "promised_wait", "levels", "present", "encounters", "stations",
        "served", "failed", "fail_here", "recovering", "recovery_p", "origin", "recovered",
        "returning", "segment", "desired", "adequate", "dim_weights", "curve", "wait_pre",
        "wait_in", "wait_rec", "starts", "failures", "t_fail", "rec_quality", "prior_failures",
        "resident",
    )
    expected_wait: float
    promised_wait: float | None
    levels: tuple[float, ...]
    present: int
    encounters: list[tuple[float, float, float]]
    stations: list[Any]
    served: bool
    failed: bool
    fail_here: bool
    recovering: bool
    recovery_p: float
    origin: Any
    recovered: bool | None
    returning: bool
    segment: int
    desired: float | None
    adequate: float | None
    dim_weights: tuple[float, ...] | None
    curve: Any
    wait_pre: float
    wait_in: float
    wait_rec: float
    starts: int
    failures: list[list[float]]
    t_fail: float
    rec_quality: float
    prior_failures: int
    resident: int


def _file_wait(q: _State, wait: float) -> None:
    """File a wait as recovery (on a failure's detour), pre-process (before the first
    service) or in-process (between services)."""
    if q.recovering:
        q.wait_rec += wait
    elif q.starts == 0:
        q.wait_pre += wait
    else:
        q.wait_in += wait


class _Tally:
    """Sums behind the quality metrics of one scope."""

    def __init__(self) -> None:
        self.n = 0
        self.served = 0
        self.failed = 0
        self.recovered = 0
        self.complaints = 0
        self.returns = 0
        self.referred = 0
        self.deterred = 0
        self.satisfaction = 0.0
        self.perceived = 0.0
        self.dims = [0.0] * len(DIMENSIONS)

    def add(self, other: _Tally) -> None:
        for key in ("n", "served", "failed", "recovered", "complaints", "returns",
                    "referred", "deterred", "satisfaction", "perceived"):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        self.dims = [a + b for a, b in zip(self.dims, other.dims, strict=True)]


class QualityLayer:
    """Experience, failures, retention and economics for one service network.

    It implements the :class:`~simlib.engine.events.Hooks` a network calls and
    sees the network through :class:`~simlib.engine.events.Host`.
    """

    def __init__(self, network: Host) -> None:
        scn = network.scenario
        by_name = {st.name: st for st in network.stations}
        self.network = network
        self.quality = scn.quality
        self.retention = scn.retention
        self.economics = scn.economics
        streams = network.streams
        self.normal = streams.sampler("quality", ("experience",), _Normal())  # type: ignore[arg-type]
        self.complaint_draw = streams.sampler("quality", ("complaints",), _Unit())  # type: ignore[arg-type]
        self.failure_draw: dict[int, BlockSampler] = {}
        self.recovery_draw = streams.sampler("failures", ("recovery",), _Unit())  # type: ignore[arg-type]
        self.failure: dict[int, Any] = {}
        self.detour: dict[int, Any] = {}
        self.staff: dict[int, Any] = {}
        self.encounter_base: dict[int, tuple[float, float, float]] = {}
        #: The internal chain: smoothed workload, when it was last updated, and the staff
        #: satisfaction met at counted service starts (sum, count), per station with one.
        self.internal: dict[int, Any] = {}
        self.workload: dict[int, list[float]] = {}
        self.staff_satisfaction: dict[int, list[float]] = {}
        for st in network.stations:
            staff = scn.staff.get(st.name)
            self.staff[st.index] = staff
            courtesy = staff.courtesy if staff else STAFF_REFERENCE
            competence = staff.competence if staff else STAFF_REFERENCE
            training = staff.training if staff else STAFF_REFERENCE
            self.encounter_base[st.index] = (
                courtesy, (courtesy + competence) / 2, (competence + training) / 2
            )
            if staff is not None and staff.internal is not None:
                self.internal[st.index] = staff.internal
                self.workload[st.index] = [0.0, 0.0]
                self.staff_satisfaction[st.index] = [0.0, 0.0]
            fs = scn.failures.get(st.name)
            if fs is not None:
                self.failure[st.index] = fs
                self.failure_draw[st.index] = streams.sampler("failures", st.name, _Unit())  # type: ignore[arg-type]
                self.detour[st.index] = st if fs.to == "repeat" else by_name[fs.to]
        self.return_draw: dict[int, BlockSampler] = {}
        self.return_delay: dict[int, BlockSampler] = {}
        if self.retention is not None:
            delay = self.retention.delay
            assert delay is not None  # the scenario parser requires a retention delay
            for k in network.classes:
                self.return_draw[k.index] = streams.sampler("retention", k.name, _Unit())  # type: ignore[arg-type]
                self.return_delay[k.index] = streams.sampler(
                    "retention", ("delay", k.name), delay
                )
        self.wom = scn.word_of_mouth
        self.wom_draw: dict[int, BlockSampler] = {}
        self.wom_delay: dict[int, BlockSampler] = {}
        #: Deterred prospects per class not yet met by a spontaneous arrival.
        self.deterred = [0] * len(network.classes)
        if self.wom is not None:
            assert self.wom.delay is not None  # the scenario parser requires a delay
            for k in network.classes:
                self.wom_draw[k.index] = streams.sampler("word_of_mouth", k.name, _Unit())  # type: ignore[arg-type]
                self.wom_delay[k.index] = streams.sampler(
                    "word_of_mouth", f"delay/{k.name}", self.wom.delay)
        self.segments: dict[int, tuple[Any, ...]] = {}
        self.segment_cum: dict[int, list[float]] = {}
        self.segment_draw: dict[int, BlockSampler] = {}
        #: Patience of the segments that set their own, by (class index, segment index): each
        #: on its own generator of the ``patience`` stream, so the class's draws stay aligned.
        self.segment_patience: dict[tuple[int, int], BlockSampler] = {}
        #: Word of mouth: the smoothed wait recent customers of each class met.
        self.heard: dict[int, float] = {}
        if self.quality is not None:
            for k in network.classes:
                segs = (self.quality.segments or {}).get(k.name)
                if segs:
                    self.segments[k.index] = segs
                    cum, total = [], 0.0
                    for seg in segs:
                        total += seg.share
                        cum.append(total)
                    cum[-1] = 1.0
                    self.segment_cum[k.index] = cum
                    self.segment_draw[k.index] = streams.sampler(
                        "quality", f"segments/{k.name}", _Unit())  # type: ignore[arg-type]
                    for i, seg in enumerate(segs):
                        if seg.patience is not None:
                            self.segment_patience[k.index, i] = streams.sampler(
                                "patience", ("segment", k.name, seg.name), seg.patience)
                self.heard[k.index] = self.quality.expectations[k.name].expected_wait
        self.own_patience = bool(self.segment_patience)
        #: Setting indicators: (spec, class indices it covers); per class, [sum, n] by indicator.
        self.indicators: list[tuple[Any, set[int]]] = []
        for ind in (self.quality.indicators or ()) if self.quality is not None else ():
            covered = {k.index for k in network.classes if ind.classes is None or k.name in ind.classes}
            self.indicators.append((ind, covered))
        self.indicator_tally = [[[0.0, 0] for _ in self.indicators] for _ in network.classes]
        #: Residents: the number N and each class's draw of who a new customer is (its own
        #: generator of the ``residents`` stream, so no other draw moves).
        self.residents = self.quality.residents if self.quality is not None else None
        self.resident_draw: dict[int, BlockSampler] = {}
        if self.residents is not None:
            for k in network.classes:
                self.resident_draw[k.index] = streams.sampler(
                    "residents", k.name, _Unit())  # type: ignore[arg-type]
        #: Named carers (simlib.engine.carers) at each station a continuity indicator names.
        self.carers: dict[int, CarerRoster] = {}
        for ind, covered in self.indicators:
            if ind.kind != "continuity":
                continue
            st = by_name[ind.station]
            roster = self.carers.get(st.index)
            if roster is None:
                roster = self.carers[st.index] = CarerRoster(
                    st, streams.sampler("carers", st.name, _Unit()),  # type: ignore[arg-type]
                    set(), [] if network.visits is not None else None)
            if ind.prefer == "previous":
                roster.prefer_previous |= covered
        #: The roster each indicator reads (None for kinds other than continuity).
        self.indicator_carers: list[Any] = [
            self.carers[by_name[ind.station].index] if ind.kind == "continuity" else None
            for ind, _ in self.indicators]
        #: The network calls on_release only when some station's carers are named.
        self.names_servers = bool(self.carers)
        self.class_tally = [_Tally() for _ in network.classes]
        self.station_tally = [_Tally() for _ in network.stations]
        #: Experience rows of counted customers (CUSTOMER_COLUMNS), when the quality block is on.
        self.rows: list[tuple] = []

    # ------------------------------------------------------------------ hooks

    def admit(self, k: Any) -> bool:
        if self.wom is None or not self.deterred[k.index]:
            return True
        self.deterred[k.index] -= 1
        now = self.network.env.now
        if self.network.window_start <= now < self.network.window_end:
            self.class_tally[k.index].deterred += 1
        return False

    def on_new(self, c: Any, returning: tuple[Any, ...] | None) -> None:
        if returning is _REFERRED:
            returning = None
            if c.counted:
                self.class_tally[c.kind.index].referred += 1
        q = _State()
        spec = self.quality
        expect = spec.expectations[c.kind.name] if spec is not None else None
        q.segment = -1
        q.prior_failures = 0
        q.resident = 0
        if self.residents is not None:
            # Drawn for every customer, a returning one too, so the stream stays aligned.
            u = self.resident_draw[c.kind.index].next()
            q.resident = 1 + int(u * self.residents)
        if returning is not None:
            q.expected_wait, q.levels, q.prior_failures, q.segment, resident = returning
            if resident:
                q.resident = resident  # the same resident comes back
            q.returning = True
            if self.network.visits is not None:
                self.network.returning.add(c.ident)
        elif expect is not None:
            segs = self.segments.get(c.kind.index)
            if segs:
                u = self.segment_draw[c.kind.index].next()
                cum = self.segment_cum[c.kind.index]
                i = 0
                while u >= cum[i]:
                    i += 1
                q.segment = i
            q.returning = False
        else:
            q.returning = False
        seg = self.segments[c.kind.index][q.segment] if q.segment >= 0 else None
        if seg is not None:
            expect = seg.expectations
        if returning is None:
            q.expected_wait = expect.expected_wait if expect is not None else 0.0
            q.levels = expect.levels if expect is not None else ()
            if spec is not None and spec.waiting.word_of_mouth > 0:
                wom = spec.waiting.word_of_mouth
                q.expected_wait = max((1 - wom) * q.expected_wait + wom * self.heard[c.kind.index], 1e-9)
        q.promised_wait = expect.promised_wait if expect is not None else None
        q.desired = expect.desired_wait if expect is not None else None
        q.adequate = expect.adequate_wait if expect is not None else None
        q.dim_weights = seg.dimension_weights if seg is not None else None
        q.curve = seg.retention if seg is not None and seg.retention is not None else self.retention
        q.present = len(self.network.present)
        q.encounters = []
        q.stations = []
        q.served = q.failed = q.fail_here = q.recovering = False
        q.recovered = None
        q.recovery_p = 0.0
        q.origin = None
        q.wait_pre = q.wait_in = q.wait_rec = 0.0
        q.starts = 0
        q.failures = []
        q.t_fail = 0.0
        q.rec_quality = 0.0
        c.q = q

    def on_arrive(self, c: Any, st: Any) -> None:
        c.q.stations.append(st)

    def patience(self, c: Any, limit: float | None) -> float | None:
        """A segment's own patience replaces the class's draw (which was made all the same,
        so the class's stream stays aligned)."""
        own = self.segment_patience.get((c.kind.index, c.q.segment))
        return own.next() if own is not None else limit

    def on_start(self, c: Any, st: Any) -> None:
        q = c.q
        roster = self.carers.get(st.index)
        if roster is not None:
            roster.start(c.ident, c.kind.index, q.resident, c.t_start)
        q.served = True
        _file_wait(q, c.t_start - c.t_in)
        q.starts += 1
        # Pressure the server feels: the other customers in service plus those
        # waiting, per scheduled server (0 for a lone customer at a free desk).
        load = (st.busy - 1 + st.n_waiting) / st.capacity if st.capacity > 0 else 1.0
        if self.quality is not None:
            spec = self.quality
            overload = min(1.0, max(0.0, load - spec.stress_threshold) / spec.stress_range)
            factor = 1 - self.quality.stress * overload
            a, b, e = self.encounter_base[st.index]
            inner = self.internal.get(st.index)
            if inner is not None:
                a, b, e = self._internal(c, st, inner, load)
            if q.recovering:
                # The recovery is its own episode: its staff set the recovery's
                # quality, not the customer's view of the service staff.
                q.rec_quality = (a * factor + b * factor + e) / 3
            else:
                q.encounters.append((a * factor, b * factor, e))
        fs = self.failure.get(st.index)
        if fs is not None and not q.recovering:
            q.fail_here = self.failure_draw[st.index].next() < fs.probability_at(
                self.staff[st.index], load
            )

    def on_release(self, c: Any, st: Any) -> None:
        roster = self.carers.get(st.index)
        if roster is not None:
            roster.release(c.ident, self.network.env.now)

    def _internal(self, c: Any, st: Any, inner: Any, load: float) -> tuple[float, float, float]:
        """The internal chain at a service start: update the staff's smoothed workload and
        return the encounter levels of staff as satisfied as that workload leaves them."""
        w = self.workload[st.index]
        now = self.network.env.now
        w[0] += (1 - math.exp(-(now - w[1]) / inner.window)) * (load - w[0])
        w[1] = now
        d = inner.dissatisfaction(w[0])
        if c.visit_counted:
            tally = self.staff_satisfaction[st.index]
            tally[0] += 1 - d
            tally[1] += 1
        staff = self.staff[st.index]
        courtesy = staff.courtesy * (1 - inner.courtesy_loss * d)
        competence = staff.competence * (1 - inner.turnover_loss * d)
        return courtesy, (courtesy + competence) / 2, (competence + staff.training) / 2

    def after_service(self, c: Any, st: Any) -> tuple[Any, Any]:
        q = c.q
        if q.recovering:
            q.recovering = False
            q.recovered = self.recovery_draw.next() < q.recovery_p
            origin = q.origin
            if self.quality is not None and q.failures:
                fs = self.failure[origin.index]
                reference = reference_wait(self.quality, q.expected_wait, q.promised_wait)
                took = self.network.env.now - q.t_fail
                speed = reference / (reference + took) if reference + took > 0 else 1.0
                q.failures[-1][2] = self.quality.recovery.restoration(
                    bool(q.recovered), q.rec_quality, speed, fs.explanation, fs.apology,
                    fs.compensation,
                )
            if c.counted:
                # Recovery outcomes belong to the station whose service failed.
                origin.n_recoveries += 1
                origin.n_recovered += q.recovered
            if st is origin and c.visit_counted:
                st.n_repeats += 1  # a repeated service is not a first attempt
            return None, origin
        if q.fail_here:
            q.fail_here = False
            q.failed = True
            if c.visit_counted:
                st.n_failed += 1
            q.recovering = True
            q.origin = st
            fs = self.failure[st.index]
            q.recovery_p = fs.recovery_success
            q.failures.append([len(q.encounters) - 1, fs.severity, 0.0])
            q.t_fail = self.network.env.now
            return self.detour[st.index], st
        return None, st

    def on_leave(self, c: Any, now: float, outcome: int) -> None:
        q = c.q
        counted = c.counted
        k = c.kind
        if self.quality is None:
            if counted:
                self._tally(c, None, False, False)
            return
        spec = self.quality
        if spec.waiting.word_of_mouth > 0:
            s = spec.waiting.word_of_mouth_smoothing
            self.heard[k.index] = (1 - s) * self.heard[k.index] + s * c.wait_total
        if not counted and self.retention is None and self.wom is None:
            self._forget(c)
            return  # nobody will see this customer's experience
        if outcome == Outcome.ABANDONED:
            name = "abandoned"
        elif outcome == Outcome.BLOCKED:
            name = "blocked"
        elif q.failed:
            name = "recovered" if q.recovered else "unrecovered"
        else:
            name = "served"
        # The wait of a customer who gave up in a queue is not yet filed.
        rest = c.wait_total - q.wait_pre - q.wait_in - q.wait_rec
        if rest > 1e-12:
            _file_wait(q, rest)
        normal = self.normal
        noise = [normal.next() for _ in range(16)]
        failures = [(int(i), s, r) for i, s, r in q.failures]
        visit = Visit(
            q.levels, q.expected_wait, q.promised_wait, q.wait_pre, q.wait_in, q.wait_rec,
            q.present, q.encounters, name, failures, q.prior_failures, q.desired, q.adequate,
            q.dim_weights,
        )
        exp = evaluate(spec, visit, noise)
        complained = (
            exp.satisfaction < spec.complaint_threshold
            and self.complaint_draw.next() < spec.complaint_propensity
        )
        returns = False
        if self.retention is not None:
            r = self.retention
            returns = self.return_draw[k.index].next() < q.curve.probability(exp.loyalty)
            if returns:
                learn = r.learning
                new_wait = max((1 - learn) * q.expected_wait + learn * c.wait_total, 1e-9)
                new_levels = tuple(
                    (1 - learn) * e + learn * exp.servqual[d]
                    for e, d in zip(q.levels, DIMENSIONS, strict=True)
                )
                self._schedule_return(
                    k, (new_wait, new_levels, q.prior_failures + len(q.failures), q.segment,
                        q.resident)
                )
        if self.wom is not None:
            self._tell(k, exp.satisfaction)
        scores = self._score(c, now, outcome) if counted and self.indicators else ()
        self._forget(c)
        resident = (q.resident,) if self.residents is not None else ()
        if counted:
            self._tally(c, exp, complained, returns)
            segs = self.segments.get(k.index)
            restored = (sum(f[2] for f in failures) / len(failures)) if failures else math.nan
            self.rows.append(
                (
                    c.ident, k.name, *(exp.servqual[d] for d in DIMENSIONS), *q.levels,
                    *(exp.sub[s] for s in _SUB), exp.primary["interaction"],
                    exp.primary["environment"], exp.primary["outcome"], exp.perceived_quality,
                    exp.satisfaction, outcome == Outcome.ABANDONED, outcome == Outcome.BLOCKED, q.failed,
                    bool(q.recovered), complained, returns, q.returning, c.wait_total,
                    q.expected_wait, c.t_arrive - self.network.window_start,
                    segs[q.segment].name if segs and q.segment >= 0 else "", exp.perceived_wait,
                    restored, exp.paradox, *resident, *scores,
                )
            )

    def _forget(self, c: Any) -> None:
        """The customer left: the carers no longer need their first services."""
        for roster in self.carers.values():
            roster.forget(c.ident)

    def _schedule_return(self, k: Any, state: tuple[Any, ...]) -> None:
        network = self.network
        delay_sampler = self.return_delay[k.index]
        Step(network.env, delay_sampler.next(), self._return, (k, state))

    def _return(self, event: Event) -> None:
        payload: Any = event.value
        k, state = payload
        self.network.new_customer(k, returning=state)

    def _score(self, c: Any, now: float, outcome: int) -> list[float]:
        """The setting's own quality indicators for one counted customer, tallied and
        returned (NaN for an indicator that does not cover the customer's class)."""
        q = c.q
        served = outcome == Outcome.COMPLETED
        names = {st.name for st in q.stations}
        tally = self.indicator_tally[c.kind.index]
        scores = []
        for i, (ind, covered) in enumerate(self.indicators):
            if c.kind.index in covered:
                if ind.kind == "continuity":
                    x = self.indicator_carers[i].continuity(c.ident, ind.prefer)
                    if x != x:  # NaN: not served there, or the resident's first service there
                        scores.append(x)
                        continue
                else:
                    x = ind.score(q.wait_pre, now - c.t_arrive, served, q.failed,
                                  len(q.stations), len(names), names)
                tally[i][0] += x
                tally[i][1] += 1
                scores.append(x)
            else:
                scores.append(math.nan)
        return scores

    def _tell(self, k: Any, satisfaction: float) -> None:
        """Word of mouth of one departing customer: referred or deterred new customers."""
        wom = self.wom
        assert wom is not None
        u = self.wom_draw[k.index].next()  # drawn for everyone: the stream stays aligned
        if satisfaction >= wom.satisfied:
            n, positive = poisson_count(u, wom.referrals), True
        elif satisfaction < wom.dissatisfied:
            n, positive = poisson_count(u, wom.referrals * wom.negative_ratio), False
        else:
            return
        env = self.network.env
        for _ in range(n):
            Step(env, self.wom_delay[k.index].next(), self._heard, (k, positive))

    def _heard(self, event: Event) -> None:
        payload: Any = event.value
        k, positive = payload
        if positive:
            self.network.new_customer(k, returning=_REFERRED)
        else:
            self.deterred[k.index] += 1

    def _tally(self, c: Any, exp: Any, complained: bool, returns: bool) -> None:
        q = c.q
        targets = [self.class_tally[c.kind.index]]
        seen = set()
        for st in q.stations:
            if st.index not in seen:
                seen.add(st.index)
                targets.append(self.station_tally[st.index])
        for t in targets:
            t.n += 1
            t.served += q.served
            t.failed += q.failed
            t.recovered += bool(q.recovered)
            t.complaints += complained
            t.returns += returns
            if exp is not None:
                t.satisfaction += exp.satisfaction
                t.perceived += exp.perceived_quality
                for i, d in enumerate(DIMENSIONS):
                    t.dims[i] += exp.servqual[d]

    # ------------------------------------------------------------------ metrics

    def add_metrics(self, out: Metrics) -> None:
        """Add the quality, failure, retention and money metrics to every scope."""
        network = self.network
        econ = self.economics
        h = network.scenario.horizon
        system = _Tally()
        for t in self.class_tally:
            system.add(t)
        wages_total = 0.0
        for st, t in zip(network.stations, self.station_tally, strict=True):
            wages = 0.0
            if econ is not None:
                wages = (econ.wage_per_server_hour * econ.hours_per_time_unit
                         * st.spec.server_time(0.0, h))
                wages_total += wages
            self._write(out[st.name], t, station=st, wages=wages)
        customer_costs = 0.0
        revenue_total = 0.0
        for k, t in zip(network.classes, self.class_tally, strict=True):
            revenue, costs = self._money(k, t)
            revenue_total += revenue
            customer_costs += costs
            self._write(out[k.name], t, revenue=revenue, cost=costs)
        self._write(out["system"], system, revenue=revenue_total,
                    cost=customer_costs + wages_total)
        # Indicators come last so that one named like a metric is refused, not written over it
        # (the metrics a scenario reports depend on its blocks, so the names are known only here).
        for i, (ind, _) in enumerate(self.indicators):
            if ind.name in out["system"]:
                raise ValueError(f"quality.indicators.{ind.name}: is the name of a metric this "
                                 "scenario reports; give the indicator another name")
            total, n = 0.0, 0
            for k in network.classes:
                s, m = self.indicator_tally[k.index][i]
                total, n = total + s, n + m
                out[k.name][ind.name] = s / m if m else float("nan")
            out["system"][ind.name] = total / n if n else float("nan")

    def _money(self, k: Any, t: _Tally) -> tuple[float, float]:
        econ = self.economics
        if econ is None:
            return 0.0, 0.0
        # As in simlib.planning.costs: without a retention model, abandoning or blocked customers are lost.
        lost = (t.n - t.returns) if self.retention is not None else k.n_abandoned + k.n_blocked
        revenue = econ.revenue_per_service * k.n_completed
        cost = (econ.cost_per_abandonment * k.n_abandoned
                + econ.cost_per_complaint * t.complaints
                + econ.cost_per_lost_customer * lost)
        return revenue, cost

    def _write(self, m: dict[str, float], t: _Tally, station: Any = None,
               wages: float | None = None, revenue: float | None = None,
               cost: float | None = None) -> None:
        nan = float("nan")
        if self.quality is not None:
            m["satisfaction"] = t.satisfaction / t.n if t.n else nan
            m["perceived_quality"] = t.perceived / t.n if t.n else nan
            for i, d in enumerate(DIMENSIONS):
                m[d] = t.dims[i] / t.n if t.n else nan
        if self.failure:
            if station is not None:
                # A station's own rate: failures per first attempt there, and the share of
                # its failures whose recovery succeeded (NaN where it has no failures block).
                first_attempts = station.n_completed - station.n_repeats
                own = station.index in self.failure
                m["p_failure"] = station.n_failed / first_attempts if own and first_attempts else nan
                m["p_recovered"] = (
                    station.n_recovered / station.n_recoveries if own and station.n_recoveries else nan
                )
            else:
                # Customers: the share of those served who met at least one failure, and
                # the share of those whose (last) recovery succeeded.
                m["p_failure"] = t.failed / t.served if t.served else nan
                m["p_recovered"] = t.recovered / t.failed if t.failed else nan
        if self.quality is not None:
            m["p_complaint"] = t.complaints / t.n if t.n else nan
        if self.retention is not None:
            m["p_return"] = t.returns / t.n if t.n else nan
        if station is not None and station.index in self.internal:
            tally = self.staff_satisfaction[station.index]
            m["staff_satisfaction"] = tally[0] / tally[1] if tally[1] else nan
        if self.wom is not None and station is None:
            m["referred"] = float(t.referred)
            m["deterred"] = float(t.deterred)
        if self.economics is not None:
            if station is not None:
                m["cost"] = wages or 0.0
            else:
                m["revenue"] = revenue or 0.0
                m["cost"] = cost or 0.0
                m["profit"] = (revenue or 0.0) - (cost or 0.0)
