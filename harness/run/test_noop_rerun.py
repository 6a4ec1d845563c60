"""End to end: a rerun whose every cell is reusable starts no worker (harness/run/known_envs.h).

The first run computes the matrix and keeps each environment's fingerprint and the fixture list
in the cache directory; a rerun into the same --out then finds every cell's key without asking a
worker. --rerun, or a cache directory that knows nothing, starts the workers again.
"""
import json

from test_run import crossload, write_matrix

NO_WORKER = "every cell reused: no worker started"


def environments(out):
    return {e["name"]: e for e in json.loads((out / "results.json").read_text())["environments"]}


def cells(out):
    return json.loads((out / "results.json").read_text())["cells"]


def test_a_rerun_with_every_cell_reusable_starts_no_worker(tmp_path):
    matrix = write_matrix(tmp_path, fixtures='["iris_decision_tree_classifier", "iris_kmeans"]',
                          formats='["pickle-p5", "cloudpickle"]')
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = crossload("run", "--matrix", matrix, "--out", out, "--cache-dir", cache, "--verbose")
    assert NO_WORKER not in first.stderr
    assert list((cache / "fingerprints").glob("env-*.json")) and list((cache / "fingerprints").glob("list-*.json"))
    first_envs = environments(out)

    again = crossload("run", "--matrix", matrix, "--out", out, "--cache-dir", cache, "--verbose")
    assert NO_WORKER in again.stderr
    assert "host: ready in" not in again.stderr  # no worker started
    assert all(c.get("reused_from_run") == 1 for c in cells(out)) and len(cells(out)) == 4
    # The run records the environment as the workers would have: same fingerprint, same place.
    envs = environments(out)
    assert envs["host"]["fingerprint"] == first_envs["host"]["fingerprint"]
    assert envs["host"]["status"] == "ok" and envs["host"]["where"] == first_envs["host"]["where"]

    # A cache directory that knows nothing, or --rerun, asks the workers.
    fresh_cache = crossload("run", "--matrix", matrix, "--out", out, "--cache-dir", tmp_path / "other",
                            "--verbose")
    assert NO_WORKER not in fresh_cache.stderr and "host: ready in" in fresh_cache.stderr
    rerun = crossload("run", "--matrix", matrix, "--out", out, "--cache-dir", cache, "--rerun", "--verbose")
    assert NO_WORKER not in rerun.stderr and all("reused_from_run" not in c for c in cells(out))


def test_a_rerun_that_needs_a_cell_starts_the_workers_then(tmp_path):
    matrix = write_matrix(tmp_path, fixtures='["iris_decision_tree_classifier"]', formats='["pickle-p5"]')
    out, cache = tmp_path / "out", tmp_path / "cache"
    crossload("run", "--matrix", matrix, "--out", out, "--cache-dir", cache)
    wider = write_matrix(tmp_path, fixtures='["iris_decision_tree_classifier"]',
                         formats='["pickle-p5", "cloudpickle"]')
    proc = crossload("run", "--matrix", wider, "--out", out, "--cache-dir", cache, "--verbose")
    assert NO_WORKER not in proc.stderr and "host: ready in" in proc.stderr
    by_format = {c["format"]: c for c in cells(out)}
    assert by_format["pickle-p5"].get("reused_from_run") == 1
    assert by_format["cloudpickle"]["outcome"].startswith("OK_") and "reused_from_run" not in by_format["cloudpickle"]
