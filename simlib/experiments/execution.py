"""Where the replications of an experiment run: one :class:`Execution` and one executor.

An :class:`Execution` says how an experiment is carried out, apart from what
it simulates: how many worker processes (``jobs``), on which executor (this
machine or Dask), at which Dask ``address``, whether a progress bar is shown
and in which result-store directory (``store``) finished replications are
kept. :func:`simlib.run`, :func:`simlib.sweep` and :func:`simlib.compare` take
one as ``execution=``; their keyword arguments ``jobs``, ``executor``,
``address``, ``progress`` and ``out`` build the same object.

A replication is a pure function of (scenario, seed, replication), so the
(point, replication) tasks of an experiment can run in any order and on any
executor: in this process, in local worker processes or on a Dask cluster,
with the same numbers bit for bit. :class:`Executor` is the one
implementation: it dispatches the tasks, yields each record as it finishes,
and maps any other module-level function over its workers (the ISA staffing
plan's simulations). Local worker processes are started with one start
method, the platform's default (see :func:`process_context`).
:class:`Progress` is the progress bar of a run.
"""

from __future__ import annotations

import ast
import itertools
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from simlib.engine import ReplicationRecord, simulate
from simlib.experiments.store import point_key
from simlib.spec.scenario import Scenario
from simlib.spec.validation import count

__all__ = [
    "Execution",
    "ExecutorName",
    "Point",
    "Task",
    "simulate_task",
    "process_context",
    "die_with_parent",
    "unguarded_main_line",
    "Executor",
    "Progress",
]

ExecutorName = Literal["local", "dask"]

#: With ``jobs=None``, worker processes are started only when the remaining
#: sequential work is estimated to take at least this long (seconds): below
#: it, starting processes costs more than it saves.
_POOL_WORTH_SECONDS = 1.0

#: Progress bars appear only for runs that last longer than this (seconds).
_PROGRESS_DELAY = 1.0


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Point:
    """One scenario variant of an experiment and the root seed it runs with."""

    overrides: Mapping[str, Any]
    scenario: Scenario
    seed: int

    @property
    def key(self) -> str:
        return point_key(self.overrides, self.seed)


class Task(NamedTuple):
    point: int
    replication: int


def simulate_task(
    scenario: Scenario, seed: int, replication: int, engine_options: Mapping[str, Any]
) -> ReplicationRecord:
    """One replication; module-level so that worker processes can unpickle it.

    The engine's own censoring warning is off: :func:`_collect` gives one for
    all replications.
    """
    return simulate(scenario, seed, replication, warn=False, **engine_options)


# --------------------------------------------------------------------------- executors


def process_context() -> multiprocessing.context.BaseContext:
    """The start method of every local worker process simlib starts."""
    # The platform's default start method (fork on Linux up to Python 3.13):
    # forked workers inherit the imported engine, start in milliseconds and,
    # unlike spawn or forkserver, never re-import the user's __main__ module,
    # so a plain script without an ``if __name__ == "__main__"`` guard works.
    # Where the default is spawn (macOS, Windows) scripts need that guard, as
    # for any use of multiprocessing.
    return multiprocessing.get_context()


def _watch_parent(parent: int, every: float) -> None:
    while True:
        time.sleep(every)
        if os.getppid() != parent:  # the parent died: this process was handed to init
            os._exit(1)


def die_with_parent(parent: int, every: float = 0.5) -> None:
    """Worker initializer: end this process within ``every`` seconds of its parent's death.

    A killed sweep (SIGKILL gives no chance to clean up) otherwise leaves its
    worker processes running as orphans. A daemon thread compares the parent
    process id; it works on every platform and, unlike Linux's
    ``PR_SET_PDEATHSIG``, does not fire when merely the thread that started
    the worker ends.
    """
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, every), daemon=True,
                     name="simlib-parent-watch").start()


