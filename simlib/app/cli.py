"""The ``simlib`` command.

``simlib run SCENARIO.yaml --replications 20 --seed 1 --format table|json|csv``
prints the summary of an experiment;
``simlib sweep SCENARIO.yaml --set stations.contact.servers=12,13,14 ...``
prints a sweep's table and ``simlib compare SCENARIO.yaml VARIANTS.yaml ...``
a paired comparison. Every command takes ``--jobs N`` or ``--dask [ADDRESS]``
to choose the executor, ``--out DIR`` for a resumable result store and
``--quiet`` to hide progress bars; ``simlib --version`` prints the version.
Invalid input (a scenario that does not validate, a directory or a missing
file given as the scenario, a bad option, a store that holds another
experiment) is reported as one line on standard error with exit status 2,
never as a traceback. Warnings of the run (a station loaded to capacity,
customers censored at the drain limit — each said once per run) are printed
as ``simlib: warning: ...`` lines on standard error. When standard output is
closed early (``simlib run x.yaml | head``) the command stops quietly with
exit status 141, as tools killed by SIGPIPE do.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import yaml

from simlib import __version__
from simlib.engine import MAX_CUSTOMERS
from simlib.experiments.budget import MAX_WORK
from simlib.experiments.execution import Execution
from simlib.experiments.runner import compare, run, sweep
from simlib.spec.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit status 2
        self.exit(2, f"simlib: error: {message}\n")


class _UsageError(ValueError):
    """A command-line input problem reported as one line (exit status 2)."""


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1, got 0")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _replications(text: str) -> int | str:
    return "auto" if text == "auto" else _positive_int(text)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _common_options(p: argparse.ArgumentParser, auto: bool) -> None:
    p.add_argument("--replications", "-r", type=_replications if auto else _positive_int,
                   default=10, help="replications per scenario" + (" or 'auto'" if auto else ""))
    p.add_argument("--seed", "-s", type=_non_negative_int, default=0)
    p.add_argument("--format", "-f", choices=("table", "json", "csv"), default="table")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", "-j", type=_positive_int, default=None,
                       help="local worker processes (default: all cores when worth it)")
    where.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="run on Dask: a scheduler address such as tcp://host:8786, "
                            "or nothing for a local cluster")
    p.add_argument("--out", "-o", default=None, metavar="DIR",
                   help="result store: finished replications are kept; rerun to resume")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.add_argument("--max-work", type=_positive_float, default=MAX_WORK, metavar="VISITS",
                   help=f"refuse experiments estimated above this many station visits "
                        f"(default {MAX_WORK:g})")
    p.add_argument("--max-customers", type=_positive_int, default=MAX_CUSTOMERS, metavar="N",
                   help=f"stop a replication with more customers in the system at once "
                        f"(default {MAX_CUSTOMERS:,})")
    p.add_argument("--allow-paths", action="append", default=[], metavar="DIR",
                   help="also read files the scenario names from DIR (repeatable); by default "
                        "only files inside the scenario's folder are read")
    if auto:
        p.add_argument("--precision", type=_fraction, default=0.05,
                       help="with --replications auto: target relative half-width (0.05)")
        p.add_argument("--metric", default="mean_wait",
                       help="with --replications auto: metric or scope.metric (mean_wait)")
        p.add_argument("--max-replications", type=_positive_int, default=1000)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="simlib", description="Service-management simulation workbench.")
    parser.add_argument("--version", action="version", version=f"simlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p_run = sub.add_parser("run", help="simulate a scenario and print the summary")
    p_run.add_argument("scenario", help="scenario YAML file")
    _common_options(p_run, auto=True)
    p_sweep = sub.add_parser("sweep", help="simulate a grid of parameter values")
    p_sweep.add_argument("scenario", help="scenario YAML file")
    p_sweep.add_argument("--set", dest="settings", action="append", default=[], required=True,
                         metavar="PATH=V1,V2,...",
                         help="a dotted path and its values, e.g. stations.contact.servers=12,13,14 "
                              "(repeat for a grid)")
    _common_options(p_sweep, auto=True)
    p_cmp = sub.add_parser("compare", help="paired comparison of variants with a base scenario")
    p_cmp.add_argument("scenario", help="base scenario YAML file")
    p_cmp.add_argument("variants", help="YAML file: {name: {dotted.path: value, ...}, ...}")
    p_cmp.add_argument("--independent", action="store_true",
                       help="independent seeds per variant instead of common random numbers")
    _common_options(p_cmp, auto=False)
    return parser


def _json_records(frame: pd.DataFrame) -> str:
    records = frame.to_dict(orient="records")
    for rec in records:
        for key, value in rec.items():
            if isinstance(value, float) and math.isnan(value):
                rec[key] = None  # JSON has no NaN
    return json.dumps(records, indent=1, default=str)


def _parse_setting(text: str) -> tuple[str, list[Any]]:
    path, sep, values = text.partition("=")
    path = path.strip()
    if not sep or not path or not values.strip():
        raise _UsageError(f"--set {text!r}: write PATH=V1,V2,... e.g. stations.contact.servers=12,13")
    parsed = []
    for item in values.split(","):
        try:
            parsed.append(yaml.safe_load(item.strip()))  # 12 -> int, 3.5 -> float, fifo -> str
        except yaml.YAMLError:
            raise _UsageError(f"--set {path}: cannot read value {item.strip()!r}") from None
    return path, parsed


def _read_variants(path: str) -> dict[str, dict[str, Any]]:
    file = Path(path)
    if file.is_dir():
        raise _UsageError(f"{path} is a directory, not a variants file (give a .yaml file)")
    if not file.is_file():
        raise _UsageError(f"{path}: variants file not found")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise _UsageError(f"{path}: invalid YAML") from None
    if isinstance(data, dict) and set(data) == {"variants"}:
        data = data["variants"]
    if not isinstance(data, dict) or not data or not all(isinstance(v, dict) for v in data.values()):
        raise _UsageError(f"{path}: give a mapping {{name: {{dotted.path: value, ...}}, ...}}")
    return {str(k): v for k, v in data.items()}


def _execution(args: argparse.Namespace) -> Execution:
    if args.dask is None:
        return Execution(jobs=args.jobs, progress=not args.quiet, store=args.out)
    return Execution(jobs=args.jobs, executor="dask",
                     address=None if args.dask == "local" else args.dask,
                     progress=not args.quiet, store=args.out)


def _auto(args: argparse.Namespace) -> dict[str, Any]:
    return {"precision": args.precision, "metric": args.metric,
            "max_replications": args.max_replications, **_limits(args)}


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    # max_customers is an engine option: only passed when changed, so that
    # result stores of earlier runs keep their manifest.
    extra = {} if args.max_customers == MAX_CUSTOMERS else {"max_customers": args.max_customers}
    return {"max_work": args.max_work, **extra}


def _print(table: pd.DataFrame, fmt: str, heading: str) -> None:
    if fmt == "json":
        print(_json_records(table))
    elif fmt == "csv":
        print(table.to_csv(index=False), end="")
    else:
        print(heading)
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))


def _execute(args: argparse.Namespace, scenario: Scenario) -> tuple[pd.DataFrame, str]:
    what = f"seed {args.seed}, time unit {scenario.time_unit}"
    if args.command == "run":
        results = run(scenario, replications=args.replications, seed=args.seed,
                      execution=_execution(args), **_auto(args))
        return results.summary(), (f"{scenario.name}: {results.n_replications} replications, "
                                   f"{what}")
    if args.command == "sweep":
        grid = dict(_parse_setting(text) for text in args.settings)
        if len(grid) != len(args.settings):
            raise _UsageError("--set: each path may be given once")
        swept = sweep(scenario, grid, replications=args.replications, seed=args.seed,
                      execution=_execution(args), **_auto(args))
        return swept.table, f"{scenario.name}: sweep of {', '.join(grid)}, {what}"
    variants = _read_variants(args.variants)
    comparison = compare(scenario, variants, replications=args.replications, seed=args.seed,
                         common_random_numbers=not args.independent, execution=_execution(args),
                         **_limits(args))
    crn = "independent seeds" if args.independent else "common random numbers"
    return comparison.table, (f"{scenario.name}: variant - base, {args.replications} replications, "
                   f"{crn}, {what}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simlib`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        scenario = load_scenario(args.scenario, allow_paths=args.allow_paths)
    except ScenarioError as exc:
        # File-level problems already name the file; key-path problems get it in front.
        where = f"{args.scenario}: " if exc.path else ""
        print(f"simlib: {where}{exc}", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            table, heading = _execute(args, scenario)
    except (ValueError, OSError) as exc:
        # ScenarioError, StoreError and bad arguments are all ValueErrors with
        # one-line messages; OSError covers an unusable --out or --dask address.
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"simlib: error: {message}", file=sys.stderr)
        return 2
    try:
        _print(table, args.format, heading)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader left (``| head``): send what is still buffered to /dev/null so
        # that the flush at exit does not raise again, and stop as SIGPIPE would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return 0


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    """Warnings as one ``simlib: warning:`` line on standard error, without a source line."""
    text = " ".join(str(message).split())
    print(f"simlib: warning: {text}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
