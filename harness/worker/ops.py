"""The protocol's ops. Each takes the worker's Session and the request, and returns the result."""
import hashlib
import importlib
import os
import shutil
import sys
import time

import bench
import check_ops  # its ops use this module's helpers: always imported through ops
import envinfo
import invariants  # output invariants that need no reference
from stages import ProtocolError, in_stage, recorded_warnings, describe_warnings

PROTOCOL_VERSION = 1
CV_FOLDS = 5


# A test-only module of extra fixtures (PROTOCOL.md): path to a .py file with a FIXTURES table.
EXTRA_FIXTURES_VAR = "CROSSLOAD_EXTRA_FIXTURES"


class Session:
    """What the worker keeps between requests: the models it trained, by fixture name, and the
    fork-per-load machinery (made on the first load: a producer never needs it)."""

    INPUTS_KEPT = 4

    def __init__(self, protected_fds=()):
        self.models = {}
        self.protected_fds = tuple(protected_fds)
        self._isolation = None
        self._batch = None
        self._inputs = {}  # (path, size, mtime, inode) -> array, the most recent last

    def inputs(self, path):
        """The inputs at `path`, read once for all the formats of a fixture: every load child
        inherits them through the fork (reading them in each child was ~50 ms under QEMU)."""
        with in_stage("protocol"):  # a missing file is the request's fault, as in _inputs
            st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns, st.st_ino)
        X = self._inputs.pop(key, None)
        if X is None:
            X = _inputs(path)
            while len(self._inputs) >= self.INPUTS_KEPT:
                self._inputs.pop(next(iter(self._inputs)))
        self._inputs[key] = X
        return X

    def batch(self):
        """The batch child's keeper (batch.py), made on the first load."""
        if self._batch is None:
            from batch import Batch

            self._batch = Batch(self.isolation(), self)
        return self._batch

    def isolation(self):
        if self._isolation is None:
            from isolation import Isolation

            self._isolation = Isolation(self.protected_fds)
        return self._isolation

    def trained(self, fixture):
        if fixture not in self.models:
            raise ProtocolError("fixture %r is not trained in this worker: send train first"
                                % fixture)
        return self.models[fixture]


def hello(session, req):
    return {"protocol": PROTOCOL_VERSION, "pid": os.getpid()}


def fingerprint(session, req):
    return envinfo.fingerprint()


def list_op(session, req):
    from formats import registry

    fixtures = [{"name": f.name, "description": f.description, "outputs": list(f.outputs),
                 "rtol": f.rtol, "atol": f.atol, "tags": list(f.tags),
                 "recipe_sha256": _recipe_sha256(f)} for f in all_fixtures()]
    formats = [{"name": v.name, "extension": v.extension, "description": v.description}
               for v in registry.VARIANTS]
    from fixtures import estimators

    return {"fixtures": fixtures, "formats": formats, "not_built": estimators.not_built()}


def train(session, req):
    from fixtures import datasets, zoo

    fixture = _lookup(get_fixture, param(req, "fixture"))
    # Five more trainings cost minutes under QEMU: the harness may ask to skip them there.
    result, X, y = train_fixture(session, fixture, param(req, "out_dir"), cv=req.get("cv", True))
    result.update(data_sha256=datasets.data_sha256(X, y), recipe_sha256=zoo.recipe_sha256(fixture))
    return result


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
        cv_score, cv_std = _cross_validate(fixture, model, X, y) if cv else (None, None)
        os.makedirs(out_dir, exist_ok=True)
        inputs = os.path.join(out_dir, "inputs.npy")
        np.save(inputs, np.ascontiguousarray(X_predict, dtype=np.float64), allow_pickle=False)
    session.models[fixture.name] = model
    return ({"inputs": inputs, "train_seconds": train_seconds, "cv_score": cv_score,
             "cv_std": cv_std, "n_features": int(X.shape[1])}, X, y)


