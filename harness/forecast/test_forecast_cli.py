"""`crossload forecast`, end to end with the real binary: artifacts written by the project venv's
scikit-learn, forecast for environments given as specs (no cached fingerprint needed: a Debian
suite's table, a pip spec's pins), exit codes, and `--validate` on a small real run of the default
matrix where a pickle fails to load and another fails at predict."""
import json
import pickle
import subprocess

import pytest

from harness.run.test_run import BIN, crossload


def forecast(*args):
    return subprocess.run([BIN, "forecast", *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A DecisionTreeClassifier pickled (protocol 5) by the venv: scikit-learn 1.9, numpy 2."""
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    path = tmp_path_factory.mktemp("forecast") / "tree.pkl"
    path.write_bytes(pickle.dumps(DecisionTreeClassifier(random_state=0).fit(X, y), protocol=5))
    return path


def test_numpy2_pickle_into_bookworm_is_a_load_error_with_its_cause(tree):
    r = forecast(tree, "--env", "debian:bookworm/s390x", "--json")
    assert r.returncode == 1, r.stderr  # a failure is forecast
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1
    [art] = doc["artifacts"]
    assert art["facts"]["artifact.numpy"] == ["2"]
    assert "sklearn.tree._tree.Tree" in art["facts"]["artifact.global"]
    [env] = art["environments"]
    assert env["env"] == "debian:bookworm/s390x"
    assert env["outcome"] == "LOAD_ERROR"
    assert env["cause"] == "numpy2-pickle-into-numpy1"
    assert "env.numpy = 1.24.2 (< 1.26)" in env["evidence"]


def test_pip_pins_are_facts_and_the_text_screen_names_cause_and_evidence(tree):
    r = forecast(tree, "--env", "pip:scikit-learn==1.2.2,numpy==2.0.2@3.11")
    assert r.returncode == 1, r.stderr
    assert "LOAD_ERROR" in r.stdout and "sklearn-tree-node-dtype-backward-1.3" in r.stdout
    assert "env.sklearn = 1.2.2 (< 1.3)" in r.stdout
    same = forecast(tree, "--env", "pip:scikit-learn==1.9.1,numpy==2.4.6@3.11", "--json")
    assert same.returncode == 0, same.stdout + same.stderr
    [env] = json.loads(same.stdout)["artifacts"][0]["environments"]
    assert env["outcome"] == "OK" and env["cause"] is None


def test_a_missing_fact_is_unknown_and_named(tree):
    r = forecast(tree, "--env", "pip:numpy==2.2.4@3.11", "--json")
    assert r.returncode == 0, r.stderr  # UNKNOWN is not a failure forecast
    [env] = json.loads(r.stdout)["artifacts"][0]["environments"]
    assert env["outcome"] == "UNKNOWN"
    assert "env.sklearn" in env["missing"]


def test_errors_have_their_exit_codes(tmp_path, tree):
    assert forecast(tmp_path / "nope.pkl", "--env", "debian:bookworm/s390x").returncode == 3
    assert forecast(tree, "--env", "no-such-env").returncode == 2
    assert forecast("--validate", tmp_path).returncode == 3  # no results.json there
    assert forecast().returncode == 2


def test_inspect_forecast_adds_the_section(tree):
    r = subprocess.run([BIN, "inspect", tree, "--forecast", "--fail-on", "never"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "forecast (static, nothing loaded)" in r.stdout
    assert "host" in r.stdout.split("forecast (static, nothing loaded)", 1)[1]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The default matrix's host producing a LogisticRegression for host and sklearn-1.5 (numpy 1.26,
    scikit-learn 1.5): its protocol-5 pickle does not load there, its protocol-4 pickle loads and
    fails at predict (multi_class), both load on the host."""
    out = tmp_path_factory.mktemp("forecast_run") / "out"
    crossload("run", "--out", out, "--producers", "host", "--consumers", "host,sklearn-1.5", "--fixtures",
              "iris_logistic_regression", "--formats", "pickle-p4,pickle-p5", "--report", "json", "-q", check=False)
    return out


def test_validate_replays_a_real_run(small_run):
    doc = json.loads((small_run / "results.json").read_text())
    made = {(a["producer"], a["fixture"], a["format"]) for a in doc["artifacts"] if a["status"] == "ok"}
    cells = {c["id"]: c["outcome"] for c in doc["cells"] if (c["producer"], c["fixture"], c["format"]) in made}
    assert len(cells) == 4, doc["cells"]
    r = forecast("--validate", small_run, "--json")
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)
    assert set(v) >= {"cells", "correct", "agreement", "failing_recall", "failing_precision", "confusion"}
    assert v["cells"] == 4
    assert v["correct"] == sum(n for a, row in v["confusion"].items() for f, n in row.items() if a == f)
    failing = [o for o in cells.values() if o not in ("OK_EXACT", "OK_TOLERANCE")]
    assert v["failing"] == len(failing) == 2, cells
    assert v["agreement"] == 1.0 and v["failing_recall"] == 1.0, r.stdout
    assert v["confusion"]["LOAD_ERROR"] == {"LOAD_ERROR": 1} and v["confusion"]["PREDICT_ERROR"] == {"PREDICT_ERROR": 1}
    text = forecast("--validate", small_run)
    assert "agreement 100.0 % (4 of 4)" in text.stdout, text.stdout
