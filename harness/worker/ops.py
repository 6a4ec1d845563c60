"""The protocol's ops. Each takes the worker's Session and the request, and returns the result."""
import hashlib
import os
import resource
import time

import envinfo
from stages import ProtocolError, in_stage, recorded_warnings, describe_warnings

PROTOCOL_VERSION = 1
CV_FOLDS = 5


class Session:
    """What the worker keeps between requests: the models it trained, by fixture name."""

    def __init__(self):
        self.models = {}

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
    from fixtures import zoo
    from formats import registry

    fixtures = [{"name": f.name, "description": f.description, "outputs": list(f.outputs),
                 "rtol": f.rtol, "atol": f.atol, "tags": list(f.tags)} for f in zoo.FIXTURES]
    formats = [{"name": v.name, "extension": v.extension, "description": v.description}
               for v in registry.VARIANTS]
    return {"fixtures": fixtures, "formats": formats}


def train(session, req):
    import numpy as np
    from fixtures import datasets, zoo

    fixture = _lookup(zoo.get, param(req, "fixture"))
    out_dir = param(req, "out_dir")
    with in_stage("train"):
        model, X, y, X_predict = fixture.build()
        start = time.perf_counter()
        model.fit(X, y)
        train_seconds = time.perf_counter() - start
        cv_score, cv_std = _cross_validate(fixture, model, X, y)
        os.makedirs(out_dir, exist_ok=True)
        inputs = os.path.join(out_dir, "inputs.npy")
        np.save(inputs, np.ascontiguousarray(X_predict, dtype=np.float64), allow_pickle=False)
    session.models[fixture.name] = model
    return {"inputs": inputs, "train_seconds": train_seconds,
            "data_sha256": datasets.data_sha256(X, y), "recipe_sha256": zoo.recipe_sha256(fixture),
            "cv_score": cv_score, "cv_std": cv_std, "n_features": int(X.shape[1])}


def dump(session, req):
    from fixtures import zoo
    from formats.common import Context

    fixture = _lookup(zoo.get, param(req, "fixture"))
    variant = _variant(param(req, "format"))
    path = param(req, "path")
    model = session.trained(fixture.name)
    ctx = Context(inputs=_inputs(param(req, "inputs")), outputs=fixture.outputs)
    try:
        return _dump_and_reference(variant, model, path, ctx)
    except BaseException:
        _remove(path)  # an artifact on disk always means a good dump answer
        raise


def load_predict(session, req):
    from formats.common import Context

    variant = _variant(param(req, "format"))
    path = param(req, "path")
    outputs = param(req, "outputs")
    out_prefix = param(req, "out_prefix")
    X = _inputs(param(req, "inputs"))
    ctx = Context(trusted_types=req.get("trusted_types"))
    with recorded_warnings() as caught:
        with in_stage("load", caught):
            start = time.perf_counter()
            loaded = variant.load(path, ctx)
            load_seconds = time.perf_counter() - start
        with in_stage("predict", caught):
            values, predict_seconds = _predict_all(variant, loaded, outputs, X)
    return {"load_seconds": load_seconds, "predict_seconds": predict_seconds,
            "outputs": _save_outputs(values, out_prefix + "."),
            "warnings": describe_warnings(caught), "rss_peak_kb": _rss_peak_kb()}


# The op table: the one place an op name is bound to its function.
OPS = {
    "hello": hello,
    "fingerprint": fingerprint,
    "list": list_op,
    "train": train,
    "dump": dump,
    "load_predict": load_predict,
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


def _variant(name):
    from formats import registry

    return _lookup(registry.get, name)


def _inputs(path):
    import numpy as np

    with in_stage("protocol"):
        return np.load(path, allow_pickle=False)


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


def _rss_peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
