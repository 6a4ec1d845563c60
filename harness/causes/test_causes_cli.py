"""`crossload causes` on the runs stored in docs/findings/: every non-OK cell is attributed to one
cause of the catalogue, and fewer than 2 % of each run's failing cells stay unclassified (the
goal of docs/causes.md). Runs the real binary on the real stored results."""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
RUNS = sorted((ROOT / "docs" / "findings").glob("*.results.json.gz"))


def causes(*args):
    return subprocess.run([BIN, "causes", *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def coverage():
    r = causes(*RUNS, "--format", "json", "--max-unclassified", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    return {Path(run["results"]).name: run for run in json.loads(r.stdout)}


def test_every_stored_run_is_explained(coverage):
    assert len(RUNS) >= 6 and len(coverage) == len(RUNS)  # every stored run, new ones included
    for name, run in coverage.items():
        assert run["needing_cause"] == sum(run["causes"].values()), name
        assert run["failing_unclassified_percent"] < 2, (name, run)
        assert run["unclassified_percent"] < 2, (name, run)


def test_the_causes_docs_findings_md_names(coverage):
    quick = coverage["quick-2026-11-29.results.json.gz"]["causes"]
    assert quick["numpy2-pickle-into-numpy1"] > 0 and quick["sklearn-tree-node-dtype-1.3"] > 0
    full = coverage["full-slice-2026-11-29.results.json.gz"]["causes"]
    assert full["sklearn-tree-value-fractions-1.4"] == 5  # the silent wrong answer: 1.3 tree in 1.9
    assert full["sklearn-knn-index-width-32bit"] == 5
    cpu = coverage["cpu-slice-2026-11-29.results.json.gz"]["causes"]
    assert cpu["cloudpickle-bytecode-python-minor"] == 8 and cpu["onnx-float32-cross-cpu"] == 12


def test_text_lists_the_catalogue_and_a_gate_that_fails(tmp_path):
    listed = causes()
    assert listed.returncode == 0 and "sklearn-tree-node-dtype-1.3\n" in listed.stdout
    run = {"schema_version": 1, "cells": [
        {"id": "f/pickle-p5/a/b", "fixture": "f", "format": "pickle-p5", "producer": "a", "consumer": "b",
         "outcome": "LOAD_ERROR", "detail": {"stage": "load", "error_type": "RuntimeError", "message": "new"}},
        {"id": "g/pickle-p5/a/b", "fixture": "g", "format": "pickle-p5", "producer": "a", "consumer": "b",
         "outcome": "OK_EXACT", "detail": {}}]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(run))
    r = causes(path, "--max-unclassified", "2")
    assert r.returncode == 1
    assert "1 not OK, 1 unclassified (100.00 %)" in r.stdout and "unclassified" in r.stderr
    bad = causes(tmp_path / "missing.json")
    assert bad.returncode == 3 and "missing.json" in bad.stderr