def dump(session, req):
    from formats.common import Context

    fixture = _lookup(get_fixture, param(req, "fixture"))
    variant = _variant(param(req, "format"))
    path = param(req, "path")
    model = session.trained(fixture.name)
    ctx = Context(inputs=_inputs(param(req, "inputs")), outputs=fixture.outputs)
    try:
        return _dump_and_reference(variant, model, path, ctx)
    except BaseException:
        _remove(path)  # an artifact on disk always means a good dump answer
        raise


# The estimator packages of scikit-learn models (the zoo's and most users'): with a format's own
# runtime (its adapter's warm_modules), imported into the worker before its first load of that
# format, so the import is paid once there, not in the child (inside load_seconds) and then
# again by the warm-up.
SKLEARN_MODULES = ("sklearn.base", "sklearn.pipeline", "sklearn.compose", "sklearn.preprocessing",
                   "sklearn.impute", "sklearn.linear_model", "sklearn.tree", "sklearn.ensemble",
                   "sklearn.svm", "sklearn.neighbors", "sklearn.naive_bayes", "sklearn.cluster",
                   "sklearn.decomposition", "sklearn.neural_network")


def runtime_modules(variant):
    """What a load of `variant` imports that the worker can import once for every load."""
    return (SKLEARN_MODULES if variant.sklearn_object else ()) + tuple(variant.warm_modules)


def prepare_loads(session, req):
    """Imports, once, the runtimes of the formats this consumer worker will load (the matrix's
    format patterns; a leading '-' excludes): the harness asks it at start-up, so no cell pays
    for them. A load of a format left out still warms its own runtime first (load_predict)."""
    import fnmatch

    from formats import registry

    patterns = req.get("formats") or ["*"]
    include = [p for p in patterns if not p.startswith("-")] or ["*"]
    exclude = [p[1:] for p in patterns if p.startswith("-")]
    names = [v.name for v in registry.VARIANTS
             if any(fnmatch.fnmatchcase(v.name, p) for p in include)
             and not any(fnmatch.fnmatchcase(v.name, p) for p in exclude)]
    modules = []
    for name in names:
        modules += [m for m in runtime_modules(registry.get(name)) if m not in modules]
    start = time.perf_counter()
    session.isolation().warm(modules)
    return {"formats": names, "imported": [m for m in modules if m in sys.modules],
            "seconds": time.perf_counter() - start}


ISOLATION_MODES = ("cell", "batch")


def load_predict(session, req):
    """Loads and predicts in a forked child under the request's limits: a fresh child per load
    (isolation "cell", isolation.py), or the worker's batch child (isolation "batch", batch.py)."""
    mode = req.get("isolation", "cell")
    if mode not in ISOLATION_MODES:
        raise ProtocolError("isolation must be one of %s, not %r" % (", ".join(ISOLATION_MODES), mode))
    job = LoadJob(req)
    session.isolation().warm(runtime_modules(job.variant))
    if mode == "batch":
        return session.batch().run(job, req)
    session.batch().retire("a load with isolation cell")  # its child must not inherit the batch's pipes
    return session.isolation().run(job.work(session), job.limits, job.publish,
                                   tmp_root=job.tmp_root)


class LoadJob:
    """One load_predict request, checked: built in the worker (which judges and publishes) and,
    for a batched load, again in the batch child from the same request (which does the work)."""

    def __init__(self, req):
        from isolation import Limits

        self.variant = _variant(param(req, "format"))
        # The child works in its private directory: relative paths would mean something else there.
        self.path, self.inputs, self.out_prefix = (os.path.abspath(param(req, name))
                                                   for name in ("path", "inputs", "out_prefix"))
        self.outputs = param(req, "outputs")
        self.trusted_types = req.get("trusted_types")
        self.limits = Limits.from_request(req.get("limits"))
        self.tmp_root = req.get("tmp_root")

    def work(self, session):
        """work(tmpdir) -> result, to run in the load's child; the inputs are read now, in the
        process that calls this (the worker, so that every child inherits them)."""
        start = time.perf_counter()
        X = session.inputs(self.inputs)
        inputs_seconds = time.perf_counter() - start

        def in_child(tmpdir):
            result = _load_predict_into(self.variant, self.path, X, self.outputs,
                                        self.trusted_types, tmpdir)
            result["inputs_seconds"] = inputs_seconds
            return result

        return in_child

    def publish(self, result, tmpdir):
        result["outputs"] = _publish_outputs(result["outputs"], tmpdir, self.out_prefix + ".")
        return result


