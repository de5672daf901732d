"""Reading scenario YAML defensively: what a file says, once, in bounded size.

A scenario file is input from people and, increasingly, from other people's
tools, so it is read with limits that make every file end either in data or
in a one-line :class:`~simlib.spec.validation.ScenarioError`:

* **Duplicate keys are refused.** PyYAML keeps the last of two equal keys
  (``servers: 14`` then ``servers: 2`` silently means 2); here the message
  names the key and both lines.
* **Numbers are read the YAML 1.2 way.** YAML 1.1, which PyYAML follows, reads
  ``014`` as octal 12, ``1:30`` as 90 and needs a dot in ``1.0e-3``. Here an
  integer is decimal digits (a leading zero changes nothing), ``0o17`` or
  ``0x1F``; a float is ``1.5``, ``1e-3``, ``.inf`` or ``.nan``; ``1:30`` is text.
  Booleans keep YAML 1.1's spellings (``yes``/``no`` as well as ``true``/``false``).
* **Size is bounded before anything is built.** At most
  :data:`MAX_DOCUMENT_CHARS` characters, nesting at most :data:`MAX_DEPTH`
  levels deep, and at most :data:`MAX_NODES` values once aliases are expanded,
  which stops "billion laughs" alias bombs: a one-kilobyte file whose aliases
  expand to billions of values is refused with the count instead of eating
  the machine when something walks it.

The limits are generous (the largest bundled scenario is far below each of
them) and are module constants a caller may raise.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simlib.spec.validation import ScenarioError

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_CHARS", "MAX_NODES", "check_nesting", "load_yaml"]

#: Longest scenario text read, in characters (16 MiB of text is far beyond any scenario).
MAX_DOCUMENT_CHARS = 16 * 1024 * 1024
#: Deepest nesting of mappings and lists (a scenario needs fewer than ten levels).
MAX_DEPTH = 64
#: Most values in the document once every alias is expanded.
MAX_NODES = 1_000_000

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_12 = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 numbers and refusing duplicate keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges a mapping; SafeConstructor flattens it
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # unhashable: SafeConstructor reports it
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise ConstructorError(
                    None, None,
                    f"duplicate key {str(key)[:60]!r} (first at line {first_line[key]})",
                    key_node.start_mark,
                )
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        try:
            if text[:2] == "0o":
                return int(text[2:], 8)
            if text[:2] == "0x":
                return int(text[2:], 16)
            return int(text, 10)
        except ValueError:
            raise ConstructorError(None, None, f"not an integer that can be read: {text[:40]!r}"
                                   f"{'...' if len(text) > 40 else ''}",
                                   node.start_mark) from None


# YAML 1.2 core schema for numbers: drop YAML 1.1's int and float resolvers
# (octal 014, sexagesimal 1:30, 1_000) and add the 1.2 ones, integers first.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_INT_TAG, _INT_12, list("-+0123456789"))
_Loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT_12, list("-+0123456789."))
_Loader.add_constructor(_INT_TAG, _Loader.construct_yaml_int)


def _check_size(root: Node, source: str) -> None:
    """Refuse documents nested too deeply or too large once aliases are expanded."""
    expanded: dict[int, int] = {}  # node id -> values below it, aliases expanded
    # Iterative post-order walk: deep nesting must not hit Python's recursion limit.
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError("", f"{source}: nested more than {MAX_DEPTH} levels deep "
                                    f"(line {node.start_mark.line + 1})")
        if id(node) in expanded:
            continue
        if isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        else:
            expanded[id(node)] = 1
            continue
        if done:
            total = 1 + sum(expanded[id(c)] for c in children)
            if total > MAX_NODES:
                raise ScenarioError("", f"{source}: expands to more than {MAX_NODES:,} values "
                                        "(aliases that repeat aliases); refusing to read it")
            expanded[id(node)] = total
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in expanded)


_BRACKET = re.compile(r"[\[\]{}]")


def _bracket_depth(text: str) -> int:
    """The deepest nesting of flow brackets in ``text`` (an upper bound on flow nesting)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def check_nesting(data: Any, source: str = "scenario") -> None:
    """Refuse a Python value (a scenario dict) nested deeper than :data:`MAX_DEPTH`
    or holding more than :data:`MAX_NODES` values, without recursing.

    A dict built in a program skips the YAML reader's limits; this applies them
    before anything walks (copies, validates or prints) the value.
    """
    seen = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise ScenarioError("", f"{source}: holds more than {MAX_NODES:,} values")
        if isinstance(value, dict | list | tuple):
            if depth > MAX_DEPTH:
                raise ScenarioError("", f"{source}: nested more than {MAX_DEPTH} levels deep")
            items = [v for kv in value.items() for v in kv] if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)


def load_yaml(text: str, source: str) -> Any:
    """Parse scenario YAML ``text`` (``source`` names it in messages) within the limits above.

    Raises
    ------
    ScenarioError
        One line naming the file, the line and the problem.
    """
    if len(text) > MAX_DOCUMENT_CHARS:
        raise ScenarioError("", f"{source}: {len(text):,} characters, more than the "
                                f"{MAX_DOCUMENT_CHARS:,} a scenario may have")
    if _bracket_depth(text) > MAX_DEPTH:
        # PyYAML's parser takes minutes on thousands of nested [ or {: refuse before it runs.
        raise ScenarioError("", f"{source}: nested more than {MAX_DEPTH} levels deep")
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except RecursionError:
            raise ScenarioError("", f"{source}: nested more than {MAX_DEPTH} levels deep") from None
        if root is None:
            return None
        _check_size(root, source)
        return loader.construct_document(root)
    except ScenarioError:
        raise
    except (ValueError, TypeError) as exc:
        # a value YAML accepts but Python cannot build, e.g. the date 2024-02-30
        raise ScenarioError("", f"{source}: invalid YAML: {str(exc)[:120]}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError("", f"{source}: invalid YAML{where}: {problem}") from None
    finally:
        loader.dispose()
