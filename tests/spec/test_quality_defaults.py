"""Every numeric default of the quality model is sourced or labelled an assumption (issue 14, item 7).

The table in docs/quality-model.md#where-the-numbers-come-from must have one
row per default of the specifications in simlib/spec/quality.py, with the
value the code uses and a non-empty source ("assumption" or a citation), and
its ranges must be those the sensitivity study varies. A new default without
a row, a changed value, or a stale row fails here.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from simlib.spec import quality
from simlib.studies import quality as studies
from simlib.studies.quality import ASSUMPTIONS, CHAIN_ASSUMPTIONS

DOC = Path(__file__).resolve().parents[2] / "docs/quality-model.md"
SPECS = (quality.ClassExpectations, quality.WaitingSpec, quality.RecoverySpec, quality.ParadoxSpec,
         quality.QualitySpec, quality.StaffSpec, quality.FailureSpec, quality.RetentionSpec,
         quality.WordOfMouthSpec, quality.InternalSpec)
CITATION = re.compile(r"[A-Z][A-Za-zé\-]+.*\b(19|20)\d\d\b")
#: What a range cell may say instead of low–high, for a default nothing varies (see the doc).
NOT_VARIED = ("per scenario", "vector", "anchor")


def table() -> dict[str, tuple[str, str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Where the numbers come from", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`") and cells[0] != "default":
            name = cells[0].strip("`")
            assert name not in rows, f"{name}: two rows"
            rows[name] = (cells[1].strip("`"), cells[2], cells[3], cells[4])
    return rows


def defaults() -> dict[str, object]:
    out: dict[str, object] = {"STAFF_REFERENCE": quality.STAFF_REFERENCE}
    for cls in SPECS:
        for f in dataclasses.fields(cls):
            d = f.default
            if d is dataclasses.MISSING or d is None or dataclasses.is_dataclass(d):
                continue
            assert isinstance(d, (int, float, bool, tuple)), f"{cls.__name__}.{f.name}: {d!r}"
            out[f"{cls.__name__}.{f.name}"] = d
    chain = inspect.signature(studies.causal_chain).parameters
    for name in CHAIN_ASSUMPTIONS:
        out[f"causal_chain.{name}"] = chain[name].default
    return out


def numeric(rng: str) -> tuple[float, float] | None:
    """A range cell's (low, high), None when it says why nothing is varied."""
    if not rng or rng in NOT_VARIED:
        return None
    low, high = (float(x) for x in rng.split("–"))
    return low, high


def test_the_table_parses_and_the_checks_bite():
    rows = table()
    assert len(rows) >= 60
    assert CITATION.search("Tversky & Kahneman 1992") and not CITATION.search("")


def test_every_default_has_a_row_with_its_value_and_a_source():
    rows, values = table(), defaults()
    missing = sorted(set(values) - set(rows))
    assert not missing, f"defaults without a row in {DOC.name}: {missing}"
    stale = sorted(set(rows) - set(values))
    assert not stale, f"rows for defaults that no longer exist: {stale}"
    for name, value in values.items():
        _, shown, _, source = rows[name]
        assert ast.literal_eval(shown) == value, f"{name}: the table says {shown}, the code {value!r}"
        assert source, f"{name}: no source"
        if not CITATION.search(source):
            assert re.search(r"assumption|off|definition|reference|none offered", source), (name, source)


@pytest.mark.parametrize("key", sorted({**ASSUMPTIONS, **CHAIN_ASSUMPTIONS}))
def test_sensitivity_ranges_are_the_documented_ones(key):
    rows = {key_: (rng, src) for key_, _, rng, src in table().values()}
    assert key in rows, f"{key}: no row with this scenario key"
    rng, source = rows[key]
    assert numeric(rng) == {**ASSUMPTIONS, **CHAIN_ASSUMPTIONS}[key]
    assert "assumption" in source or "definition" in source


def test_every_documented_range_is_varied():
    varied = {key for key, _, rng, _ in table().values() if numeric(rng)}
    assert varied == set(ASSUMPTIONS) | set(CHAIN_ASSUMPTIONS)


def test_every_assumption_has_a_range_or_says_why_not():
    """A default labelled an assumption is varied by the sensitivity studies, or its range
    cell says why not (a time the scenario sets, a vector, the scale's anchor)."""
    rows = table()
    bare = [name for name, (_, _, rng, src) in rows.items() if src.startswith("assumption") and not rng]
    assert not bare, f"assumptions without a range: {bare}"
    for name, (_, value, rng, _) in rows.items():
        if numeric(rng):
            low, high = numeric(rng)
            assert low < high and low <= ast.literal_eval(value) <= high, f"{name}: {rng} around {value}"
        elif rng:
            assert rng in NOT_VARIED, f"{name}: range {rng!r}"
    assert sum(rng in NOT_VARIED for _, _, rng, _ in rows.values()) <= 6  # the exceptions stay few
