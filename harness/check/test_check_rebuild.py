"""End-to-end: `crossload check` rebuilds the producer's environment from the versions an
artifact records. A DecisionTreeClassifier really pickled by scikit-learn 1.3.2 (numpy 1.26, in the
pip environment crossload's own pip provider builds: ~25 s the first time, then cached in
~/.cache/crossload), checked against the host venv alone (scikit-learn 1.9, which returns the 1.3
tree's class counts from predict_proba): the reference comes from the rebuilt 1.3.2 environment,
and the host's counts are a MISMATCH against it, not OK_EXACT (ref).
"""
import json
import re
import subprocess

import pytest

from check_e2e import QUICK, crossload

# What producer_stacks.toml gives for scikit-learn 1.3 on numpy 1.x (rebuild_test.cc checks the
# same row): the test builds the same environment check will rebuild, so both share one cache entry.
PRODUCER = "pip:scikit-learn==1.3.2,numpy==1.26.4,scipy==1.11.4,cloudpickle,skops@3.11"
HOST = ["--matrix", QUICK, "--env", "host"]

TRAIN = """
import pickle, sys
import numpy as np
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier
X, y = load_iris(return_X_y=True)
model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
open(sys.argv[1] + "/model.pkl", "wb").write(pickle.dumps(model))
np.save(sys.argv[1] + "/inputs.npy", X[::5])
np.save(sys.argv[1] + "/proba.npy", model.predict_proba(X[::5]))
# The same tree as if a 1.3 release PyPI does not have had saved it: pip finds no such wheel.
import sklearn.base
sklearn.base.__version__ = "1.3.99"
open(sys.argv[1] + "/unreleased.pkl", "wb").write(pickle.dumps(model))
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """model.pkl written by scikit-learn 1.3.2 itself, its inputs, and its own predict_proba."""
    info = crossload("env", "info", PRODUCER, "--json", timeout=1800)  # builds it the first time
    assert info.returncode == 0, info.stderr
    python = json.loads(info.stdout)["fingerprint"]["executable"]
    tmp = tmp_path_factory.mktemp("sklearn132")
    subprocess.run([python, "-c", TRAIN, str(tmp)], check=True, timeout=300)
    return tmp


def test_the_reference_is_the_rebuilt_producer_and_the_hosts_class_counts_are_a_mismatch(made, tmp_path):
    import numpy as np

    out = tmp_path / "o"
    r = crossload("check", made / "model.pkl", "--inputs", made / "inputs.npy", *HOST, "--json", "--out", out)
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert (doc["recorded_versions"], doc["recorded_numpy_major"]) == (["1.3.2"], 1)
    ref = doc["reference"]
    assert ref["note"] == f"reference: scikit-learn 1.3.2 rebuilt from the artifact's recorded versions ({PRODUCER})"
    assert ref["rebuilt"] == {"spec": PRODUCER, "status": "rebuilt", "reason": None}
    assert ref["trusted"] is True and "predict_proba" in ref["outputs"]
    envs = {e["name"]: e for e in doc["environments"]}
    assert list(envs) == [PRODUCER, "host"]
    producer, host = envs[PRODUCER], envs["host"]
    assert (producer["outcome"], producer["reference"], producer["reference_trusted"]) == ("OK_EXACT", True, True)
    assert "scikit-learn 1.3.2" in producer["versions"] and "numpy 1.26.4" in producer["versions"]
    # The rebuilt environment's probabilities are the producer's own.
    np.testing.assert_array_equal(np.load(out / "cells" / PRODUCER.replace("/", "_") / "predictions.predict_proba.npy"),
                                  np.load(made / "proba.npy"))
    # The host's class counts differ from them by far more than the tolerance: a MISMATCH of the comparison.
    assert (host["outcome"], host["reference"]) == ("MISMATCH", False), host
    assert host["detail"]["outputs"]["predict_proba"]["max_abs"] > 1, host["detail"]
    assert host["detail"]["summary"].startswith("predict_proba: "), host["detail"]
    assert host["detail"]["outputs"]["predict"]["max_abs"] == 0  # the labels agree: only comparing outputs finds it


def test_the_screen_names_the_rebuilt_reference(made, tmp_path):
    r = crossload("check", made / "model.pkl", "--inputs", made / "inputs.npy", *HOST, "--out", tmp_path / "o")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "records scikit-learn 1.3.2, numpy 1.x)" in r.stdout, r.stdout
    assert f"reference: scikit-learn 1.3.2 rebuilt from the artifact's recorded versions ({PRODUCER})" in r.stdout
    assert re.search(rf"^{re.escape(PRODUCER)}\s+OK_EXACT \(ref\)\s+0\s", r.stdout, re.M), r.stdout
    assert re.search(r"^host\s+MISMATCH\s", r.stdout, re.M), r.stdout
    assert f"rebuilding it from the artifact's recorded versions as {PRODUCER}" in r.stderr, r.stderr


def test_turned_off_the_host_stands_in_and_is_labelled_not_trusted(made, tmp_path):
    r = crossload("check", made / "model.pkl", "--inputs", made / "inputs.npy", *HOST, "--no-rebuild-reference",
                  "--json", "--out", tmp_path / "o")
    doc = json.loads(r.stdout)
    ref = doc["reference"]
    assert ref["rebuilt"] == {"spec": None, "status": "failed", "reason": "turned off (--no-rebuild-reference)"}
    assert ref["trusted"] is False
    assert ref["note"].endswith("so the first that loads it was used; a different version: not trusted"), ref["note"]
    [host] = doc["environments"]
    assert (host["reference"], host["reference_trusted"]) == (True, False)
    # Without a reference of its own version, only the output invariants can tell the counts are wrong.
    assert host["outcome"] == "MISMATCH" and r.returncode == 1, r.stdout


def test_a_release_pip_cannot_install_is_said_and_the_stand_in_is_not_trusted(made, tmp_path):
    r = crossload("check", made / "unreleased.pkl", "--inputs", made / "inputs.npy", *HOST, "--json",
                  "--out", tmp_path / "o")
    doc = json.loads(r.stdout)
    rebuilt = doc["reference"]["rebuilt"]
    assert rebuilt["spec"] == PRODUCER.replace("1.3.2", "1.3.99") and rebuilt["status"] == "failed", rebuilt
    assert rebuilt["reason"].startswith("it was not built: "), rebuilt
    assert "scikit-learn==1.3.99" in rebuilt["reason"], rebuilt  # pip's own error names the pin
    assert f"reference: rebuilding {rebuilt['spec']} failed: it was not built: " in r.stderr, r.stderr
    assert doc["reference"]["trusted"] is False
    [host] = doc["environments"]  # the environment that failed to build is no row of the check
    assert (host["name"], host["reference"], host["reference_trusted"]) == ("host", True, False)
