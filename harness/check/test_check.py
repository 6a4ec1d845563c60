"""End-to-end: `crossload check` and `crossload run --recipe` with the real binary, the real
workers (sandboxed) and two environments that differ in dependency versions (check_e2e.py).
Options and inputs: test_check_options.py, test_check_inputs.py.
"""
import json
import os
import pickle
import re

import numpy as np
import pytest

from check_e2e import BOTH, OLD, QUICK, ROOT, crossload, worker_logs


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A tree pickled with numpy 2, the same model as ONNX, and its inputs in several forms."""
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    tmp = tmp_path_factory.mktemp("byom")
    X, y = load_iris(return_X_y=True)
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    (tmp / "model.pkl").write_bytes(pickle.dumps(model, protocol=5))
    np.save(tmp / "inputs.npy", X[::5])
    np.save(tmp / "narrow.npy", X[::5, :3])
    np.savetxt(tmp / "inputs.csv", X[::5], delimiter=",", header="a,b,c,d", comments="")
    np.save(tmp / "expected.npy", model.predict(X[::5]))
    return tmp


def test_a_numpy2_pickle_fails_on_numpy_1_26_and_the_screen_says_why(made, tmp_path):
    r = crossload("check", made / "model.pkl", "--inputs", made / "inputs.npy", *BOTH, "--out", tmp_path / "o")
    assert r.returncode == 1, r.stdout + r.stderr
    screen = r.stdout
    assert "reference computed in host: its scikit-learn" in screen
    assert re.search(r"^host\s+OK_EXACT \(ref\)\s+0\s", screen, re.M), screen
    assert re.search(rf"^{re.escape(OLD)}\s+LOAD_ERROR\s+-\s+python 3\.11.*numpy 1\.26\.4, scikit-learn 1\.5\.2",
                     screen, re.M), screen
    assert "error: ModuleNotFoundError: No module named 'numpy._core" in screen
    # protocol 5 into numpy 1.26: the catalogue's narrower cause (numpy 1.26 stubs numpy._core, not its .numeric)
    assert "means: numpy 1.26 carries stubs of numpy._core for unpickling" in screen
    assert "fix: Persist with pickle protocol 4 or joblib" in screen or "Persist with pickle protocol 4 or joblib" in screen
    assert "fails in 1 of 2 environments" in screen
    # before loading anything, the static forecast (stderr) already names the cause
    forecast = r.stderr.split("forecast (static, nothing loaded)", 1)[1]
    assert re.search(rf"^\s+{re.escape(OLD)}\s+LOAD_ERROR\s+numpy2-protocol5-into-numpy1\.26$", forecast, re.M), r.stderr
    assert re.search(r"^\s+host\s+(OK|UNKNOWN)", forecast, re.M), r.stderr  # UNKNOWN: no fingerprint cached yet


def test_json_for_scripts_with_a_given_reference_and_csv_inputs(made, tmp_path):
    r = crossload("check", made / "model.pkl", "--inputs", made / "inputs.csv", "--reference",
                  made / "expected.npy", "--json", "-q", "--matrix", QUICK, "--env", "host", "--out", tmp_path / "o")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1 and doc["exit_code"] == 0
    assert doc["format"] == "pickle-p5" and doc["verdict"] == "SAFE"
    assert doc["reference"]["outputs"] == ["predict"]
    [host] = doc["environments"]
    assert (host["name"], host["outcome"], host["max_abs"]) == ("host", "OK_EXACT", 0.0)


def test_onnx_loads_and_predicts_in_both_environments(made, tmp_path):
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    X = np.load(made / "inputs.npy")
    model = LogisticRegression(max_iter=1000).fit(X, np.arange(len(X)) % 3)
    onx = to_onnx(model, X.astype(np.float32), options={"zipmap": False}, target_opset={"": 17, "ai.onnx.ml": 3})
    (tmp_path / "model.onnx").write_bytes(onx.SerializeToString())
    r = crossload("check", tmp_path / "model.onnx", "--inputs", made / "inputs.npy", *BOTH, "--json", "-q",
                  "--out", tmp_path / "o")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["format"] == "onnx"
    assert doc["reference"]["outputs"] == ["predict", "predict_proba"]
    outcomes = {e["name"]: e["outcome"] for e in doc["environments"]}
    assert outcomes == {"host": "OK_EXACT", OLD: outcomes[OLD]}
    assert outcomes[OLD] in ("OK_EXACT", "OK_TOLERANCE")


def test_inputs_of_the_wrong_width_are_a_clear_error_naming_the_file(made, tmp_path):
    r = crossload("check", made / "model.pkl", "--inputs", made / "narrow.npy", "--matrix", QUICK, "--env", "host",
                  "--out", tmp_path / "o")
    assert r.returncode == 3, r.stdout + r.stderr
    assert f"{made / 'narrow.npy'}: the inputs have 3 columns, but the model expects 4 features" in r.stdout


def test_a_corrupt_artifact_is_a_clear_error_and_nothing_starts(made, tmp_path):
    corrupt = tmp_path / "corrupt.pkl"
    corrupt.write_bytes((made / "model.pkl").read_bytes()[:200])
    r = crossload("check", corrupt, "--inputs", made / "inputs.npy", *BOTH, "--out", tmp_path / "o")
    assert r.returncode == 3, r.stdout + r.stderr
    assert f"error: {corrupt}: not a readable model artifact" in r.stderr
    assert not (tmp_path / "o" / "logs").exists()  # no environment was started


class Shell:
    """Unpickling it would run a shell command: the audit must refuse it before any load."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/crossload-check-was-here",))


