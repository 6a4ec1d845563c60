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

from fixtures import zoo

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
    planned = {f"{f.name}/{fmt}/host/host" for f in zoo.FIXTURES if not f.name.startswith("large_")
               for fmt in ("pickle-p5", "joblib", "skops")}
    listed = [c["id"] for c in json.loads((out / "results.json").read_text())["cells"]]
    assert sorted(listed) == sorted(planned)  # every planned cell, each once
    con = sqlite3.connect(out / "results.db")
    assert con.execute("select id, status from runs").fetchall() == [(1, "finished")]
    stored = con.execute("select id, count(*) from cells where run_id = 1 group by id").fetchall()
    assert dict(stored) == dict.fromkeys(planned, 1)
    assert f"({before} reused" in resumed.stdout or before == len(planned)


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


# A host-only slice whose outcomes are known (EXPECTED_UNSUPPORTED, EXPECTED_PREDICT_ERROR above).
GATE_FIXTURES = '["iris_logistic_regression", "iris_svc_proba", "lambda_pipeline"]'
GATE_FORMATS = '["pickle-p5", "joblib-mmap"]'
GATE_OUTCOMES = {
    "iris_logistic_regression/pickle-p5/host/host": "OK_EXACT",
    "iris_logistic_regression/joblib-mmap/host/host": "OK_EXACT",
    "iris_svc_proba/pickle-p5/host/host": "OK_EXACT",
    "iris_svc_proba/joblib-mmap/host/host": "PREDICT_ERROR",
    "lambda_pipeline/pickle-p5/host/host": "UNSUPPORTED",
    "lambda_pipeline/joblib-mmap/host/host": "UNSUPPORTED",
}


NOT_HAPPENING = "MISMATCH,LOAD_ERROR,CRASH,TIMEOUT,XPASS"


@pytest.fixture(scope="module")
def gate_run(tmp_path_factory):
    """(matrix, out, process) of one run of the slice above, failing on outcomes it does not have."""
    tmp = tmp_path_factory.mktemp("gate")
    m = write_matrix(tmp, fixtures=GATE_FIXTURES, formats=GATE_FORMATS)
    out = tmp / "out"
    proc = crossload("run", "--matrix", m, "--out", out, "-q", "--fail-on", NOT_HAPPENING, check=False)
    return m, out, proc


def test_the_gate_slice_has_the_known_outcomes(gate_run):
    _, out, _ = gate_run
    assert {i: c["outcome"] for i, c in cells_by_id(out).items()} == GATE_OUTCOMES


def test_fail_on_exits_0_when_no_named_outcome_happened(gate_run):
    _, _, proc = gate_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 OK_EXACT" in proc.stdout and "1 PREDICT_ERROR" in proc.stdout and "2 UNSUPPORTED" in proc.stdout


def test_fail_on_exits_1_when_one_named_outcome_happened(gate_run):
    m, out, _ = gate_run  # cells reused from the gate run: the same outcomes, nothing loaded again
    proc = crossload("run", "--matrix", m, "--out", out, "-q", "--fail-on", "MISMATCH,PREDICT_ERROR", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "6 cells" in proc.stdout and "1 PREDICT_ERROR" in proc.stdout  # the mmap'ed SVC cannot predict


def test_fail_on_an_outcome_that_does_not_exist_is_refused_before_running(gate_run, tmp_path):
    m, _, _ = gate_run
    proc = crossload("run", "--matrix", m, "--out", tmp_path / "out", "--fail-on", "PREDICT_EROR", check=False)
    assert proc.returncode not in (0, 1)
    assert "--fail-on: unknown outcome 'PREDICT_EROR'" in proc.stderr
    assert not (tmp_path / "out" / "results.db").exists()


EXPECTATIONS = """
[[expect]]
fixtures = ["iris_svc_*"]
formats = ["joblib-mmap"]
consumer_machine = "x86_64"
outcomes = ["PREDICT_ERROR"]
reason = "libsvm needs writeable arrays"

[[expect]]
fixtures = ["iris_logistic_regression"]
formats = ["pickle-p5"]
outcomes = ["LOAD_ERROR"]
reason = "a stale expectation: it loads"

[[expect]]
fixtures = ["lambda_pipeline"]
formats = ["pickle-p5"]
outcomes = ["LOAD_ERROR"]
reason = "expects another failure than the one that happens"

[[expect]]
fixtures = ["iris_logistic_regression"]
formats = ["joblib-mmap"]
consumer_sklearn = "<1.0"
outcomes = ["LOAD_ERROR"]
reason = "selects no environment of this run"
"""


@pytest.fixture(scope="module")
def expect_run(tmp_path_factory):
    """(matrix, out, process) of the gate slice with [[expect]] tables, failing on XPASS."""
    tmp = tmp_path_factory.mktemp("expect")
    m = write_matrix(tmp, fixtures=GATE_FIXTURES, formats=GATE_FORMATS)
    m.write_text(m.read_text() + EXPECTATIONS)
    out = tmp / "out"
    proc = crossload("run", "--matrix", m, "--out", out, "-q", "--fail-on", "XPASS,PREDICT_ERROR", check=False)
    return m, out, proc


def test_expect_turns_the_declared_failure_into_xfail_and_keeps_why(expect_run):
    m, out, _ = expect_run
    cell = cells_by_id(out)["iris_svc_proba/joblib-mmap/host/host"]
    assert cell["outcome"] == "XFAIL"
    expected = cell["detail"]["expected"]
    assert expected["observed"] == "PREDICT_ERROR"
    assert expected["reason"] == "libsvm needs writeable arrays"
    first_table = m.read_text().splitlines().index("[[expect]]") + 1
    assert expected["declared_at"].endswith(f"m.toml:{first_table}")


def test_expect_reports_a_stale_expectation_as_xpass_and_fails_on_it(expect_run):
    _, out, proc = expect_run
    cells = cells_by_id(out)
    stale = cells["iris_logistic_regression/pickle-p5/host/host"]
    assert stale["outcome"] == "XPASS"
    assert stale["detail"]["expected"]["observed"] == "OK_EXACT"
    assert proc.returncode == 1, proc.stdout + proc.stderr  # XPASS is named; the PREDICT_ERROR is XFAIL now
    assert "1 XFAIL" in proc.stdout and "1 XPASS" in proc.stdout


def test_expect_leaves_other_failures_and_unselected_cells_alone(expect_run):
    _, out, _ = expect_run
    cells = cells_by_id(out)
    assert cells["lambda_pipeline/pickle-p5/host/host"]["outcome"] == "UNSUPPORTED"  # not the declared one
    assert "expected" not in cells["lambda_pipeline/pickle-p5/host/host"]["detail"]
    assert cells["iris_logistic_regression/joblib-mmap/host/host"]["outcome"] == "OK_EXACT"  # sklearn is not <1.0
    assert cells["iris_svc_proba/pickle-p5/host/host"]["outcome"] == "OK_EXACT"


def test_an_expected_failure_does_not_fail_the_run(expect_run):
    m, out, _ = expect_run
    proc = crossload("run", "--matrix", m, "--out", out, "-q", "--fail-on", "PREDICT_ERROR,LOAD_ERROR", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
