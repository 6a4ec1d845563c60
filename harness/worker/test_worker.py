"""The worker over a real subprocess pipe, speaking PROTOCOL.md."""
import hashlib
import json
import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(WORKER)))


class Worker:
    """A worker process and the requests sent to it; stderr (its log) goes to a file."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([sys.executable, WORKER, "--root", ROOT],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.next_id = 0

    def send_line(self, line):
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline().decode("utf-8"))

    def call(self, op, **fields):
        self.next_id += 1
        answer = self.send_line(json.dumps(dict(id=self.next_id, op=op, **fields)).encode())
        assert answer["id"] == self.next_id
        return answer

    def result(self, op, **fields):
        answer = self.call(op, **fields)
        assert answer["ok"], answer["error"]
        return answer["result"]

    def close(self):
        self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        self.log.close()
        return code

    def stderr(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    w = Worker(str(tmp_path_factory.mktemp("worker") / "worker.log"))
    yield w
    assert w.close() == 0  # EOF on stdin is a clean exit


@pytest.fixture(scope="module")
def iris(worker, tmp_path_factory):
    """The guide's HGB model, trained once in the worker."""
    out_dir = str(tmp_path_factory.mktemp("iris"))
    return out_dir, worker.result("train", fixture="iris_hgb_classifier", out_dir=out_dir)


def test_hello_names_protocol_and_pid(worker):
    assert worker.result("hello") == {"protocol": 1, "pid": worker.proc.pid}


def test_fingerprint_has_the_protocol_keys(worker):
    import sklearn

    facts = worker.result("fingerprint")
    assert set(facts) == {"python", "implementation", "executable", "machine", "byteorder",
                          "pointer_bits", "libc", "packages", "blas"}
    from formats import registry

    # The stack, then every package a format's adapter lists (formats/registry.py).
    assert set(facts["packages"]) == ({"numpy", "scipy", "scikit-learn", "threadpoolctl"}
                                      | {p.dist for p in registry.packages()})
    assert {"joblib", "cloudpickle", "skops", "onnx", "skl2onnx", "onnxruntime",
            "lz4"} <= set(facts["packages"])
    assert facts["packages"]["scikit-learn"] == sklearn.__version__
    assert facts["byteorder"] == sys.byteorder and facts["pointer_bits"] in (32, 64)
    assert isinstance(facts["blas"], list)


def test_list_describes_fixtures_and_formats(worker):
    from formats import registry

    listing = worker.result("list")
    assert [f["name"] for f in listing["formats"]] == registry.names()
    assert len(listing["fixtures"]) >= 22
    for f in listing["fixtures"]:
        assert set(f) == {"name", "description", "outputs", "rtol", "atol", "tags", "recipe_sha256"}
        assert re.fullmatch("[0-9a-f]{64}", f["recipe_sha256"])  # the harness's reuse keys need it
    assert [f["name"] for f in listing["fixtures"] if "large" in f["tags"]] \
        == ["large_extra_trees_regressor"]


def test_list_imports_no_scikit_learn():
    code = ("import sys; sys.path[:0] = [%r, %r]; import run_ops; run_ops.list_op(None, {}); "
            "print(sorted({'numpy', 'sklearn', 'scipy'} & set(sys.modules)))"
            % (ROOT, os.path.dirname(WORKER)))
    out = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    assert out.strip() == "[]"


def test_train_reports_the_guides_metadata(iris):
    out_dir, facts = iris
    assert facts["inputs"] == os.path.join(out_dir, "inputs.npy")
    inputs = np.load(facts["inputs"], allow_pickle=False)
    assert inputs.dtype == np.float64 and inputs.shape == (30, facts["n_features"])
    assert re.fullmatch("[0-9a-f]{64}", facts["data_sha256"])
    assert re.fullmatch("[0-9a-f]{64}", facts["recipe_sha256"])
    assert 0.8 < facts["cv_score"] <= 1.0 and facts["cv_std"] >= 0
    assert facts["train_seconds"] > 0


