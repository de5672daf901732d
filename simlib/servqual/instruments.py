"""Survey instruments: items, dimensions, reverse keys and answer scale.

An instrument says which numbered items form which quality dimension. The
SERVQUAL scale (Parasuraman, Zeithaml & Berry 1988, revised 1991) measures
service quality as the gap between customers' expectations (E) and their
perceptions (P) of the same 22 attributes, grouped into five dimensions:
tangibles (1–4), reliability (5–9), responsiveness (10–13), assurance
(14–17) and empathy (18–22). The 1988 version words items 10–13 and 18–22
negatively (so they must be reverse-scored); the 1991 revision words all
items positively. SERVPERF (Cronin & Taylor 1992) keeps the 22 items but uses
perceptions only. Brady & Cronin (2001) proposed a hierarchical model: three
primary dimensions (interaction, physical environment and outcome quality),
each with three sub-dimensions.

An instrument is a read-only mapping ``dimension -> item ids``; the columns
holding an item's answers are named by a template such as ``"{kind}{id:02d}"``
(``e01``, ``p01``) so the same instrument describes several data layouts.
User-defined instruments load from YAML (:meth:`Instrument.from_yaml`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import yaml

__all__ = [
    "Instrument",
    "InstrumentError",
    "ItemIds",
    "SERVQUAL22",
    "SERVQUAL22_1988",
    "SERVQUAL22_1991",
    "SERVPERF22",
    "BRADY_CRONIN",
]


class InstrumentError(ValueError):
    """An instrument definition is invalid."""


class ItemIds(tuple):
    """A tuple of item ids that also compares equal to a list or range."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list | range):
            return tuple(self) == tuple(other)
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__


