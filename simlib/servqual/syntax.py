"""lavaan model syntax: statements, modifiers and defined parameters.

A structural equation model is written as in R's lavaan (Rosseel 2012): one
formula per line (or separated by ``;``), ``#`` or ``!`` starting a comment,
and a formula may continue on the next line after a trailing ``+``. The
operators understood are

* ``f =~ y1 + y2``  – ``f`` is measured by ``y1``, ``y2`` (which may be latent:
  higher-order factors);
* ``y ~ x1 + x2``   – regression of ``y`` on ``x1``, ``x2`` (latent or observed);
* ``y1 ~~ y2``      – (residual) covariance; ``y1 ~~ y1`` a (residual) variance;
* ``y ~ 1``         – intercept (mean of an exogenous variable);
* ``ab := a*b``     – a defined parameter, a function of labelled parameters.

Each right-hand term may carry modifiers before ``*``: a number fixes the
parameter (``0.5*x``, ``0*x``), ``NA`` frees it (``NA*x1`` frees a marker
loading), a name labels it (``a*x``; parameters sharing a label are equal),
``start(v)`` gives a starting value and ``c(m1, m2, ...)`` gives one modifier
per group. Everything else (``<~``, ``|``, ``==``, ``<``, ``>``, unknown
operators, malformed names) is an error naming the line: a model is never
fitted with part of its syntax silently ignored.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["ModelSyntaxError", "Modifier", "Term", "Statement", "Definition",
           "parse_syntax", "compile_expression"]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class ModelSyntaxError(ValueError):
    """The model description could not be parsed."""


@dataclass(frozen=True)
class Modifier:
    """What a term's prefix says about its parameter (any field may be None)."""

    fixed: float | None = None
    label: str | None = None
    start: float | None = None
    free: bool = False  # NA*: explicitly free (overrides auto-fixing)


@dataclass(frozen=True)
class Term:
    """One right-hand-side term: a variable (or ``"1"``) with modifiers per group.

    ``modifiers`` holds one :class:`Modifier` (all groups) or one per group.
    """

    name: str
    modifiers: tuple[Modifier, ...] = (Modifier(),)

    def modifier(self, group: int) -> Modifier:
        if len(self.modifiers) == 1:
            return self.modifiers[0]
        return self.modifiers[group]


@dataclass(frozen=True)
class Statement:
    """One formula: ``lhs op rhs`` with ``op`` in ``=~ ~ ~~ ~1``."""

    lhs: str
    op: str
    terms: tuple[Term, ...]
    line: int
    text: str


@dataclass(frozen=True)
class Definition:
    """A ``name := expression`` defined parameter."""

    name: str
    expression: str
    names: tuple[str, ...]  # the labels the expression uses
    line: int
    text: str


def _where(line: int, text: str) -> str:
    return f"line {line} ({text.strip()!r})"


