"""`crossload bench` with the native ONNX consumer: matrix/full.toml's trixie-amd64-onnx-native (a
real Debian trixie amd64 rootfs, crossload-onnx-native compiled inside it against the suite's
libonnxruntime), where the environment's Python dumps iris_logistic_regression as ONNX and pickle,
measures both, and the native program measures the same ONNX file again.

Costs: with the rootfs cached (~/.cache/crossload or $CROSSLOAD_CACHE_DIR) about a minute, plus a
compile of the consumer (~2 min) when its sources changed; from an empty cache 4-6 minutes more.
"""
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = "trixie-amd64-onnx-native"
FIXTURE = "iris_logistic_regression"
BUILD_TIMEOUT = 1800  # a cold rootfs, byte-compiling and the consumer's compile on 2 busy cores


def iterations(doc, name):
    return [b for b in doc["benchmarks"] if b["run_name"] == name and b["run_type"] == "iteration"]


@pytest.fixture(scope="module")
def native_bench(tmp_path_factory, crossload_bin, sandbox):
    if not shutil.which("mmdebstrap"):
        pytest.skip("the Debian environment cannot be built here: mmdebstrap is not installed (ci/setup installs it)")
    matrix = ROOT / "matrix" / "full.toml"
    built = subprocess.run([crossload_bin, "env", "build", "--matrix", matrix, ENV], capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    out = tmp_path_factory.mktemp("bench-native") / "out"
    proc = subprocess.run([crossload_bin, "bench", "--matrix", matrix, "--env", ENV, "--fixture", FIXTURE,
                           "--format", "pickle-p5", "--format", "onnx", "--repetitions", "9",
                           "--cold-repetitions", "3", "--processes", "2", "--timeout", "120", "--out", out],
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, json.loads((out / "bench.json").read_text())


def counter(doc, name, key):
    return iterations(doc, name)[0][key]


def test_native_rows_stand_beside_pythons_for_the_same_artifact(native_bench):
    _, doc = native_bench
    python, native = f"{FIXTURE}/onnx/{ENV}", f"{FIXTURE}/onnx/{ENV}:native"
    for case in (python, native):
        warm = iterations(doc, "load_warm/" + case)
        assert len(warm) == 9 and all(0 < b["real_time"] < 10_000 for b in warm), warm
        assert not any(b.get("error_occurred") for b in warm)
        assert len(iterations(doc, "predict_first/" + case)) == 9
        assert len(iterations(doc, "load_cold/" + case)) == 3
        assert counter(doc, "load_warm/" + case, "rss_growth_bytes") > 0
    # One artifact, so one size; a process without Python peaks far below one with it.
    assert counter(doc, "load_warm/" + native, "artifact_bytes") == counter(doc, "load_warm/" + python, "artifact_bytes")
    native_peak = counter(doc, "load_warm/" + native, "cold_peak_rss_bytes")
    python_peak = counter(doc, "load_warm/" + python, "cold_peak_rss_bytes")
    assert 1e6 < native_peak < python_peak, (native_peak, python_peak)
    # PSS sharing and batch throughput are measured for Python only.
    assert not iterations(doc, "predict_batch/" + native) and iterations(doc, "predict_batch/" + python)


def test_native_cases_reach_the_store_and_the_report(native_bench):
    out, _ = native_bench
    with sqlite3.connect(out / "results.db") as db:
        rows = db.execute("SELECT format, producer, consumer, outcome FROM cells").fetchall()
    consumers = {(fmt, consumer): outcome for fmt, producer, consumer, outcome in rows if producer == ENV}
    assert set(consumers) == {("pickle-p5", ENV), ("onnx", ENV), ("onnx", ENV + ":native")}, rows
    # The native predictions were compared with scikit-learn's, as the Python ones were.
    assert consumers[("onnx", ENV + ":native")] in ("OK_EXACT", "OK_WITHIN_TOL"), rows
    assert f"{FIXTURE} / onnx / {ENV}:native" in (out / "bench.md").read_text()


def test_the_onnx_ram_claim_is_judged_on_the_native_process(native_bench):
    _, doc = native_bench
    [verdict] = [v for v in doc["context"]["crossload"]["verdicts"] if v["id"] == "onnx_ram" and v["env"] == ENV]
    numbers = verdict["numbers"]
    native_peak = counter(doc, f"load_warm/{FIXTURE}/onnx/{ENV}:native", "cold_peak_rss_bytes")
    sklearn_peak = counter(doc, f"load_warm/{FIXTURE}/pickle-p5/{ENV}", "cold_peak_rss_bytes")
    assert numbers["peak_rss_native_bytes"] == native_peak and numbers["peak_rss_sklearn_bytes"] == sklearn_peak
    assert numbers["ratio"] == pytest.approx(sklearn_peak / native_peak)
    assert numbers["load_ratio_native_to_python"] > 0
    assert "native C++ consumer" in verdict["measured"] and f"{numbers['ratio']:.2f}x" in verdict["measured"]
    assert verdict["status"] == ("confirmed" if numbers["ratio"] >= 2 else "not confirmed")
