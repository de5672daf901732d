"""Result stores: an experiment's finished replications on disk, resumable.

A long sweep is a few hundred independent (point, replication) tasks. A
result store keeps each one as soon as it finishes, so that a run that is
killed (SIGKILL, a lost node, a laptop lid) loses nothing that finished, and
running the same experiment again loads what is stored and computes only
what is missing.

Layout of a store directory::

    DIR/manifest.yaml                          what the experiment is (see below)
    DIR/.lock                                  who writes the store now (pid, host, time)
    DIR/points/<key>/point.yaml                the point's overrides and root seed
    DIR/points/<key>/r000012-<digest>.parquet  replication 12 of that point
    DIR/points/<key>/b000000-000255-<digest>.parquet
                                               replications 0-255, compacted into one file
    DIR/quarantine/                            files that failed their checks (never read)
    DIR/results.parquet                        the final table of the last completed run

A point's ``key`` is a hash of its overrides and its root seed, so the same
point is found again whatever its position in a grid, and a point with other
values can never be mistaken for it. Each replication file holds the
record's lossless flat rows (:meth:`~simlib.engine.ReplicationRecord.to_rows`).

Integrity. A file's name carries the SHA-256 digest (first 16 hex digits) of
its bytes, and its Parquet metadata names the experiment (a digest of the
manifest's identity fields) and the point it belongs to. A file that is
truncated, edited, copied from another replication or from another store
fails one of these checks; it is moved to ``quarantine/`` with a
:class:`StoreWarning` and its replications are computed again, so it is
never read as data.

Bounded file count. Each finished replication is written at once as its own
file (so a killed run loses nothing that finished); when a point holds
:data:`BATCH_SIZE` single files they are compacted into one batch file, which
is written (atomically) before the singles are removed. A run killed between
the two leaves duplicates: they are identical, read once, and the singles are
removed the next time the point is read. A batch holds any set of
replications (its name gives their range, its metadata lists them), so gaps
and stragglers do not split batches. A sweep of
100,000 replications therefore writes about ``100,000 / BATCH_SIZE`` files.

Writes are atomic against process death: a file is written under a
temporary name in the same folder and renamed into place with
:func:`os.replace`, so a reader sees a complete file or none. (Files are not
fsync'ed: a power cut can still lose the last few seconds.) Only the process
that drives the experiment writes, never the workers.

One writer at a time. Opening a store takes an exclusive lock on
``DIR/.lock`` (:func:`fcntl.lockf`) *before* the manifest is read or written,
so of two experiments started together into one directory, the second is
refused with a :class:`StoreError` naming the owner, and the manifest check
holds for writers that start at the same time. The operating system drops
the lock when its process ends, however it ends (a crash, SIGKILL), so a lock
is never left behind: that is the stale-lock rule. The same process may
reopen a store it holds (a notebook re-running a cell); the lock is released
by :meth:`ResultStore.close`, after the final table is written, or when the
store object is garbage-collected. Worker processes do not inherit the lock.
(Locks on network file systems are only as good as the file system's locking.)

The manifest records the base scenario (as YAML), a digest of every file the
scenario references (a trace or an empirical distribution: a changed file is
a changed experiment), the root seed, the engine options, the kind of
experiment, its grid or variants, the simlib version and the git commit of
the code, when there is one. Reopening a directory with a different
scenario, input file, seed, kind or engine options is refused with
:class:`StoreError`, because mixing replications of two experiments would
silently produce wrong intervals. Changing the grid, the variants or the
number of replications is allowed: points are keyed by their values, so
the stored ones are reused and the new ones computed.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import io
import json
import os
import re
import socket
import subprocess
import tempfile
import warnings
import weakref
from collections.abc import Iterable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from simlib.engine import ReplicationRecord
from simlib.spec.scenario import Scenario

__all__ = [
    "ResultStore",
    "StoreError",
    "StoreWarning",
    "point_key",
    "referenced_files",
    "MANIFEST",
    "RESULTS",
    "BATCH_SIZE",
    "FORMAT",
]

#: File name of the manifest inside a store directory.
MANIFEST = "manifest.yaml"
#: File name of the final table inside a store directory.
RESULTS = "results.parquet"

#: File name of the writer's lock inside a store directory.
LOCK = ".lock"
#: Single replication files of a point that are compacted into one batch file.
BATCH_SIZE = 256
#: Layout version of the store (1: one unchecked file per replication).
FORMAT = 2

#: Manifest fields that define the experiment: a change means another experiment.
_IDENTITY = ("format", "kind", "seed", "scenario", "inputs", "engine_options")

_SINGLE = re.compile(r"^r(\d{6})-([0-9a-f]{16})\.parquet$")
_BATCH = re.compile(r"^b(\d{6})-(\d{6})-([0-9a-f]{16})\.parquet$")
_META_EXPERIMENT = b"simlib.experiment"
_META_POINT = b"simlib.point"
_META_REPLICATIONS = b"simlib.replications"

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


class StoreWarning(UserWarning):
    """A stored file failed its checks and was set aside; its replications are recomputed."""


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
    """Call ``writer(tmp_path)`` then rename the temporary file onto ``path``.

    The temporary file is made by :func:`tempfile.mkstemp` in the target's
    folder: an unpredictable name, created exclusively (never through a
    symbolic link someone placed there).
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
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


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def referenced_files(scenario: Scenario) -> dict[str, str]:
    """SHA-256 digests of the files a scenario reads (traces, empirical distributions).

    Keys are the paths as the scenario writes them; a file that cannot be read
    is reported as ``"missing"`` (the scenario would not have loaded).
    """
    found: dict[str, str] = {}

    def visit(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in ("file", "trace") and isinstance(value, str):
                    found[value] = ""
                else:
                    visit(value)
        elif isinstance(node, list | tuple):
            for item in node:
                visit(item)

    visit(scenario.to_dict())
    for name in found:
        full = Path(name) if os.path.isabs(name) else Path(scenario.base_dir) / name
        try:
            found[name] = hashlib.sha256(full.read_bytes()).hexdigest()
        except OSError:
            found[name] = "missing"
    return dict(sorted(found.items()))


class _WriterLock:
    """An exclusive lock on ``DIR/.lock``, shared by the stores of one process."""

    # Locks this process holds, by resolved directory: a reopened store reuses its lock.
    held: dict[Path, _WriterLock] = {}

    def __init__(self, root: Path) -> None:
        self.root = root
        self.users = 0
        self.file: BinaryIO | None = None

    @classmethod
    def acquire(cls, root: Path) -> _WriterLock:
        key = root.resolve()
        lock = cls.held.get(key)
        if lock is None:
            lock = cls(key)
            lock._take()
            cls.held[key] = lock
        lock.users += 1
        return lock

    def _take(self) -> None:
        path = self.root / LOCK
        # kept open: the lock lives as long as this handle; O_NOFOLLOW: a symbolic
        # link planted as DIR/.lock is refused instead of truncating its target
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the store's lock file ({exc.strerror}; "
                             "a symbolic link is refused)") from None
        handle = os.fdopen(fd, "r+b")
        try:
            # A POSIX record lock (lockf): owned by this process only, so worker
            # processes forked during the run do not inherit it, and the system
            # drops it when this process ends, however it ends.
            fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read(200).decode("utf-8", "replace").strip() or "another process"
            handle.close()
            raise StoreError(f"{self.root}: another experiment is writing this store ({owner}); "
                             "wait for it to finish or use a new directory") from None
        handle.seek(0)
        handle.truncate()
        stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n".encode())
        handle.flush()
        self.file = handle

    def release(self) -> None:
        self.users -= 1
        if self.users > 0 or self.file is None:
            return
        self.held.pop(self.root, None)
        with contextlib.suppress(OSError):
            self.file.close()  # closing the handle drops the lock
        self.file = None


