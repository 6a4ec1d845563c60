"""Every fixture x every format, dumped and reloaded in this process, with the real libraries."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from fixtures import zoo
from formats import registry
from formats.common import Context, Unsupported, require, saveable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_OBJECT_FORMATS = [v.name for v in registry.VARIANTS if v.sklearn_object]
LAMBDA = "lambda_pipeline"

# Where a round trip stops, as observed with the pinned stack (ci/requirements.txt): the step
# ("unsupported": the dump hook raises Unsupported; "load"/"predict": that step raises), the
# exception's type, and a regular expression its message must match. Any other exception at that
# step is a new failure, not the expected one.
PICKLE_LAMBDA = (Unsupported, r"^pickle cannot serialise this model: Can't pickle local object "
                              r"'lambda_pipeline\.<locals>\.<lambda>'")
JOBLIB_LAMBDA = (Unsupported, r"^joblib cannot serialise this model: Can't pickle <function "
                              r"lambda_pipeline\.<locals>\.<lambda>")
EXPECTED_FAILURES = {
    (LAMBDA, "pickle-p4"): ("unsupported", *PICKLE_LAMBDA),  # pickle refuses the lambda
    (LAMBDA, "pickle-p5"): ("unsupported", *PICKLE_LAMBDA),
    (LAMBDA, "joblib"): ("unsupported", *JOBLIB_LAMBDA),
    (LAMBDA, "joblib-zlib3"): ("unsupported", *JOBLIB_LAMBDA),
    (LAMBDA, "joblib-lz4"): ("unsupported", *JOBLIB_LAMBDA),
    (LAMBDA, "joblib-mmap"): ("unsupported", *JOBLIB_LAMBDA),
    # skops writes the lambda by name, then cannot find it
    (LAMBDA, "skops"): ("load", AttributeError, r"^module 'fixtures\.zoo' has no attribute '<lambda>'$"),
    # no converter for a FunctionTransformer with a function
    (LAMBDA, "onnx"): ("unsupported", Unsupported, r"^skl2onnx \S+ cannot convert Pipeline: RuntimeError: "
                                                   r"FunctionTransformer is not supported"),
    # skl2onnx 1.20 writes booleans where onnx 1.23 wants ints for HGB trees.
    ("iris_hgb_classifier", "onnx"): ("unsupported", Unsupported, r"^skl2onnx \S+ cannot convert "
                                      r"HistGradientBoostingClassifier: ValueError: Unable to create node"),
    ("diabetes_hgb_regressor", "onnx"): ("unsupported", Unsupported, r"^skl2onnx \S+ cannot convert "
                                         r"HistGradientBoostingRegressor: ValueError: Unable to create node"),
    # libsvm needs writeable arrays; a memory-mapped load gives read-only ones.
    ("iris_svc_proba", "joblib-mmap"): ("predict", ValueError, r"^buffer source array is read-only$"),
}

# How far onnxruntime (float32 rows) may be from scikit-learn (float64) on the rows of a fixture:
# labels identical; values within ONNX_RTOL of the output's largest magnitude (at least 1).
# float32 carries 7 digits; the zoo's worst, KMeans distances, is 3e-6 of its scale.
ONNX_RTOL = 1e-4

SMALL = [f.name for f in zoo.FIXTURES if "large" not in f.tags]
PAIRS = [(f, v) for f in SMALL for v in registry.names()]


def round_trip(variant, model, X, outputs, path):
    """Dump, load, predict as the worker does: ("ok", {output: array}) or (the stop, exception)."""
    ctx = Context(inputs=X, outputs=outputs)
    try:
        details = variant.dump(model, str(path), ctx)
    except Unsupported as exc:
        return "unsupported", exc
    ctx.trusted_types = details.get("untrusted_types")
    try:
        loaded = variant.load(str(path), ctx)
    except Exception as exc:
        return "load", exc
    values = {}
    for output in outputs:
        try:
            values[output] = saveable(variant.predict(loaded, output, X))
        except Unsupported:
            continue  # the runtime does not serve this output (ONNX)
        except Exception as exc:
            return "predict", exc
    return "ok", values


def assert_near_scikit_learn(output, ours, theirs):
    """onnxruntime's answer against scikit-learn's, within the float32 tolerance above."""
    assert ours.shape == theirs.shape, output
    if ours.dtype.kind in "fc" or theirs.dtype.kind in "fc":
        scale = max(1.0, float(np.abs(theirs).max()))
        worst = float(np.abs(ours.astype(np.float64) - theirs.astype(np.float64)).max())
        assert worst <= ONNX_RTOL * scale, (output, worst, scale)
    else:
        assert (ours == theirs).all(), (output, int((ours != theirs).sum()))


@pytest.mark.parametrize("fixture,fmt", PAIRS, ids=["%s-%s" % p for p in PAIRS])
def test_round_trip(fixture, fmt, trained, tmp_path):
    model, X = trained(fixture)
    variant = registry.get(fmt)
    outputs = zoo.get(fixture).outputs
    stop, got = round_trip(variant, model, X, outputs, tmp_path / ("model" + variant.extension))
    if (fixture, fmt) in EXPECTED_FAILURES:
        step, kind, message = EXPECTED_FAILURES[(fixture, fmt)]
        assert stop == step, (stop, got)
        assert type(got) is kind and re.search(message, str(got)), repr(got)
        return
    assert stop == "ok", repr(got)
    expected = {output: saveable(getattr(model, output)(X)) for output in got}
    if fmt in PYTHON_OBJECT_FORMATS:
        # The reloaded object predicts bit for bit what the trained one does.
        assert list(got) == list(outputs)
        for output, value in got.items():
            assert value.dtype == expected[output].dtype, output
            assert value.tobytes() == expected[output].tobytes(), output
    else:
        # onnxruntime answers what scikit-learn answers, within float32's tolerance.
        assert got, "onnxruntime served none of %s" % (outputs,)
        for output, value in got.items():
            assert_near_scikit_learn(output, value, expected[output])


def test_string_labels_are_unicode_in_every_format(trained, tmp_path):
    model, X = trained("iris_string_labels")
    for variant in registry.VARIANTS:
        path = tmp_path / ("m" + variant.extension)
        stop, values = round_trip(variant, model, X, ("predict",), path)
        assert stop == "ok", variant.name
        assert values["predict"].dtype.kind == "U", variant.name
        np.save(str(tmp_path / "p.npy"), values["predict"], allow_pickle=False)
        assert set(np.load(str(tmp_path / "p.npy"), allow_pickle=False)) <= set(model.classes_)


def test_skops_refuses_when_trusted_types_are_withheld(trained, tmp_path):
    from skops.io.exceptions import UntrustedTypesFoundException

    model, X = trained("wine_random_forest_classifier")
    skops = registry.get("skops")
    path = str(tmp_path / "m.skops")
    details = skops.dump(model, path, Context(inputs=X))
    assert details["untrusted_types"] == ["sklearn.tree._tree.Tree"]
    with pytest.raises(UntrustedTypesFoundException):
        skops.load(path, Context(trusted_types=None))
    loaded = skops.load(path, Context(trusted_types=details["untrusted_types"]))
    assert loaded.predict(X).tobytes() == model.predict(X).tobytes()


def test_onnx_records_opset_converter_fidelity_and_output_map(trained, tmp_path):
    import onnxruntime

    model, X = trained("iris_kmeans")
    onnx = registry.get("onnx")
    path = str(tmp_path / "m.onnx")
    details = onnx.dump(model, path, Context(inputs=X, outputs=("predict", "transform")))
    assert details["target_opset"] == 17
    assert details["converter"].startswith("skl2onnx ")
    assert details["outputs"] == {"predict": "label", "transform": "scores"}
    assert details["fidelity"]["predict"] == {"label_agreement": 1.0}
    assert details["fidelity"]["transform"]["max_abs_diff"] < 1e-3  # float32 distances
    meta = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"]) \
        .get_modelmeta().custom_metadata_map
    assert "crossload.outputs" in meta  # a consumer without Python can map outputs too


def test_onnx_omits_outputs_the_runtime_does_not_serve(trained, tmp_path):
    model, X = trained("breast_cancer_isolation_forest")
    details = registry.get("onnx").dump(model, str(tmp_path / "m.onnx"), Context(
        inputs=X, outputs=zoo.get("breast_cancer_isolation_forest").outputs))
    assert sorted(details["outputs"]) == ["decision_function", "predict"]
    assert list(details["omitted"]) == ["score_samples"]


def test_unsupported_onnx_conversion_says_why(trained, tmp_path):
    model, X = trained("iris_hgb_classifier")
    with pytest.raises(Unsupported, match="skl2onnx .* cannot convert HistGradientBoosting"):
        registry.get("onnx").dump(model, str(tmp_path / "m.onnx"), Context(inputs=X))


def test_pickle_refuses_the_lambda_with_the_picklers_message(trained, tmp_path):
    model, X = trained(LAMBDA)
    with pytest.raises(Unsupported, match="pickle cannot serialise this model: .*lambda"):
        registry.get("pickle-p4").dump(model, str(tmp_path / "m.pkl"), Context(inputs=X))


def test_joblib_variants_record_how_they_were_written(trained, tmp_path):
    model, X = trained("diabetes_ridge")
    got = {n: registry.get(n).dump(model, str(tmp_path / n), Context(inputs=X))
           for n in ("joblib", "joblib-zlib3", "joblib-lz4", "joblib-mmap")}
    assert got == {"joblib": {}, "joblib-zlib3": {"compress": "zlib", "level": 3},
                   "joblib-lz4": {"compress": "lz4"}, "joblib-mmap": {"mmap_mode": "r"}}
    loaded = registry.get("joblib-mmap").load(str(tmp_path / "joblib-mmap"), Context())
    assert isinstance(loaded.coef_, np.memmap)


def test_a_missing_library_is_unsupported_at_dump():
    with pytest.raises(Unsupported, match="^no_such_lib is not installed in this environment$"):
        require("no_such_lib.io")


def test_registry_and_zoo_import_with_the_standard_library_only():
    code = ("import sys; from formats.registry import names; from fixtures.zoo import FIXTURES; "
            "from formats.registry import packages; "
            "heavy = {'numpy', 'sklearn', 'scipy'} | {p.module for p in packages()}; "
            "print(sorted(heavy & set(sys.modules)), len(names()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert out.split() == ["[]", str(len(registry.VARIANTS))]
    assert len(registry.VARIANTS) >= 9