def _split_top(s: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses; a '+' in an exponent (``1e+3``) is kept."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0 and not (sep == "+" and re.search(r"\d[eE]$", cur)):
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [t.strip() for t in out]


def _parse_one_modifier(tok: str, where: str) -> Modifier:
    tok = tok.strip()
    if _NUMBER.match(tok):
        return Modifier(fixed=float(tok))
    if tok == "NA":
        return Modifier(free=True)
    m = re.fullmatch(r"start\s*\(\s*([^)]*)\)", tok)
    if m:
        if not _NUMBER.match(m.group(1).strip()):
            raise ModelSyntaxError(f"{where}: start() needs a number, got {m.group(1)!r}")
        return Modifier(start=float(m.group(1)))
    if _NAME.match(tok):
        return Modifier(label=tok)
    raise ModelSyntaxError(f"{where}: cannot read the modifier {tok!r} (a number, NA, a label, "
                           "start(v) or c(...) is expected)")


def _merge(mods: list[Modifier], where: str) -> Modifier:
    fixed = label = start = None
    free = False
    for m in mods:
        if m.fixed is not None:
            if fixed is not None:
                raise ModelSyntaxError(f"{where}: two fixed values for one parameter")
            fixed = m.fixed
        if m.label is not None:
            if label is not None:
                raise ModelSyntaxError(f"{where}: two labels for one parameter")
            label = m.label
        start = m.start if m.start is not None else start
        free = free or m.free
    if fixed is not None and free:
        raise ModelSyntaxError(f"{where}: a parameter cannot be both fixed and NA (free)")
    return Modifier(fixed=fixed, label=label, start=start, free=free)


def _parse_term(term: str, where: str) -> Term:
    if not term:
        raise ModelSyntaxError(f"{where}: empty term (a '+' without a variable)")
    parts = _split_top(term, "*")
    name = parts[-1]
    if name != "1" and not _NAME.match(name):
        raise ModelSyntaxError(f"{where}: {name!r} is not a variable name")
    per_group: list[list[Modifier]] | None = None
    common: list[Modifier] = []
    for tok in parts[:-1]:
        m = re.fullmatch(r"c\s*\((.*)\)", tok)
        if m:
            items = [t.strip() for t in m.group(1).split(",")]
            if per_group is not None and len(per_group) != len(items):
                raise ModelSyntaxError(f"{where}: c(...) modifiers of different lengths")
            if per_group is None:
                per_group = [[] for _ in items]
            for g, it in enumerate(items):
                per_group[g].append(_parse_one_modifier(it, where))
        else:
            common.append(_parse_one_modifier(tok, where))
    if per_group is None:
        mods: tuple[Modifier, ...] = (_merge(common, where),)
    else:
        mods = tuple(_merge(common + pg, where) for pg in per_group)
    return Term(name, mods)


_BAD_OPS = (
    ("<~", "formative indicators ('<~') are not supported"),
    ("==", "equality constraints ('==') are not supported; use a shared label (a*x, a*y)"),
    ("|", "thresholds ('|') are not supported"),
    ("%", "the '%' operator is not supported"),
    ("<", "inequality constraints ('<') are not supported"),
    (">", "inequality constraints ('>') are not supported"),
)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Comment-free formulas with the line number where each starts."""
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for no, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        for piece in line.split(";"):
            piece = piece.strip()
            if not piece:
                continue
            if pending:
                pending += " " + piece
            else:
                pending, start = piece, no
            if not re.search(r"(\+|\*|=~|~~|~|:=)$", pending):
                out.append((start, pending))
                pending = ""
    if pending:
        out.append((start, pending))
    return out


def parse_syntax(text: str) -> tuple[list[Statement], list[Definition]]:
    """Parse lavaan model text into statements and defined parameters.

    Raises
    ------
    ModelSyntaxError
        Naming the line, for anything that is not understood.
    """
    if not isinstance(text, str):
        raise TypeError(f"model must be lavaan model text, got {type(text).__name__}")
    statements: list[Statement] = []
    definitions: list[Definition] = []
    for no, line in _logical_lines(text):
        where = _where(no, line)
        if ":=" in line:
            name, expr = (s.strip() for s in line.split(":=", 1))
            if not _NAME.match(name):
                raise ModelSyntaxError(f"{where}: {name!r} is not a valid parameter name")
            names = tuple(sorted(_expression_names(expr, where)))
            definitions.append(Definition(name, expr, names, no, line))
            continue
        for op in ("=~", "~~", "~"):
            if op in line:
                break
        else:
            for bad, msg in _BAD_OPS:
                if bad in line:
                    raise ModelSyntaxError(f"{where}: {msg}")
            raise ModelSyntaxError(f"{where}: no operator (=~, ~, ~~, ~1 or :=) found")
        for bad, msg in _BAD_OPS:
            if bad in line:
                raise ModelSyntaxError(f"{where}: {msg}")
        lhs_text, rhs_text = line.split(op, 1)
        if op == "~" and rhs_text.lstrip().startswith("~"):
            raise ModelSyntaxError(f"{where}: malformed operator")
        if re.search(r"=~|~", rhs_text):
            raise ModelSyntaxError(f"{where}: more than one operator in one formula")
        lhs_names = [s.strip() for s in lhs_text.split("+")]
        for nm in lhs_names:
            if not _NAME.match(nm):
                raise ModelSyntaxError(f"{where}: {nm!r} is not a variable name")
        terms = [_parse_term(t, where) for t in _split_top(rhs_text, "+")]
        for lhs in lhs_names:
            if op == "~":
                ones = [t for t in terms if t.name == "1"]
                rest = [t for t in terms if t.name != "1"]
                for t in ones:
                    statements.append(Statement(lhs, "~1", (t,), no, line))
                if rest:
                    statements.append(Statement(lhs, "~", tuple(rest), no, line))
            else:
                if any(t.name == "1" for t in terms):
                    raise ModelSyntaxError(f"{where}: '1' is only allowed after '~'")
                statements.append(Statement(lhs, op, tuple(terms), no, line))
    if not statements:
        raise ModelSyntaxError("the model has no formulas")
    return statements, definitions


# --------------------------------------------------------------------------- expressions

_FUNCS: dict[str, Callable[..., float]] = {
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs,
}


def _expression_names(expr: str, where: str) -> set[str]:
    try:
        tree = ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise ModelSyntaxError(f"{where}: cannot read the expression {expr!r}") from None
    names: set[str] = set()
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
               ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Call)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ModelSyntaxError(f"{where}: {type(node).__name__} is not allowed in a "
                                   "defined parameter (use + - * / ^ and labels)")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
                raise ModelSyntaxError(f"{where}: only the functions {sorted(_FUNCS)} are "
                                       "allowed in a defined parameter")
        elif isinstance(node, ast.Name):
            names.add(node.id)
    names -= set(_FUNCS)
    return names


def compile_expression(expr: str) -> Callable[[Mapping[str, float]], float]:
    """A function evaluating a (parsed, checked) defined-parameter expression."""
    tree = ast.parse(expr.replace("^", "**"), mode="eval")

    def ev(node: ast.AST, env: Mapping[str, float]) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body, env)
        if isinstance(node, ast.Constant):
            return float(node.value)  # type: ignore[arg-type]
        if isinstance(node, ast.Name):
            return float(env[node.id])
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left, env), ev(node.right, env)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a / b
            return float(a**b)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return float(_FUNCS[node.func.id](*(ev(a, env) for a in node.args)))
        raise ValueError(f"unsupported expression node {type(node).__name__}")

    return lambda env: ev(tree, env)
