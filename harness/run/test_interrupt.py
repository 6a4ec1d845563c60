"""SIGINT and SIGTERM sent to a running `crossload run` (to its pid alone, as `kill PID` does): the
run stops within seconds, keeps every cell it finished, is marked interrupted, says so in one line,
writes no report, exits 130 and leaves no worker behind; the same command run again reuses the kept
cells and finishes. Real binary, real workers, host only (README, "Interrupting a run")."""
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest

from harness.run.test_run import BIN, crossload, write_matrix

INTERRUPTED = 130  # harness/util/exit_codes.h: kInterrupted


def stored_cells(db):
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return c.execute("SELECT count(*) FROM cells").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet, or busy: ask again
        return 0


def stat_fields(pid):
    """(state, ppid, process group) of /proc/PID/stat, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[2])


def descendants(pid):
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = stat_fields(entry)
        if fields:
            children.setdefault(fields[1], []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid):
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def living_in(groups):
    """The live processes whose process group is one of `groups`."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = stat_fields(entry)
        if fields and fields[0] != "Z" and fields[2] in groups:
            found.append(int(entry))
    return found


def interrupt(argv, ready, sig, wait=300, children=True):
    """Starts crossload with `argv`, waits until `ready()` holds, sends `sig` to its pid alone (as
    `kill PID` does) and returns (its exit status, stdout, stderr, the seconds it took to stop, the
    processes that were under it, as {pid: process group}). SIGINT is ignored on entry, as a job started with `&` by a
    non-interactive shell inherits it: crossload must set its own disposition. `children`: that some
    process runs under crossload when the signal is sent is part of what is tested."""
    proc = subprocess.Popen([BIN, *map(str, argv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        deadline = time.monotonic() + wait
        while not ready() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None, "crossload ended before it could be interrupted:\n" + proc.stderr.read()
        assert ready(), f"not ready to interrupt within {wait} s"
        under = {pid: fields[2] for pid in descendants(proc.pid) if (fields := stat_fields(pid))}
        assert under or not children, "no worker or child process under crossload"
        os.kill(proc.pid, sig)
        sent = time.monotonic()
        stdout, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, stdout, stderr, took, under


def assert_all_gone(processes):
    """Every process that was under crossload ({pid: process group}) has ended, and so has every
    other member of their process groups (nothing they started, however deep, is left orphaned)."""
    groups = set(processes.values())
    grace = time.monotonic() + 5
    while (any(map(alive, processes)) or living_in(groups)) and time.monotonic() < grace:
        time.sleep(0.1)
    assert [p for p in processes if alive(p)] == []
    assert living_in(groups) == []


def stopped_as_said(argv, ready, sig, line, wait=300, children=True):
    """interrupt(), then what every interrupted command does: exit 130 within 30 s, the one line
    `line` (a regular expression, its signal name left as {signal}) on stderr, no "error:", and
    every process that was under crossload gone. Returns the line's match and stdout."""
    status, stdout, stderr, took, under = interrupt(argv, ready, sig, wait, children)
    assert status == INTERRUPTED, stdout + stderr
    assert took < 30
    said = re.search("^" + line.replace("{signal}", signal.Signals(sig).name) + "$", stderr, re.M)
    assert said, stderr
    assert "error:" not in stderr, stderr
    assert_all_gone(under)
    return said, stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_keeps_its_cells_and_the_same_command_continues(tmp_path, sig):
    matrix = write_matrix(tmp_path, fixtures='["iris_*"]')
    out = tmp_path / "out"
    db = out / "results.db"
    argv = ["run", "--matrix", matrix, "--out", out, "-j", "1"]
    said, _ = stopped_as_said(argv, lambda: stored_cells(db) > 0, sig,
                              r"interrupted by {signal}: (\d+) cells kept in (.+); rerun the same command to continue")
    assert said.group(2) == str(db)
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT id, status FROM runs").fetchall() == [(1, "interrupted")]
        kept = c.execute("SELECT count(*) FROM cells WHERE run_id = 1").fetchone()[0]
        outcomes = {o for (o,) in c.execute("SELECT DISTINCT outcome FROM cells")}
    assert kept == int(said.group(1)) > 0
    assert "CRASH" not in outcomes and "TIMEOUT" not in outcomes  # the cut-short loads are not cells
    assert not (out / "results.json").exists()  # no report of a run that did not finish

    again = crossload(*argv, "-q")
    reused = re.search(r"^run 2: (\d+) cells \((\d+) reused from earlier runs", again.stdout, re.M)
    assert reused, again.stdout
    assert int(reused.group(2)) >= kept
    assert (out / "results.json").exists()
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT id, status FROM runs ORDER BY id").fetchall() == [(1, "interrupted"), (2, "finished")]
