"""privileges.count_tasks: what the sweep asks after each load where the worker cannot be a
subreaper (QEMU user mode), counted from /proc for a uid that really runs processes here."""
import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import privileges  # noqa: E402

UID = 64_999  # no account needs to exist for a uid to run processes


def _spawn_sleepers_as(uid, n):
    pids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                time.sleep(60)
            finally:
                os._exit(0)
        pids.append(pid)
    return pids


@pytest.mark.skipif(os.geteuid() != 0, reason="switching a child to another uid needs root")
def test_count_tasks_counts_exactly_the_processes_of_a_uid():
    assert privileges.count_tasks(UID) == 0
    pids = _spawn_sleepers_as(UID, 3)
    try:
        deadline = time.monotonic() + 10
        while privileges.count_tasks(UID) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # each child switches uid after the fork returns here
        assert privileges.count_tasks(UID) == 3
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert privileges.count_tasks(UID) == 0


def test_count_tasks_counts_threads_of_this_process():
    # This process's own threads count under its uid, as RLIMIT_NPROC counts them.
    status = Path("/proc/self/status").read_text()
    threads = int(status.split("Threads:")[1].split()[0])
    assert privileges.count_tasks(os.getuid()) >= threads >= 1
