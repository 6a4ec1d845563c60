"""What the worker's ops share (the ops of run, check and bench alike): request fields, the
fixtures and formats by name, training, dumping with its reference predictions, predicting every
output and writing the predictions. Imports only the standard library and stages.py at module
level, and no op module, so any op module imports it alone."""
import hashlib
import importlib
import os
import shutil
import sys
import time

from stages import ProtocolError, in_stage, recorded_warnings, describe_warnings

CV_FOLDS = 5

# A test-only module of extra fixtures (PROTOCOL.md): path to a .py file with a FIXTURES table.
EXTRA_FIXTURES_VAR = "CROSSLOAD_EXTRA_FIXTURES"


def param(req, name):
    if name not in req:
        raise ProtocolError("request %r lacks the field %r" % (req.get("op"), name))
    return req[name]


def lookup(get, name):
    """get(name), a KeyError (an unknown name) becoming the request's fault."""
    try:
        return get(name)
    except KeyError as exc:
        raise ProtocolError(exc.args[0]) from exc


def fixture_named(name):
    return lookup(get_fixture, name)


def variant(name):
    """The format variant called `name` (formats/registry.py)."""
    from formats import registry

    return lookup(registry.get, name)


def read_inputs(path):
    import numpy as np

    with in_stage("protocol"):
        return np.load(path, allow_pickle=False)


def train_fixture(session, fixture, out_dir, cv):
    """Trains `fixture` into the session and writes the inputs to predict on to
    <out_dir>/inputs.npy: the train op's work, which the bench op's train step shares.
    Returns (facts, X, y)."""
    import numpy as np

    with in_stage("train"):
        model, X, y, X_predict = fixture.build()
        start = time.perf_counter()
        (fixture.fit or _fit)(model, X, y)
        train_seconds = time.perf_counter() - start
        cv_score, cv_std = cross_validate(fixture, model, X, y) if cv else (None, None)
        os.makedirs(out_dir, exist_ok=True)
        inputs = os.path.join(out_dir, "inputs.npy")
        np.save(inputs, np.ascontiguousarray(X_predict, dtype=np.float64), allow_pickle=False)
    session.models[fixture.name] = model
    return ({"inputs": inputs, "train_seconds": train_seconds, "cv_score": cv_score,
             "cv_std": cv_std, "n_features": int(X.shape[1])}, X, y)


def enable_extra_fixtures():
    """Puts the extra-fixtures module's folder on sys.path, so a consumer can unpickle what its
    recipes define (a producer pickles references to them)."""
    path = os.environ.get(EXTRA_FIXTURES_VAR)
    if path:
        sys.path.insert(1, os.path.dirname(os.path.abspath(path)))
    from fixtures import recipes

    recipes.enable()


def all_fixtures():
    """The zoo, the estimators family, then the extra fixtures (if any). Imports only the
    standard library."""
    from fixtures import estimators, recipes, zoo

    return (tuple(zoo.FIXTURES) + estimators.fixtures() + _extra_fixtures()
            + _recipe_fixtures(recipes))


def get_fixture(name):
    fixtures = all_fixtures()
    for fixture in fixtures:
        if fixture.name == name:
            return fixture
    raise KeyError("unknown fixture %r (known: %s)" % (name, ", ".join(f.name for f in fixtures)))


def _extra_fixtures():
    path = os.environ.get(EXTRA_FIXTURES_VAR)
    if not path:
        return ()
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(1, folder)
    module_name = os.path.splitext(os.path.basename(path))[0]
    try:
        module = importlib.import_module(module_name)
        return tuple(module.FIXTURES)
    except Exception as exc:
        raise ProtocolError("%s=%s: cannot import its FIXTURES: %s: %s"
                            % (EXTRA_FIXTURES_VAR, path, type(exc).__name__, exc)) from exc


def _recipe_fixtures(recipes):
    """The user recipes CROSSLOAD_RECIPES names (fixtures/recipes.py)."""
    try:
        return recipes.from_environment()
    except recipes.RecipeError as exc:
        raise ProtocolError(str(exc)) from exc


def recipe_sha256(fixture):
    """The recipe's hash for the harness's reuse keys; None (never reused) when its source
    cannot be read, e.g. a recipe made at run time."""
    from fixtures import zoo

    try:
        return zoo.recipe_sha256(fixture)
    except (OSError, TypeError):
        return None


def _fit(model, X, y):
    return model.fit(X, y)


def cross_validate(fixture, model, X, y):
    """(mean, std) of the 5-fold score, or (None, None) for a model without score."""
    if not fixture.cv or getattr(model, "score", None) is None:
        return None, None
    from sklearn.model_selection import cross_val_score

    scores = cross_val_score(model, X, y, cv=CV_FOLDS)
    return _finite(scores.mean()), _finite(scores.std())


def dump_and_reference(variant, model, path, ctx):
    """Dumps, then loads the artifact back through the format and predicts the reference."""
    with recorded_warnings() as caught:
        with in_stage("dump", caught):
            start = time.perf_counter()
            details = variant.dump(model, path, ctx)
            dump_seconds = time.perf_counter() - start
        ctx.trusted_types = details.get("untrusted_types")
        # Written but not loadable here (skops and a lambda): the format cannot hold the model.
        with in_stage("unsupported", caught,
                      explain="%s wrote the model but cannot load it back: " % variant.name):
            loaded = variant.load(path, ctx)
        with in_stage("predict", caught):
            values, _ = predict_all(variant, loaded, ctx.outputs, ctx.inputs, skip_missing=True)
    return {"sha256": sha256_file(path), "size_bytes": os.path.getsize(path),
            "dump_seconds": dump_seconds, "outputs": save_outputs(values, path + ".ref."),
            "format_details": details, "warnings": describe_warnings(caught)}


def predict_all(variant, loaded, outputs, X, skip_missing=False):
    """{output: array} and the seconds all predictions took (writing excluded)."""
    from formats.common import Unsupported, saveable

    values = {}
    start = time.perf_counter()
    for output in outputs:
        try:
            values[output] = saveable(variant.predict(loaded, output, X))
        except Unsupported:
            if not skip_missing:  # a runtime may serve fewer outputs (ONNX): not written
                raise
    return values, time.perf_counter() - start


def save_outputs(values, prefix):
    import numpy as np

    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    for output, value in values.items():
        # np.save's own bytes, without its path handling (a third of its time under QEMU).
        with open(prefix + output + ".npy", "wb") as f:
            np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
    return list(values)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _finite(x):
    x = float(x)
    return x if x == x and abs(x) != float("inf") else None


def publish_outputs(outputs, tmpdir, prefix):
    """Copies the child's predictions to <prefix><output>.npy; the worker, not the (possibly
    unprivileged) child, writes into the run directory, and owns what it wrote (a rename would
    leave the file the sandbox uid's, for a later load to rewrite). The contents only: no
    shutil.move, whose copystat costs as much again under QEMU; the private directory goes after."""
    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    for output in outputs:
        shutil.copyfile(os.path.join(tmpdir, output + ".npy"), prefix + output + ".npy")
    return outputs
