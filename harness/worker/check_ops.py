"""Ops for a user's own model: `crossload check` (a given artifact, given inputs) and the retrain
check of `crossload run --recipe`. Each runs its work in a forked child (isolation.py), like
load_predict: an inputs file and an artifact are the user's, a recipe is the user's code.
"""
import os
import shutil
import time

import invariants
import common
from stages import in_stage, recorded_warnings, describe_warnings

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


# --- convert_inputs ------------------------------------------------------------------------

def convert_inputs(session, req):
    """{path, out, key?, limits?} -> {rows, columns, dtype}: the inputs as float64 .npy at `out`."""
    from isolation import Limits

    path, out = (os.path.abspath(common.param(req, name)) for name in ("path", "out"))
    key = req.get("key")

    def in_child(tmpdir):
        import numpy as np

        with in_stage("inputs"):
            table = _as_table(_read_inputs(path, key))
            np.save(os.path.join(tmpdir, "inputs.npy"), table, allow_pickle=False)
        return {"rows": int(table.shape[0]), "columns": int(table.shape[1])}

    def publish(result, tmpdir):
        shutil.move(os.path.join(tmpdir, "inputs.npy"), out)
        return result

    return session.isolation().run(in_child, Limits.from_request(req.get("limits")), publish)


def _read_inputs(path, key):
    import numpy as np

    lower = path.lower()
    if lower.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if not names:
                raise ValueError("the .npz archive holds no array")
            if key is not None and key not in names:
                raise ValueError("the .npz archive has no array %r (it has: %s)" % (key, ", ".join(names)))
            return archive[key if key is not None else names[0]]
    if lower.endswith(CSV_SUFFIXES):
        return _read_csv(path)
    if lower.endswith(PARQUET_SUFFIXES):
        return _read_parquet()(path)
    return np.load(path, allow_pickle=False)


