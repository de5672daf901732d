"""Result stores: an experiment's finished replications on disk, resumable.

A long sweep is a few hundred independent (point, replication) tasks. A
result store keeps each one as soon as it finishes, so that a run that is
killed (SIGKILL, a lost node, a laptop lid) loses nothing that finished, and
running the same experiment again loads what is stored and computes only
what is missing.

Layout of a store directory::

    DIR/manifest.yaml                  what the experiment is (see below)
    DIR/points/<key>/point.yaml        the point's overrides and root seed
    DIR/points/<key>/r000012.parquet   replication 12 of that point
    DIR/results.parquet                the final table of the last completed run

A point's ``key`` is a hash of its overrides and its root seed, so the same
point is found again whatever its position in a grid, and a point with other
values can never be mistaken for it. Each replication file holds the
record's lossless flat rows (:meth:`~simlib.engine.ReplicationRecord.to_rows`).

Writes are atomic against process death: a file is written under a
temporary name in the same folder and renamed into place with
:func:`os.replace`, so a reader sees a complete file or none. (Files are not
fsync'ed: a power cut can still lose the last few seconds.) Only the process
that drives the experiment writes, never the workers, so one writer per
directory is the rule; do not run two experiments into one directory at once.

The manifest records the base scenario (as YAML), the root seed, the engine
options, the kind of experiment, its grid or variants, the simlib version
and the git commit of the code, when there is one. Reopening a directory with
a different scenario, seed, kind or engine options is refused with
:class:`StoreError`, because mixing replications of two experiments would
silently produce wrong intervals. Changing the grid, the variants or the
number of replications is allowed: points are keyed by their values, so
the stored ones are reused and the new ones computed.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from simlib.engine import ReplicationRecord
from simlib.spec.scenario import Scenario

__all__ = ["ResultStore", "StoreError", "point_key", "MANIFEST", "RESULTS"]

#: File name of the manifest inside a store directory.
MANIFEST = "manifest.yaml"
#: File name of the final table inside a store directory.
RESULTS = "results.parquet"

#: Manifest fields that define the experiment: a change means another experiment.
_IDENTITY = ("kind", "seed", "scenario", "engine_options")

_SCHEMA = pa.schema(
    [
        ("replication", pa.int64()),
        ("start", pa.float64()),
        ("end", pa.float64()),
        ("scope", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
    ]
)


class StoreError(ValueError):
    """A result store that cannot be used for this experiment (one-line message)."""


def _canonical(value: Any) -> Any:
    """Plain JSON-able form, so that YAML round trips compare equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def point_key(overrides: Mapping[str, Any], seed: int) -> str:
    """Stable identifier of an experiment point: its overrides and its root seed."""
    text = json.dumps({"overrides": _canonical(dict(overrides)), "seed": int(seed)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    """Dotted path of the first place where two plain structures differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}{key}"
            if a[key] != b[key]:
                return _first_difference(a[key], b[key], f"{path}{key}.")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                name = x.get("name", i) if isinstance(x, dict) else i
                return _first_difference(x, y, f"{path}{name}.")
    return path.rstrip(".") or "(top level)"


def git_commit() -> str | None:
    """The git commit of the simlib source tree, or None outside a checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _atomic_write_bytes(path: Path, writer: Any) -> None:
    """Call ``writer(tmp_path)`` then rename the temporary file onto ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding lists or dicts become JSON text (Parquet needs one type)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and any(isinstance(v, dict | list | tuple) for v in out[col]):
            out[col] = [json.dumps(_canonical(v)) if isinstance(v, dict | list | tuple) else v
                        for v in out[col]]
    return out


class ResultStore:
    """A directory of finished replications of one experiment.

    Use :meth:`open`, which creates the directory or checks that an existing
    one holds the same experiment.
    """

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        #: The manifest as written to ``manifest.yaml``.
        self.manifest = manifest
        self._known: dict[str, set[int]] = {}

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        kind: str,
        scenario: Scenario,
        seed: int,
        engine_options: Mapping[str, Any] | None = None,
        **details: Any,
    ) -> ResultStore:
        """Create a store, or reopen one that holds the same experiment.

        Parameters
        ----------
        path
            The store directory (created when missing).
        kind
            ``"run"``, ``"sweep"`` or ``"compare"``.
        scenario
            The base scenario of the experiment.
        seed
            The experiment's root seed.
        engine_options
            Keyword arguments passed to the engine (they can change results).
        **details
            Further descriptive fields (grid, variants, replications); they
            may change between runs and are updated in the manifest.

        Raises
        ------
        StoreError
            When ``path`` holds another experiment (different scenario, seed,
            kind or engine options) or is not a store.
        """
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root}: exists and is not a directory")
        wanted = {
            "kind": kind,
            "seed": int(seed),
            "scenario": _canonical(scenario.to_dict()),
            "engine_options": _canonical(dict(engine_options or {})),
        }
        manifest_path = root / MANIFEST
        if manifest_path.is_file():
            try:
                stored = yaml.safe_load(manifest_path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError:
                raise StoreError(f"{manifest_path}: unreadable manifest") from None
            for field in _IDENTITY:
                old, new = _canonical(stored.get(field)), wanted[field]
                if old != new:
                    raise StoreError(cls._mismatch(root, field, old, new))
            manifest = dict(stored)
        else:
            # A temporary file left by a run killed while writing the manifest is not data.
            if root.is_dir() and any(not p.name.endswith(".tmp") for p in root.iterdir()):
                raise StoreError(f"{root}: directory is not empty and holds no {MANIFEST}; "
                                 "give a new or empty directory")
            from simlib import __version__

            manifest = {
                **wanted,
                # Written in the scenario file's key order; compared canonically.
                "scenario": json.loads(json.dumps(scenario.to_dict(), default=str)),
                "simlib_version": __version__,
                "git_commit": git_commit(),
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
        manifest.update(_canonical(details))
        manifest["updated"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        root.mkdir(parents=True, exist_ok=True)
        store = cls(root, manifest)
        store._write_manifest()
        store._remove_stale_temporaries()
        return store

    @staticmethod
    def _mismatch(root: Path, field: str, old: Any, new: Any) -> str:
        hint = "use a new directory for a new experiment"
        if field == "scenario":
            where = _first_difference(old or {}, new)
            return (f"{root}: holds results of another scenario (differs at {where}); "
                    f"refusing to mix experiments, {hint}")
        return (f"{root}: holds results with {field} {old!r}, this run has {field} {new!r}; "
                f"refusing to mix experiments, {hint}")

    def _write_manifest(self) -> None:
        text = yaml.safe_dump(self.manifest, sort_keys=False)
        _atomic_write_bytes(self.path / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))

    def _remove_stale_temporaries(self) -> None:
        # A killed writer can leave a temporary file behind; it was never renamed,
        # so it holds nothing the store counts. One writer per directory makes
        # removing them safe.
        for tmp in self.path.rglob(".*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    # ------------------------------------------------------------------ replications

    def _point_dir(self, key: str) -> Path:
        return self.path / "points" / key

    def register_point(self, key: str, overrides: Mapping[str, Any], seed: int) -> None:
        """Describe a point in its folder (for people reading the store)."""
        folder = self._point_dir(key)
        info = folder / "point.yaml"
        if info.is_file():
            return
        folder.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump({"overrides": _canonical(dict(overrides)), "seed": int(seed)},
                              sort_keys=False)
        _atomic_write_bytes(info, lambda p: p.write_text(text, encoding="utf-8"))

    def stored(self, key: str) -> set[int]:
        """Replication numbers stored for point ``key``."""
        if key not in self._known:
            folder = self._point_dir(key)
            found: set[int] = set()
            if folder.is_dir():
                for name in os.listdir(folder):
                    if name.startswith("r") and name.endswith(".parquet"):
                        with contextlib.suppress(ValueError):
                            found.add(int(name[1:-8]))
            self._known[key] = found
        return self._known[key]

    def _file(self, key: str, replication: int) -> Path:
        return self._point_dir(key) / f"r{replication:06d}.parquet"

    def save(self, key: str, record: ReplicationRecord) -> None:
        """Write one finished replication of point ``key`` atomically."""
        rows = record.to_rows()
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in _SCHEMA]
        table = pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, _SCHEMA,
                                                                                strict=True)],
                                     schema=_SCHEMA)
        folder = self._point_dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(self._file(key, record.replication),
                            lambda p: pq.write_table(table, p, compression="zstd"))
        self.stored(key).add(record.replication)

    def load(self, key: str, replication: int) -> ReplicationRecord:
        """Read one stored replication of point ``key``."""
        table = pq.read_table(self._file(key, replication), schema=_SCHEMA)
        cols = [table.column(name).to_pylist() for name in _SCHEMA.names]
        return ReplicationRecord.from_rows(zip(*cols, strict=True))

    def load_many(self, key: str, replications: Iterable[int]) -> dict[int, ReplicationRecord]:
        """Read several stored replications of point ``key``."""
        return {r: self.load(key, r) for r in replications}

    # ------------------------------------------------------------------ final table

    def write_results(self, table: pd.DataFrame) -> Path:
        """Write the experiment's final table as ``results.parquet`` (atomically)."""
        target = self.path / RESULTS
        plain = _plain_table(table)
        _atomic_write_bytes(target, lambda p: plain.to_parquet(p, index=False))
        return target
