"""The architecture of simlib, checked: layers, no import circles, no private names across modules.

simlib is layered and each layer is a folder::

    spec, theory, servqual -> engine -> experiments -> planning | analysis | calibrate (+ datasets)
        -> studies -> plots | app

A module may import only from its own layer or from layers to its left. ``simlib/__init__.py``
is the public face: it imports the experiments and the specification and reaches every
subpackage lazily, through a module ``__getattr__``. Besides the layers, only plots/ and app/
import matplotlib or ipywidgets, only engine/ imports simpy, the engine imports no pandas,
servqual, theory and spec import nothing from simlib outside themselves, no private name of
simlib (``_x``, or a private module) is used outside the module that defines it, and imports sit
at the top of the file - except heavy optional modules, imported where they are needed with a
comment on the line saying why.

The checker reads the source with :mod:`ast` (nothing is imported) and names ``file:line`` of
every violation; :func:`test_checker_reports_every_kind` feeds it a small bad package, so each
rule is shown to be able to fail.
"""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import ROOT

PACKAGE = "simlib"

# The first name below simlib/ -> its layer (0 is the left end of the rule). lazy.py, which makes
# a package's modules its attributes, imports nothing and sits at the left end.
LAYERS: dict[str, int] = {
    "spec": 0,
    "theory": 0,
    "servqual": 0,
    "lazy": 0,
    "engine": 1,
    "experiments": 2,
    "planning": 3,
    "analysis": 3,
    "calibrate": 3,
    "datasets": 3,
    "studies": 4,
    "plots": 5,
    "app": 5,
}
# What the public face (simlib/__init__.py) may import at the top; everything else it reaches
# lazily. Imported from inside the package, the face counts as the experiments layer it imports.
FACE_IMPORTS = {"experiments", "spec", "lazy"}
FACE_LAYER = LAYERS["experiments"]
# Packages that import nothing from simlib outside themselves: the survey analytics stand alone,
# the oracles and the specification are the roots everything else is checked against.
SELF_CONTAINED = {"servqual", "theory", "spec"}

GUI_MODULES = ("matplotlib", "ipywidgets")
GUI_HOMES = {"plots", "app"}

# Heavy optional modules that may be imported inside a function, where a comment on the line says
# why. lifelines is here too: it takes about two seconds to import and one estimator needs it.
HEAVY_OPTIONAL = (
    "distributed",
    "dask",
    "tqdm",
    "matplotlib",
    "scipy.stats",
    "IPython",
    "playwright",
    "ipywidgets",
    "voila",
    "lifelines",
)

KINDS = ("layer", "circle", "private", "gui", "simpy", "pandas", "isolation", "late-import")


@dataclass(frozen=True)
class Violation:
    """One broken rule, at one place."""

    kind: str
    path: str  # relative to the folder that holds simlib/
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.kind}] {self.message}"


@dataclass(frozen=True)
class Import:
    """One module named by an import statement (``from a import b, c`` may give several)."""

    importer: str  # dotted name of the importing module
    line: int
    end_line: int
    target: str  # dotted module imported (``a.b`` when b is a module of a, else ``a``)
    names: tuple[str, ...]  # names taken from target by a from-import
    in_function: bool
    type_checking: bool  # under ``if TYPE_CHECKING:`` (never executed)


@dataclass
class Module:
    """A parsed source file of the package."""

    name: str
    path: Path
    rel: str
    tree: ast.Module
    comments: dict[int, str]
    imports: list[Import] = field(default_factory=list)
    # local names that imports bind to simlib modules: {name: dotted module}
    bindings: dict[str, str] = field(default_factory=dict)

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def area(self) -> str | None:
        """The first name below simlib (``spec``, ``datasets``, ...); None for the face."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else None


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _matches(dotted: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(dotted == p or dotted.startswith(p + ".") for p in prefixes)


def _comments(source: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


def _has_reason(module: Module, imp: Import) -> bool:
    """A comment on the import's lines that says something (a bare ``noqa`` is no reason)."""
    for line in range(imp.line, imp.end_line + 1):
        text = module.comments.get(line, "").lstrip("#").strip()
        if text and not text.lower().startswith(("noqa", "type:")):
            return True
    return False


def parse_package(root: Path) -> dict[str, Module]:
    """Every module under ``root/simlib``, parsed, with its imports resolved to dotted names."""
    modules: dict[str, Module] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        source = path.read_text(encoding="utf-8")
        modules[".".join(parts)] = Module(
            name=".".join(parts),
            path=path,
            rel=path.relative_to(root).as_posix(),
            tree=ast.parse(source, filename=str(path)),
            comments=_comments(source),
        )
    for module in modules.values():
        module.imports = list(_ImportCollector(module, modules).collect())
    return modules


