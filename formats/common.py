"""What every format adapter shares.

Only the standard library is imported at module level: `formats.registry` must import with a bare
python3 (the C++ tests and the worker's `list` op rely on that), so numpy and the format libraries
are imported inside the functions that need them.
"""
import contextlib
import importlib

# The prediction methods a fixture may declare, in the order the protocol names them.
OUTPUTS = ("predict", "predict_proba", "decision_function", "transform", "score_samples")
# Methods on X of estimators that have none of OUTPUTS (covariance estimators, NearestNeighbors):
# only the estimators family (fixtures/estimators.py) declares them, for those estimators alone.
OTHER_OUTPUTS = ("mahalanobis", "kneighbors_graph")


class Unsupported(Exception):
    """The format cannot hold this model, or this environment lacks the format's library."""


class Context:
    """What a hook may need besides the model and the path.

    inputs: the float64 rows predictions are made on (dump; ONNX converts for their shape).
    outputs: the outputs the fixture declares (dump).
    trusted_types: the types a skops load may trust, exactly as recorded at dump.
    """

    def __init__(self, inputs=None, outputs=(), trusted_types=None):
        self.inputs = inputs
        self.outputs = tuple(outputs)
        self.trusted_types = trusted_types


def require(module, dist=None):
    """Import `module` for a dump, or raise Unsupported naming the missing distribution.

    Loads import their libraries directly instead: there a missing library is a load error.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = dist or module.split(".")[0]
        raise Unsupported("%s is not installed in this environment" % name) from exc


def sklearn_output(model, output, X):
    """Calls the scikit-learn method named `output` on X."""
    if output not in OUTPUTS + OTHER_OUTPUTS:
        raise ValueError("unknown output %r (known: %s)"
                         % (output, ", ".join(OUTPUTS + OTHER_OUTPUTS)))
    # available_if hides methods a model cannot serve (e.g. predict_proba of a LinearSVC pipeline).
    method = getattr(model, output, None)
    if method is None:
        raise AttributeError("%s has no %s" % (type(model).__name__, output))
    return method(X)


def _is_unpicklable(exc):
    import pickle

    if isinstance(exc, pickle.PicklingError):
        return True
    # Local objects raise AttributeError ("Can't pickle local object ..."), some types TypeError
    # ("cannot pickle '_thread.lock' object"); both name pickling in their message.
    return isinstance(exc, (AttributeError, TypeError)) and "pickle" in str(exc).lower()


@contextlib.contextmanager
def unpicklable_is_unsupported(library):
    """Turns the pickler's own "cannot pickle this object" errors into Unsupported."""
    try:
        yield
    except Exception as exc:
        if not _is_unpicklable(exc):
            raise
        raise Unsupported("%s cannot serialise this model: %s" % (library, exc)) from exc


class Package:
    """A Python distribution a format needs (formats/descriptor.h: RuntimePackage).

    use: "library" (dumps and loads need it), "optional" (some variants: a joblib codec) or
    "dump" (only writing needs it: a converter).
    """

    def __init__(self, dist, module, use="library"):
        self.dist, self.module, self.use = dist, module, use


class PythonObjectFormat:
    """Base of the formats that give back the scikit-learn object itself (all but ONNX).

    warm_modules: the format's runtime, imported into a consumer worker before its first load
    of the format (harness/worker/ops.py adds scikit-learn's estimator packages when
    sklearn_object is true).
    """

    name = extension = description = ""
    warm_modules = ()
    sklearn_object = True

    def predict(self, loaded, output, X):
        return sklearn_output(loaded, output, X)


def saveable(array):
    """The array as np.save can write without pickle: object arrays of str become unicode."""
    import numpy as np

    if hasattr(array, "toarray"):  # a scipy.sparse result (OneHotEncoder, vectorizers) as dense
        array = array.toarray()
    array = np.asarray(array)
    if array.dtype == object:
        if not all(isinstance(v, str) for v in array.flat):
            raise TypeError("output has Python objects that are not str; .npy would need pickle")
        array = array.astype(str)
    return np.ascontiguousarray(array)
