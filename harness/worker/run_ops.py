"""The ops of `crossload run`, `produce` and `consume` (PROTOCOL.md): hello, fingerprint, list,
train, dump, prepare_loads, load_predict. Each takes the worker's Session and the request, and
returns the result."""
import os
import sys
import time

import common
import envinfo
from common import param
from loads import LoadJob
from stages import ProtocolError

PROTOCOL_VERSION = 1


def hello(session, req):
    return {"protocol": PROTOCOL_VERSION, "pid": os.getpid()}


def fingerprint(session, req):
    return envinfo.fingerprint()


def list_op(session, req):
    from formats import registry

    fixtures = [{"name": f.name, "description": f.description, "outputs": list(f.outputs),
                 "rtol": f.rtol, "atol": f.atol, "tags": list(f.tags),
                 "recipe_sha256": common.recipe_sha256(f)} for f in common.all_fixtures()]
    formats = [{"name": v.name, "extension": v.extension, "description": v.description}
               for v in registry.VARIANTS]
    from fixtures import estimators

    return {"fixtures": fixtures, "formats": formats, "not_built": estimators.not_built()}


def train(session, req):
    from fixtures import datasets, zoo

    fixture = common.fixture_named(param(req, "fixture"))
    # Five more trainings cost minutes under QEMU: the harness may ask to skip them there.
    result, X, y = common.train_fixture(session, fixture, param(req, "out_dir"), cv=req.get("cv", True))
    result.update(data_sha256=datasets.data_sha256(X, y), recipe_sha256=zoo.recipe_sha256(fixture))
    return result


def dump(session, req):
    from formats.common import Context

    fixture = common.fixture_named(param(req, "fixture"))
    variant = common.variant(param(req, "format"))
    path = param(req, "path")
    model = session.trained(fixture.name)
    ctx = Context(inputs=common.read_inputs(param(req, "inputs")), outputs=fixture.outputs)
    try:
        return common.dump_and_reference(variant, model, path, ctx)
    except BaseException:
        common.remove_quietly(path)  # an artifact on disk always means a good dump answer
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