def _read_csv(path):
    """Numeric CSV (tabs for .tsv); a first line that is not numbers is a header."""
    import numpy as np

    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    skip = 0 if _numeric_row(first, delimiter) else 1
    try:
        return np.loadtxt(path, delimiter=delimiter, skiprows=skip, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise ValueError("not a numeric CSV table: %s" % exc) from exc


def _numeric_row(line, delimiter):
    try:
        [float(cell) for cell in line.strip().split(delimiter)]
        return True
    except ValueError:
        return False


def _read_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError("reading Parquet needs pyarrow, which is not importable in this "
                          "environment (%s); convert the inputs to .npy or CSV, or install "
                          "pyarrow there" % exc) from exc

    def read(path):
        import numpy as np

        table = pq.read_table(path)
        return np.column_stack([column.to_numpy() for column in table.columns])

    return read


def _as_table(array):
    import numpy as np

    if array.ndim != 2:
        raise ValueError("the inputs must be a 2-D table (rows x features); their shape is %s"
                         % (array.shape,))
    if array.dtype.kind not in "biuf":
        raise ValueError("the inputs must be numbers; their dtype is %s" % array.dtype)
    return np.ascontiguousarray(array, dtype=np.float64)


# --- check_predict -------------------------------------------------------------------------

def check_predict(session, req):
    """{format, path, inputs, out_prefix, outputs?, trusted_types?, limits?} -> like load_predict,
    plus `n_features_in`. Without `outputs` it computes every output the loaded model serves (the
    reference); with them, exactly those. Inputs whose width differs from the model's
    n_features_in_ fail with stage `inputs`."""
    from isolation import Limits

    variant = common.variant(common.param(req, "format"))
    path, inputs, out_prefix = (os.path.abspath(common.param(req, name))
                                for name in ("path", "inputs", "out_prefix"))
    outputs, trusted = req.get("outputs"), req.get("trusted_types")

    def in_child(tmpdir):
        return _check_into(variant, path, inputs, outputs, trusted, tmpdir)

    def publish(result, tmpdir):
        result["outputs"] = common.publish_outputs(result["outputs"], tmpdir, out_prefix + ".")
        return result

    return session.isolation().run(in_child, Limits.from_request(req.get("limits")), publish)


def _check_into(variant, path, inputs, outputs, trusted, out_dir):
    X = common.read_inputs(inputs)
    with recorded_warnings() as caught:
        with in_stage("load", caught):
            start = time.perf_counter()
            loaded = _load(variant, path, trusted)
            load_seconds = time.perf_counter() - start
        with in_stage("inputs", caught):
            width = _check_width(loaded, X)
        with in_stage("predict", caught):
            wanted = outputs if outputs is not None else _served(loaded)
            values, predict_seconds = common.predict_all(variant, loaded, wanted, X,
                                                       skip_missing=outputs is None)
    return {"load_seconds": load_seconds, "predict_seconds": predict_seconds,
            "outputs": common.save_outputs(values, os.path.join(out_dir, "")),
            "warnings": describe_warnings(caught), "n_features_in": width,
            "invariants": invariants.check(loaded, values)}


def _load(variant, path, trusted):
    from formats.common import Context

    if variant.name == "onnx":
        return _load_onnx(path)
    if variant.name == "skops" and trusted is None:
        # The harness audited the file before sending it (an UNSAFE one only with --allow-unsafe):
        # what skops calls untrusted here is what the user asked to check.
        import skops.io as sio

        trusted = list(sio.get_untrusted_types(file=path))
    return variant.load(path, Context(trusted_types=trusted))


def _load_onnx(path):
    """A crossload ONNX file maps its outputs in metadata; any other serves its first output as
    predict, and a plain probability tensor (not skl2onnx's ZipMap) as predict_proba."""
    import onnxruntime as ort
    from formats.onnx import adapter

    session = adapter._session(ort, path)
    if adapter.OUTPUT_MAP_KEY in session.get_modelmeta().custom_metadata_map:
        return adapter.OnnxModel(session)
    declared = session.get_outputs()
    served = {"predict": declared[0].name}
    if len(declared) > 1 and declared[1].type.startswith("tensor"):
        served["predict_proba"] = declared[1].name
    return adapter.OnnxModel(session, served)


def _served(loaded):
    from formats.common import OUTPUTS

    if hasattr(loaded, "output_map"):  # ONNX
        return [o for o in OUTPUTS if o in loaded.output_map]
    # getattr, not hasattr-then-call: available_if hides what a fitted model cannot serve.
    return [o for o in OUTPUTS if getattr(loaded, o, None) is not None]


def _check_width(loaded, X):
    """The model's expected width (None when it does not say); raises on a mismatch."""
    if X.ndim != 2:
        raise ValueError("the inputs must be a 2-D table (rows x features); their shape is %s"
                         % (X.shape,))
    expected = getattr(loaded, "n_features_in_", None)
    if hasattr(loaded, "session"):  # ONNX: the input's declared second dimension
        shape = loaded.session.get_inputs()[0].shape
        expected = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
    if expected is not None and int(expected) != X.shape[1]:
        raise ValueError("the inputs have %d columns, but the model expects %d features "
                         "(n_features_in_ = %d)" % (X.shape[1], expected, expected))
    return None if expected is None else int(expected)


# --- retrain_cv ----------------------------------------------------------------------------

def retrain_cv(session, req):
    """{fixture, limits?} -> {cv_score, cv_std, train_seconds}: trains the fixture here, in a
    child, and cross-validates it as `train` does (the guide's check when an artifact does not
    load: does retraining in this environment reproduce the producer's score?)."""
    from isolation import Limits

    fixture = common.lookup(common.get_fixture, common.param(req, "fixture"))

    def in_child(tmpdir):
        with in_stage("train"):
            model, X, y, _ = fixture.build()
            start = time.perf_counter()
            cv_score, cv_std = common.cross_validate(fixture, model, X, y)
        return {"cv_score": cv_score, "cv_std": cv_std,
                "train_seconds": time.perf_counter() - start}

    return session.isolation().run(in_child, Limits.from_request(req.get("limits")),
                                   lambda result, tmpdir: result)
