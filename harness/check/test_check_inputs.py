"""End-to-end: `crossload check` reading real Parquet inputs (pyarrow is in the host venv, not in
sklearn-1.5), and choosing the reference environment when none has the scikit-learn version the
artifact records. The artifact records scikit-learn 1.3.0 with numpy 2's module names
(check_e2e.pickle_recording): a stack that never existed, so check cannot rebuild its producer
(test_check_rebuild.py rebuilds a real one), and the environments are asked in the order of
--env, the one that answers labelled not trusted.
"""
import json
import re

import numpy as np
import pytest

from check_e2e import OLD, QUICK, crossload, iris_tree, pickle_recording

NEWEST_FIRST = ["--matrix", QUICK, "--env", OLD, "--env", "host"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A tree recording scikit-learn 1.3.0 at protocols 4 (loads on numpy 1.26) and 5 (does not),
    and its inputs as a Parquet table written with pyarrow, with named columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = tmp_path_factory.mktemp("inputs")
    model, X, _ = iris_tree()
    rows = X[::5]
    for protocol in (4, 5):
        (tmp / f"p{protocol}.pkl").write_bytes(pickle_recording(model, "1.3.0", protocol))
    pq.write_table(pa.table({name: rows[:, i] for i, name in enumerate(["sl", "sw", "pl", "pw"])}),
                   tmp / "inputs.parquet")
    np.save(tmp / "inputs.npy", rows)
    return tmp, model, rows


def test_parquet_inputs_fall_over_to_an_environment_with_pyarrow(made, tmp_path):
    tmp, model, rows = made
    out = tmp_path / "o"
    r = crossload("check", tmp / "p4.pkl", "--inputs", tmp / "inputs.parquet", *NEWEST_FIRST, "--out", out)
    assert r.returncode == 0, r.stdout + r.stderr
    # sklearn-1.5 is asked first (the --env order) and cannot: host, which has pyarrow, reads them.
    assert f"inputs: not readable in {OLD}: reading Parquet needs pyarrow" in r.stderr, r.stderr
    assert f"inputs: {tmp / 'inputs.parquet'} read in host" in r.stderr, r.stderr
    np.testing.assert_array_equal(np.load(out / "cells" / "inputs.npy"), rows)
    # ... and every environment predicts on them, sklearn-1.5 included.
    assert re.search(rf"^{re.escape(OLD)}\s+ref: not trusted\s+0\s", r.stdout, re.M), r.stdout
    assert re.search(r"^host\s+OK_EXACT\s+0\s", r.stdout, re.M), r.stdout
    np.testing.assert_array_equal(np.load(out / "cells" / OLD / "predictions.predict.npy"), model.predict(rows))


def test_parquet_where_no_environment_has_pyarrow_is_a_clear_error(made, tmp_path):
    tmp, _, _ = made
    r = crossload("check", tmp / "p4.pkl", "--inputs", tmp / "inputs.parquet", "--matrix", QUICK, "--env", OLD,
                  "--out", tmp_path / "o")
    assert r.returncode == 3, r.stdout + r.stderr
    assert f"{tmp / 'inputs.parquet'}: no environment could read it; in {OLD}: reading Parquet needs pyarrow, " \
           "which is not importable in this environment" in r.stderr, r.stderr
    assert r.stdout == ""


def test_no_environment_has_the_recorded_version_so_the_first_that_loads_it_gives_the_reference(made, tmp_path):
    tmp, _, _ = made
    r = crossload("check", tmp / "p5.pkl", "--inputs", tmp / "inputs.npy", *NEWEST_FIRST, "--json",
                  "--out", tmp_path / "o")
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["recorded_versions"] == ["1.3.0"]
    # sklearn-1.5 comes first but cannot unpickle numpy 2's protocol 5: host gives the reference.
    assert doc["reference"]["note"] == "reference computed in host: no environment has the recorded scikit-learn " \
                                       "1.3.0 with numpy 2.x, so the first that loads it was used; a different " \
                                       "version: not trusted"
    assert doc["reference"]["rebuilt"] == {
        "spec": None, "status": "failed",
        "reason": "the artifact records scikit-learn 1.3.0 with numpy 2.x, a stack that was never released: "
                  "scikit-learn 1.3 was never built against numpy 2 (1.4.2 is the first release that supports it)"}
    assert doc["reference"]["trusted"] is False
    envs = {e["name"]: e for e in doc["environments"]}
    assert (envs[OLD]["outcome"], envs[OLD]["reference"]) == ("LOAD_ERROR", False)
    assert (envs["host"]["outcome"], envs["host"]["reference"], envs["host"]["reference_trusted"]) == \
        ("OK_EXACT", True, False)
    assert "1.3.0" in [w.get("original_sklearn_version") for w in envs["host"]["warnings"]]