class _ImportCollector(ast.NodeVisitor):
    """The import statements of one module, with where they sit (function, TYPE_CHECKING)."""

    def __init__(self, module: Module, modules: dict[str, Module]) -> None:
        self.module = module
        self.modules = modules
        self.functions = 0
        self.type_checking = 0
        self.found: list[Import] = []

    def collect(self) -> Iterator[Import]:
        self.visit(self.module.tree)
        return iter(self.found)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.functions += 1
        self.generic_visit(node)
        self.functions -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        guarded = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        self.visit(node.test)
        self.type_checking += guarded
        for child in node.body:
            self.visit(child)
        self.type_checking -= guarded
        for child in node.orelse:
            self.visit(child)

    def _add(self, node: ast.stmt, target: str, names: tuple[str, ...] = ()) -> None:
        self.found.append(
            Import(
                importer=self.module.name,
                line=node.lineno,
                end_line=node.end_lineno or node.lineno,
                target=target,
                names=names,
                in_function=self.functions > 0,
                type_checking=self.type_checking > 0,
            )
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)
            if _matches(alias.name, {PACKAGE}):
                # ``import a.b`` binds a; ``import a.b as x`` binds x to a.b
                local = alias.asname or alias.name.split(".")[0]
                self.module.bindings[local] = alias.name if alias.asname else local

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__":
            return
        base = node.module or ""
        if node.level:
            package = self.module.name.split(".")
            if not self.module.is_package:
                package.pop()
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        plain: list[str] = []
        for alias in node.names:
            if f"{base}.{alias.name}" in self.modules:
                self._add(node, f"{base}.{alias.name}")
                self.module.bindings[alias.asname or alias.name] = f"{base}.{alias.name}"
            else:
                plain.append(alias.name)
        if plain:
            self._add(node, base, tuple(plain))


