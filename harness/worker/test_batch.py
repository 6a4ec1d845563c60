"""Batched isolated loads over the real protocol: one child serves load after load, each judged
as its own; a crash or timeout ends the load in flight only, and a load that changes its process
retires the child (batch.py, process_state.py)."""
import os
import pickle
import signal

import pytest

from test_fork_per_load import HOSTILE, _Payload, _descendants, files, worker  # noqa: F401 (fixtures)

# Loads (as artifacts that run code when unpickled) that change the process for later loads.
CHANGERS = {
    "config": "import sklearn; sklearn.set_config(assume_finite=True)",
    "module": "import sys, types; sys.modules['alien_module'] = types.ModuleType('alien_module')",
    "patch": "import numpy; numpy.asarray = lambda *a, **k: None",
    "thread": ("import threading, time\n"
               "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()"),
    "environ": "import os; os.environ['CROSSLOAD_BATCH_TEST'] = '1'",
    "seed": "import numpy; numpy.random.seed(7)",
}


@pytest.fixture(scope="module")
def changers(files):  # noqa: F811
    for name, code in CHANGERS.items():
        (files / (name + ".pkl")).write_bytes(pickle.dumps(_Payload(exec, code), protocol=5))
    return files


def load(worker, files, name, isolation="batch", **limits):  # noqa: F811
    limits = dict(dict(wall_seconds=20, cpu_seconds=20, address_space_bytes=1 << 30,
                       processes=64), **limits)
    return worker.call("load_predict", format="pickle-p5", path=str(files / (name + ".pkl")),
                       inputs=str(files / "inputs.npy"), outputs=["predict"],
                       out_prefix=str(files / "out" / name), limits=limits, isolation=isolation)


def small(worker, files):  # noqa: F811
    answer = load(worker, files, "small")
    assert answer["ok"], answer
    return answer["result"]


def test_loads_share_one_child_and_keep_their_own_outputs(worker, files):  # noqa: F811
    first, second, third = (small(worker, files) for _ in range(3))
    assert second["batch"]["child"] == third["batch"]["child"] == first["batch"]["child"]
    assert (second["batch"]["forked"], third["batch"]["forked"]) == (False, False)
    assert third["batch"]["load"] == second["batch"]["load"] + 1
    assert os.path.exists(str(files / "out" / "small.predict.npy"))
    assert third["outputs"] == ["predict"] and third["rss_at_fork_kb"] > 0
    # No fork, no confinement: the batched load's phases are a request and its answer.
    assert "fork" not in third["phases"] and third["phases"]["work"] >= third["load_seconds"]


def test_a_segfault_in_a_batch_is_a_crash_and_the_next_load_gets_a_fresh_child(worker, files):  # noqa: F811
    before = small(worker, files)["batch"]["child"]
    error = load(worker, files, "segfault")["error"]
    assert (error["stage"], error["type"], error["signal"]) == ("crash", "Signal", signal.SIGSEGV)
    after = small(worker, files)["batch"]
    assert after["child"] != before and after["forked"]


def test_os_exit_in_a_batch_is_a_crash_with_its_exit_status(worker, files):  # noqa: F811
    small(worker, files)
    error = load(worker, files, "exit3")["error"]
    assert (error["stage"], error["exit_status"]) == ("crash", 3)
    small(worker, files)


def test_each_load_has_its_own_wall_deadline(worker, files):  # noqa: F811
    small(worker, files)
    error = load(worker, files, "spin", wall_seconds=1.5)["error"]
    assert (error["stage"], error["limit"], error["seconds"]) == ("timeout", "wall", 1.5)
    assert small(worker, files)["batch"]["forked"]


def test_each_load_has_its_own_cpu_budget(worker, files):  # noqa: F811
    small(worker, files)
    error = load(worker, files, "spin", cpu_seconds=1, wall_seconds=90)["error"]
    assert (error["stage"], error["limit"]) == ("timeout", "cpu")
    small(worker, files)


def test_each_load_has_its_own_memory_allowance_and_peak(worker, files):  # noqa: F811
    small(worker, files)
    error = load(worker, files, "hog", address_space_bytes=256 << 20)["error"]
    assert (error["stage"], error["type"]) == ("load", "MemoryError")
    assert error["rss_peak_kb"] - error["rss_at_fork_kb"] < 300 << 10
    # The hog's child survived its MemoryError; the next load's peak is its own, not the hog's.
    after = small(worker, files)
    assert after["rss_peak_kb"] < error["rss_peak_kb"] - (150 << 10)


def test_a_daemon_left_behind_retires_the_child_and_is_swept(worker, files):  # noqa: F811
    small(worker, files)
    answer = load(worker, files, "daemon")
    assert answer["error"]["stage"] == "predict"
    assert _descendants(worker.proc.pid) == []
    assert small(worker, files)["batch"]["forked"]


@pytest.mark.parametrize("name", sorted(CHANGERS))
def test_a_load_that_changes_the_process_retires_its_child(worker, changers, name):
    child = small(worker, changers)["batch"]["child"]
    answer = load(worker, changers, name)
    assert answer["error"]["stage"] == "predict"  # it loaded (as None), then could not predict
    after = small(worker, changers)["batch"]
    assert after["forked"] and after["child"] != child
    log = worker.stderr()
    assert "batch child %d retired after" % child in log


def test_the_retire_reason_names_what_changed(worker, changers):
    small(worker, changers)
    load(worker, changers, "config")
    assert "sklearn.config" in worker.stderr().splitlines()[-1]
    small(worker, changers)
    load(worker, changers, "module")
    assert "imported alien_module" in worker.stderr().splitlines()[-1]


def test_batch_and_cell_give_the_same_outcomes(worker, changers):
    sequence = ["small", "segfault", "small", "exit3", "config", "small", "hog", "small",
                "patch", "small", "daemon", "small"]

    def outcome(answer):
        if answer["ok"]:
            return ("ok", answer["result"]["outputs"])
        e = answer["error"]
        return (e["stage"], e["type"], e.get("signal"), e.get("exit_status"), e.get("limit"))

    def run(mode):
        return [outcome(load(worker, changers, name, isolation=mode,
                             address_space_bytes=256 << 20)) for name in sequence]

    assert run("batch") == run("cell")


def test_an_unknown_isolation_is_a_protocol_error(worker, files):  # noqa: F811
    error = load(worker, files, "small", isolation="thread")["error"]
    assert error["stage"] == "protocol" and "isolation must be one of cell, batch" in error["message"]


def test_the_worker_survived_everything(worker):
    assert worker.result("hello")["pid"] == worker.proc.pid