def unguarded_main_line() -> int | None:
    """The line of the running script that called into simlib outside an
    ``if __name__ == "__main__":`` block, or None (guarded, interactive, or not a script).

    Dask's local cluster starts its workers with the spawn method, which
    re-imports the main script: unguarded, every worker would run the script again.
    """
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    if main is None or not file or not str(file).endswith(".py"):
        return None
    frame: Any = sys._getframe(1)
    while frame is not None and not (frame.f_globals is main.__dict__
                                     and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None  # not called from the script's top level
    line = frame.f_lineno
    try:
        with open(file, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if (isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
                and node.lineno <= line <= (node.end_lineno or node.lineno)):
            return None
    return line


@dataclass(frozen=True)
class Execution:
    """How an experiment is carried out: workers, executor, progress bar and result store.

    Attributes
    ----------
    jobs
        Worker processes (``executor="local"``) or workers of a started
        ``LocalCluster`` (``executor="dask"``). ``1`` runs everything in this
        process. ``None`` (default) uses every core when there is more than
        one task and the work, timed on the first task, is long enough
        (about a second) to repay starting processes.
    executor
        ``"local"`` (this machine) or ``"dask"`` (Dask distributed).
    address
        With ``executor="dask"``: ``None`` starts a ``LocalCluster`` and closes
        it afterwards; ``"tcp://host:8786"`` uses a running scheduler; a
        ``distributed.Client`` is used as it is.
    progress
        Show a progress bar (tqdm, notebook-aware) when a run lasts longer
        than a second.
    store
        A result-store directory (:mod:`simlib.experiments.store`), or None.
    """

    jobs: int | None = None
    executor: ExecutorName = "local"
    address: Any = None
    progress: bool = True
    store: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        if self.executor not in ("local", "dask"):
            raise ValueError(f"executor must be 'local' or 'dask', got {self.executor!r}")
        if self.jobs is not None:
            object.__setattr__(self, "jobs", count("", "jobs", self.jobs, 1))
        if self.address is not None and self.executor != "dask":
            raise ValueError("address is for executor='dask'; give executor='dask' as well")

    @classmethod
    def of(
        cls,
        execution: Execution | None = None,
        *,
        jobs: int | None = None,
        executor: ExecutorName = "local",
        address: Any = None,
        progress: bool = True,
        out: str | os.PathLike[str] | None = None,
    ) -> Execution:
        """``execution``, or the Execution the keyword arguments of ``run``/``sweep``/``compare`` describe.

        Raises
        ------
        ValueError
            If ``execution`` is given together with a keyword that differs from its default.
        """
        if execution is None:
            return cls(jobs=jobs, executor=executor, address=address, progress=progress,
                       store=out)
        if not isinstance(execution, Execution):
            raise ValueError(f"execution must be an Execution, got {execution!r}")
        given = [name for name, value, default in (
            ("jobs", jobs, None), ("executor", executor, "local"), ("address", address, None),
            ("progress", progress, True), ("out", out, None)) if value is not default
            and value != default]
        if given:
            raise ValueError(f"give execution= or {', '.join(given)}, not both")
        return execution

    def open(self) -> Executor:
        """A new :class:`Executor` of this execution (use it as a context manager)."""
        return Executor(self)

    def progress_bar(self, total: int, desc: str) -> Progress:
        """A progress bar, shown when ``progress`` is on and the run lasts over a second."""
        return Progress(self.progress, total, desc)


class Executor:
    """Runs (point, replication) tasks, or any module-level function (:meth:`map`), here,
    in local processes or on Dask: the one executor of simlib.

    It is a context manager so that a pool or a cluster started for one
    experiment is reused by every round of it (``replications="auto"``) and
    closed at the end.
    """

    def __init__(self, execution: Execution) -> None:
        self.jobs = execution.jobs
        self.kind = execution.executor
        self.address = execution.address
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._cluster: Any = None
        self._own_client = False
        self._task_seconds: float | None = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._own_client and self._client is not None:
            self._client.close()
        self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    # ------------------------------------------------------------------ dispatch

    def run(
        self, tasks: Sequence[Task], points: Sequence[Point], options: Mapping[str, Any]
    ) -> Iterator[tuple[Task, ReplicationRecord]]:
        """Yield each task with its record as it finishes (in completion order)."""
        if not tasks:
            return
        if self.kind == "dask":
            yield from self._run_dask(tasks, points, options)
            return
        pending = list(tasks)
        cores = os.cpu_count() or 1
        if self.jobs is None and self._pool is None:
            if len(pending) == 1 or cores == 1:
                yield from self._run_here(pending, points, options)
                return
            if self._task_seconds is None:
                # Time one task here to judge whether worker processes pay off.
                first = pending.pop(0)
                yield from self._run_here([first], points, options)
            assert self._task_seconds is not None
            if self._task_seconds * len(pending) < _POOL_WORTH_SECONDS:
                yield from self._run_here(pending, points, options)
                return
        if self.jobs == 1:
            yield from self._run_here(pending, points, options)
            return
        yield from self._run_pool(pending, points, options, self.jobs or cores)

    def _run_here(
        self, tasks: Sequence[Task], points: Sequence[Point], options: Mapping[str, Any]
    ) -> Iterator[tuple[Task, ReplicationRecord]]:
        for task in tasks:
            p = points[task.point]
            start = time.perf_counter()
            record = simulate_task(p.scenario, p.seed, task.replication, options)
            self._task_seconds = time.perf_counter() - start
            yield task, record

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        """``[fn(*args) for args in zip(*iterables)]``, computed on this executor, in order.

        ``fn`` must be a module-level function so that workers can unpickle it.
        With ``jobs=1`` or a single call everything runs in this process.
        """
        calls = list(zip(*iterables, strict=True))
        if self.kind == "dask":
            client = self._dask_client()
            return list(client.gather(client.map(fn, *zip(*calls, strict=True), pure=False)))
        if self.jobs == 1 or len(calls) <= 1:
            return [fn(*args) for args in calls]
        pool = self._local_pool(self.jobs or os.cpu_count() or 1)
        return list(pool.map(fn, *zip(*calls, strict=True)))

    def _local_pool(self, workers: int) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(workers, mp_context=process_context(),
                                             initializer=die_with_parent,
                                             initargs=(os.getpid(),))
        return self._pool

    def _run_pool(
        self,
        tasks: Sequence[Task],
        points: Sequence[Point],
        options: Mapping[str, Any],
        workers: int,
    ) -> Iterator[tuple[Task, ReplicationRecord]]:
        pool = self._local_pool(workers)
        # Keep a bounded number of tasks in flight: memory stays flat for huge
        # experiments and an interrupted run leaves little queued work behind.
        queue = iter(tasks)
        running: dict[Future[ReplicationRecord], Task] = {}

        def submit(n: int) -> None:
            for task in itertools.islice(queue, n):
                p = points[task.point]
                fut = pool.submit(simulate_task, p.scenario, p.seed, task.replication, options)
                running[fut] = task

        submit(4 * workers)
        try:
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = running.pop(fut)
                    yield task, fut.result()
                submit(len(done))
        finally:
            for fut in running:
                fut.cancel()

    def _dask_client(self) -> Any:
        if self._client is not None:
            return self._client
        from distributed import Client, LocalCluster  # heavy, and only the Dask backend needs it

        if self.address is None:
            line = unguarded_main_line()
            if line is not None:
                raise RuntimeError(
                    f'executor="dask" starts workers that re-import {sys.argv[0]}: put the code '
                    f'from line {line} on under `if __name__ == "__main__":`, or use jobs=N')
            self._cluster = LocalCluster(
                n_workers=self.jobs or os.cpu_count() or 1,
                threads_per_worker=1,  # the engine is pure Python: threads would share the GIL
                processes=True,
                host="127.0.0.1",  # scheduler and workers on this machine only
                dashboard_address="127.0.0.1:0",  # this machine only, a free port
            )
            self._client = Client(self._cluster)
            self._own_client = True
        elif isinstance(self.address, str):
            self._client = Client(self.address, timeout="20s")
            self._own_client = True
        else:  # an existing distributed.Client: used, not closed
            self._client = self.address
        return self._client

    def _run_dask(
        self, tasks: Sequence[Task], points: Sequence[Point], options: Mapping[str, Any]
    ) -> Iterator[tuple[Task, ReplicationRecord]]:
        from distributed import as_completed  # heavy, and only the Dask backend needs it

        client = self._dask_client()
        # One copy of each scenario on the cluster instead of one per task.
        scenarios = {i: client.scatter(points[i].scenario, broadcast=True)
                     for i in sorted({t.point for t in tasks})}
        futures = {}
        for task in tasks:
            p = points[task.point]
            # pure=False: every replication is its own task even when arguments repeat.
            fut = client.submit(simulate_task, scenarios[task.point], p.seed, task.replication,
                                dict(options), pure=False)
            futures[fut] = task
        try:
            # A killed worker's tasks are rescheduled by Dask on the others; results
            # already gathered here are safe in the store. A task whose scattered
            # scenario died with the worker comes back cancelled (a FutureCancelledError
            # as its result): it is submitted again with the scenario itself.
            pending = as_completed(futures, with_results=True, raise_errors=False)
            resubmitted: dict[Task, int] = {}
            for fut, record in pending:
                task = futures.pop(fut)
                if not isinstance(record, ReplicationRecord):
                    tries = resubmitted.get(task, 0)
                    if not fut.cancelled() or tries >= _DASK_RETRIES:
                        fut.result()  # re-raises the task's own error, with its traceback
                        raise RuntimeError(
                            f"replication {task.replication} was cancelled on the Dask cluster "
                            f"{tries + 1} times")
                    fut.release()
                    resubmitted[task] = tries + 1
                    p = points[task.point]
                    again = client.submit(simulate_task, p.scenario, p.seed, task.replication,
                                          dict(options), pure=False)
                    futures[again] = task
                    pending.add(again)
                    continue
                fut.release()
                yield task, record
        finally:
            if futures:
                client.cancel(list(futures))


#: Times a replication cancelled by a lost worker is submitted again before the run fails.
_DASK_RETRIES = 3


class Progress:
    """A tqdm bar that appears only when a run lasts longer than a second."""

    def __init__(self, enabled: bool, total: int, desc: str) -> None:
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm  # tqdm.auto loads ipywidgets in notebooks: only for a bar

            self.bar = tqdm(total=total, desc=desc, unit="rep", delay=_PROGRESS_DELAY,
                            dynamic_ncols=True)

    def add_total(self, n: int) -> None:
        if self.bar is not None and n:
            # No refresh(): it would draw the bar before the delay has passed.
            self.bar.total += n

    def update(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
