"""Worker processes die with their parent; Dask refuses an unguarded script (issue 17).

A sweep killed with SIGKILL has no chance to stop its pool, so each worker
watches its parent (:func:`simlib.experiments.execution.die_with_parent`).
The test starts a ``jobs=2`` sweep in a subprocess, waits for its two
workers, kills the parent and checks that the workers are gone within a few
seconds (before the fix they ran on as orphans).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from simlib.experiments.execution import die_with_parent

ROOT = Path(__file__).parents[2]

SWEEP = textwrap.dedent("""
    import simlib
    data = {"name": "long", "horizon": 1e5, "classes": [{"name": "c", "arrivals": {"rate": 0.9}}],
            "stations": [{"name": "s", "servers": 1, "service": {"dist": "exponential", "mean": 1}}]}
    simlib.sweep(data, {"stations.s.servers": [1, 2, 3, 4]}, replications=50, jobs=2,
                 progress=False)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_sweep_leaves_no_orphans(tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, cwd=tmp_path)
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = [c for c in parent.children() if c.is_running()]
        assert len(workers) >= 2, "the sweep never started its workers"
        time.sleep(0.5)  # let them pick up work
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for p in alive:
        p.kill()
    assert not alive, f"orphaned workers: {[p.pid for p in alive]}"


def test_the_initializer_exits_at_once_when_the_parent_is_already_gone():
    code = ("import os; from simlib.experiments.execution import die_with_parent; "
            "die_with_parent(os.getppid() + 1); print('still here')")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "still here" not in out.stdout
    die_with_parent(os.getppid(), every=60)  # the real parent: returns, a daemon thread watches


def test_dask_from_an_unguarded_script_refuses_in_one_line(tmp_path):
    pytest.importorskip("distributed")
    script = tmp_path / "unguarded.py"
    script.write_text("import simlib\n"
                      "simlib.run('%s', replications=2, executor='dask', progress=False)\n"
                      % (ROOT / "data" / "scenarios" / "call_centre.yaml"))
    out = subprocess.run([sys.executable, str(script)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert 'if __name__ == "__main__":' in last and "line 2" in last, out.stderr
    assert "Nanny" not in out.stderr
