"""The ``simlib`` command.

``simlib run SCENARIO.yaml --replications 20 --seed 1 --format table|json|csv``
prints the summary of an experiment. Invalid input (a scenario that does not
validate, a bad option) is reported as one line on standard error with exit
status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence

from simlib.experiments import run
from simlib.scenario import ScenarioError, load_scenario

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit status 2
        self.exit(2, f"simlib: error: {message}\n")


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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="simlib", description="Service-management simulation workbench.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p_run = sub.add_parser("run", help="simulate a scenario and print the summary")
    p_run.add_argument("scenario", help="scenario YAML file")
    p_run.add_argument("--replications", "-r", type=_positive_int, default=10)
    p_run.add_argument("--seed", "-s", type=_non_negative_int, default=0)
    p_run.add_argument("--format", "-f", choices=("table", "json", "csv"), default="table")
    return parser


def _json_records(frame) -> str:  # type: ignore[no-untyped-def]
    records = frame.to_dict(orient="records")
    for rec in records:
        for key, value in rec.items():
            if isinstance(value, float) and math.isnan(value):
                rec[key] = None  # JSON has no NaN
    return json.dumps(records, indent=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simlib`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"simlib: {args.scenario}: {exc}", file=sys.stderr)
        return 2
    results = run(scenario, replications=args.replications, seed=args.seed)
    table = results.summary()
    if args.format == "json":
        print(_json_records(table))
    elif args.format == "csv":
        print(table.to_csv(index=False), end="")
    else:
        print(f"{scenario.name}: {args.replications} replications, seed {args.seed}, "
              f"time unit {scenario.time_unit}")
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
