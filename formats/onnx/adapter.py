"""skl2onnx.to_onnx on float32 inputs; loaded with onnxruntime's CPU provider.

The artifact carries, in its metadata, which ONNX output serves which scikit-learn method, so a
consumer (Python or C++) needs nothing but the file. At dump the adapter also measures how far
onnxruntime is from scikit-learn itself on the same rows (the conversion's fidelity).
"""
import json

from formats.common import Package, Unsupported, require, saveable, sklearn_output

TARGET_OPSET = 17  # the default domain; onnxruntime reads it since 1.14 (early 2023)
ML_OPSET = 3  # ai.onnx.ml: skl2onnx 1.20 cannot write IsolationForest at 4 or later
OUTPUT_MAP_KEY = "crossload.outputs"
VECTOR_OUTPUTS = ("predict", "decision_function", "score_samples")
MESSAGE_LIMIT = 300  # skl2onnx can put a whole tree's attributes into one message


class OnnxModel:
    """An onnxruntime session plus the method -> output name map stored in the artifact."""

    def __init__(self, session, output_map=None):
        self.session = session
        self.input_name = session.get_inputs()[0].name
        if output_map is None:
            meta = session.get_modelmeta().custom_metadata_map
            if OUTPUT_MAP_KEY not in meta:
                raise ValueError("ONNX model has no %r metadata (not written by crossload)"
                                 % OUTPUT_MAP_KEY)
            output_map = json.loads(meta[OUTPUT_MAP_KEY])
        self.output_map = output_map

    def run(self, output, X):
        import numpy as np

        if output not in self.output_map:
            raise Unsupported("this ONNX model has no output serving %s" % output)
        value = self.session.run([self.output_map[output]],
                                 {self.input_name: np.asarray(X, dtype=np.float32)})[0]
        # skl2onnx gives column vectors where scikit-learn gives 1-D arrays.
        if output in VECTOR_OUTPUTS and value.ndim == 2 and value.shape[1] == 1:
            value = value.ravel()
        return saveable(value)


class OnnxFormat:
    name = "onnx"
    extension = ".onnx"
    description = "skl2onnx.to_onnx, loaded with onnxruntime"
    warm_modules = ("onnxruntime",)
    sklearn_object = False  # predictions come from onnxruntime, not the estimator

    def dump(self, model, path, ctx):
        import numpy as np

        skl2onnx = require("skl2onnx")
        ort = require("onnxruntime")
        onnx = require("onnx")
        X32 = np.asarray(ctx.inputs, dtype=np.float32)
        opset = min(TARGET_OPSET, onnx.defs.onnx_opset_version(),
                    getattr(skl2onnx, "__max_supported_opset__", TARGET_OPSET))
        onx = _convert(skl2onnx, model, X32, opset)
        session = _session(ort, onx.SerializeToString())
        candidates = _candidates(model, [o.name for o in session.get_outputs()])
        served, fidelity, omitted = _match_outputs(model, OnnxModel(session, candidates),
                                                   X32, ctx.outputs)
        onx.metadata_props.add(key=OUTPUT_MAP_KEY, value=json.dumps(served, sort_keys=True))
        with open(path, "wb") as f:
            f.write(onx.SerializeToString())
        return {"target_opset": opset,
                "opset_import": {d.domain or "ai.onnx": d.version for d in onx.opset_import},
                "converter": "skl2onnx %s" % skl2onnx.__version__,
                "outputs": served, "omitted": omitted, "fidelity": fidelity}

    def load(self, path, ctx):
        import onnxruntime as ort

        return OnnxModel(_session(ort, path))

    def predict(self, loaded, output, X):
        return loaded.run(output, X)


def _session(ort, model):
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def _convert(skl2onnx, model, X32, opset):
    try:
        return skl2onnx.to_onnx(model, X32[:1], target_opset={"": opset, "ai.onnx.ml": ML_OPSET},
                                options=_without_zipmap(model))
    except Exception as exc:
        raise Unsupported("skl2onnx %s cannot convert %s: %s"
                          % (skl2onnx.__version__, type(model).__name__, _brief(exc))) from exc


def _without_zipmap(model):
    """Probabilities as a plain tensor: zipmap off for every estimator that offers it."""
    from sklearn.base import is_classifier

    parts = [model] + [v for v in model.get_params(deep=True).values() if hasattr(v, "fit")]
    options = {id(p): {"zipmap": False} for p in parts
               if is_classifier(p) and getattr(p, "predict_proba", None) is not None}
    return options or None


def _brief(exc):
    """The first line of an exception (and of its cause), cut to a readable length."""
    text = "%s: %s" % (type(exc).__name__, (str(exc).splitlines() or [""])[0][:MESSAGE_LIMIT])
    cause = exc.__cause__ or exc.__context__
    return text + (" (caused by %s)" % _brief(cause) if cause is not None else "")


def _candidates(model, onnx_names):
    """Which ONNX output may serve each method, by skl2onnx's output names."""
    def has(method):
        return getattr(model, method, None) is not None

    by_name = {
        "label": "predict",
        "probabilities": "predict_proba" if has("predict_proba") else "decision_function",
        "variable": "predict" if has("predict") else "transform",
        "scores": "transform" if has("transform") else "decision_function",
    }
    return {by_name[n]: n for n in onnx_names if n in by_name}


def _match_outputs(model, candidate_model, X32, wanted):
    """Keeps the outputs whose onnxruntime value has scikit-learn's shape; measures fidelity."""
    import numpy as np

    served, fidelity, omitted = {}, {}, {}
    X = X32.astype(np.float64)  # scikit-learn sees exactly the rows onnxruntime sees
    for output in wanted:
        if output not in candidate_model.output_map:
            omitted[output] = "no ONNX output serves it"
            continue
        ours = candidate_model.run(output, X32)
        theirs = saveable(sklearn_output(model, output, X))
        if ours.shape != theirs.shape:
            omitted[output] = "ONNX output %r has shape %s, scikit-learn %s" % (
                candidate_model.output_map[output], ours.shape, theirs.shape)
            continue
        served[output] = candidate_model.output_map[output]
        fidelity[output] = _fidelity(ours, theirs)
    return served, fidelity, omitted


def _fidelity(ours, theirs):
    import numpy as np

    if ours.dtype.kind == "f" or theirs.dtype.kind == "f":
        diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
        return {"max_abs_diff": float(diff.max()) if diff.size else 0.0}
    agree = ours == theirs
    return {"label_agreement": float(agree.mean()) if agree.size else 1.0}


PACKAGES = (Package("onnx", "onnx"), Package("onnxruntime", "onnxruntime"),
            Package("skl2onnx", "skl2onnx", "dump"))

VARIANTS = [OnnxFormat()]
