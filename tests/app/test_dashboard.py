"""The planner dashboard: its logic without a browser, then the served page in Chromium.

The unit tests drive :class:`simlib.app.dashboard.PlannerDashboard` through its
widgets as a user would (set a value, press Run) and read the outputs. The
browser test serves ``notebooks/10_planner_dashboard.ipynb`` with Voilà on a
free port, drives Debian's Chromium through Playwright's sync API, and checks
that a planner can edit the second station, is told at once that 14.5 agents
is not a staff count, reads a clock-time interval grid, downloads it as CSV,
and sees the wait fall with one more server; it saves desktop and phone-width
screenshots to ``figures/``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support import ROOT, SCENARIOS

import simlib
from simlib.app.dashboard import (
    GRID_COLUMNS,
    Clock,
    PlannerDashboard,
    StaffField,
    build_scenario,
    day_interval,
    grid_csv,
    grid_interval,
    grid_xlsx,
    kpi_table_html,
    parse_staff,
    scale_demand,
    simulate_with_progress,
)

NOTEBOOK = ROOT / "notebooks" / "10_planner_dashboard.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "figures" / "dashboard.png"
PHONE_SCREENSHOT = ROOT / "figures" / "dashboard_phone.png"
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


def test_choosing_a_scenario_builds_staff_fields_for_every_station(board: PlannerDashboard) -> None:
    assert [b.value for b in board.staff_inputs] == ["14"]
    # threshold in seconds and target in percent, as the page reports them
    assert board.target.value == 80 and board.threshold.value == 20
    assert board.service_level() == board.base.service_level  # the file's 1/3 minute kept
    board.scenario.value = "bank_branch_day"
    assert [b.value for b in board.staff_inputs] == ["6", "10", "6"]
    assert [b.description for b in board.staff_inputs] == ["08:00–11:00", "11:00–13:30",
                                                           "13:30–16:00"]
    assert board.target.value == 80 and board.threshold.value == 300
    board.day_start.value = "09:30"
    assert board.staff_inputs[0].description == "09:30–12:30"
    # Measures that cannot act on this scenario are switched off, not left to fail.
    assert board.measure_boxes["pooling"].disabled
    assert not board.measure_boxes["add_staff"].disabled
    board.scenario.value = "care_home"  # a day-long horizon starts at midnight
    assert list(board.station_inputs) == ["caregivers", "nurse"]
    assert board.day_start.value == "00:00"
    assert [w.value for w in board.station_inputs["nurse"]] == ["1"]


def test_every_station_can_be_edited() -> None:
    board = PlannerDashboard(SCENARIOS, scenario="value_chain")
    assert list(board.station_inputs) == ["contact", "service", "recovery"]
    board.run()
    before = _wait(board)
    board.station_inputs["service"][0].value = "4"
    scn, _ = board.build()
    assert [st.servers for st in scn.stations] == [2, 4, 1]
    board.run()
    assert _wait(board) < before
    assert 'data-station="service"' in board.staff_summary.value
    assert "service: 4 all day" in board.staff_summary.value


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
    board.staff_inputs[0].value = "16"
    board.run()
    assert _wait(board) < before
    html = board.kpis.value
    assert 'data-run="2"' in html and 'class="simlib-previous"' in html
    assert board.progress.value == board.progress.max == 10
    assert board.error.value == ""


def test_a_fractional_staff_count_is_refused_not_rounded(board: PlannerDashboard) -> None:
    board.run()
    shown = board.kpis.value
    board.staff_inputs[0].value = "14.5"
    # the message appears as soon as the value is entered, before any run
    assert board.error_text == ("staff of agents all day: give a whole number of agents "
                                "(0, 1, 2, ...), got '14.5'")
    assert "simlib-invalid" in board.staff_inputs[0]._dom_classes
    assert board.run() is None and board.kpis.value == shown
    with pytest.raises(ValueError, match="whole number"):
        parse_staff("1e3", "x")
    assert parse_staff(" 7 ", "x") == 7
    board.staff_inputs[0].value = "14"
    assert board.error_text == "" and "simlib-invalid" not in board.staff_inputs[0]._dom_classes


def test_invalid_input_shows_one_line_in_the_page(board: PlannerDashboard) -> None:
    board.run()
    shown = board.kpis.value
    board.staff_inputs[0].value = "0"
    assert board.run() is None
    assert board.error_text == "stations[0].servers: must be a positive integer, got 0"
    assert "simlib-error-message" in board.error.value and "Traceback" not in board.error.value
    assert board.kpis.value == shown  # the last good results stay on the page
    assert not board.run_button.disabled
    board.staff_inputs[0].value = "14"
    for widget, value, message in [
        (board.replications, "0", "replications: give a whole number from 1 to 200, got '0'"),
        (board.replications, "5000", "replications: give a whole number from 1 to 200"),
        (board.target, 150.0, "service-level target: give a percentage above 0 and below 100"),
        (board.threshold, -5.0, "answered within: give seconds >= 0"),
        (board.shrinkage, 100.0, "shrinkage: give a percentage from 0 to below 100"),
        (board.day_start, "25:00", "day starts at: give a clock time HH:MM"),
    ]:
        old = widget.value
        widget.value = value
        assert board.error_text.startswith(message), board.error_text
        assert board.run() is None
        widget.value = old
    board.replications.value = "3"
    assert board.run() is not None and board.error.value == ""


def test_replications_and_run_time_are_capped() -> None:
    board = PlannerDashboard(SCENARIOS, scenario="call_centre", max_replications=50,
                             max_seconds=0.0)
    board.replications.value = "51"
    assert "from 1 to 50" in board.error_text
    board.replications.value = "50"
    results = board.run()
    assert results is not None and results.n_replications == 1  # stopped by the time limit
    assert "run stopped after 0 s: 1 of 50 replications" in board.notes.value


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
    board.target.value, board.threshold.value = 80, 20  # 80% within 20 s
    board.plan()
    assert [b.value for b in board.staff_inputs] == ["14"]  # the Erlang C answer
    board.scenario.value = "bank_branch_day"
    board.method.value = "sipp"
    board.plan()
    assert board.error.value == ""
    assert len(board.staff_inputs) > 3  # the plan's shifts replace the scenario's
    scn, _ = board.build()
    assert scn.stations[0].shifts[0].start == 0 and scn.stations[0].shifts[-1].end == 480
    board.target.value = 150
    board.plan()
    assert "target" in board.error_text and "Traceback" not in board.error.value


def test_isa_on_the_page_plans_for_the_service_level_it_shows() -> None:
    board = PlannerDashboard(SCENARIOS, scenario="bank_branch_day")
    board.method.value = "sipp"
    board.plan()
    sipp = [int(w.value) for w in board.staff_inputs]
    board.scenario.value = "bank_branch_day"  # reset the fields
    board.method.value = "isa"
    board.plan()
    assert board.error_text == "" and "for 80% within 300 s" in board.status.value
    isa = [int(w.value) for w in board.staff_inputs]
    # a service-level plan: near SIPP's 5-9 tellers, not a far stricter delay-probability one
    assert max(isa) <= max(sipp) + 2 and min(isa) >= min(sipp) - 1


def test_interval_grid_speaks_clock_time_seconds_and_money() -> None:
    board = PlannerDashboard(SCENARIOS, scenario="bank_branch_day")
    board.run()
    grid = board.grid_frame
    assert tuple(grid.columns) == GRID_COLUMNS
    assert list(grid["interval"][:2]) == ["08:00–09:00", "09:00–10:00"]
    assert len(grid) == 8
    station = board.results.intervals()
    asa = station[(station["scope"] == "tellers") & (station["metric"] == "asa")]["mean"]
    assert grid["asa_s"].to_numpy() == pytest.approx(60 * asa.to_numpy())  # minutes -> seconds
    assert list(grid["scheduled"]) == [6, 6, 6, 10, 10, 8, 6, 6]  # 6 | 10 from 11:00 to 13:30 | 6
    assert (grid["over_under"] == grid["scheduled"] - grid["required"]).all()
    assert grid["paid_agents"].to_numpy() == pytest.approx(grid["scheduled"].to_numpy() / 0.7)
    # cost = paid agent-hours x 25 + abandons x 3 (DEFAULT_COSTS, no economics block needed)
    expected = grid["paid_agents"] * 25 + grid["volume"] * grid["abandonment"] * 3
    assert grid["cost"].to_numpy() == pytest.approx(expected.to_numpy())
    assert list(grid["target_met"]) == list(grid["service_level"] >= 0.8)
    html = board.grid.value
    assert "simlib-grid-scroll" in html and html.count("<tr data-start=") == 8
    assert '<th data-col="asa_s">ASA (s)</th>' in html and "08:00–09:00" in html
    assert 'data-metric="grid_cost"' in board.kpis.value
    assert "ASA (m:ss)" in board.kpis.value and "80% within 300 s" in board.kpis.value
    text = grid_csv(grid)
    assert text.splitlines()[0] == ",".join(GRID_COLUMNS)
    assert 'download="bank_branch_day_tellers_intervals.csv"' in board.download.value
    assert 'download="bank_branch_day_tellers_intervals.xlsx"' in board.download.value
    book = pd.read_excel(io.BytesIO(grid_xlsx(grid)), sheet_name="intervals")
    assert tuple(book.columns) == GRID_COLUMNS and len(book) == len(grid)
    assert book["cost"].to_numpy() == pytest.approx(grid["cost"].to_numpy())
    assert board.plot.value[:4] == b"\x89PNG"
    board.staff_cost.value = 50.0
    board.run()
    assert board.grid_frame["cost"].sum() > grid["cost"].sum()


def test_grid_of_a_constant_scenario_is_hourly() -> None:
    assert day_interval(simlib.load_scenario(SCENARIOS / "call_centre.yaml")) is None
    assert grid_interval(simlib.load_scenario(SCENARIOS / "call_centre.yaml")) == 60
    base = simlib.load_scenario(SCENARIOS / "care_home.yaml")
    assert day_interval(base) == 60
    shifts_only, _ = build_scenario(simlib.load_scenario(SCENARIOS / "call_centre.yaml"),
                                    staff=[StaffField(0, 120, 12), StaffField(120, 480, 14)])
    assert day_interval(shifts_only) == 120
    clock = Clock.parse("16:30", "minute")
    assert clock.span(0, 60) == "16:30–17:30" and clock.label(480) == "00:30 +1d"
    assert Clock.parse("00:00", "hour").span(23, 24) == "23:00–24:00"
    assert Clock.parse("00:00", "hour").span(24, 25) == "00:00 +1d–01:00 +1d"


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


def _full_height_screenshot(page: Any, width: int, path: Path) -> None:
    """Voilà scrolls inside its own container, so full_page alone stops at the viewport:
    make the viewport as tall as the page for the record."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_timeout(300)  # let the layout follow the new width
    height = page.evaluate("(() => { document.querySelectorAll('*').forEach(e => e.scrollTop = 0);"
                           " return document.querySelector('.simlib-dashboard')"
                           ".getBoundingClientRect().bottom; })()")
    page.set_viewport_size({"width": width, "height": int(height) + 40})
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.slow
def test_dashboard_in_a_browser(voila_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                          accept_downloads=True)
            page = context.new_page()
            page.goto(voila_url, wait_until="domcontentloaded", timeout=30_000)
            # The widgets appear once the kernel has run the notebook.
            page.wait_for_selector("button.simlib-run", timeout=40_000)

            # A network of three stations: every one has its own staff inputs.
            page.locator(".simlib-scenario select").select_option("value_chain")
            second = page.locator(".simlib-station-1 .simlib-staff-input input")
            expect(page.locator(".simlib-staff-input input")).to_have_count(3, timeout=10_000)
            expect(page.locator(".simlib-station-1")).to_contain_text("service")
            assert second.input_value() == "3"

            page.locator("button.simlib-run").click()
            page.wait_for_selector("table.simlib-kpis[data-run='1']", timeout=20_000)
            wait_before = _kpi(page, "mean_wait")
            expect(page.locator(".simlib-staff-summary li[data-station='service']")).to_contain_text(
                "service: 3 all day")

            # An invalid value: a visible message at once, no run, no rounding to 145.
            second.fill("14.5")
            second.press("Enter")
            message = page.locator(".simlib-error-message")
            expect(message).to_be_visible(timeout=10_000)
            expect(message).to_contain_text(
                "staff of service all day: give a whole number of agents (0, 1, 2, ...), got '14.5'")
            page.locator("button.simlib-run").click()
            page.wait_for_timeout(1000)
            assert page.locator("table.simlib-kpis").get_attribute("data-run") == "1"
            assert "Traceback" not in page.content()

            # The second station's staff, edited: one more server, a shorter wait.
            second.fill("4")
            second.press("Enter")
            expect(message).to_have_count(0, timeout=10_000)
            page.locator("button.simlib-run").click()
            page.wait_for_selector("table.simlib-kpis[data-run='2']", timeout=20_000)
            assert _kpi(page, "mean_wait") < wait_before
            expect(page.locator(".simlib-staff-summary li[data-station='service']")).to_contain_text(
                "service: 4 all day")

            # The grid: planners' columns, clock-time rows (16 hours from 08:00).
            heads = page.locator("table.simlib-grid thead th").all_inner_texts()
            assert heads == ["Interval", "Volume", "AHT (s)", "Required", "Scheduled",
                             "Over/under", "SL", "ASA (s)", "Abandon", "Occupancy", "Shrinkage",
                             "Paid agents", "Cost", "Target met"]
            rows = page.locator("table.simlib-grid tbody tr")
            expect(rows).to_have_count(16)
            labels = page.locator("table.simlib-grid td[data-col='interval']").all_inner_texts()
            assert labels[0] == "08:00–09:00" and labels[-1] == "23:00–24:00"
            assert all(re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", t) for t in labels)

            # The CSV download: the grid's columns and one row per interval.
            with page.expect_download() as info:
                page.locator("a.simlib-download-csv").click()
            path = tmp_path / info.value.suggested_filename
            info.value.save_as(path)
            assert path.name == "value_chain_contact_intervals.csv"
            with open(path, newline="") as f:
                table = list(csv.DictReader(f))
            assert tuple(table[0]) == GRID_COLUMNS
            assert len(table) == 16 and table[0]["interval"] == "08:00–09:00"
            assert [float(r["scheduled"]) for r in table] == [2.0] * 16  # contact: 2 all day
            assert all(0 <= float(r["service_level"]) <= 1 for r in table)
            # The same grid as an Excel workbook.
            with page.expect_download() as info:
                page.locator("a.simlib-download-xlsx").click()
            book_path = tmp_path / info.value.suggested_filename
            info.value.save_as(book_path)
            book = pd.read_excel(book_path, sheet_name="intervals")
            assert book_path.name == "value_chain_contact_intervals.xlsx"
            assert tuple(book.columns) == GRID_COLUMNS and len(book) == 16
            assert list(book["scheduled"]) == [2.0] * 16
            expect(page.locator("img.simlib-plot")).to_be_visible()

            _full_height_screenshot(page, 1400, SCREENSHOT)
            # Phone width: the page fits the screen and the grid scrolls inside its box.
            _full_height_screenshot(page, 390, PHONE_SCREENSHOT)
            fits = page.evaluate(
                "(() => { const g = document.querySelector('.simlib-grid-scroll');"
                " const r = g.getBoundingClientRect();"
                " return {right: r.right, page: document.documentElement.clientWidth,"
                " scroll: g.scrollWidth, shown: g.clientWidth}; })()")
            assert fits["right"] <= fits["page"] + 1, fits
            assert fits["scroll"] > fits["shown"], fits  # the rest of the grid is a scroll away
        finally:
            browser.close()
