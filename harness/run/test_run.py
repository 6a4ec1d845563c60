"""End-to-end: the real crossload binary, the real worker and the real libraries."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
VENV_PYTHON = str(ROOT / ".venv" / "bin" / "python")


def write_matrix(tmp_path, fixtures='["*", "-large_*"]', formats='["*"]', extra=""):
    path = tmp_path / "m.toml"
    path.write_text(f"""
[matrix]
name = "test"
fixtures = {fixtures}
formats = {formats}
producers = ["host"]
consumers = ["host"]
{extra}
[env.host]
provider = "host"
python = "{VENV_PYTHON}"
""")
    return path


def crossload(*args, check=True, timeout=1200):
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"crossload {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def cells_by_id(out):
    doc = json.loads((out / "results.json").read_text())
    assert doc["schema_version"] == 1
    return {c["id"]: c for c in doc["cells"]}


# Fixture x format pairs a format cannot hold, as observed with the pinned stack (ci/requirements.txt).
# The lambda pipeline is the guide's cloudpickle-only case.
LAMBDA = "lambda_pipeline"
EXPECTED_UNSUPPORTED = {
    (LAMBDA, f) for f in ["pickle-p4", "pickle-p5", "joblib", "joblib-zlib3", "joblib-lz4", "joblib-mmap", "skops", "onnx"]
} | {
    # skl2onnx 1.20 builds TreeEnsemble nodes scikit-learn 1.9's HGB models no longer fit.
    ("iris_hgb_classifier", "onnx"),
    ("diabetes_hgb_regressor", "onnx"),
}
# libsvm needs writable buffers: a memory-mapped (read-only) SVC loads, then cannot predict.
EXPECTED_PREDICT_ERROR = {("iris_svc_proba", "joblib-mmap")}


@pytest.fixture(scope="module")
def full_round_trip(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    out = tmp / "out"
    crossload("run", "--matrix", write_matrix(tmp), "--out", out, "-q")
    return out, cells_by_id(out)


def test_every_fixture_every_format_round_trips_exactly_or_is_unsupported(full_round_trip):
    _, cells = full_round_trip
    assert len(cells) >= 22 * 9
    unsupported = {(c["fixture"], c["format"]) for c in cells.values() if c["outcome"] == "UNSUPPORTED"}
    predict_errors = {(c["fixture"], c["format"]) for c in cells.values() if c["outcome"] == "PREDICT_ERROR"}
    others = {i: (c["outcome"], c["detail"]) for i, c in cells.items()
              if c["outcome"] not in ("OK_EXACT", "UNSUPPORTED", "PREDICT_ERROR")}
    assert others == {}
    assert predict_errors == EXPECTED_PREDICT_ERROR
    assert unsupported == EXPECTED_UNSUPPORTED
    for c in cells.values():
        if c["outcome"] == "UNSUPPORTED":
            assert c["detail"]["message"], c["id"]


def test_lambda_pipeline_only_loads_with_cloudpickle(full_round_trip):
    _, cells = full_round_trip
    assert cells[f"{LAMBDA}/cloudpickle/host/host"]["outcome"] == "OK_EXACT"
    assert cells[f"{LAMBDA}/pickle-p5/host/host"]["outcome"] == "UNSUPPORTED"


def test_manifest_carries_the_guides_metadata(full_round_trip):
    out, cells = full_round_trip
    manifests = list((out / "artifacts" / "host").glob("*/model.skops.manifest.json"))
    assert manifests
    m = json.loads(manifests[0].read_text())
    for key in ["sha256", "size_bytes", "format", "fixture", "producer_fingerprint", "dump_seconds", "outputs"]:
        assert key in m, key
    for key in ["data_sha256", "recipe_sha256", "cv_score"]:
        assert key in m["training"], key
    assert "untrusted_types" in m["format_details"]
    for ref in m["references"].values():
        assert (manifests[0].parent / ref).stat().st_size > 0


def test_cells_carry_measurements_and_report_is_written(full_round_trip):
    out, cells = full_round_trip
    ok = [c for c in cells.values() if c["outcome"] == "OK_EXACT"]
    assert all(c["measurements"]["load"]["value"] > 0 for c in ok)
    report = (out / "report.md").read_text()
    assert "## Compatibility" in report and "## Environments" in report
    con = sqlite3.connect(out / "results.db")
    assert con.execute("select count(*) from cells").fetchone()[0] == len(cells)


def test_malformed_matrix_names_file_line_and_key(tmp_path):
    m = write_matrix(tmp_path, extra="cell_timout = 3\n")
    proc = crossload("run", "--matrix", m, "--out", tmp_path / "out", check=False)
    assert proc.returncode == 3
    assert f"{m}:8: [matrix] cell_timout: unknown key (did you mean 'cell_timeout'?)" in proc.stderr


def test_unknown_format_is_a_clear_error(tmp_path):
    m = write_matrix(tmp_path, formats='["pickel-p5"]')
    proc = crossload("run", "--matrix", m, "--out", tmp_path / "out", check=False)
    assert proc.returncode == 3
    assert f"{m}:5: [matrix] formats: 'pickel-p5' matches no format (did you mean 'pickle-p5'?)" in proc.stderr


def test_missing_interpreter_is_env_unavailable_not_a_crash(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(write_matrix(tmp_path).read_text().replace('consumers = ["host"]', 'consumers = ["host", "gone"]')
                 + '\n[env.gone]\nprovider = "host"\npython = "/nonexistent/python3"\n')
    m.write_text(m.read_text().replace('fixtures = ["*", "-large_*"]', 'fixtures = ["iris_*"]')
                 .replace('formats = ["*"]', 'formats = ["pickle-p5"]'))
    out = tmp_path / "out"
    crossload("run", "--matrix", m, "--out", out, "-q")
    cells = cells_by_id(out)
    gone = [c for c in cells.values() if c["consumer"] == "gone"]
    assert gone and all(c["outcome"] == "ENV_UNAVAILABLE" for c in gone)
    assert "/nonexistent/python3" in gone[0]["detail"]["message"]
    assert all(c["outcome"] == "OK_EXACT" for c in cells.values() if c["consumer"] == "host")


def count_cells(db):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        return con.execute("select count(*) from cells").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_run_resumes_without_losing_or_repeating_cells(tmp_path):
    m = write_matrix(tmp_path, formats='["pickle-p5", "joblib", "skops"]')
    out = tmp_path / "out"
    proc = subprocess.Popen([BIN, "run", "--matrix", str(m), "--out", str(out), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while count_cells(out / "results.db") < 10 and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = count_cells(out / "results.db")
    assert before >= 10
    resumed = crossload("run", "--matrix", m, "--out", out, "--resume")
    assert "resuming run 1" in resumed.stderr
    cells = cells_by_id(out)
    assert len(cells) == count_cells(out / "results.db")
    expected = {c for c in cells if c.endswith("/host/host")}
    assert len(expected) == len(cells)
    assert f"({before} reused" in resumed.stdout or before == len(cells)


def test_compare_command_reads_both_byte_orders_and_rejects_truncated(tmp_path):
    import numpy as np
    a = np.linspace(0, 1, 50)
    np.save(tmp_path / "le.npy", a.astype("<f8"))
    np.save(tmp_path / "be.npy", a.astype(">f8"))
    same = crossload("compare", tmp_path / "le.npy", tmp_path / "be.npy")
    assert same.stdout.startswith("OK_EXACT")
    data = (tmp_path / "le.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[: len(data) // 2])
    cut = crossload("compare", tmp_path / "le.npy", tmp_path / "cut.npy", check=False)
    assert cut.returncode == 3
    assert str(tmp_path / "cut.npy") in cut.stderr
