"""The network keys (docs/scenario.md): ``system_capacity``, ``class_change``, ``join_shortest_queue``,
``retrials`` and balking by the announced wait.

Each is read into the frozen scenario, written back unchanged, and refused with a one-line
error naming the key path when it is wrong.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from simlib.spec.routing import ShortestQueue
from simlib.spec.scenario import ScenarioError, from_dict, load_scenario


def network() -> dict:
    """Two classes, a dispatch station and two desks it can send customers to."""
    exp = {"dist": "exponential", "mean": 1.0}
    return copy.deepcopy({
        "name": "net", "horizon": 100, "system_capacity": 20,
        "classes": [{"name": "a", "arrivals": {"rate": 1.0}},
                    {"name": "b", "arrivals": {"rate": 0.5}, "priority": 1}],
        "stations": [
            {"name": "dispatch", "servers": 2, "service": exp,
             "class_change": {"a": {"a": 0.7, "b": 0.3}},
             "join_shortest_queue": {"among": ["x", "y"], "count": "waiting", "ties": "first"}},
            {"name": "x", "servers": 1, "service": exp},
            {"name": "y", "servers": 1, "service": exp},
        ],
    })


def test_the_keys_are_read_and_written_back():
    scn = load_scenario(network())
    assert scn.system_capacity == 20
    dispatch = scn.station("dispatch")
    assert dispatch.class_change == {"a": {"a": 0.7, "b": 0.3}}
    assert dispatch.join_shortest_queue == ShortestQueue(("x", "y"), "waiting", "first")
    # the candidates enter the routing table with equal shares (reachability, load checks)
    assert scn.routing["dispatch"] == {"x": 0.5, "y": 0.5}
    again = from_dict(yaml.safe_load(scn.to_yaml()), default_name=scn.name)
    assert again == scn
    plain = network()
    del plain["system_capacity"], plain["stations"][0]["class_change"]
    plain["stations"][0]["join_shortest_queue"] = {"among": ["x", "y"]}
    scn = load_scenario(plain)
    assert scn.system_capacity is None and scn.station("dispatch").class_change is None
    assert scn.station("dispatch").join_shortest_queue == ShortestQueue(("x", "y"), "present", "random")


def test_retrials_are_read_with_their_defaults():
    data = network()
    del data["stations"][0]["class_change"]
    data["classes"][0]["retrials"] = {"probability": 0.3, "delay": {"dist": "exponential", "mean": 2}}
    data["classes"][1]["retrials"] = {"probability": 1, "delay": {"dist": "exponential", "mean": 1},
                                      "max_attempts": 4, "after": ["blocked"]}
    scn = load_scenario(data)
    a, b = scn.customer_class("a").retrials, scn.customer_class("b").retrials
    assert (a.probability, a.delay.mean, a.max_attempts, a.after) == (0.3, 2.0, None, ("abandoned", "blocked"))
    assert (b.max_attempts, b.after) == (4, ("blocked",))
    assert from_dict(yaml.safe_load(scn.to_yaml()), default_name=scn.name) == scn
    data["economics"] = {}
    with pytest.raises(ScenarioError, match=r"^classes\[0\]\.retrials: not allowed with the economics block"):
        load_scenario(data)


def _set(path: str, value):
    def mutate(d: dict) -> None:
        *head, last = path.split("/")
        node = d
        for key in head:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    return mutate


DISPATCH = "stations[0]"
EXP = {"dist": "exponential", "mean": 2.0}


@pytest.mark.parametrize("mutate, path, message", [
    (_set("system_capacity", 0), "system_capacity", "must be a positive integer"),
    (_set("system_capacity", 2.5), "system_capacity", "must be a positive integer"),
    (_set("system_capacity", "many"), "system_capacity", "must be a positive integer"),
    (_set("system_capacity", 10**16), "system_capacity", "must be at most"),
    (_set("stations/0/class_change", {}), f"{DISPATCH}.class_change", "at least one class's row"),
    (_set("stations/0/class_change", [0.5]), f"{DISPATCH}.class_change", "must be a mapping"),
    (_set("stations/0/class_change", {"z": {"a": 1.0}}), f"{DISPATCH}.class_change.z", "unknown class"),
    (_set("stations/0/class_change", {"a": {"z": 1.0}}), f"{DISPATCH}.class_change.a.z", "unknown class"),
    (_set("stations/0/class_change", {"a": {"b": 1.5}}), f"{DISPATCH}.class_change.a.b", "probability in [0, 1]"),
    (_set("stations/0/class_change", {"a": {"b": 0.5}}), f"{DISPATCH}.class_change.a", "must sum to 1, got 0.5"),
    (_set("stations/0/class_change", {"a": 1.0}), f"{DISPATCH}.class_change.a", "must be a mapping"),
    (_set("classes/1/route", ["x"]), f"{DISPATCH}.class_change", "not allowed when a class has a route"),
    (_set("quality", {}), f"{DISPATCH}.class_change", "not allowed with the quality block"),
    (_set("stations/0/join_shortest_queue", {"among": ["x"]}), f"{DISPATCH}.join_shortest_queue.among", "at least 2"),
    (_set("stations/0/join_shortest_queue", {"among": ["x", "z"]}), f"{DISPATCH}.join_shortest_queue.among[1]", "unknown station 'z'"),
    (_set("stations/0/join_shortest_queue", {"among": ["x", "x"]}), f"{DISPATCH}.join_shortest_queue.among[1]", "listed twice"),
    (_set("stations/0/join_shortest_queue", {"among": ["x", "y"], "count": "load"}), f"{DISPATCH}.join_shortest_queue.count", "one of present, waiting"),
    (_set("stations/0/join_shortest_queue", {"among": ["x", "y"], "ties": "last"}), f"{DISPATCH}.join_shortest_queue.ties", "one of random, first"),
    (_set("stations/0/join_shortest_queue", {"stations": ["x", "y"]}), f"{DISPATCH}.join_shortest_queue.stations", "unknown key"),
    (_set("stations/0/join_shortest_queue", "x"), f"{DISPATCH}.join_shortest_queue", "must be a mapping"),
    (_set("routing", {"dispatch": {"exit": 1.0}}), f"{DISPATCH}.join_shortest_queue", "not allowed with a routing entry"),
    (_set("routing", {"x": {"y": 1.0}, "y": {"x": 1.0}}), "routing.", "never reach exit"),
    (_set("classes/0/retrials", {"delay": EXP}), "classes[0].retrials.probability", "is required"),
    (_set("classes/0/retrials", {"probability": 0.5}), "classes[0].retrials.delay", "is required"),
    (_set("classes/0/retrials", {"probability": 1.5, "delay": EXP}), "classes[0].retrials.probability", "probability in [0, 1]"),
    (_set("classes/0/retrials", {"probability": 0.5, "delay": {"dist": "empirical", "values": [0, 0]}}), "classes[0].retrials.delay", "positive mean"),
    (_set("classes/0/retrials", {"probability": 0.5, "delay": EXP, "max_attempts": 1}), "classes[0].retrials.max_attempts", "integer >= 2"),
    (_set("classes/0/retrials", {"probability": 0.5, "delay": EXP, "after": []}), "classes[0].retrials.after", "non-empty list"),
    (_set("classes/0/retrials", {"probability": 0.5, "delay": EXP, "after": ["served"]}), "classes[0].retrials.after[0]", "one of abandoned, blocked"),
    (_set("classes/0/retrials", {"probability": 0.5, "delay": EXP, "after": ["blocked", "blocked"]}), "classes[0].retrials.after[1]", "each once"),
    (_set("classes/0/retrials", {"probability": 0.5, "delay": EXP, "tries": 3}), "classes[0].retrials.tries", "unknown key"),
    (_set("stations/1/balking", {"announced_waits": [0, 1], "join": [1, 0.5]}), "stations[1].balking.handle_time", "is required"),
    (_set("stations/1/balking", {"announced_waits": [0, 1], "join": [1, 0.5], "handle_time": 0}), "stations[1].balking.handle_time", "must be positive"),
    (_set("stations/1/balking", {"announced_waits": [1], "join": [1], "handle_time": 2}), "stations[1].balking.announced_waits[0]", "must be 0"),
    (_set("stations/1/balking", {"announced_waits": [0, 0], "join": [1, 1], "handle_time": 2}), "stations[1].balking.announced_waits[1]", "must be larger"),
    (_set("stations/1/balking", {"announced_waits": [0, -1], "join": [1, 1], "handle_time": 2}), "stations[1].balking.announced_waits[1]", "a wait >= 0"),
    (_set("stations/1/balking", {"announced_waits": [], "join": [], "handle_time": 2}), "stations[1].balking.announced_waits", "non-empty list"),
    (_set("stations/1/balking", {"announced_waits": [0, 2], "join": [1], "handle_time": 2}), "stations[1].balking.join", "a list of 2 probabilities"),
    (_set("stations/1/balking", {"announced_waits": [0, 2], "join": [1, 2], "handle_time": 2}), "stations[1].balking.join[1]", "probability in [0, 1]"),
    (_set("stations/1/balking", {"announced_waits": [0], "queue_lengths": [0], "join": [1], "handle_time": 2}), "stations[1].balking.queue_lengths", "unknown key"),
])
def test_wrong_network_keys_are_refused_in_one_line(mutate, path, message):
    data = network()
    mutate(data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(path), text
    assert message in text, text