def test_an_unsafe_artifact_is_refused(made, tmp_path):
    unsafe = tmp_path / "unsafe.pkl"
    unsafe.write_bytes(pickle.dumps(Shell()))
    r = crossload("check", unsafe, "--inputs", made / "inputs.npy", *BOTH, "--out", tmp_path / "o")
    assert r.returncode == 3, r.stdout + r.stderr
    assert f"{unsafe}: refused: the static audit judged it UNSAFE" in r.stderr
    assert "--allow-unsafe" in r.stderr
    assert not (tmp_path / "o" / "logs").exists()


RECIPE = '''
"""A team's training script, as crossload's recipe interface wants it."""
OUTPUTS = ("predict", "predict_proba")


def recipe():
    import sys

    import numpy as np

    sys.stderr.write("churn recipe() ran\\n")  # in the worker's log: where it was retrained
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] > 0).astype(int)
    return {"estimator": LogisticRegression(max_iter=500), "X": X[:250], "y": y[:250], "inputs": X[250:]}
'''


def recipe_matrix(tmp_path):
    """host produces; host and sklearn-1.5 (the quick matrix's own table: its cached build) consume."""
    quick = QUICK.read_text()
    old = quick[quick.index(f'[env."{OLD}"]'):]
    path = tmp_path / "recipe.toml"
    path.write_text(f"""
[matrix]
name = "recipe-test"
formats = ["pickle-p5", "skops", "onnx"]
producers = ["host"]
consumers = ["host", "{OLD}"]

[env.host]
provider = "host"
python = "{ROOT / '.venv' / 'bin' / 'python'}"

{old}""")
    return path


def test_a_recipe_is_produced_cross_loaded_and_retrained_where_it_does_not_load(tmp_path):
    recipe = tmp_path / "churn.py"
    recipe.write_text(RECIPE)
    out = tmp_path / "out"
    r = crossload("run", "--matrix", recipe_matrix(tmp_path), "--recipe", recipe, "--out", out, "-q")
    assert r.returncode == 0, r.stdout + r.stderr
    cells = {c["id"]: c for c in json.loads((out / "results.json").read_text())["cells"]}
    assert {c["fixture"] for c in cells.values()} == {"churn"}
    assert cells["churn/pickle-p5/host/host"]["outcome"] == "OK_EXACT"
    broken = cells[f"churn/pickle-p5/host/{OLD}"]
    assert broken["outcome"] == "LOAD_ERROR"
    assert "numpy._core" in broken["detail"]["message"]
    retrain = broken["detail"]["retrain"]
    assert retrain["reproduces"] is True
    assert abs(retrain["consumer_cv"] - retrain["producer_cv"]) <= 0.01 * retrain["producer_cv"]
    assert retrain["sentence"].startswith(f"does not load on {OLD}, but retraining its recipe there reproduces its "
                                          "CV score")
    assert "Retrain check: the model does not load on" in (out / "report.md").read_text()
    ok = cells[f"churn/onnx/host/{OLD}"]
    assert ok["outcome"] in ("OK_EXACT", "OK_TOLERANCE") and "retrain" not in ok["detail"]


def test_a_recipe_without_recipe_function_is_a_clear_error(tmp_path):
    recipe = tmp_path / "broken.py"
    recipe.write_text("X = 1\n")
    r = crossload("run", "--matrix", recipe_matrix(tmp_path), "--recipe", recipe, "--out", tmp_path / "out", "-q")
    assert r.returncode == 0, r.stderr  # a recipe that cannot train is a finding of the run, not its end
    assert f"broken in host: training failed: RecipeError: recipe {tmp_path / 'out' / 'recipes' / 'broken.py'}: " \
           "defines no function recipe()" in r.stderr, r.stderr


def churn_artifact(tmp_path):
    """The recipe, and the model it trains pickled with numpy 2 (protocol 5), and its inputs."""
    import importlib.util

    recipe = tmp_path / "churn.py"
    recipe.write_text(RECIPE)
    spec = importlib.util.spec_from_file_location("churn", recipe)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.recipe()
    (tmp_path / "churn.pkl").write_bytes(pickle.dumps(made["estimator"].fit(made["X"], made["y"]), protocol=5))
    np.save(tmp_path / "inputs.npy", made["inputs"])
    return recipe, tmp_path / "churn.pkl", tmp_path / "inputs.npy"


def test_check_with_the_recipe_retrains_where_the_artifact_does_not_load(tmp_path):
    recipe, artifact, inputs = churn_artifact(tmp_path)
    r = crossload("check", artifact, "--inputs", inputs, "--recipe", recipe, *BOTH, "--out", tmp_path / "o")
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(rf"Retrain check: the model does not load on {re.escape(OLD)}, but retraining its recipe "
                     r"there reproduces its CV score within \d+\.\d %", r.stdout), r.stdout
    # Retrained where it failed, and where the reference came from (the score compared with).
    for env in ("host", OLD):
        assert worker_logs(tmp_path / "o", env).count("churn recipe() ran") == 1, env


def test_check_with_the_recipe_retrains_nothing_when_nothing_fails(tmp_path):
    recipe, artifact, inputs = churn_artifact(tmp_path)
    r = crossload("check", artifact, "--inputs", inputs, "--recipe", recipe, "--matrix", QUICK, "--env", "host",
                  "--json", "--out", tmp_path / "o")
    assert r.returncode == 0, r.stdout + r.stderr
    [host] = json.loads(r.stdout)["environments"]
    assert host["outcome"] == "OK_EXACT" and "retrain" not in host["detail"]
    assert "churn recipe() ran" not in worker_logs(tmp_path / "o", "host")