class ResultStore:
    """A directory of finished replications of one experiment.

    Use :meth:`open`, which creates the directory or checks that an existing
    one holds the same experiment, and takes the writer's lock (released by
    :meth:`close`, by leaving a ``with`` block, or when the store is garbage-collected).
    """

    def __init__(self, path: Path, manifest: dict[str, Any], lock: _WriterLock | None = None) -> None:
        self.path = path
        #: The manifest as written to ``manifest.yaml``.
        self.manifest = manifest
        self._experiment = _digest(json.dumps({f: manifest.get(f) for f in _IDENTITY},
                                              sort_keys=True, default=str).encode())
        # replication -> (file, rows) for each point read so far
        self._known: dict[str, dict[int, tuple[Path, list[tuple[Any, ...]]]]] = {}
        self._lock = lock
        self._finalizer = weakref.finalize(self, lock.release) if lock is not None else None

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
            When ``path`` holds another experiment (different scenario, input
            files, seed, kind or engine options), is not a store, or another
            process is writing it.
        """
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root}: exists and is not a directory")
        wanted = {
            "format": FORMAT,
            "kind": kind,
            "seed": int(seed),
            "scenario": _canonical(scenario.to_dict()),
            "inputs": referenced_files(scenario),
            "engine_options": _canonical(dict(engine_options or {})),
        }
        manifest_path = root / MANIFEST
        if not manifest_path.is_file() and root.is_dir() and any(
            # A temporary file left by a run killed while writing the manifest is not data.
            not p.name.endswith(".tmp") and p.name != LOCK for p in root.iterdir()
        ):
            raise StoreError(f"{root}: directory is not empty and holds no {MANIFEST}; "
                             "give a new or empty directory")
        root.mkdir(parents=True, exist_ok=True)
        # The lock comes before the manifest is read, so two writers starting
        # together cannot both pass the identity check.
        lock = _WriterLock.acquire(root)
        try:
            manifest = cls._checked_manifest(root, wanted, scenario)
            manifest.update(_canonical(details))
            manifest["updated"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            store = cls(root, manifest, lock)
        except BaseException:
            lock.release()
            raise
        store._write_manifest()
        store._remove_stale_temporaries()
        return store

    @classmethod
    def _checked_manifest(cls, root: Path, wanted: dict[str, Any],
                          scenario: Scenario) -> dict[str, Any]:
        manifest_path = root / MANIFEST
        if manifest_path.is_file():
            try:
                stored = yaml.safe_load(manifest_path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError:
                raise StoreError(f"{manifest_path}: unreadable manifest") from None
            if not isinstance(stored, dict):
                raise StoreError(f"{manifest_path}: unreadable manifest")
            if stored.get("format", 1) != FORMAT:
                raise StoreError(f"{root}: written by an older simlib (store format "
                                 f"{stored.get('format', 1)}, this is {FORMAT}); "
                                 "use a new directory")
            for field in _IDENTITY:
                old, new = _canonical(stored.get(field)), wanted[field]
                if old != new:
                    raise StoreError(cls._mismatch(root, field, old, new))
            return dict(stored)
        return {
            **wanted,
            # Written in the scenario file's key order; compared canonically.
            "scenario": json.loads(json.dumps(scenario.to_dict(), default=str)),
            "simlib_version": version("simlib"),
            "git_commit": git_commit(),
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }

    def close(self) -> None:
        """Release the writer's lock (the store stays readable through this object)."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _mismatch(root: Path, field: str, old: Any, new: Any) -> str:
        hint = "use a new directory for a new experiment"
        if field == "scenario":
            where = _first_difference(old or {}, new)
            return (f"{root}: holds results of another scenario (differs at {where}); "
                    f"refusing to mix experiments, {hint}")
        if field == "inputs":
            where = _first_difference(old or {}, new)
            return (f"{root}: holds results computed from another version of the file {where}; "
                    f"refusing to mix experiments, {hint}")
        return (f"{root}: holds results with {field} {old!r}, this run has {field} {new!r}; "
                f"refusing to mix experiments, {hint}")

    def _write_manifest(self) -> None:
        text = yaml.safe_dump(self.manifest, sort_keys=False)
        _atomic_write_bytes(self.path / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))

    def _remove_stale_temporaries(self) -> None:
        # A killed writer can leave a temporary file behind; it was never renamed,
        # so it holds nothing the store counts. This process holds the lock, so
        # no other writer is making one right now.
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
        """Replication numbers stored for point ``key`` whose files pass their checks.

        Files are read and checked here (digest, experiment, point, replication
        numbers); one that fails is moved to ``quarantine/`` with a
        :class:`StoreWarning`, and its replications are not counted.
        """
        return set(self._entries(key))

    def _entries(self, key: str) -> dict[int, tuple[Path, list[tuple[Any, ...]]]]:
        if key not in self._known:
            found: dict[int, tuple[Path, list[tuple[Any, ...]]]] = {}
            folder = self._point_dir(key)
            names = sorted(os.listdir(folder)) if folder.is_dir() else []
            # Batches first: a single that a verified batch already holds is what a
            # compaction cut short leaves behind; it is removed (this process holds the lock).
            for name in sorted(names, key=lambda n: not n.startswith("b")):
                single, batch = _SINGLE.match(name), _BATCH.match(name)
                if not (single or batch):
                    continue
                if single:
                    bounds = (int(single.group(1)), int(single.group(1)))
                    if bounds[0] in found:
                        with contextlib.suppress(OSError):
                            (folder / name).unlink()
                        continue
                else:
                    assert batch is not None
                    bounds = (int(batch.group(1)), int(batch.group(2)))
                by_replication = self._read_checked(folder / name, key, bounds)
                if by_replication is None:
                    continue
                for r, rows in by_replication.items():
                    found.setdefault(r, (folder / name, rows))
            self._known[key] = found
        return self._known[key]

    def _read_checked(self, path: Path, key: str,
                      bounds: tuple[int, int]) -> dict[int, list[tuple[Any, ...]]] | None:
        """The file's rows by replication, or None (and the file quarantined) when a check fails.

        The file's metadata lists its replications; they must be those of its rows
        and lie within the range its name gives (a single file: exactly one).
        """
        match = _SINGLE.match(path.name) or _BATCH.match(path.name)
        assert match is not None
        problem = ""
        try:
            data = path.read_bytes()
            if _digest(data) != match.group(match.lastindex or 0):
                problem = "its content does not match the digest in its name"
            else:
                table = pq.read_table(io.BytesIO(data))
                meta = table.schema.metadata or {}
                listed = json.loads(meta.get(_META_REPLICATIONS, b"[]"))
                if meta.get(_META_EXPERIMENT, b"").decode() != self._experiment:
                    problem = "it belongs to another experiment"
                elif meta.get(_META_POINT, b"").decode() != key:
                    problem = "it belongs to another point"
                else:
                    table = table.select(_SCHEMA.names).cast(_SCHEMA)
                    cols = [table.column(name).to_pylist() for name in _SCHEMA.names]
                    by_replication: dict[int, list[tuple[Any, ...]]] = {r: [] for r in listed}
                    inside = True
                    for row in zip(*cols, strict=True):
                        if row[0] not in by_replication:
                            inside = False
                            break
                        by_replication[row[0]].append(row)
                    low, high = bounds
                    if (not inside or not listed
                            or not all(low <= r <= high for r in listed)
                            or (low == high and listed != [low])):
                        problem = "it holds other replications than its name says"
                    else:
                        return by_replication
        except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
            problem = f"it cannot be read ({type(exc).__name__})"
        quarantine = self.path / "quarantine"
        quarantine.mkdir(exist_ok=True)
        with contextlib.suppress(OSError):
            os.replace(path, quarantine / f"{key}-{path.name}")
        warnings.warn(f"result store {self.path}: {path.name} of point {key} was set aside "
                      f"because {problem}; its replications are computed again",
                      StoreWarning, stacklevel=3)
        return None

    def _write_table(self, path: Path, key: str, replications: list[int],
                     rows: list[tuple[Any, ...]]) -> None:
        columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in _SCHEMA]
        meta = {_META_EXPERIMENT: self._experiment.encode(), _META_POINT: key.encode(),
                _META_REPLICATIONS: json.dumps(sorted(replications)).encode()}
        table = pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, _SCHEMA, strict=True)],
            schema=_SCHEMA.with_metadata(meta))
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        data = sink.getvalue().to_pybytes()
        target = path.with_name(path.name.format(digest=_digest(data)))
        _atomic_write_bytes(target, lambda p: p.write_bytes(data))

    def save(self, key: str, record: ReplicationRecord) -> None:
        """Write one finished replication of point ``key`` atomically (then compact)."""
        folder = self._point_dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        self._write_table(folder / f"r{record.replication:06d}-{{digest}}.parquet", key,
                          [record.replication], record.to_rows())
        self._known.pop(key, None)
        if sum(1 for n in os.listdir(folder) if _SINGLE.match(n)) >= BATCH_SIZE:
            self._compact(key)

    def _compact(self, key: str) -> None:
        """Combine a point's verified single files into one batch file, then remove them.

        A batch holds any set of replications (stragglers and gaps included); its
        name gives their range and its metadata lists them.
        """
        folder = self._point_dir(key)
        entries = self._entries(key)  # also removes singles a batch already holds
        mine = sorted(r for r, (path, _) in entries.items() if _SINGLE.match(path.name))
        if len(mine) < BATCH_SIZE:
            return
        rows = [row for r in mine for row in entries[r][1]]
        self._write_table(folder / f"b{mine[0]:06d}-{mine[-1]:06d}-{{digest}}.parquet", key,
                          mine, rows)
        for r in mine:
            with contextlib.suppress(FileNotFoundError):
                entries[r][0].unlink()
        self._known.pop(key, None)

    def load(self, key: str, replication: int) -> ReplicationRecord:
        """Read one stored replication of point ``key``."""
        entries = self._entries(key)
        if replication not in entries:
            raise StoreError(f"{self.path}: point {key} has no stored replication {replication}")
        return ReplicationRecord.from_rows(entries[replication][1])

    def load_many(self, key: str, replications: Iterable[int]) -> dict[int, ReplicationRecord]:
        """Read several stored replications of point ``key``."""
        return {r: self.load(key, r) for r in replications}

    # ------------------------------------------------------------------ final table

    def write_results(self, table: pd.DataFrame) -> Path:
        """Write the experiment's final table as ``results.parquet`` (atomically).

        The final table ends the run's writing: the writer's lock is released.
        """
        target = self.path / RESULTS
        plain = _plain_table(table)
        _atomic_write_bytes(target, lambda p: plain.to_parquet(p, index=False))
        self.close()
        return target
