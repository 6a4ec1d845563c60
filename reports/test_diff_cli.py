"""`crossload diff` end to end: the real binary on results.json files, exit codes and outputs.

The baseline is the JSON reporter's golden (reports/testdata/sample.json); each test edits a copy
into the current run, so no environment needs to run.
"""
import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload")))
SAMPLE = json.loads((ROOT / "reports" / "testdata" / "sample.json").read_text())
REGRESSED = "iris_tree/joblib/new/new"  # OK_EXACT in the sample


def diff(*args):
    if not BIN.exists():
        pytest.fail(f"{BIN} not built: run ci/test, or ninja -C build, first")
    return subprocess.run([str(BIN), "diff", *map(str, args)], capture_output=True, text=True, timeout=60)


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def edited(change):
    doc = copy.deepcopy(SAMPLE)
    change({c["id"]: c for c in doc["cells"]}, doc)
    return doc


def regress(cells, _doc):
    cells[REGRESSED]["outcome"] = "LOAD_ERROR"
    cells[REGRESSED]["detail"] = {"stage": "load", "error_type": "ModuleNotFoundError",
                                  "message": "No module named 'numpy._core'"}


def slow_down(cells, _doc):
    cells["iris_tree/skops/new/new"]["measurements"]["load"]["value"] *= 3


def drop_one(_cells, doc):
    doc["cells"] = [c for c in doc["cells"] if c["id"] != REGRESSED]


@pytest.fixture
def baseline(tmp_path):
    return write(tmp_path / "baseline.json", SAMPLE)


def test_identical_runs_pass(baseline):
    proc = diff(baseline, baseline)
    assert proc.returncode == 0, proc.stderr
    assert "result: ok" in proc.stdout


def test_compatibility_regression_fails_by_default_and_is_explained(baseline, tmp_path):
    current = write(tmp_path / "current.json", edited(regress))
    proc = diff(baseline, current)
    assert proc.returncode == 1
    # The regression names its cause (docs/causes.md), then the error text.
    assert (f"OK_EXACT → LOAD_ERROR  {REGRESSED}  [numpy2-pickle-into-numpy1]  "
            "ModuleNotFoundError: No module named 'numpy._core'") in proc.stdout
    assert "written with numpy 2" in proc.stdout
    assert proc.stdout.rstrip().endswith("result: FAIL: 1 compatibility regression (--fail-on compat,new-failure)")
    assert diff(baseline, current, "--fail-on", "perf,vanished").returncode == 0
    assert diff(baseline, current, "--fail-on", "none").returncode == 0


def test_performance_fails_only_when_named(baseline, tmp_path):
    current = write(tmp_path / "current.json", edited(slow_down))
    proc = diff(baseline, current)
    assert proc.returncode == 0 and "×3.00  iris_tree/skops/new/new" in proc.stdout
    assert "not a significance test" in proc.stdout
    assert diff(baseline, current, "--fail-on", "perf").returncode == 1
    assert diff(baseline, current, "--fail-on", "perf", "--threshold", "4").returncode == 0


def test_vanished_cells_fail_only_when_named(baseline, tmp_path):
    current = write(tmp_path / "current.json", edited(drop_one))
    assert diff(baseline, current).returncode == 0
    proc = diff(baseline, current, "--fail-on", "vanished")
    assert proc.returncode == 1 and "1 vanished cell" in proc.stdout


def test_json_output_is_machine_readable(baseline, tmp_path):
    current = write(tmp_path / "current.json", edited(regress))
    proc = diff(baseline, current, "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["diff_schema_version"] == 1 and doc["failed"] is True
    assert doc["regressions"] == [{"id": REGRESSED, "before": "OK_EXACT", "after": "LOAD_ERROR",
                                   "cause": "numpy2-pickle-into-numpy1",
                                   "message": "ModuleNotFoundError: No module named 'numpy._core'",
                                   "explanation": doc["regressions"][0]["explanation"]}]
    assert doc["fail_on"] == ["compat", "new-failure"]


def test_markdown_output_and_html_with_regressions_first(baseline, tmp_path):
    current = write(tmp_path / "current.json", edited(regress))
    html = tmp_path / "diff.html"
    proc = diff(baseline, current, "--format", "md", "--html", html)
    assert proc.returncode == 1
    assert proc.stdout.startswith("## crossload diff") and "**Result: FAIL**" in proc.stdout
    page = html.read_text()
    assert page.index('id="regressions"') < page.index('id="compatibility"')
    assert REGRESSED in page[page.index('id="regressions"'):page.index('id="compatibility"')]


def test_schema_versions_outside_the_readable_range_are_refused_by_name(baseline, tmp_path):
    newer = write(tmp_path / "newer.json", {**SAMPLE, "schema_version": 99})
    proc = diff(newer, baseline)
    assert proc.returncode == 3
    assert proc.stderr.strip() == (f"error: baseline {newer}: results schema_version 99 is newer than this crossload "
                                   "reads (1 to 1); use a newer crossload, or the one that wrote it")
    older = write(tmp_path / "older.json", {**SAMPLE, "schema_version": 0})
    proc = diff(baseline, older)
    assert proc.returncode == 3 and f"current {older}: results schema_version 0 is older" in proc.stderr


def test_bad_input_and_usage_have_their_exit_codes(baseline, tmp_path):
    assert diff(tmp_path / "missing.json", baseline).returncode == 3
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    proc = diff(tmp_path / "junk.db", baseline)
    assert proc.returncode == 5 and "junk.db" in proc.stderr
    proc = diff(baseline, baseline, "--fail-on", "compt")
    assert proc.returncode == 2 and "did you mean 'compat'?" in proc.stderr
    assert diff(baseline, baseline, "--threshold", "0.5").returncode == 2
    assert diff(baseline, baseline, "--format", "xml").returncode == 2