@dataclass(frozen=True)
class Instrument(Mapping):
    """A multi-item survey instrument.

    Parameters
    ----------
    name
        Short name.
    dimensions
        Dimension name -> item ids (any hashable ids; integers for the
        numbered scales). Insertion order is kept.
    scale
        ``(low, high)`` answer range, inclusive.
    reverse
        Ids of negatively worded items, to be reverse-scored
        (``low + high - x``) before analysis.
    texts
        Optional item id -> wording.
    template
        Column-name template with fields ``kind`` and ``id``.
    higher_order
        Optional primary dimension -> sub-dimensions (hierarchical models).
    kinds
        The answer kinds collected, e.g. ``("e", "p")`` for expectations and
        perceptions, ``("p",)`` for SERVPERF.
    """

    name: str
    dimensions: Mapping[str, Sequence[Any]]
    scale: tuple[float, float] = (1, 7)
    reverse: frozenset = frozenset()
    texts: Mapping[Any, str] = field(default_factory=dict)
    template: str = "{kind}{id:02d}"
    higher_order: Mapping[str, Sequence[str]] = field(default_factory=dict)
    kinds: tuple[str, ...] = ("e", "p")
    reference: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.dimensions, Mapping):
            raise InstrumentError(f"{self.name}: dimensions must map dimension -> item ids")
        for k, v in dict(self.dimensions).items():
            if isinstance(v, str | bytes) or not isinstance(v, Sequence | range):
                raise InstrumentError(
                    f"{self.name}: dimension {k!r} must list item ids, got {v!r}"
                )
        dims = {str(k): ItemIds(v) for k, v in dict(self.dimensions).items()}
        if not dims:
            raise InstrumentError(f"{self.name}: no dimensions")
        seen: dict = {}
        for d, ids in dims.items():
            if not ids:
                raise InstrumentError(f"{self.name}: dimension {d!r} has no items")
            for i in ids:
                if i in seen:
                    raise InstrumentError(
                        f"{self.name}: item {i!r} is in both {seen[i]!r} and {d!r}"
                    )
                seen[i] = d
        scale = self.scale
        if (isinstance(scale, str | bytes) or not isinstance(scale, Sequence)
                or len(scale) != 2
                or not all(isinstance(v, int | float | np.number) and not isinstance(v, bool)
                           and np.isfinite(v) for v in scale)):
            raise InstrumentError(
                f"{self.name}: scale must be two finite numbers (low, high), got {scale!r}"
            )
        lo, hi = scale
        if not lo < hi:
            raise InstrumentError(f"{self.name}: scale must be (low, high) with low < high")
        self._check_template(dims)
        unknown = set(self.reverse) - set(seen)
        if unknown:
            raise InstrumentError(f"{self.name}: reverse keys not among the items: "
                                  f"{sorted(unknown, key=str)}")
        for prim, subs in dict(self.higher_order).items():
            bad = [s for s in subs if s not in dims]
            if bad:
                raise InstrumentError(f"{self.name}: higher_order {prim!r} names unknown "
                                      f"dimensions {bad}")
        object.__setattr__(self, "dimensions", dims)
        object.__setattr__(self, "reverse", frozenset(self.reverse))
        object.__setattr__(self, "scale", (lo, hi))
        object.__setattr__(self, "kinds", tuple(self.kinds))

    def _check_template(self, dims: Mapping[str, Sequence[Any]]) -> None:
        """Format every item id with the template now, not at first use.

        A template such as ``"{kind}{id:02d}"`` with string ids fails only
        when a column name is first needed (``Unknown format code 'd'``);
        column names must also be distinct.
        """
        if not isinstance(self.template, str):
            raise InstrumentError(f"{self.name}: template must be a string")
        names: dict[str, Any] = {}
        for ids in dims.values():
            for i in ids:
                try:
                    col = self.template.format(kind=self.kinds[0] if self.kinds else "p", id=i)
                except (KeyError, IndexError, ValueError, TypeError) as exc:
                    raise InstrumentError(
                        f"{self.name}: template {self.template!r} cannot format item id "
                        f"{i!r} ({exc}); use e.g. '{{kind}}{{id}}' for non-integer ids"
                    ) from None
                if col in names:
                    raise InstrumentError(
                        f"{self.name}: template {self.template!r} gives the same column "
                        f"{col!r} to items {names[col]!r} and {i!r}"
                    )
                names[col] = i

    # Mapping protocol: dimension -> item ids
    def __getitem__(self, key: str) -> ItemIds:
        return cast(ItemIds, self.dimensions[key])  # __post_init__ made every value ItemIds

    def __iter__(self) -> Iterator[str]:
        return iter(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __hash__(self) -> int:
        return hash((self.name, tuple((k, tuple(v)) for k, v in self.dimensions.items())))

    @property
    def item_ids(self) -> list:
        """All item ids in dimension order."""
        return [i for ids in self.dimensions.values() for i in ids]

    def dimension_of(self, item_id: Any) -> str:
        """Dimension holding ``item_id``."""
        for d, ids in self.dimensions.items():
            if item_id in ids:
                return d
        raise KeyError(item_id)

    def column(self, item_id: Any, kind: str = "p") -> str:
        """Column name of one item's answers of a kind (``"e"``, ``"p"``, ...)."""
        return self.template.format(kind=kind, id=item_id)

    def columns(self, kind: str = "p", dimension: str | None = None) -> list[str]:
        """Column names of all items (or one dimension's) for an answer kind."""
        ids = self.item_ids if dimension is None else list(self.dimensions[dimension])
        return [self.column(i, kind) for i in ids]

    def model(self, kind: str = "p") -> dict[str, list[str]]:
        """The CFA measurement model ``{dimension: [columns]}`` for an answer kind."""
        return {d: self.columns(kind, d) for d in self.dimensions}

    def reverse_score(self, data: pd.DataFrame, kind: str = "p") -> pd.DataFrame:
        """Copy of ``data`` with the reverse-keyed item columns recoded."""
        out = data.copy()
        lo, hi = self.scale
        for i in self.reverse:
            col = self.column(i, kind)
            if col in out.columns:
                out[col] = lo + hi - out[col]
        return out

    # --------------------------------------------------------------- YAML
    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Instrument:
        """Build from a dict with keys ``name, dimensions`` and optionally
        ``scale, reverse, items (id -> text), template, higher_order, kinds,
        reference``; unknown keys are refused."""
        allowed = {"name", "dimensions", "scale", "reverse", "items", "template",
                   "higher_order", "kinds", "reference"}
        if not isinstance(spec, Mapping):
            raise InstrumentError("instrument: expected a mapping at the top level")
        unknown = set(spec) - allowed
        if unknown:
            raise InstrumentError(f"instrument: unknown keys {sorted(unknown)}")
        for key in ("name", "dimensions"):
            if key not in spec:
                raise InstrumentError(f"instrument: {key!r} is required")
        dims = spec["dimensions"]
        if not isinstance(dims, Mapping):
            raise InstrumentError("instrument.dimensions: expected a mapping dimension -> items")
        scale = spec.get("scale", (1, 7))
        if (isinstance(scale, str) or not isinstance(scale, Sequence) or len(scale) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool)
                           for v in scale)):
            raise InstrumentError(f"instrument.scale: expected [low, high], got {scale!r}")
        for k, v in dims.items():
            if isinstance(v, str) or not isinstance(v, Sequence):
                raise InstrumentError(
                    f"instrument.dimensions.{k}: expected a list of item ids, got {v!r}"
                )
        return cls(
            name=str(spec["name"]),
            dimensions={str(k): list(v) for k, v in dims.items()},
            scale=(float(scale[0]), float(scale[1])),
            reverse=frozenset(spec.get("reverse", []) or []),
            texts=dict(spec.get("items", {}) or {}),
            template=str(spec.get("template", "{kind}{id:02d}")),
            higher_order={str(k): list(v) for k, v in (spec.get("higher_order") or {}).items()},
            kinds=tuple(spec.get("kinds", ("e", "p"))),
            reference=str(spec.get("reference", "")),
        )

    @classmethod
    def from_yaml(cls, source: str | Path) -> Instrument:
        """Load from a YAML file path or YAML text.

        A ``Path``, or a one-line string ending in ``.yaml``/``.yml`` or
        without any ``key:``, is taken as a file name; if that file does not
        exist, ``FileNotFoundError`` names it.

        Example
        -------
        .. code-block:: yaml

            name: kiosk
            scale: [1, 7]
            dimensions:
              accuracy: [1, 2, 3]
              enjoyment: [4, 5, 6]
            reverse: []
            template: "{kind}{id:02d}"
        """
        text = str(source)
        path = Path(text) if "\n" not in text and len(text) < 1024 else None
        if path is not None and path.exists():
            text = path.read_text(encoding="utf-8")
        elif isinstance(source, Path) or (
            path is not None and (path.suffix.lower() in (".yaml", ".yml")
                                  or ":" not in text)
        ):
            # One line without a "key:" cannot be an instrument definition,
            # so it was meant as a file name.
            raise FileNotFoundError(f"instrument file not found: {text}")
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InstrumentError(f"instrument: invalid YAML ({exc})") from exc
        return cls.from_dict(spec)


