"""The committed notebooks show their figures as images, not as ``<Figure size ...>`` text.

Readers of the repository see the stored outputs; a figure stored as its text
repr shows nothing. (``notebooks/conftest.py`` makes the same check while nbval
runs each cell.)
"""

from __future__ import annotations

import json

import pytest
from support import ROOT, figures_shown_as_text

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def test_the_check_tells_a_figure_image_from_its_text():
    text = {"output_type": "execute_result", "data": {"text/plain": "<Figure size 1000x400 with 2 Axes>"}}
    image = {"output_type": "display_data",
             "data": {"text/plain": ["<Figure size 640x480 with 1 Axes>"], "image/png": "iVBOR"}}
    assert figures_shown_as_text([text]) == ["<Figure size 1000x400 with 2 Axes>"]
    assert figures_shown_as_text([image, {"output_type": "stream", "text": "x"}]) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_figures_are_images(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    bad = [(i, text) for i, cell in enumerate(cells) if cell["cell_type"] == "code"
           for text in figures_shown_as_text(cell.get("outputs"))]
    assert not bad, f"{path.name}: cells {[i for i, _ in bad]} store a figure as text ({bad[0][1]})"
