"""Fork per load, over the real protocol: whatever an artifact does ends its own child only.

The hostile artifacts are built here, at test time: pickles whose loading segfaults, exits,
spins, eats memory, forks without end or leaves a daemon behind.
"""
import ctypes
import os
import pickle
import signal
import time

import numpy as np
import pytest

from test_worker import Worker

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox uid needs a root worker")


class _Payload:
    """Unpickling this calls fn(*args): the artifact's code runs at load time."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _bomb():
    # Bounded even with no limit at all (2**10 processes at most); each process leaves the
    # load's process group, so only a sweep by uid or by parentage finds them all.
    return ("import os, time\n"
            "depth = 0\n"
            "while depth < 10:\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            os.setsid(); depth += 1; continue\n"
            "    except OSError:\n"
            "        pass\n"
            "    depth += 1\n"
            "while True:\n"
            "    pass\n")


def _daemon():
    return ("import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    time.sleep(3600)\n")


HOSTILE = {
    "segfault": _Payload(ctypes.string_at, 0),
    "exit3": _Payload(os._exit, 3),
    "spin": _Payload(exec, "while True: pass"),
    "hog": _Payload(exec, "blocks = []\nwhile True: blocks.append(bytearray(1 << 24))"),
    "bomb": _Payload(exec, _bomb()),
    "daemon": _Payload(exec, _daemon()),
}


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    w = Worker(str(tmp_path_factory.mktemp("worker") / "worker.log"))
    yield w
    assert w.close() == 0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Inputs, a small real model and every hostile artifact, in one folder."""
    from sklearn.linear_model import LogisticRegression

    d = tmp_path_factory.mktemp("artifacts")
    X = np.arange(40, dtype=np.float64).reshape(10, 4)
    np.save(str(d / "inputs.npy"), X)
    model = LogisticRegression().fit(X, np.arange(10) % 2)
    (d / "small.pkl").write_bytes(pickle.dumps(model, protocol=5))
    for name, payload in HOSTILE.items():
        (d / (name + ".pkl")).write_bytes(pickle.dumps(payload, protocol=5))
    return d


def load(worker, files, name, **limits):
    limits = dict(dict(wall_seconds=20, cpu_seconds=20, address_space_bytes=1 << 30,
                       processes=64), **limits)
    return worker.call("load_predict", format="pickle-p5", path=str(files / (name + ".pkl")),
                       inputs=str(files / "inputs.npy"), outputs=["predict"],
                       out_prefix=str(files / "out" / name), limits=limits)


def assert_small_model_still_loads(worker, files):
    answer = load(worker, files, "small")
    assert answer["ok"], answer
    assert os.path.exists(str(files / "out" / "small.predict.npy"))
    return answer["result"]


def test_a_load_answers_from_a_child_with_clean_measurements(worker, files):
    result = assert_small_model_still_loads(worker, files)
    assert result["outputs"] == ["predict"]
    assert result["rss_at_fork_kb"] > 0 and result["rss_peak_kb"] > 0
    assert result["isolated_seconds"] >= result["load_seconds"] + result["predict_seconds"]
    assert "imported" not in result  # the warm-up list stays between child and worker
    assert "child_stamps" not in result  # turned into phases by the worker


def test_a_load_reports_each_phase_of_its_isolation(worker, files):
    result = assert_small_model_still_loads(worker, files)
    phases = result["phases"]
    assert list(phases) == ["mkdtemp", "fork", "confine", "work", "answer", "judge_sweep", "warm",
                            "publish", "cleanup"]
    assert all(seconds >= 0 for seconds in phases.values()), phases
    assert phases["work"] >= result["load_seconds"] + result["predict_seconds"]
    # The phases from the fork to the verdict are the isolated time, measured on one clock (the
    # two windows differ by a few statements at either end; the bound allows a preempted one on
    # a busy CI machine).
    isolated = sum(phases[k] for k in ("fork", "confine", "work", "answer", "judge_sweep"))
    assert isolated == pytest.approx(result["isolated_seconds"], abs=0.25)


def test_a_segfault_is_a_crash_with_signal_11(worker, files):
    answer = load(worker, files, "segfault")
    assert answer["ok"] is False
    error = answer["error"]
    assert (error["stage"], error["signal"]) == ("crash", signal.SIGSEGV)
    assert "signal 11 (SIGSEGV)" in error["message"]
    assert_small_model_still_loads(worker, files)


def test_os_exit_is_a_crash_with_the_exit_status(worker, files):
    error = load(worker, files, "exit3")["error"]
    assert (error["stage"], error["exit_status"]) == ("crash", 3)
    assert "signal" not in error
    assert_small_model_still_loads(worker, files)


def test_an_endless_loop_is_a_wall_timeout(worker, files):
    started = time.monotonic()
    error = load(worker, files, "spin", wall_seconds=1.5)["error"]
    assert time.monotonic() - started < 10
    assert (error["stage"], error["limit"], error["seconds"]) == ("timeout", "wall", 1.5)
    assert_small_model_still_loads(worker, files)


def test_the_cpu_limit_ends_a_spinning_load_as_a_cpu_timeout(worker, files):
    error = load(worker, files, "spin", cpu_seconds=1, wall_seconds=30)["error"]
    assert (error["stage"], error["limit"]) == ("timeout", "cpu")
    assert_small_model_still_loads(worker, files)


def test_eating_memory_stops_at_the_address_space_limit_with_a_memory_error(worker, files):
    error = load(worker, files, "hog", address_space_bytes=256 << 20)["error"]
    assert (error["stage"], error["type"]) == ("load", "MemoryError")
    # The allowance is on top of what the worker had mapped: the child grew by about that much.
    assert error["rss_peak_kb"] - error["rss_at_fork_kb"] < 300 << 10
    assert_small_model_still_loads(worker, files)


