"""The planner dashboard: its logic without a browser, then the served page in Chromium.

The unit tests drive :class:`simlib.app.dashboard.PlannerDashboard` through its
widgets as a user would (set a value, press Run) and read the outputs. The
browser test serves ``notebooks/10_planner_dashboard.ipynb`` with Voilà on a
free port, drives Debian's Chromium through Playwright's sync API, and checks
that more staff shortens the wait in the page's KPI table.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, SCENARIOS

import simlib
from simlib.app.dashboard import (
    PlannerDashboard,
    StaffField,
    build_scenario,
    day_interval,
    kpi_table_html,
    scale_demand,
    simulate_with_progress,
)

NOTEBOOK = ROOT / "notebooks" / "10_planner_dashboard.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "figures" / "dashboard.png"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def board() -> PlannerDashboard:
    return PlannerDashboard(SCENARIOS, scenario="call_centre")


def _wait(board: PlannerDashboard) -> float:
    assert board.results is not None
    return board.results.value("system", "mean_wait")


# --------------------------------------------------------------------------- logic


def test_choosing_a_scenario_builds_one_staff_field_per_shift(board: PlannerDashboard) -> None:
    assert [b.value for b in board.staff_inputs] == [14]
    assert board.target.value == 0.8 and board.threshold.value == pytest.approx(1 / 3, abs=1e-6)
    board.scenario.value = "bank_branch_day"
    assert [b.value for b in board.staff_inputs] == [6, 10, 6]
    assert [b.description for b in board.staff_inputs] == ["0-180 min", "180-330 min", "330-480 min"]
    assert board.target.value == 0.8 and board.threshold.value == 5
    # Measures that cannot act on this scenario are switched off, not left to fail.
    assert board.measure_boxes["pooling"].disabled
    assert not board.measure_boxes["add_staff"].disabled


def test_demand_scale_multiplies_rates_and_profiles() -> None:
    base = simlib.load_scenario(SCENARIOS / "bank_branch_day.yaml")
    scaled, notes = build_scenario(base, demand_scale=1.5)
    assert notes == []
    private, business = scaled.classes
    assert private.arrivals.profile.rates == pytest.approx(
        [1.5 * r for r in base.classes[0].arrivals.profile.rates])
    assert business.arrivals.rate == pytest.approx(1.5 * 0.3)
    # The untouched parts are the scenario as loaded.
    assert scaled.stations == base.stations


def test_demand_scale_says_that_traces_cannot_be_scaled(tmp_path: Path) -> None:
    (tmp_path / "times.csv").write_text("time\n0.5\n1.0\n4.0\n")
    data = {"name": "t", "horizon": 10, "classes": [{"name": "c", "arrivals": {"trace": "times.csv"}}],
            "stations": [{"name": "s", "servers": 1, "service": {"dist": "exponential", "mean": 1}}]}
    base = simlib.spec.scenario.from_dict(data, base_dir=str(tmp_path))
    scaled, notes = build_scenario(base, demand_scale=2.0)
    assert scaled.classes[0].arrivals.trace == base.classes[0].arrivals.trace
    assert len(notes) == 1 and "cannot change" in notes[0]
    with pytest.raises(ValueError, match="positive"):
        scale_demand(base.to_dict(), 0.0)


def test_more_staff_gives_a_shorter_wait(board: PlannerDashboard) -> None:
    board.run()
    before = _wait(board)
    board.staff_inputs[0].value = 16
    board.run()
    assert _wait(board) < before
    html = board.kpis.value
    assert 'data-run="2"' in html and 'class="simlib-previous"' in html
    assert board.progress.value == board.progress.max == 10
    assert board.error.value == ""


def test_invalid_input_shows_one_line_in_the_page(board: PlannerDashboard) -> None:
    board.run()
    shown = board.kpis.value
    board.staff_inputs[0].value = 0
    assert board.run() is None
    assert board.error_text == "stations[0].servers: must be a positive integer, got 0"
    assert "simlib-error-message" in board.error.value and "Traceback" not in board.error.value
    assert board.kpis.value == shown  # the last good results stay on the page
    assert not board.run_button.disabled
    board.staff_inputs[0].value = 14
    board.replications.value = 0
    assert board.run() is None
    assert board.error_text == "replications must be an integer >= 1, got 0"
    board.replications.value = 3
    assert board.run() is not None and board.error.value == ""


def test_measures_toggle_changes_the_scenario(board: PlannerDashboard) -> None:
    plain, _ = board.build()
    board.measure_boxes["add_staff"].value = True
    board.measure_boxes["self_service"].value = True
    changed, notes = board.build()
    assert changed.stations[0].servers == plain.stations[0].servers + 1
    assert changed.classes[0].arrivals.rate == pytest.approx(0.8 * plain.classes[0].arrivals.rate)
    assert any(n.startswith("add_staff: stations.agents.servers 14 → 15") for n in notes)
    board.run()
    assert "add_staff" in board.notes.value
    board.measure_boxes["add_staff"].value = False
    board.measure_boxes["self_service"].value = False
    assert board.build()[0] == plain


def test_progress_runs_equal_simlib_run() -> None:
    scn = simlib.load_scenario(SCENARIOS / "bank_branch_day.yaml")
    ticks: list[tuple[int, int]] = []
    mine = simulate_with_progress(scn, 3, 7, interval=60, on_replication=lambda d, t: ticks.append((d, t)))
    ref = simlib.run(scn, replications=3, seed=7, interval=60, progress=False)
    assert ticks == [(1, 3), (2, 3), (3, 3)]
    assert mine.summary().equals(ref.summary())
    assert mine.intervals().equals(ref.intervals())


def test_staffing_plan_fills_the_staff_fields(board: PlannerDashboard) -> None:
    board.target.value, board.threshold.value = 0.8, 1 / 3  # 80% within 20 s
    board.plan()
    assert [b.value for b in board.staff_inputs] == [14]  # the Erlang C answer
    board.scenario.value = "bank_branch_day"
    board.method.value = "sipp"
    board.plan()
    assert board.error.value == ""
    assert len(board.staff_inputs) > 3  # the plan's shifts replace the scenario's
    scn, _ = board.build()
    assert scn.stations[0].shifts[0].start == 0 and scn.stations[0].shifts[-1].end == 480
    board.target.value = 1.5
    board.plan()
    assert "target" in board.error_text and "Traceback" not in board.error.value


def test_per_interval_view_only_when_the_day_varies(board: PlannerDashboard) -> None:
    board.run()
    assert board.plot.value == b"" and "simlib-intervals" not in board.intervals.value
    board.scenario.value = "bank_branch_day"
    board.run()
    assert board.intervals.value.count("<tr data-start=") == 8
    assert board.plot.value[:4] == b"\x89PNG"
    base = simlib.load_scenario(SCENARIOS / "care_home.yaml")
    assert day_interval(base) == 60
    assert day_interval(simlib.load_scenario(SCENARIOS / "call_centre.yaml")) is None
    shifts_only, _ = build_scenario(simlib.load_scenario(SCENARIOS / "call_centre.yaml"),
                                    staff=[StaffField(0, 120, 12), StaffField(120, 480, 14)])
    assert day_interval(shifts_only) == 120


def test_kpi_table_lists_quality_and_money_only_where_modelled() -> None:
    quality = simlib.run(SCENARIOS / "care_home.yaml", replications=2, seed=1, progress=False)
    html = kpi_table_html(quality)
    assert all(f'data-metric="{m}"' in html for m in ("satisfaction", "cost", "utilization"))
    plain = simlib.run(SCENARIOS / "call_centre.yaml", replications=2, seed=1, progress=False)
    assert 'data-metric="satisfaction"' not in kpi_table_html(plain)


def test_notebook_is_one_call_into_the_library() -> None:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert len(code) == 1 and "PlannerDashboard" in code[0]
    assert "def " not in code[0] and "class " not in code[0]


# --------------------------------------------------------------------------- browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the dashboard notebook with Voilà on a free port; stop it afterwards."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(.ci/run installs it with apt-get install -y chromium)")
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        # A static file answers as soon as the server listens, without starting a kernel.
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"voila exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(urllib.error.URLError, OSError):
                with urllib.request.urlopen(url + "voila/static/voila.js", timeout=2) as r:
                    if r.status == 200:
                        break
            if time.monotonic() > deadline:
                pytest.fail(f"voila did not answer on port {port}:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()  # Voilà shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _kpi(page: Any, metric: str) -> float:
    """A KPI's full-precision value from the page's table (``page``: a Playwright Page)."""
    cell = page.locator(f"table.simlib-kpis td.simlib-value[data-metric='{metric}']")
    return float(cell.get_attribute("data-value"))


@pytest.mark.slow
def test_dashboard_in_a_browser(voila_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(voila_url, wait_until="domcontentloaded", timeout=30_000)
            # The widgets appear once the kernel has run the notebook.
            page.wait_for_selector("button.simlib-run", timeout=40_000)

            page.locator(".simlib-scenario select").select_option("bank_branch_day")
            staff = page.locator(".simlib-staff-input input")
            expect(staff).to_have_count(3, timeout=10_000)
            assert [staff.nth(i).input_value() for i in range(3)] == ["6", "10", "6"]

            page.locator("button.simlib-run").click()
            page.wait_for_selector("table.simlib-kpis[data-run='1']", timeout=20_000)
            wait_before, sl_before = _kpi(page, "mean_wait"), _kpi(page, "service_level")
            expect(page.locator("img.simlib-plot")).to_be_visible()
            expect(page.locator("table.simlib-intervals tbody tr")).to_have_count(8)

            for i, n in enumerate((6, 10, 6)):  # two more tellers in every shift
                staff.nth(i).fill(str(n + 2))
                staff.nth(i).press("Enter")
            page.locator("button.simlib-run").click()
            page.wait_for_selector("table.simlib-kpis[data-run='2']", timeout=20_000)
            wait_after, sl_after = _kpi(page, "mean_wait"), _kpi(page, "service_level")
            assert wait_after < wait_before
            assert sl_after > sl_before
            expect(page.locator(".simlib-progress .progress-bar")).to_be_visible()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            # Voilà scrolls inside its own container, so full_page alone stops at the
            # viewport: make the viewport as tall as the page for the record.
            height = page.evaluate("document.querySelector('.simlib-dashboard')"
                                   ".getBoundingClientRect().bottom")
            page.set_viewport_size({"width": 1400, "height": int(height) + 40})
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            # Invalid input: the validation message in the page, no traceback, results kept.
            staff.nth(0).fill("-1")
            staff.nth(0).press("Enter")
            page.locator("button.simlib-run").click()
            message = page.locator(".simlib-error-message")
            expect(message).to_contain_text("stations[0].shifts[0].servers: must be an integer >= 0",
                                            timeout=20_000)
            assert "Traceback" not in page.content()
            assert page.locator("table.simlib-kpis").get_attribute("data-run") == "2"
        finally:
            browser.close()
