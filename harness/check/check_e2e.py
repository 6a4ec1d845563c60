"""What the end-to-end tests of `crossload check` share: the real binary, and the two
environments of matrix/quick.toml that differ in dependency versions: the host venv (newest
scikit-learn, numpy 2, pyarrow) and the pip environment `sklearn-1.5` (scikit-learn 1.5.2,
numpy 1.26, no pyarrow; built once by `crossload env build`, then cached).

Artifacts and inputs are made in the tests, with the host venv's libraries.
"""
import os
import pickle
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
QUICK = ROOT / "matrix" / "quick.toml"
OLD = "sklearn-1.5"  # numpy 1.26: cannot unpickle what numpy 2 wrote at protocol 5
BOTH = ["--matrix", QUICK, "--env", "host", "--env", OLD]


def crossload(*args, timeout=900, env=None):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def iris_tree():
    """(fitted DecisionTreeClassifier, X, y) on iris."""
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    return DecisionTreeClassifier(random_state=0).fit(X, y), X, y


def pickle_recording(model, version, protocol):
    """The model pickled as if scikit-learn `version` had saved it: BaseEstimator.__getstate__
    writes sklearn.base.__version__ into `_sklearn_version`, which the audit reads. Only two real
    versions are built here, and the reference fallback needs one that neither environment has."""
    import sklearn.base

    real = sklearn.base.__version__
    sklearn.base.__version__ = version
    try:
        return pickle.dumps(model, protocol=protocol)
    finally:
        sklearn.base.__version__ = real


def worker_logs(out, env):
    """Everything `env`'s consumer workers wrote to stderr (their forked children's included)."""
    return "".join(p.read_text() for p in sorted((Path(out) / "logs").glob(f"{env}.consumer*.worker.log")))