def test_memory_a_load_used_does_not_inflate_the_next_measurement(worker, files):
    hog = load(worker, files, "hog", address_space_bytes=600 << 20)["error"]
    small = assert_small_model_still_loads(worker, files)
    assert hog["rss_peak_kb"] - hog["rss_at_fork_kb"] > 400 << 10
    # The small model's peak is its own: well under the hog's, and close to what it forked with.
    assert small["rss_peak_kb"] < hog["rss_peak_kb"] - (300 << 10)
    assert small["rss_peak_kb"] - small["rss_at_fork_kb"] < 64 << 10
    # The worker never ran the hog: its own peak stayed far below what the hog's child reached.
    assert _status_kb(worker.proc.pid, "VmHWM") < hog["rss_peak_kb"] - (300 << 10)


@ROOT_ONLY
def test_a_fork_bomb_is_bounded_timed_out_and_swept(worker, files):
    uid = assert_small_model_still_loads(worker, files)["isolation"]["uid"]
    assert uid is not None and uid >= 2000000000
    error = load(worker, files, "bomb", processes=16, wall_seconds=2)["error"]
    assert error["stage"] == "timeout"
    assert _processes_of(uid) == []
    assert _descendants(worker.proc.pid) == []
    assert_small_model_still_loads(worker, files)


def test_a_daemon_left_behind_is_swept_after_a_good_answer(worker, files):
    answer = load(worker, files, "daemon")
    assert answer["error"]["stage"] == "predict"  # it loaded (as None), then could not predict
    assert _descendants(worker.proc.pid) == []


@ROOT_ONLY
def test_a_root_workers_child_runs_unprivileged_in_a_private_directory(worker, files, tmp_path):
    probe = tmp_path / "probe.pkl"
    code = ("import json, os, tempfile\n"
            "open('relative.txt', 'w').write('x')\n"
            "facts = {'uid': os.getuid(), 'cwd': os.getcwd(), 'tmp': tempfile.gettempdir(),\n"
            "         'TMPDIR': os.environ['TMPDIR'], 'stdin': os.read(0, 10).decode()}\n"
            "try:\n"
            "    open(%r, 'w').write('escaped')\n"
            "except OSError as exc:\n"
            "    facts['write'] = type(exc).__name__\n"
            "print('FACTS ' + json.dumps(facts))\n" % str(tmp_path / "escaped.txt"))
    probe.write_bytes(pickle.dumps(_Payload(exec, code), protocol=5))
    answer = worker.call("load_predict", format="pickle-p5", path=str(probe),
                         inputs=str(files / "inputs.npy"), outputs=["predict"],
                         out_prefix=str(tmp_path / "out"), limits={"wall_seconds": 20})
    assert answer["error"]["stage"] == "predict"
    import json
    line = [ln for ln in worker.stderr().splitlines() if ln.startswith("FACTS ")][-1]
    facts = json.loads(line[len("FACTS "):])
    assert facts["uid"] >= 2000000000
    assert facts["cwd"] == facts["tmp"] == facts["TMPDIR"]
    assert os.path.basename(facts["TMPDIR"]).startswith("crossload-load-")
    assert not os.path.exists(facts["TMPDIR"])  # removed after the load
    assert facts["stdin"] == ""  # the protocol's requests are not the artifact's to read
    assert facts["write"] == "PermissionError"
    assert not (tmp_path / "escaped.txt").exists()


def test_bad_limits_are_protocol_errors(worker, files):
    for limits, message in (({"wall": 3}, "unknown limits wall"),
                            ({"cpu_seconds": -1}, "limits.cpu_seconds must be a positive"),
                            ({"processes": True}, "limits.processes must be a positive")):
        answer = worker.call("load_predict", format="pickle-p5", path=str(files / "small.pkl"),
                             inputs=str(files / "inputs.npy"), outputs=["predict"],
                             out_prefix=str(files / "out" / "x"), limits=limits)
        assert answer["error"]["stage"] == "protocol"
        assert message in answer["error"]["message"]


def test_the_worker_survived_everything(worker):
    assert worker.result("hello")["pid"] == worker.proc.pid


# --- helpers --------------------------------------------------------------------------------

def _status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (field, pid))


def _processes_of(uid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/status" % entry) as f:
                if any(ln.startswith("Uid:") and int(ln.split()[1]) == uid for ln in f):
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        children.setdefault(int(stat[stat.rfind(")") + 2:].split()[1]), []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def test_the_workers_children_are_listed_as_a_scan_of_proc_finds_them_orphans_adopted_included():
    """own_children reads /proc/self/task/*/children instead of every process's stat: it must
    find what the scan finds, the orphans a subreaper adopts included."""
    import process_tools
    import privileges

    pid = os.fork()
    if pid == 0:  # a subreaper of its own, so the test's process keeps its parentage
        code = 1
        try:
            assert privileges.become_subreaper() is None
            middle = os.fork()
            if middle == 0:
                if os.fork() == 0:
                    time.sleep(30)
                os._exit(0)
            os.waitpid(middle, 0)  # the sleeper is an orphan now, adopted by this process
            listed = process_tools.own_children()
            assert len(listed) == 1 and sorted(listed) == sorted(process_tools._scanned_children())
            os.kill(listed[0], signal.SIGKILL)
            os.waitpid(listed[0], 0)
            assert process_tools.own_children() == []
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
