"""process_state: what a batched load may leave changed, seen by comparing two snapshots."""
import os
import threading
import time

import numpy as np
import pytest
import sklearn

import process_state

_ASARRAY = np.asarray


def changed_by(act, undo):
    before = process_state.snapshot()
    act()
    try:
        return process_state.changes(before, process_state.snapshot())
    finally:
        undo()


def test_nothing_done_is_no_change():
    before = process_state.snapshot()
    assert process_state.changes(before, process_state.snapshot()) == []


@pytest.mark.parametrize("fact, act, undo", [
    ("sklearn.config", lambda: sklearn.set_config(assume_finite=True),
     lambda: sklearn.set_config(assume_finite=False)),
    ("numpy.errstate", lambda: np.seterr(all="ignore"), lambda: np.seterr(all="warn", under="ignore")),
    ("environ", lambda: os.environ.__setitem__("CROSSLOAD_STATE_TEST", "1"),
     lambda: os.environ.pop("CROSSLOAD_STATE_TEST")),
    ("patch:numpy.asarray", lambda: setattr(np, "asarray", lambda *a, **k: None),
     lambda: setattr(np, "asarray", _ASARRAY)),
    ("sys.path", lambda: os.sys.path.append("/nowhere"), lambda: os.sys.path.remove("/nowhere")),
])
def test_each_kind_of_change_is_named(fact, act, undo):
    assert fact in changed_by(act, undo)


def test_a_started_thread_and_a_reseeded_rng_are_changes():
    state = np.random.get_state()
    assert "numpy.random" in changed_by(lambda: np.random.seed(1), lambda: np.random.set_state(state))
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    assert "threads" in changed_by(thread.start, lambda: (stop.set(), thread.join()))


@pytest.mark.parametrize("draw", [lambda: np.random.rand(), lambda: np.random.standard_normal(),
                                  lambda: np.random.randint(10)])
def test_a_draw_from_numpys_global_generator_is_a_change(draw):
    state = np.random.get_state()
    assert "numpy.random" in changed_by(draw, lambda: np.random.set_state(state))


def test_a_replaced_global_generator_is_a_change():
    import numpy.random.mtrand as mtrand

    original = mtrand._rand

    def undo():
        mtrand._rand = original

    assert "numpy.random" in changed_by(lambda: setattr(mtrand, "_rand", np.random.RandomState(0)), undo)


def test_a_draw_from_pythons_random_is_a_change():
    import random

    state = random.getstate()
    assert "random" in changed_by(random.random, lambda: random.setstate(state))


def test_a_child_process_left_running_is_a_change():
    before = process_state.snapshot()
    pid = os.fork()
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    try:
        assert "children" in process_state.changes(before, process_state.snapshot())
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def test_a_fact_that_appears_is_no_change():
    before = dict(process_state.snapshot(), **{"patch:skops.io.load": None})
    after = dict(before, **{"patch:skops.io.load": 12345})
    assert process_state.changes(before, after) == []


def test_modules_of_the_stack_the_zoo_and_stdlib_are_not_foreign():
    names = ["sklearn.tree._classes", "numpy.linalg", "fixtures.zoo", "json.decoder", "xml.dom",
             "hostile_fixtures", "mypackage.models", "wrapped_tree"]
    assert process_state.foreign_modules(names) == ["hostile_fixtures", "mypackage.models", "wrapped_tree"]