def _area(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else None


def _layer_of_target(target: str) -> int | None:
    area = _area(target)
    return FACE_LAYER if area is None else LAYERS.get(area)


def _check_layers(module: Module, imp: Import) -> Iterator[str]:
    if not _matches(imp.target, {PACKAGE}):
        return
    target_area = _area(imp.target)
    if module.area is None:
        if target_area not in FACE_IMPORTS:
            yield (
                f"the public face imports {imp.target}; it may import only "
                f"{', '.join(sorted(FACE_IMPORTS))} (reach the rest lazily through __getattr__)"
            )
        return
    own, theirs = LAYERS.get(module.area), _layer_of_target(imp.target)
    if own is None or theirs is None:
        yield f"{module.name} or {imp.target} has no layer; add it to LAYERS"
    elif theirs > own:
        yield (
            f"{module.area} (layer {own}) imports {imp.target} (layer {theirs}); "
            "a module may import only from its own layer or layers to its left"
        )


def _check_private(module: Module, imp: Import) -> Iterator[str]:
    if not _matches(imp.target, {PACKAGE}):
        return  # the rule is about simlib's own names (sys._getframe is CPython's API)
    if any(_is_private(part) for part in imp.target.split(".")):
        yield f"imports the private module {imp.target}; give it a public name"
    for name in imp.names:
        if _is_private(name):
            yield f"imports the private name {name} from {imp.target}"


def _private_attributes(module: Module, modules: dict[str, Module]) -> Iterator[tuple[int, str]]:
    """``m._x`` where m is a module bound by an import (the first name after the module chain)."""
    bound = module.bindings
    if not bound:
        return
    # only the outermost Attribute of a chain is judged, so each use is reported once
    inner = {
        id(node.value)
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
    }
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        chain: list[str] = []
        value: ast.expr = node
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id not in bound:
            continue
        chain.reverse()
        dotted = bound[value.id]
        for part in chain:
            if f"{dotted}.{part}" in modules:
                dotted = f"{dotted}.{part}"
                continue
            if _is_private(part) and dotted != module.name:
                yield node.lineno, f"uses the private name {dotted}.{part}"
            break


def _late_import_problem(module: Module, imp: Import) -> str | None:
    if not imp.in_function:
        return None
    heavy = _matches(imp.target, HEAVY_OPTIONAL) or (
        bool(imp.names) and all(_matches(f"{imp.target}.{n}", HEAVY_OPTIONAL) for n in imp.names)
    )
    what = imp.target + (f" ({', '.join(imp.names)})" if imp.names else "")
    if not heavy:
        return (
            f"imports {what} inside a function; move it to the top of the file (only heavy "
            "optional modules may be imported late)"
        )
    if not _has_reason(module, imp):
        return f"imports the heavy module {what} inside a function without a comment saying why"
    return None


def _circles(modules: dict[str, Module]) -> Iterator[Violation]:
    """Import circles among module-level imports (Tarjan's strongly connected components)."""
    edges: dict[str, dict[str, Import]] = {name: {} for name in modules}
    for module in modules.values():
        for imp in module.imports:
            if imp.in_function or imp.type_checking or imp.target not in modules:
                continue
            if imp.target != module.name:
                edges[module.name].setdefault(imp.target, imp)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges[node]:
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for name in sorted(modules):
        if name not in index:
            connect(name)
    for component in components:
        members = set(component)
        for name in component:
            for succ, imp in edges[name].items():
                if succ in members:
                    yield Violation(
                        "circle",
                        modules[name].rel,
                        imp.line,
                        f"{name} imports {succ}, and they are in an import circle "
                        f"({' <-> '.join(component)})",
                    )


def check(root: Path) -> list[Violation]:
    """Every violation of the architecture rules in the package under ``root/simlib``."""
    modules = parse_package(root)
    found: list[Violation] = []
    for module in modules.values():

        def report(kind: str, line: int, message: str, module: Module = module) -> None:
            found.append(Violation(kind, module.rel, line, message))

        for imp in module.imports:
            for message in _check_layers(module, imp):
                report("layer", imp.line, message)
            for message in _check_private(module, imp):
                report("private", imp.line, message)
            if _matches(imp.target, GUI_MODULES) and module.area not in GUI_HOMES:
                report("gui", imp.line, f"imports {imp.target} outside plots/ and app/")
            if _matches(imp.target, {"simpy"}) and module.area != "engine":
                report("simpy", imp.line, f"imports {imp.target} outside engine/")
            if _matches(imp.target, {"pandas"}) and module.area == "engine":
                report("pandas", imp.line, f"the engine imports {imp.target}")
            if (
                module.area in SELF_CONTAINED
                and _matches(imp.target, {PACKAGE})
                and _area(imp.target) != module.area
            ):
                report(
                    "isolation",
                    imp.line,
                    f"{module.area} imports {imp.target}; it imports nothing from simlib "
                    f"outside simlib.{module.area}",
                )
            problem = _late_import_problem(module, imp)
            if problem:
                report("late-import", imp.line, problem)
        for line, message in _private_attributes(module, modules):
            report("private", line, message)
    found.extend(_circles(modules))
    return sorted(found, key=lambda v: (v.path, v.line, v.kind, v.message))


# --------------------------------------------------------------------------- temporary allowances
# Each entry is (file, kind, a piece of the message); a violation matching one is tolerated.
#
# None are left: the engine's restructuring removed the last ones.
TEMPORARY: tuple[tuple[str, str, str], ...] = ()


def _allowed(violation: Violation) -> bool:
    return any(
        violation.path == path and violation.kind == kind and piece in violation.message
        for path, kind, piece in TEMPORARY
    )


# --------------------------------------------------------------------------- the rules


@pytest.fixture(scope="module")
def violations() -> list[Violation]:
    return check(ROOT)


@pytest.mark.parametrize("kind", KINDS)
def test_simlib_keeps_the_rule(violations: list[Violation], kind: str) -> None:
    broken = [v for v in violations if v.kind == kind and not _allowed(v)]
    assert not broken, "\n" + "\n".join(map(str, broken))


def test_temporary_allowances_are_still_needed(violations: list[Violation]) -> None:
    stale = [
        entry
        for entry in TEMPORARY
        if not any(
            v.path == entry[0] and v.kind == entry[1] and entry[2] in v.message
            for v in violations
        )
    ]
    assert not stale, f"fixed, so remove from the temporary allowances: {stale}"


def test_every_area_has_a_layer() -> None:
    areas = {p.stem for p in (ROOT / PACKAGE).iterdir() if p.suffix == ".py" or p.is_dir()}
    areas -= {"__init__", "__pycache__"}
    assert areas == set(LAYERS)


# --------------------------------------------------------------------------- the checker can fail

_BAD_PACKAGE = {
    "__init__.py": "from simlib.plots import figure\n",
    "spec/__init__.py": "",
    "spec/scenario.py": (
        "import matplotlib.pyplot as plt\n"  # gui
        "import simpy\n"  # simpy outside engine
        "from simlib.engine.network import simulate\n"  # layer (0 -> 1)
    ),
    "servqual/__init__.py": "",
    "servqual/_core.py": "X = 1\n",
    "servqual/cfa.py": (
        "from simlib.spec.scenario import Scenario\n"  # isolation
        "from simlib.servqual import _core\n"  # private module
    ),
    "engine/__init__.py": "",
    "engine/network.py": (
        "import pandas as pd\n"  # pandas in the engine
        "from simlib.engine.records import _helper\n"  # private name, and a circle
        "\n"
        "def simulate():\n"
        "    from simlib.spec import scenario\n"  # late import
        "    import tqdm\n"  # heavy, but no comment
        "    import distributed  # only the Dask backend needs it\n"  # allowed
        "    return scenario\n"
    ),
    "engine/records.py": (
        "import simlib.engine.network as network\n"  # circle
        "\n"
        "def _helper():\n"
        "    return network._private\n"  # private attribute
    ),
    "plots/__init__.py": "",
    "plots/figure.py": "import matplotlib\n",
}


def _bad_package(root: Path) -> None:
    for name, text in _BAD_PACKAGE.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_checker_reports_every_kind(tmp_path: Path) -> None:
    _bad_package(tmp_path)
    found = {(v.path, v.line, v.kind) for v in check(tmp_path)}
    expected = {
        ("simlib/__init__.py", 1, "layer"),
        ("simlib/spec/scenario.py", 1, "gui"),
        ("simlib/spec/scenario.py", 2, "simpy"),
        ("simlib/spec/scenario.py", 3, "layer"),
        ("simlib/spec/scenario.py", 3, "isolation"),
        ("simlib/servqual/cfa.py", 1, "isolation"),
        ("simlib/servqual/cfa.py", 2, "private"),
        ("simlib/engine/network.py", 1, "pandas"),
        ("simlib/engine/network.py", 2, "private"),
        ("simlib/engine/network.py", 2, "circle"),
        ("simlib/engine/network.py", 5, "late-import"),
        ("simlib/engine/network.py", 6, "late-import"),
        ("simlib/engine/records.py", 1, "circle"),
        ("simlib/engine/records.py", 4, "private"),
    }
    assert found == expected
    assert {kind for _, _, kind in found} == set(KINDS)


def test_messages_name_the_file_and_line(tmp_path: Path) -> None:
    _bad_package(tmp_path)
    lines = [str(v) for v in check(tmp_path)]
    assert "simlib/engine/network.py:6: [late-import] imports the heavy module tqdm inside a " \
        "function without a comment saying why" in lines
    assert any(line.startswith("simlib/engine/records.py:1: [circle]") for line in lines)


# --------------------------------------------------------------------------- the public face

_FACE = """
import sys
import simlib
assert "matplotlib" not in sys.modules, "import simlib loaded matplotlib"
assert "ipywidgets" not in sys.modules, "import simlib loaded ipywidgets"
for name in ("spec", "theory", "engine", "experiments", "planning", "analysis", "calibrate",
             "servqual", "studies", "plots", "app", "datasets"):
    assert getattr(simlib, name).__name__ == "simlib." + name, name
    assert name in dir(simlib), name
assert callable(simlib.servqual.cfa)
assert simlib.planning.staffing.__name__ == "simlib.planning.staffing"
assert callable(simlib.calibrate.calibrate)
for name in ("load_scenario", "run", "sweep", "compare", "Results", "Scenario", "ScenarioError"):
    assert name in simlib.__all__ and hasattr(simlib, name), name
try:
    simlib.no_such_module
except AttributeError:
    pass
else:
    raise AssertionError("simlib.no_such_module resolved")
print("ok")
"""


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter on this checkout; its standard output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_simlib_is_light_and_reaches_every_subpackage() -> None:
    assert _python(_FACE).strip() == "ok"


def test_import_simlib_loads_only_the_specification_and_the_runner() -> None:
    code = "import json, sys, simlib; print(json.dumps(sorted(sys.modules)))"
    loaded = {m.split(".")[1] for m in json.loads(_python(code)) if m.startswith("simlib.")}
    # the runner checks offered loads with the traffic equations of simlib.theory
    assert loaded <= {"experiments", "engine", "spec", "theory", "lazy"}, loaded
