"""End-to-end isolation: `crossload run` on hostile artifacts, each loaded in a sandboxed child.

The producer trains the test-only fixtures of testdata/hostile_fixtures.py (CROSSLOAD_EXTRA_FIXTURES)
and pickles them; loading them in the consumer segfaults, exits, spins, eats memory, forks without
end and tries to escape. Each is an outcome, the run goes on, and the same consumer then loads a
plain model.
"""
import json
import os
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
VENV_PYTHON = str(ROOT / ".venv" / "bin" / "python")
HOSTILE = ROOT / "harness" / "run" / "testdata" / "hostile_fixtures.py"


def write_matrix(tmp_path, fixtures):
    path = tmp_path / "m.toml"
    path.write_text(f"""
[matrix]
name = "isolation"
fixtures = {json.dumps(fixtures)}
formats = ["pickle-p5"]
producers = ["host"]
consumers = ["host"]
cell_timeout = 4
memory_limit_mb = 256

[env.host]
provider = "host"
python = "{VENV_PYTHON}"
""")
    return path


def crossload(*args, env=None, check=True):
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, **(env or {})))
    if check and proc.returncode != 0:
        raise AssertionError(f"crossload {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def cells_by_fixture(out):
    doc = json.loads((out / "results.json").read_text())
    return {c["fixture"]: c for c in doc["cells"]}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, sandbox):
    tmp = tmp_path_factory.mktemp("hostile")
    out = tmp / "out"
    token = uuid.uuid4().hex
    targets = [ROOT / "harness" / "run" / "testdata" / f"escaped-{token}.txt",
               out / "artifacts" / f"escaped-{token}.txt",
               out / f"escaped-{token}.txt"]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        # One load at a time: with --jobs, the fork bomb's load (bounded, but busy) shared the two
        # cores with the escape attempt's, which then met its wall limit (a TIMEOUT seen in CI).
        proc = crossload("run", "--matrix", write_matrix(tmp, ["hostile_*", "after_hostile_tree"]),
                         "--out", out, "--jobs", "1",
                         env={"CROSSLOAD_EXTRA_FIXTURES": str(HOSTILE),
                              "HOSTILE_ESCAPE_PATHS": os.pathsep.join(map(str, targets)),
                              "HOSTILE_PROBE_PORT": str(listener.getsockname()[1])})
        try:
            listener.accept()
            connected = True
        except BlockingIOError:
            connected = False
    escaped = [t for t in targets if t.exists()]
    for t in escaped:
        t.unlink()
    return {"out": out, "proc": proc, "cells": cells_by_fixture(out), "escaped": escaped,
            "connected": connected}


def test_a_segfault_is_a_crash_with_signal_11(hostile_run):
    cell = hostile_run["cells"]["hostile_segfault"]
    assert cell["outcome"] == "CRASH"
    assert cell["detail"]["signal"] == 11 and cell["detail"]["stage"] == "crash"


def test_os_exit_is_a_crash_with_exit_status_3(hostile_run):
    cell = hostile_run["cells"]["hostile_exit3"]
    assert cell["outcome"] == "CRASH"
    assert cell["detail"]["exit_status"] == 3 and "signal" not in cell["detail"]


def test_an_endless_loop_is_a_timeout(hostile_run):
    cell = hostile_run["cells"]["hostile_spin"]
    assert cell["outcome"] == "TIMEOUT"
    assert cell["detail"]["stage"] == "timeout" and cell["detail"]["limit"] in ("wall", "cpu")


def test_eating_memory_is_a_load_error_at_the_memory_limit(hostile_run):
    cell = hostile_run["cells"]["hostile_hog"]
    assert cell["outcome"] == "LOAD_ERROR"
    assert cell["detail"]["error_type"] == "MemoryError"
    grown = cell["detail"]["rss_peak_bytes"] - cell["detail"]["rss_at_fork_bytes"]
    assert grown < 300 << 20  # memory_limit_mb = 256, on top of what the worker had


def test_a_fork_bomb_is_a_timeout(hostile_run):
    assert hostile_run["cells"]["hostile_fork_bomb"]["outcome"] == "TIMEOUT"


def test_an_escape_attempt_writes_nothing_and_reaches_no_one(hostile_run):
    assert hostile_run["escaped"] == []
    assert hostile_run["connected"] is False
    # The attempts really ran, and each was refused: the artifact then loaded as a plain tree.
    assert hostile_run["cells"]["hostile_escape"]["outcome"] == "OK_EXACT"
    # Whichever of the host's consumer workers (--jobs starts more when loads queue up) loaded it.
    log = "".join(p.read_text() for p in sorted((hostile_run["out"] / "logs").glob("host.consumer*.worker.log")))
    attempts = [line for line in log.splitlines() if line.startswith("hostile escape: ")]
    assert len(attempts) == 5, log
    assert all(": refused: " in line for line in attempts), attempts
    assert any("ConnectionRefusedError" in line and "127.0.0.1" in line for line in attempts)


def test_the_run_went_on_in_the_same_consumer(hostile_run):
    cells = hostile_run["cells"]
    assert cells["after_hostile_tree"]["outcome"] == "OK_EXACT"
    assert len(cells) == 7  # six hostile fixtures, then the plain one
    assert "restarted" not in hostile_run["proc"].stderr  # no worker died on the way
    assert "loads run sandboxed" in hostile_run["proc"].stderr


def test_a_plain_cell_measures_its_own_load(hostile_run):
    m = hostile_run["cells"]["after_hostile_tree"]["measurements"]
    assert m["rss_at_fork"]["unit"] == m["rss_peak"]["unit"] == "bytes"
    assert 0 < m["rss_peak"]["value"] < m["rss_at_fork"]["value"] + (64 << 20)


def test_without_a_working_bwrap_the_run_refuses_unless_told_no_sandbox(tmp_path):
    m = write_matrix(tmp_path, ["iris_gaussian_nb"])
    no_bwrap = {"PATH": str(tmp_path / "empty")}  # the host provider needs nothing from PATH
    refused = crossload("run", "--matrix", m, "--out", tmp_path / "a", env=no_bwrap, check=False)
    assert refused.returncode != 0
    assert "--no-sandbox" in refused.stderr and "bwrap" in refused.stderr
    allowed = crossload("run", "--matrix", m, "--out", tmp_path / "b", "--no-sandbox", "-q",
                        env=no_bwrap)
    assert "warning: --no-sandbox" in allowed.stderr
    cells = cells_by_fixture(tmp_path / "b")
    assert cells["iris_gaussian_nb"]["outcome"] == "OK_EXACT"
    doc = json.loads((tmp_path / "b" / "results.json").read_text())
    assert "NOT sandboxed" in doc["environments"][0]["where"]