_SQ_DIMS = {
    "tangibles": [1, 2, 3, 4],
    "reliability": [5, 6, 7, 8, 9],
    "responsiveness": [10, 11, 12, 13],
    "assurance": [14, 15, 16, 17],
    "empathy": [18, 19, 20, 21, 22],
}

# Short paraphrases of the attributes (not the copyrighted wording).
_SQ_TEXTS = {
    1: "modern-looking equipment", 2: "visually appealing facilities",
    3: "neat-appearing employees", 4: "visually appealing materials",
    5: "does what it promises by when promised", 6: "sincere interest in solving problems",
    7: "performs the service right the first time", 8: "provides services at the promised time",
    9: "error-free records", 10: "tells customers exactly when services will be performed",
    11: "prompt service", 12: "always willing to help", 13: "never too busy to respond",
    14: "employees' behaviour instils confidence", 15: "customers feel safe in transactions",
    16: "employees consistently courteous", 17: "employees have the knowledge to answer",
    18: "individual attention", 19: "convenient operating hours",
    20: "employees give personal attention", 21: "customers' best interests at heart",
    22: "understand customers' specific needs",
}

SERVQUAL22_1991 = Instrument(
    name="SERVQUAL-22 (1991 revision)", dimensions=_SQ_DIMS, scale=(1, 7),
    texts=_SQ_TEXTS, kinds=("e", "p"),
    reference="Parasuraman, Berry & Zeithaml (1991), J. Retailing 67(4), 420-450",
)
SERVQUAL22_1988 = Instrument(
    name="SERVQUAL-22 (1988)", dimensions=_SQ_DIMS, scale=(1, 7),
    reverse=frozenset([10, 11, 12, 13, 18, 19, 20, 21, 22]), texts=_SQ_TEXTS,
    kinds=("e", "p"),
    reference="Parasuraman, Zeithaml & Berry (1988), J. Retailing 64(1), 12-40",
)
#: The 22-item SERVQUAL (1991 wording): a mapping dimension -> item ids.
SERVQUAL22 = SERVQUAL22_1991
SERVPERF22 = Instrument(
    name="SERVPERF-22", dimensions=_SQ_DIMS, scale=(1, 7), texts=_SQ_TEXTS, kinds=("p",),
    reference="Cronin & Taylor (1992), J. Marketing 56(3), 55-68",
)

_BC_SUBS = {
    "attitude": [1, 2, 3], "behavior": [4, 5, 6], "expertise": [7, 8, 9],
    "ambient_conditions": [10, 11, 12], "design": [13, 14, 15], "social_factors": [16, 17, 18],
    "waiting_time": [19, 20, 21], "tangibles": [22, 23, 24], "valence": [25, 26, 27],
}
BRADY_CRONIN = Instrument(
    name="Brady-Cronin hierarchical service quality", dimensions=_BC_SUBS, scale=(1, 7),
    higher_order={
        "interaction_quality": ["attitude", "behavior", "expertise"],
        "physical_environment_quality": ["ambient_conditions", "design", "social_factors"],
        "outcome_quality": ["waiting_time", "tangibles", "valence"],
    },
    kinds=("p",), template="q{id:02d}",
    reference="Brady & Cronin (2001), J. Marketing 65(3), 34-49",
)


def reverse_keyed_mask(instrument: Instrument) -> np.ndarray:
    """Boolean array over ``instrument.item_ids``: True for reverse-keyed items."""
    return np.array([i in instrument.reverse for i in instrument.item_ids])
