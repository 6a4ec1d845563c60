"""End to end under QEMU: models persisted on this x86_64 host are loaded on big-endian s390x
(Debian bookworm: Python 3.11, numpy 1.24, scikit-learn 1.2, under qemu-s390x-static) and the
s390x ones on the host, by the real `crossload run`: the product's headline path.

The environment is matrix/quick.toml's bookworm-s390x, so it comes from the environment cache
that harness/env/test_environments.py and every quick run fill (a fresh machine builds it once,
1-4 minutes). Three fixtures x pickle-p4/pickle-p5/joblib, both ways: 36 cells, about a minute
warm (the s390x worker trains three small models under emulation).
"""
import json
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
S390X = "bookworm-s390x"
FIXTURES = ["iris_logistic_regression", "iris_kmeans", "iris_decision_tree_classifier"]
FORMATS = ["pickle-p4", "pickle-p5", "joblib"]


@pytest.fixture(scope="module")
def run(crossload_bin, tmp_path_factory):
    """results.json of host <-> s390x over FIXTURES x FORMATS, and the run's console output."""
    out = tmp_path_factory.mktemp("cross-cpu") / "out"
    cmd = [crossload_bin, "run", "--matrix", str(ROOT / "matrix" / "quick.toml"),
           "--producers", f"host,{S390X}", "--consumers", f"host,{S390X}",
           "--fixtures", ",".join(FIXTURES), "--formats", ",".join(FORMATS), "--out", str(out), "-q"]
    print("+", " ".join(cmd), "  [host]", flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    print(f"  exit {proc.returncode} after {time.monotonic() - start:.1f} s\n{proc.stdout}{proc.stderr[-3000:]}")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    doc = json.loads((out / "results.json").read_text())
    return doc, {c["id"]: c for c in doc["cells"]}


def cell(cells, fixture, fmt, producer, consumer):
    return cells[f"{fixture}/{fmt}/{producer}/{consumer}"]


def test_every_cell_of_the_slice_ran_under_a_big_endian_s390x(run):
    doc, cells = run
    assert len(cells) == len(FIXTURES) * len(FORMATS) * 2 * 2
    envs = {e["name"]: e for e in doc["environments"]}
    fp = envs[S390X]["fingerprint"]
    assert fp["machine"] == "s390x" and fp["byteorder"] == "big"
    assert fp["packages"]["scikit-learn"].startswith("1.2.") and fp["packages"]["numpy"].startswith("1.24.")
    assert "ENV_UNAVAILABLE" not in {c["outcome"] for c in cells.values()}


# Every cell's outcome, each understood (the tests below pin the reasons):
#   s390x -> host   KMeans: pickle-p4 and joblib give native-order arrays back (numpy's protocol-4
#                   __setstate__ and joblib's reader byte-swap on load), protocol 5 rebuilds them
#                   from the raw buffer still big-endian, and scikit-learn's Cython kernels refuse
#                   that buffer at predict. Logistic regression predicts with numpy's matmul, which
#                   takes either byte order: it passes in every format, bitwise or within a few
#                   ulp of predict_proba depending on the host CPU's BLAS kernels (exact on an
#                   AMD EPYC, a few ulp apart on the machines this test was written on). The tree fails in every
#                   format for another reason: scikit-learn 1.3 added a field to the node array.
#   host -> s390x   numpy 2 pickles name numpy._core, which numpy 1.24 does not have; joblib writes
#                   arrays its own way, so the logistic regression loads - and then scikit-learn
#                   1.2's predict_proba reads `multi_class`, which 1.9 no longer sets.
#   same machine    bitwise identical.
CROSS = {
    ("iris_kmeans", "pickle-p4", S390X, "host"): "OK_TOLERANCE",
    ("iris_kmeans", "pickle-p5", S390X, "host"): "PREDICT_ERROR",
    ("iris_kmeans", "joblib", S390X, "host"): "OK_TOLERANCE",
    **{("iris_logistic_regression", f, S390X, "host"): {"OK_EXACT", "OK_TOLERANCE"} for f in FORMATS},
    **{("iris_decision_tree_classifier", f, S390X, "host"): "LOAD_ERROR" for f in FORMATS},
    **{(fx, f, "host", S390X): "LOAD_ERROR" for fx in FIXTURES for f in FORMATS},
    ("iris_logistic_regression", "joblib", "host", S390X): "PREDICT_ERROR",
}
SAME = {(fx, f, env, env): "OK_EXACT" for fx in FIXTURES for f in FORMATS for env in ("host", S390X)}


def test_each_cell_has_the_outcome_its_byte_order_and_versions_explain(run):
    _, cells = run
    got = {(c["fixture"], c["format"], c["producer"], c["consumer"]): c["outcome"] for c in cells.values()}
    expected = {**SAME, **CROSS}
    assert set(got) == set(expected)
    wrong = {k: (got[k], v) for k, v in expected.items() if got[k] not in (v if isinstance(v, set) else {v})}
    assert not wrong, wrong
    # Whichever it is on this CPU, the three formats carry the same model: the same outcome.
    assert len({got["iris_logistic_regression", f, S390X, "host"] for f in FORMATS}) == 1


def test_protocol_5_from_big_endian_loads_then_fails_at_predict_in_cython(run):
    _, cells = run
    detail = cell(cells, "iris_kmeans", "pickle-p5", S390X, "host")["detail"]
    assert detail["stage"] == "predict"
    assert detail["error_type"] == "ValueError"
    assert detail["message"] == "Big-endian buffer not supported on little-endian compiler"


def test_protocol_4_and_joblib_from_big_endian_predict_within_tolerance(run):
    _, cells = run
    for fmt in ("pickle-p4", "joblib"):
        c = cell(cells, "iris_kmeans", fmt, S390X, "host")
        predict, transform = c["detail"]["outputs"]["predict"], c["detail"]["outputs"]["transform"]
        assert predict["outcome"] == "OK_EXACT" and predict["n_values"] == 30  # every label the same
        # distances computed by scikit-learn 1.9 on x86_64 against 1.2's on s390x: last bits differ
        assert transform["outcome"] == "OK_TOLERANCE" and transform["n_beyond_tolerance"] == 0
        assert 0 < transform["max_abs"] < 1e-12
        assert "big-endian vs float64 little-endian" in transform["dtype_note"]
        warnings = {w["category"]: w for w in c["warnings"]}
        assert warnings["InconsistentVersionWarning"]["original_sklearn_version"].startswith("1.2.")


def test_why_the_protocols_differ_the_arrays_byte_order_after_loading(run):
    """Loaded here (our own artifacts): protocol 4 and joblib give native-order centres, protocol 5
    keeps the producer's big-endian buffer - what the PREDICT_ERROR above trips over."""
    import pickle
    import warnings

    import joblib

    doc, _ = run
    paths = {(a["fixture"], a["format"]): a["path"] for a in doc["artifacts"] if a["producer"] == S390X}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InconsistentVersionWarning: asserted above
        with open(paths["iris_kmeans", "pickle-p4"], "rb") as f:
            p4 = pickle.load(f)
        with open(paths["iris_kmeans", "pickle-p5"], "rb") as f:
            p5 = pickle.load(f)
        jl = joblib.load(paths["iris_kmeans", "joblib"])
    assert p4.cluster_centers_.dtype.isnative and jl.cluster_centers_.dtype.isnative
    assert p5.cluster_centers_.dtype.str == ">f8"
    assert (p4.cluster_centers_ == p5.cluster_centers_).all()  # the same values, only the order differs


def test_logistic_regression_crosses_byte_order_in_every_format(run):
    _, cells = run
    for fmt in FORMATS:
        outputs = cell(cells, "iris_logistic_regression", fmt, S390X, "host")["detail"]["outputs"]
        assert outputs["predict"]["outcome"] == "OK_EXACT"
        assert outputs["decision_function"]["outcome"] == "OK_EXACT"
        assert outputs["predict_proba"]["max_ulp"] <= 4 and outputs["predict_proba"]["n_beyond_tolerance"] == 0


def test_trees_do_not_cross_scikit_learn_1_3_in_either_byte_order(run):
    _, cells = run
    for fmt in FORMATS:
        detail = cell(cells, "iris_decision_tree_classifier", fmt, S390X, "host")["detail"]
        assert detail["error_type"] == "ValueError"
        assert detail["message"].startswith("node array from the pickle has an incompatible dtype")
        assert "missing_go_to_left" in detail["message"]


def test_numpy_2_artifacts_do_not_load_under_numpy_1_24_on_s390x(run):
    _, cells = run
    for (fixture, fmt, producer, consumer), outcome in CROSS.items():
        if producer == "host" and outcome == "LOAD_ERROR":
            detail = cell(cells, fixture, fmt, producer, consumer)["detail"]
            assert (detail["error_type"], detail["message"]) == ("ModuleNotFoundError", "No module named 'numpy._core'")
    detail = cell(cells, "iris_logistic_regression", "joblib", "host", S390X)["detail"]
    assert detail["stage"] == "predict" and detail["error_type"] == "AttributeError"
    assert detail["message"] == "'LogisticRegression' object has no attribute 'multi_class'"
