"""Random streams are keyed by structured owners that cannot collide (issue 17).

Plain names and composites of names without ``/`` keep today's key (the
CRC-32 of the joined text), so existing scenarios draw the same numbers; a
name holding ``/`` or a second owner with an equal CRC gets an exact key.
"""

from __future__ import annotations

import zlib

import numpy as np

from simlib.engine import simulate
from simlib.engine.rng import STREAMS, StreamFactory
from simlib.spec.scenario import load_scenario


def test_plain_and_slash_free_composite_keys_are_unchanged():
    f = StreamFactory(3, 1)
    i = STREAMS.index("service")
    assert f.key("service", "desk") == (i, zlib.crc32(b"desk"))
    assert f.key("service", ("desk", "vip")) == (i, zlib.crc32(b"desk/vip"))
    old = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        3, spawn_key=(1, i, zlib.crc32(b"desk/vip")))))
    assert f.generator("service", ("desk", "vip")).random() == old.random()


def test_a_station_named_desk_slash_vip_is_not_class_vip_at_desk():
    f = StreamFactory(0, 0)
    a = f.generator("service", ("desk", "vip")).random(5)
    b = f.generator("service", "desk/vip").random(5)
    c = f.generator("service", ("desk/vip",)).random(5)
    assert not np.array_equal(a, b)
    assert np.array_equal(b, c)  # the same owner, however it is written
    # composites whose joined text is equal differ once a part holds "/"
    assert f.key("service", ("a/b", "c")) != f.key("service", ("a", "b/c"))


def test_an_internal_owner_and_an_equal_user_name_get_different_streams():
    f = StreamFactory(0, 0)
    first = f.key("failures", ("recovery",))
    assert first == (STREAMS.index("failures"), zlib.crc32(b"recovery"))
    assert f.key("failures", "recovery") != first
    assert f.key("failures", ("recovery",)) == first  # asked again: the same


def scenario(station: str, per_class: bool):
    service = {"dist": "exponential", "mean": 1.0}
    return load_scenario({
        "name": "k", "horizon": 200, "warmup": 0,
        "classes": [{"name": "vip", "arrivals": {"rate": 0.5}}],
        "stations": [{"name": station, "servers": 1,
                      "service": {"vip": service} if per_class else service}],
    })


def test_the_issue_case_draws_different_service_times():
    by_class = simulate(scenario("desk", True), seed=5).metrics["system"]["mean_service"]
    by_name = simulate(scenario("desk/vip", False), seed=5).metrics["system"]["mean_service"]
    assert by_class != by_name
