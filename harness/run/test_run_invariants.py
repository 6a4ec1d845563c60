"""End-to-end: `crossload run` checks output invariants in every cell. The fixture of
testdata/wrong_answer_fixtures.py (CROSSLOAD_EXTRA_FIXTURES) is a real tree whose predict_proba
returns class counts in producer and consumer alike: the comparison alone says OK_EXACT, the
invariants make it a MISMATCH naming what broke, with its catalogue cause in results.json,
report.md and junit.xml."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
VENV_PYTHON = str(ROOT / ".venv" / "bin" / "python")
FIXTURES = ROOT / "harness" / "run" / "testdata" / "wrong_answer_fixtures.py"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("invariants")
    matrix = tmp / "m.toml"
    matrix.write_text(f"""
[matrix]
name = "invariants"
fixtures = ["counting_tree"]
formats = ["pickle-p5", "joblib"]
producers = ["host"]
consumers = ["host"]

[env.host]
provider = "host"
python = "{VENV_PYTHON}"
""")
    out = tmp / "out"
    proc = subprocess.run([BIN, "run", "--matrix", matrix, "--out", out, "--report", "json,md,junit",
                           "--fail-on", "MISMATCH"],
                          capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, CROSSLOAD_EXTRA_FIXTURES=str(FIXTURES)))
    assert proc.returncode == 1, proc.stdout + proc.stderr  # --fail-on MISMATCH: the invariants fail CI
    return out


def test_counts_as_probabilities_are_a_mismatch_naming_the_invariant(out):
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert len(cells) == 2
    for cell in cells:
        assert cell["outcome"] == "MISMATCH", cell
        assert [v["name"] for v in cell["detail"]["invariants"]] == ["proba-in-unit-interval", "proba-rows-sum-to-one"]
        assert cell["detail"]["outputs"]["predict_proba"]["outcome"] == "OK_EXACT"  # the producer agrees
        assert cell["cause"] == "invariant-proba-not-probabilities"


def test_markdown_and_junit_carry_the_cause(out):
    md = (out / "report.md").read_text()
    assert "| `invariant-proba-not-probabilities` | 2 |" in md
    root = ET.parse(out / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 2
    for case in cases:
        assert case.find("properties/property[@name='cause']").get("value") == "invariant-proba-not-probabilities"
        assert case.find("failure").get("message").startswith("MISMATCH [invariant-proba-not-probabilities]: ")
