"""The native ONNX consumer end to end: a real Debian trixie amd64 rootfs with the suite's
libonnxruntime-dev and g++, crossload-onnx-native compiled inside it, and `crossload run` crossing
the host producer with that consumer (and the host's Python onnxruntime beside it).

Costs: cold (no cached rootfs) about 3-5 minutes on 2 shared cores: mmdebstrap ~20-50 s, byte-
compiling the suite's Python ~100 s, compiling the consumer ~1-2 min; warm (rootfs and program
cached in $CROSSLOAD_CACHE_DIR or ~/.cache/crossload) well under a minute.
"""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
RUN_TIMEOUT = 1800  # seconds: a cold rootfs and compile on a busy 2-core machine
NATIVE = "trixie-onnx-native"
FIXTURES = ["iris_string_labels", "iris_svc_proba", "diabetes_ridge"]

MATRIX = """
[matrix]
name = "native-onnx-test"
fixtures = {fixtures}
formats = ["onnx", "pickle-p5"]
producers = ["host"]
consumers = ["host", "{native}"]
cell_timeout = 120

[env.host]
provider = "host"
python = "{python}"

[env.{native}]
provider = "debian"
suite = "trixie"
arch = "amd64"
native_onnx = true
pip = ["skops", "skl2onnx==1.19.1"]
"""
# The table of matrix/full.toml's trixie-amd64-onnx-native (the name is not in the cache key): this
# test and harness/bench/test_bench_native.py share one cached rootfs, one build on a fresh machine.


@pytest.fixture(scope="module")
def run(tmp_path_factory, crossload_bin):
    """(results.json as a dict, out dir) of one crossload run with the native consumer."""
    work = tmp_path_factory.mktemp("native")
    matrix = work / "native.toml"
    matrix.write_text(MATRIX.format(fixtures=json.dumps(FIXTURES), native=NATIVE,
                                    python=ROOT / ".venv" / "bin" / "python"))
    out = work / "out"
    proc = subprocess.run([crossload_bin, "run", "--matrix", str(matrix), "--out", str(out),
                           "--report", "json"], capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text()), out


def cells(results, consumer, fmt):
    return {c["fixture"]: c for c in results["cells"] if c["consumer"] == consumer and c["format"] == fmt}


def native_env(results):
    return next(e for e in results["environments"] if e["name"] == NATIVE)


def test_environment_is_the_native_consumer(run):
    env = native_env(run[0])
    assert env["status"] == "ok", env.get("reason")
    fp = env["fingerprint"]
    assert fp["consumer"] == "onnx-native"
    assert fp["python"] == "none"
    assert fp["packages"]["onnxruntime"].startswith("1.")
    assert fp["executable"].endswith("/crossload-onnx-native")
    assert "crossload-onnx-native" in env["where"]


def test_onnx_cells_match_the_producers_onnxruntime(run):
    results, out = run
    native = cells(results, NATIVE, "onnx")
    assert sorted(native) == sorted(FIXTURES)
    for fixture, cell in native.items():
        assert cell["outcome"] in ("OK_EXACT", "OK_TOLERANCE"), (fixture, cell["outcome"], cell["detail"])
        m = cell["measurements"]
        assert m["load"]["value"] > 0 and m["predict"]["value"] > 0, m
        assert m["rss_peak"]["value"] > 1 << 20, m  # bytes: onnxruntime alone maps megabytes
        assert (out / "cells" / NATIVE / "host" / fixture / "onnx.predict.npy").exists()


def test_string_labels_written_as_numpy_unicode(run):
    _, out = run
    got = np.load(out / "cells" / NATIVE / "host" / "iris_string_labels" / "onnx.predict.npy")
    assert got.dtype.kind == "U" and set(got) <= {"setosa", "versicolor", "virginica"}, got[:5]


def test_native_stands_beside_pythons_onnxruntime(run):
    """Both consumers measured the same artifacts: the reports can put their costs side by side."""
    results, _ = run
    native, python = cells(results, NATIVE, "onnx"), cells(results, "host", "onnx")
    for fixture in FIXTURES:
        assert python[fixture]["outcome"] == "OK_EXACT"
        for key in ("load", "rss_peak"):
            assert native[fixture]["measurements"][key]["unit"] == python[fixture]["measurements"][key]["unit"]


def test_other_formats_are_unsupported_with_the_reason(run):
    for fixture, cell in cells(run[0], NATIVE, "pickle-p5").items():
        assert cell["outcome"] == "UNSUPPORTED", (fixture, cell)
        assert "native ONNX consumer" in cell["detail"]["message"]


def native_argv(results, out, *args):
    """The consumer program inside its rootfs, under bwrap as the harness runs it (no network)."""
    fp = native_env(results)["fingerprint"]
    cache = pathlib.Path(os.environ.get("CROSSLOAD_CACHE_DIR", pathlib.Path.home() / ".cache" / "crossload"))
    roots = [p.parent for p in cache.glob("envs/debian-trixie-amd64-*/rootfs")
             if (p / fp["executable"].lstrip("/")).exists()]
    assert roots, "no cached trixie rootfs holds " + fp["executable"]
    return ["bwrap", "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", str(roots[0] / "rootfs"), "/",
            "--dev", "/dev", "--proc", "/proc", "--ro-bind", "/sys", "/sys", "--tmpfs", "/tmp",
            "--bind", str(out), str(out), fp["executable"], *args]


def test_corrupt_onnx_is_a_load_error_with_onnxruntimes_message(run):
    results, out = run
    artifact_dir = out / "artifacts" / "host" / "iris_svc_proba"
    corrupt = out / "corrupt.onnx"
    corrupt.write_bytes((artifact_dir / "model.onnx").read_bytes()[:100])  # a truncated protobuf
    request = {"id": 1, "op": "load_predict", "format": "onnx", "path": str(corrupt),
               "inputs": str(artifact_dir / "inputs.npy"), "outputs": ["predict"],
               "out_prefix": str(out / "corrupt"), "limits": {"wall_seconds": 60}}
    proc = subprocess.run(native_argv(results, out), input=json.dumps(request) + "\n", capture_output=True,
                          text=True, timeout=120)
    answer = json.loads(proc.stdout.splitlines()[0])
    assert answer["id"] == 1 and answer["ok"] is False, answer
    error = answer["error"]
    assert error["stage"] == "load", error  # the harness turns stage "load" into LOAD_ERROR
    assert error["type"] == "InvalidProtobuf" and "Protobuf parsing failed" in error["message"], error
    assert error["rss_peak_kb"] > 0


def test_measure_reports_load_time_and_rss_of_fresh_processes(run):
    results, out = run
    artifact_dir = out / "artifacts" / "host" / "iris_svc_proba"
    proc = subprocess.run(native_argv(results, out, "measure", "--model", str(artifact_dir / "model.onnx"),
                                      "--inputs", str(artifact_dir / "inputs.npy"),
                                      "--outputs", "predict,predict_proba", "--repeat", "3"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert len(report["runs"]) == 3
    for r in report["runs"]:
        assert r["ok"], r
        assert r["result"]["load_seconds"] > 0 and r["result"]["rss_peak_kb"] > 1024
