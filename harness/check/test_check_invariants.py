"""End-to-end: `crossload check` with no reference must not bless a wrong answer. A real
scikit-learn tree whose predict_proba returns class counts (what a 1.3 tree returns in 1.9; no
environment with 1.3 is cached here, so harness/run/testdata/wrong_answers.py makes the same
answers), pickled by value with cloudpickle, is checked in the host venv: the reference cell is a
MISMATCH naming the broken invariant and its catalogue cause, not OK_EXACT (ref)."""
import json
import os
import sys

import pytest

from check_e2e import QUICK, ROOT, crossload

sys.path.insert(0, str(ROOT / "harness" / "run" / "testdata"))


@pytest.fixture(scope="module")
def counting_tree(tmp_path_factory):
    import cloudpickle
    import numpy as np

    import wrong_answers

    tmp = tmp_path_factory.mktemp("counts")
    model, X = wrong_answers.iris_counting_tree()
    # By value: the consumer loads the class from the file, it need not import the test's module.
    cloudpickle.register_pickle_by_value(wrong_answers)
    try:
        (tmp / "model.pkl").write_bytes(cloudpickle.dumps(model, protocol=5))
    finally:
        cloudpickle.unregister_pickle_by_value(wrong_answers)
    np.save(tmp / "inputs.npy", X)
    return tmp


def test_probabilities_that_are_counts_are_a_mismatch_even_in_the_reference(counting_tree, tmp_path):
    r = crossload("check", counting_tree / "model.pkl", "--inputs", counting_tree / "inputs.npy", "--json", "-q",
                  "--matrix", QUICK, "--env", "host", "--out", tmp_path / "o", "--allow-unsafe")
    doc = json.loads(r.stdout)
    [host] = doc["environments"]
    assert host["outcome"] == "MISMATCH", r.stdout + r.stderr
    assert r.returncode == 1
    names = [v["name"] for v in host["detail"]["invariants"]]
    assert names == ["proba-in-unit-interval", "proba-rows-sum-to-one"]
    assert host["detail"]["summary"].startswith("output invariant proba-in-unit-interval broken: ")
    assert host["cause"] == "invariant-proba-not-probabilities"
    assert "outside [0, 1]" in host["explanation"]


def test_a_right_tree_is_still_ok(tmp_path):
    import pickle

    import numpy as np

    from check_e2e import iris_tree

    model, X, _ = iris_tree()
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model, protocol=5))
    np.save(tmp_path / "inputs.npy", X[::5])
    r = crossload("check", tmp_path / "model.pkl", "--inputs", tmp_path / "inputs.npy", "--json", "-q",
                  "--matrix", QUICK, "--env", "host", "--out", tmp_path / "o")
    [host] = json.loads(r.stdout)["environments"]
    assert host["outcome"] == "OK_EXACT" and "invariants" not in host["detail"] and "cause" not in host, r.stdout