def test_dump_then_load_predict_is_bit_exact(worker, iris):
    out_dir, facts = iris
    path = os.path.join(out_dir, "model.p5.pkl")
    dumped = worker.result("dump", fixture="iris_hgb_classifier", format="pickle-p5", path=path,
                           inputs=facts["inputs"])
    with open(path, "rb") as f:
        assert dumped["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert dumped["size_bytes"] == os.path.getsize(path)
    assert dumped["format_details"] == {"protocol": 5}
    assert dumped["outputs"] == ["predict", "predict_proba", "decision_function"]
    prefix = os.path.join(out_dir, "consumer")
    loaded = worker.result("load_predict", format="pickle-p5", path=path, inputs=facts["inputs"],
                           outputs=dumped["outputs"], out_prefix=prefix)
    assert loaded["outputs"] == dumped["outputs"]
    assert loaded["warnings"] == [] and loaded["rss_peak_kb"] > 0
    for output in dumped["outputs"]:
        with open("%s.ref.%s.npy" % (path, output), "rb") as ref, \
                open("%s.%s.npy" % (prefix, output), "rb") as got:
            assert ref.read() == got.read(), output


def test_skops_load_needs_exactly_the_recorded_types(worker, iris):
    pytest.importorskip("skops")
    out_dir, facts = iris
    path = os.path.join(out_dir, "model.skops")
    dumped = worker.result("dump", fixture="iris_hgb_classifier", format="skops", path=path,
                           inputs=facts["inputs"])
    trusted = dumped["format_details"]["untrusted_types"]
    assert trusted  # HGB's TreePredictor is not trusted by default
    common = dict(format="skops", path=path, inputs=facts["inputs"], outputs=["predict"],
                  out_prefix=os.path.join(out_dir, "skops"))
    refused = worker.call("load_predict", **common)
    assert refused["error"]["stage"] == "load"
    assert refused["error"]["type"] == "UntrustedTypesFoundException"
    assert worker.call("load_predict", trusted_types=trusted, **common)["ok"]


def test_a_lambda_is_unsupported_and_leaves_no_artifact(worker, tmp_path):
    pytest.importorskip("skops")
    pytest.importorskip("cloudpickle")
    facts = worker.result("train", fixture="lambda_pipeline", out_dir=str(tmp_path))
    for fmt, error_type in (("pickle-p4", "Unsupported"), ("skops", "AttributeError")):
        path = str(tmp_path / fmt)
        answer = worker.call("dump", fixture="lambda_pipeline", format=fmt, path=path,
                             inputs=facts["inputs"])
        assert answer["error"]["stage"] == "unsupported", fmt
        assert answer["error"]["type"] == error_type
        assert "lambda" in answer["error"]["message"]
        assert not os.path.exists(path)
    assert worker.call("dump", fixture="lambda_pipeline", format="cloudpickle",
                       path=str(tmp_path / "cloudpickle"), inputs=facts["inputs"])["ok"]


def test_an_error_answer_is_followed_by_good_answers(worker, tmp_path):
    missing = worker.call("load_predict", format="pickle-p5", path=str(tmp_path / "absent.pkl"),
                          inputs=str(_inputs(tmp_path)), outputs=["predict"],
                          out_prefix=str(tmp_path / "out"))
    assert missing["ok"] is False
    assert missing["error"]["stage"] == "load"
    assert missing["error"]["type"] == "FileNotFoundError"
    assert "Traceback" in missing["error"]["traceback"]
    assert worker.result("hello")["pid"] == worker.proc.pid


def test_a_model_that_cannot_predict_is_a_predict_error(worker, tmp_path):
    path = tmp_path / "not_a_model.pkl"
    path.write_bytes(pickle.dumps({"a": "dict"}))
    answer = worker.call("load_predict", format="pickle-p5", path=str(path),
                         inputs=str(_inputs(tmp_path)), outputs=["predict"],
                         out_prefix=str(tmp_path / "out"))
    assert answer["error"]["stage"] == "predict" and answer["error"]["type"] == "AttributeError"


class _Prints:
    """Unpickling this prints from Python and writes to fd 1 from a child process."""

    def __reduce__(self):
        return (exec, ("print('py-noise'); import os; os.system('echo fd-noise')",))


def test_library_prints_go_to_the_log_not_the_stream(worker, tmp_path):
    path = tmp_path / "noisy.pkl"
    path.write_bytes(pickle.dumps(_Prints()))
    answer = worker.call("load_predict", format="pickle-p5", path=str(path),
                         inputs=str(_inputs(tmp_path)), outputs=["predict"],
                         out_prefix=str(tmp_path / "out"))
    assert answer["error"]["stage"] == "predict"  # it loaded (as None), then could not predict
    assert worker.result("hello")["protocol"] == 1
    log = worker.stderr()
    assert "py-noise" in log and "fd-noise" in log


def test_an_inconsistent_version_warning_carries_the_writing_version(worker, tmp_path):
    import sklearn
    from sklearn.linear_model import Ridge

    if not hasattr(sklearn.exceptions, "InconsistentVersionWarning"):
        pytest.skip("scikit-learn < 1.3 has no InconsistentVersionWarning")
    X = _inputs(tmp_path)
    blob = pickle.dumps(Ridge().fit(np.load(str(X)), np.arange(3.0)), protocol=5)
    current = sklearn.__version__.encode()
    older = re.sub(rb"[0-9]", b"0", current)  # same length: the pickle's framing stays valid
    (tmp_path / "old.pkl").write_bytes(blob.replace(current, older))
    loaded = worker.result("load_predict", format="pickle-p5", path=str(tmp_path / "old.pkl"),
                           inputs=str(X), outputs=["predict"], out_prefix=str(tmp_path / "o"))
    (warning,) = loaded["warnings"]
    assert warning["category"] == "InconsistentVersionWarning"
    assert warning["original_sklearn_version"] == older.decode()


def test_prepare_loads_imports_the_runtimes_of_the_matched_formats(worker):
    r = worker.result("prepare_loads", formats=["joblib*", "-joblib-mmap", "skops"])
    assert r["formats"] == ["joblib", "joblib-zlib3", "joblib-lz4", "skops"]
    assert {"joblib", "skops.io", "sklearn.ensemble"} <= set(r["imported"])
    # No patterns: every format the registry knows (in its order, which is not a contract here).
    from formats import registry

    assert sorted(worker.result("prepare_loads")["formats"]) == sorted(v.name for v in registry.VARIANTS)


def test_inputs_rewritten_at_the_same_path_are_read_again(worker, tmp_path):
    # The worker keeps recent inputs for the loads that follow; a changed file is not the same.
    from sklearn.linear_model import LinearRegression

    X = _inputs(tmp_path)
    model = tmp_path / "lin.pkl"
    model.write_bytes(pickle.dumps(LinearRegression().fit(np.load(str(X)), np.arange(3.0)), protocol=5))
    request = dict(format="pickle-p5", path=str(model), inputs=str(X), outputs=["predict"])
    worker.result("load_predict", out_prefix=str(tmp_path / "first"), **request)
    np.save(str(X), np.load(str(X)) * 2 + 1)
    worker.result("load_predict", out_prefix=str(tmp_path / "second"), **request)
    first, second = (np.load(str(tmp_path / name) + ".predict.npy") for name in ("first", "second"))
    assert not np.array_equal(first, second)
    X.unlink()
    gone = worker.call("load_predict", out_prefix=str(tmp_path / "third"), **request)
    assert gone["ok"] is False and gone["error"]["stage"] == "protocol"
    assert gone["error"]["type"] == "FileNotFoundError"


@pytest.mark.parametrize("line,message", [
    (b"this is not json", "not a JSON line"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"op": "hello"}', "integer \"id\""),
    (b'{"id": 5, "op": "fly"}', "unknown op 'fly'"),
    (b'{"id": 6, "op": "dump"}', "lacks the field 'fixture'"),
    (b'{"id": 7, "op": "dump", "fixture": "iris_kmeans", "format": "pickle-p5", '
     b'"path": "x", "inputs": "y"}', "not trained in this worker"),
    (b'{"id": 8, "op": "train", "fixture": "no_such", "out_dir": "/tmp"}', "unknown fixture"),
])
def test_bad_requests_are_protocol_errors(worker, line, message):
    answer = worker.send_line(line)
    assert answer["ok"] is False
    assert answer["error"]["stage"] == "protocol"
    assert message in answer["error"]["message"]
    expected_id = json.loads(line)["id"] if line.startswith(b'{"id"') else None
    assert answer["id"] == expected_id


def _inputs(tmp_path):
    path = tmp_path / "inputs.npy"
    np.save(str(path), np.arange(12, dtype=np.float64).reshape(3, 4))
    return path
