"""End to end: a rerun whose every cell is reusable starts no worker (harness/run/known_envs.h).

The first run computes the matrix and keeps each environment's fingerprint and the fixture list
in the cache directory; a rerun into the same --out then finds every cell's key without asking a
worker. --rerun, or a cache directory that knows nothing, starts the workers again.
"""
import json
import os
import shutil
import sysconfig
from pathlib import Path

from test_run import VENV_PYTHON, crossload, write_matrix

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


def own_interpreter(tmp_path):
    """A venv of its own whose interpreter is a copy (touching it touches nothing shared) and whose
    site-packages is the project venv's: a real environment that scikit-learn loads in."""
    venv = Path(VENV_PYTHON).parent.parent
    py = tmp_path / "py"
    (py / "bin").mkdir(parents=True)
    shutil.copy2(Path(VENV_PYTHON).resolve(), py / "bin" / "python")
    (py / "pyvenv.cfg").write_text((venv / "pyvenv.cfg").read_text())
    lib = f"python{sysconfig.get_python_version()}"
    (py / "lib" / lib).mkdir(parents=True)
    (py / "lib" / lib / "site-packages").symlink_to(venv / "lib" / lib / "site-packages")
    return py / "bin" / "python"


def test_touching_or_replacing_the_interpreter_starts_the_worker_again(tmp_path):
    python = own_interpreter(tmp_path)
    matrix = write_matrix(tmp_path, fixtures='["iris_decision_tree_classifier"]', formats='["pickle-p5"]')
    matrix.write_text(matrix.read_text().replace(VENV_PYTHON, str(python)))
    out, cache = tmp_path / "out", tmp_path / "cache"
    run = lambda: crossload("run", "--matrix", matrix, "--out", out, "--cache-dir", cache, "--verbose")  # noqa: E731
    run()
    assert NO_WORKER in run().stderr
    entry = next((cache / "fingerprints").glob("env-*.json"))
    kept = json.loads(entry.read_text())["identity"]

    st = python.stat()
    os.utime(python, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # touched: a rebuild in place
    touched = run()
    assert NO_WORKER not in touched.stderr and "host: ready in" in touched.stderr
    assert f"host: its workers start: {python} changed" in touched.stderr
    assert json.loads(entry.read_text())["identity"] != kept  # the fingerprint was taken again
    assert all(c.get("reused_from_run") for c in cells(out))  # same stack, same keys
    assert NO_WORKER in run().stderr

    shutil.copy2(python, tmp_path / "python.new")  # replaced: another inode
    os.replace(tmp_path / "python.new", python)
    replaced = run()
    assert NO_WORKER not in replaced.stderr and "host: ready in" in replaced.stderr


def test_changing_an_environments_pins_starts_its_worker_again(tmp_path):
    """Two pip environments of the shared cache (warm: other tests use them); the second's pins
    differ, so its fingerprint (scikit-learn 1.3.2, not 1.5.2) is not the first's."""
    def matrix(pins):
        path = write_matrix(tmp_path, fixtures='["iris_decision_tree_classifier"]', formats='["pickle-p5"]')
        text = path.read_text().replace('consumers = ["host"]', 'consumers = ["host", "pinned"]')
        path.write_text(text + f'\n[env.pinned]\nprovider = "pip"\npython = "python3"\npip = {pins}\n')
        return path
    out = tmp_path / "out"
    first = matrix('["scikit-learn==1.5.2"]')
    crossload("run", "--matrix", first, "--out", out, "--verbose")
    assert NO_WORKER in crossload("run", "--matrix", first, "--out", out, "--verbose").stderr
    sklearn = lambda: environments(out)["pinned"]["fingerprint"]["packages"]["scikit-learn"]  # noqa: E731
    assert sklearn() == "1.5.2"
    second = matrix('["scikit-learn==1.3.2", "numpy==1.26.4", "scipy==1.11.4", "cloudpickle", "skops"]')
    changed = crossload("run", "--matrix", second, "--out", out, "--verbose")
    assert NO_WORKER not in changed.stderr and "pinned: ready in" in changed.stderr
    assert sklearn() == "1.3.2"
