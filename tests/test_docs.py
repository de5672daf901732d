"""The repository stands alone: every document it cites exists, every Markdown link resolves.

Docstrings, notebooks, scenario files and the Markdown pages cite documents by path
(``docs/metrics.md#definitions``). A citation of a ``.md`` file that the repository does not
contain, or of a section that the page does not have, fails here, and so does a relative link
in ``README.md`` or ``docs/`` that points nowhere. Paths of code and data named in the Markdown
pages (``simlib/engine/network.py``, ``data/scenarios/call_centre.yaml``) must exist too, so the
reference pages follow the code when it moves.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Folders never scanned when git cannot list the tracked files.
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache",
              ".ipynb_checkpoints", "build", "dist", "figures", "dask-worker-space"}

#: A cited Markdown document: a relative path ending in ``.md``, optionally with ``#section``.
_MD_CITATION = re.compile(
    r"(?<![\w/.\-])((?:\.{1,2}/)*(?:[\w.\-]+/)*[\w\-][\w.\-]*\.md)(#[\w\-]+)?(?![\w])"
)
#: A Markdown link or image: ``[text](target)`` or ``![alt](target "title")``.
_MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: An HTML image or link inside Markdown: ``<img src="...">``, ``<a href="...">``.
_HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)
#: A repository path named in a Markdown page (code, tests, notebooks, data, benchmarks).
_REPO_PATH = re.compile(
    r"(?<![\w/.\-])((?:simlib|tests|notebooks|benchmarks|data)/[\w./\-]*\.(?:py|ipynb|yaml|yml|csv|md))"
)
#: Paths the reference names that arrive with work being merged at the same time (the layer-rule
#: test of the architecture restructuring); drop an entry once the file is in the repository.
_URL = re.compile(r"[a-z][a-z0-9+.\-]*://\S+", re.IGNORECASE)
_FENCE = re.compile(r"^(```|~~~)")


@cache
def tracked_files() -> tuple[Path, ...]:
    """The repository's files (tracked, or new and not ignored): git's list, else a walk."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True, timeout=30,
        ).stdout.decode("utf-8")
        files = [ROOT / name for name in out.split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        files = [
            p for p in ROOT.rglob("*")
            if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(ROOT).parts)
        ]
    return tuple(sorted(p for p in files if p.is_file()))


def _text(path: Path) -> str | None:
    if path.stat().st_size > 5_000_000:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # binary (images, parquet)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFKC", heading).strip().lower()
    text = re.sub(r"[`*_]", "", text)
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -")
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """The section anchors of a Markdown page (headings outside code blocks)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m and not fenced:
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return frozenset(found)


def _resolve(target: str, source: Path) -> Path | None:
    """A cited path, relative to the citing file or to the repository root."""
    for base in (source.parent, ROOT):
        candidate = (base / target).resolve()
        if candidate.exists() and candidate.is_relative_to(ROOT):
            return candidate
    return None


def _where(path: Path, text: str, index: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, index) + 1}"


def _markdown_pages() -> list[Path]:
    return [p for p in tracked_files() if p.suffix == ".md"]


def test_the_reference_pages_exist() -> None:
    for page in ("README.md", "LICENSE", "docs/README.md", "docs/architecture.md",
                 "docs/scenario.md", "docs/metrics.md", "docs/theory.md"):
        assert (ROOT / page).is_file(), f"{page} is missing"


def test_every_cited_document_exists() -> None:
    """No file cites a ``.md`` document (or a section of one) the repository does not hold."""
    problems = []
    for path in tracked_files():
        text = _text(path)
        if text is None:
            continue
        scrubbed = _URL.sub(lambda m: " " * len(m.group(0)), text)  # links elsewhere are not ours
        for m in _MD_CITATION.finditer(scrubbed):
            target, section = m.group(1), m.group(2)
            found = _resolve(target, path)
            if found is None:
                problems.append(f"{_where(path, text, m.start())}: cites {target}, which does not exist")
            elif section and section[1:] not in anchors(found):
                problems.append(
                    f"{_where(path, text, m.start())}: cites {target}{section}, "
                    f"but {target} has no such section"
                )
    assert not problems, "\n".join(problems)


def test_relative_markdown_links_resolve() -> None:
    """Every relative link and image in README.md and docs/ points at a file (and section)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    problems = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for m in [*_MD_LINK.finditer(text), *_HTML_LINK.finditer(text)]:
            target = m.group(1)
            if re.match(r"[a-z][a-z0-9+.\-]*:", target, re.IGNORECASE):
                continue  # https:, mailto:
            file_part, _, section = target.partition("#")
            found = page
            if file_part:
                candidate = (page.parent / file_part).resolve()
                found = candidate if candidate.exists() else None
            if found is None:
                problems.append(f"{_where(page, text, m.start())}: link to {target} points nowhere")
            elif section and found.suffix == ".md" and section not in anchors(found):
                problems.append(f"{_where(page, text, m.start())}: {target}: no such section")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", ["README.md", "docs"])
def test_paths_named_in_the_reference_exist(page: str) -> None:
    """Code, test, notebook and data paths named in the Markdown pages exist."""
    pages = [ROOT / page] if page.endswith(".md") else sorted((ROOT / page).rglob("*.md"))
    problems = []
    for path in pages:
        text = path.read_text(encoding="utf-8")
        for m in _REPO_PATH.finditer(text):
            if not (ROOT / m.group(1)).exists():
                problems.append(f"{_where(path, text, m.start())}: {m.group(1)} does not exist")
    assert not problems, "\n".join(problems)


def test_the_checks_catch_what_they_should() -> None:
    """The patterns find citations, links and sections as they are written in this project."""
    md = ".md"  # spelled apart so that this file cites nothing itself
    text = f"see docs/metrics{md}#definitions, ``PLAN{md}`` §3, [x](../docs/theory{md}), README{md}."
    cited = [m.group(1) + (m.group(2) or "") for m in _MD_CITATION.finditer(text)]
    assert cited == [f"docs/metrics{md}#definitions", f"PLAN{md}", f"../docs/theory{md}", f"README{md}"]
    assert _resolve(f"PLAN{md}", ROOT / "simlib" / "__init__.py") is None
    links = f"![a](images/x.png) [b](scenario{md}#classes)"
    assert [m.group(1) for m in _MD_LINK.finditer(links)] == ["images/x.png", f"scenario{md}#classes"]
    assert [m.group(1) for m in _HTML_LINK.finditer('<img src="images/y.png" width="9">')] == [
        "images/y.png"
    ]
    assert _slug("The drain and censoring") == "the-drain-and-censoring"
    assert _slug("Quality, failure, retention and money metrics") == (
        "quality-failure-retention-and-money-metrics"
    )
    assert "the-drain-and-censoring" in anchors(ROOT / "docs" / f"metrics{md}")
