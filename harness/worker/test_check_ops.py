"""The ops behind `crossload check` and the recipe retrain check (check_ops.py), over a real
worker process, with a recipe file loaded through CROSSLOAD_RECIPES."""
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(WORKER)))

RECIPE = '''
OUTPUTS = ("predict", "predict_proba")


def recipe():
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    return {"estimator": DecisionTreeClassifier(random_state=0), "X": X, "y": y, "inputs": X[::10]}
'''


class Worker:
    def __init__(self, tmp, env):
        self.proc = subprocess.Popen([sys.executable, WORKER, "--root", ROOT], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=open(tmp / "worker.log", "w"),
                                     env=dict(os.environ, **env))
        self.next_id = 0

    def call(self, op, **fields):
        self.next_id += 1
        self.proc.stdin.write((json.dumps(dict(id=self.next_id, op=op, **fields)) + "\n").encode())
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    tmp = tmp_path_factory.mktemp("check_ops")
    (tmp / "iris_tree.py").write_text(RECIPE)
    X, y = load_iris(return_X_y=True)
    (tmp / "model.pkl").write_bytes(pickle.dumps(DecisionTreeClassifier(random_state=0).fit(X, y)))
    worker = Worker(tmp, {"CROSSLOAD_RECIPES": str(tmp / "iris_tree.py")})
    yield worker, tmp, X
    worker.proc.stdin.close()
    assert worker.proc.wait(timeout=60) == 0


def test_csv_with_a_header_and_npz_by_key_become_float64_tables(setup):
    worker, tmp, X = setup
    np.savetxt(tmp / "x.csv", X[:7], delimiter=",", header="a,b,c,d", comments="")
    answer = worker.call("convert_inputs", path=str(tmp / "x.csv"), out=str(tmp / "csv.npy"))
    assert answer["result"]["rows"] == 7 and answer["result"]["columns"] == 4
    np.testing.assert_array_equal(np.load(tmp / "csv.npy"), X[:7])
    np.savez(tmp / "x.npz", first=np.zeros((2, 2)), rows=X[:3].astype(np.float32))
    answer = worker.call("convert_inputs", path=str(tmp / "x.npz"), key="rows", out=str(tmp / "npz.npy"))
    assert answer["ok"] and np.load(tmp / "npz.npy").dtype == np.float64


def test_unreadable_inputs_fail_with_stage_inputs(setup):
    worker, tmp, _ = setup
    (tmp / "words.csv").write_text("a,b\nx,y\n")
    answer = worker.call("convert_inputs", path=str(tmp / "words.csv"), out=str(tmp / "w.npy"))
    assert answer["error"]["stage"] == "inputs"
    assert "not a numeric CSV table" in answer["error"]["message"]
    np.save(tmp / "vector.npy", np.arange(4.0))
    answer = worker.call("convert_inputs", path=str(tmp / "vector.npy"), out=str(tmp / "v.npy"))
    assert "must be a 2-D table" in answer["error"]["message"]
    assert not (tmp / "w.npy").exists() and not (tmp / "v.npy").exists()


def test_check_predict_serves_every_output_then_refuses_the_wrong_width(setup):
    worker, tmp, X = setup
    np.save(tmp / "in.npy", X[:5])
    answer = worker.call("check_predict", format="pickle-p5", path=str(tmp / "model.pkl"),
                         inputs=str(tmp / "in.npy"), out_prefix=str(tmp / "ref"))
    assert answer["result"]["outputs"] == ["predict", "predict_proba"]
    assert answer["result"]["n_features_in"] == 4
    assert np.load(tmp / "ref.predict_proba.npy").shape == (5, 3)
    np.save(tmp / "narrow.npy", X[:5, :2])
    answer = worker.call("check_predict", format="pickle-p5", path=str(tmp / "model.pkl"),
                         inputs=str(tmp / "narrow.npy"), out_prefix=str(tmp / "bad"), outputs=["predict"])
    assert answer["error"]["stage"] == "inputs"
    assert answer["error"]["message"] == ("the inputs have 2 columns, but the model expects 4 features "
                                          "(n_features_in_ = 4)")


def test_a_recipe_lists_trains_and_retrains_with_the_same_cv_score(setup):
    worker, tmp, _ = setup
    listed = {f["name"]: f for f in worker.call("list")["result"]["fixtures"]}
    assert listed["iris_tree"]["outputs"] == ["predict", "predict_proba"]
    assert listed["iris_tree"]["tags"] == ["recipe"]
    trained = worker.call("train", fixture="iris_tree", out_dir=str(tmp / "train"))["result"]
    retrained = worker.call("retrain_cv", fixture="iris_tree")["result"]
    assert trained["cv_score"] is not None
    assert retrained["cv_score"] == trained["cv_score"]  # same stack, fixed seeds