def _load_predict_into(variant, path, X, outputs, trusted_types, out_dir):
    """The load itself (in the child): predictions go to <out_dir>/<output>.npy."""
    from formats.common import Context

    ctx = Context(trusted_types=trusted_types)
    with recorded_warnings() as caught:
        with in_stage("load", caught):
            start = time.perf_counter()
            loaded = variant.load(path, ctx)
            load_seconds = time.perf_counter() - start
        with in_stage("predict", caught):
            values, predict_seconds = _predict_all(variant, loaded, outputs, X)
    start = time.perf_counter()
    saved = _save_outputs(values, os.path.join(out_dir, ""))
    return {"load_seconds": load_seconds, "predict_seconds": predict_seconds, "outputs": saved,
            "warnings": describe_warnings(caught), "invariants": invariants.check(loaded, values),
            "save_seconds": time.perf_counter() - start}  # for ci/bench-workers


def _publish_outputs(outputs, tmpdir, prefix):
    """Moves the child's predictions to <prefix><output>.npy; the worker, not the (possibly
    unprivileged) child, writes into the run directory."""
    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    for output in outputs:
        shutil.move(os.path.join(tmpdir, output + ".npy"), prefix + output + ".npy")
    return outputs


# The op table: the one place an op name is bound to its function.
OPS = {
    "hello": hello,
    "fingerprint": fingerprint,
    "list": list_op,
    "train": train,
    "dump": dump,
    "prepare_loads": prepare_loads,
    "load_predict": load_predict,
    "convert_inputs": check_ops.convert_inputs,
    "check_predict": check_ops.check_predict,
    "retrain_cv": check_ops.retrain_cv,
    "bench": bench.bench_op,
}


# --- helpers ------------------------------------------------------------------------------

def param(req, name):
    if name not in req:
        raise ProtocolError("request %r lacks the field %r" % (req.get("op"), name))
    return req[name]


def _lookup(get, name):
    try:
        return get(name)
    except KeyError as exc:
        raise ProtocolError(exc.args[0]) from exc


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


def _recipe_sha256(fixture):
    """The recipe's hash for the harness's reuse keys; None (never reused) when its source
    cannot be read, e.g. a recipe made at run time."""
    from fixtures import zoo

    try:
        return zoo.recipe_sha256(fixture)
    except (OSError, TypeError):
        return None


def _variant(name):
    from formats import registry

    return _lookup(registry.get, name)


def _inputs(path):
    import numpy as np

    with in_stage("protocol"):
        return np.load(path, allow_pickle=False)


def _fit(model, X, y):
    return model.fit(X, y)


def _cross_validate(fixture, model, X, y):
    """(mean, std) of the 5-fold score, or (None, None) for a model without score."""
    if not fixture.cv or getattr(model, "score", None) is None:
        return None, None
    from sklearn.model_selection import cross_val_score

    scores = cross_val_score(model, X, y, cv=CV_FOLDS)
    return _finite(scores.mean()), _finite(scores.std())


def _dump_and_reference(variant, model, path, ctx):
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
            values, _ = _predict_all(variant, loaded, ctx.outputs, ctx.inputs, skip_missing=True)
    return {"sha256": _sha256(path), "size_bytes": os.path.getsize(path),
            "dump_seconds": dump_seconds, "outputs": _save_outputs(values, path + ".ref."),
            "format_details": details, "warnings": describe_warnings(caught)}


def _predict_all(variant, loaded, outputs, X, skip_missing=False):
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


def _save_outputs(values, prefix):
    import numpy as np

    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    for output, value in values.items():
        np.save(prefix + output + ".npy", value, allow_pickle=False)
    return list(values)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _finite(x):
    x = float(x)
    return x if x == x and abs(x) != float("inf") else None

