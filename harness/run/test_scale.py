"""End-to-end: the scheduler (--jobs), incremental runs (reuse, --rerun) and a consumer worker
killed mid-request, with the real crossload binary, worker and scikit-learn on a small host-only
matrix. The test-only fixtures come from a module written per test (CROSSLOAD_EXTRA_FIXTURES),
so a test can change one recipe between two runs.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
VENV_PYTHON = str(ROOT / ".venv" / "bin" / "python")
WRAPPED_TREE = ROOT / "harness" / "run" / "testdata" / "wrapped_tree.py"
FORMATS = ["pickle-p5", "joblib", "skops"]

RECIPES = '''
import os
import time

from fixtures import datasets, zoo
from wrapped_tree import WrappedTree


class SlowToLoad(WrappedTree):
    """A tree whose loading, anywhere but in the process that dumped it, first sleeps."""

    def __reduce__(self):
        return wake, (self.tree, os.getpid())


def wake(tree, dumped_by):
    if os.getpid() != dumped_by:
        import tempfile

        # Held open while it sleeps: how the test tells this load from any other child of a worker.
        with tempfile.NamedTemporaryFile(prefix="crossload-slow-load-"):
            time.sleep(6)
    return tree


def scale_tree_a():
    from sklearn.tree import DecisionTreeClassifier

    return (DecisionTreeClassifier(random_state=0, max_depth=DEPTH_A),) + datasets.split(*datasets.iris())


def scale_tree_b():
    from sklearn.linear_model import LogisticRegression

    return (LogisticRegression(max_iter=500),) + datasets.split(*datasets.iris())


def scale_slow_to_load():
    return (SlowToLoad(),) + datasets.split(*datasets.iris())


FIXTURES = (
    zoo.Fixture("scale_tree_a", "test only: a tree whose depth a test changes", ("predict",), scale_tree_a,
                tags=("test-only",), cv=False),
    zoo.Fixture("scale_tree_b", "test only: a logistic regression", ("predict",), scale_tree_b,
                tags=("test-only",), cv=False),
    zoo.Fixture("scale_slow_to_load", "test only: sleeps while loading", ("predict",), scale_slow_to_load,
                tags=("test-only",), cv=False),
)
'''


def write_recipes(tmp_path, depth_a=3):
    path = tmp_path / "scale_fixtures.py"
    path.write_text(RECIPES.replace("DEPTH_A", str(depth_a)))
    shutil.copy(WRAPPED_TREE, tmp_path / "wrapped_tree.py")  # the recipes' base class, beside them
    return path


def write_matrix(tmp_path, fixtures=("scale_tree_a", "scale_tree_b"), formats=FORMATS):
    path = tmp_path / "m.toml"
    path.write_text(f"""
[matrix]
name = "scale"
fixtures = {json.dumps(list(fixtures))}
formats = {json.dumps(list(formats))}
producers = ["host"]
consumers = ["host"]
cell_timeout = 30

[env.host]
provider = "host"
python = "{VENV_PYTHON}"
""")
    return path


def crossload(tmp_path, *args, check=True):
    env = dict(os.environ, CROSSLOAD_EXTRA_FIXTURES=str(tmp_path / "scale_fixtures.py"))
    proc = subprocess.run([BIN, "run", "--no-sandbox", "--report", "json", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"crossload {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def cells(out):
    doc = json.loads((out / "results.json").read_text())
    return {c["id"]: c for c in doc["cells"]}


def store_rows(out, sql):
    con = sqlite3.connect(f"file:{out / 'results.db'}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def trained_at(out, fixture):
    """When the producer last trained `fixture`: training writes its inputs.npy."""
    return (out / "artifacts" / "host" / fixture / "inputs.npy").stat().st_mtime_ns


def outcomes(by_id):
    return {i: c["outcome"] for i, c in by_id.items()}


def test_two_jobs_give_the_same_cells_as_one(tmp_path):
    write_recipes(tmp_path)
    m = write_matrix(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    crossload(tmp_path, "--matrix", m, "--out", one, "--jobs", "1")
    proc = crossload(tmp_path, "--matrix", m, "--out", two, "--jobs", "2", "--verbose")
    assert len(cells(one)) == 2 * len(FORMATS)
    assert outcomes(cells(two)) == outcomes(cells(one))
    assert set(outcomes(cells(one)).values()) == {"OK_EXACT"}
    # Two jobs and one consumer environment: a second consumer worker joined the first.
    assert "starting consumer worker #1 of host" in proc.stderr
    assert "could not start" not in proc.stderr
    assert (two / "logs" / "host.consumer-1.worker.log").exists()


def test_second_run_reuses_every_cell_and_trains_nothing(tmp_path):
    write_recipes(tmp_path)
    m, out = write_matrix(tmp_path), tmp_path / "out"
    crossload(tmp_path, "--matrix", m, "--out", out)
    first = cells(out)
    stamps = {f: trained_at(out, f) for f in ("scale_tree_a", "scale_tree_b")}
    started = time.monotonic()
    proc = crossload(tmp_path, "--matrix", m, "--out", out)
    second = cells(out)
    assert f"{len(first)} reused from earlier runs, 0 computed" in proc.stdout
    assert outcomes(second) == outcomes(first)  # the report still shows every cell
    assert all(c["reused_from_run"] == 1 for c in second.values())
    assert {f: trained_at(out, f) for f in stamps} == stamps
    assert store_rows(out, "select count(*) from cells where run_id = 2 and reused_from = 1") == [(len(first),)]
    assert time.monotonic() - started < 60


def test_a_changed_recipe_reruns_only_its_cells(tmp_path):
    write_recipes(tmp_path, depth_a=3)
    m, out = write_matrix(tmp_path), tmp_path / "out"
    crossload(tmp_path, "--matrix", m, "--out", out)
    b_trained = trained_at(out, "scale_tree_b")
    write_recipes(tmp_path, depth_a=2)
    proc = crossload(tmp_path, "--matrix", m, "--out", out)
    second = cells(out)
    computed = {i for i, c in second.items() if "reused_from_run" not in c}
    assert computed == {f"scale_tree_a/{f}/host/host" for f in FORMATS}
    assert f"{len(FORMATS)} reused from earlier runs, {len(FORMATS)} computed" in proc.stdout
    assert trained_at(out, "scale_tree_b") == b_trained
    assert all(c["outcome"] == "OK_EXACT" for c in second.values())


def test_rerun_computes_every_cell_again(tmp_path):
    write_recipes(tmp_path)
    m, out = write_matrix(tmp_path), tmp_path / "out"
    crossload(tmp_path, "--matrix", m, "--out", out)
    stamp = trained_at(out, "scale_tree_a")
    proc = crossload(tmp_path, "--matrix", m, "--out", out, "--rerun")
    assert "reused" not in proc.stdout
    assert not any("reused_from_run" in c for c in cells(out).values())
    assert trained_at(out, "scale_tree_a") > stamp
    # ... and the run after it reuses again: --rerun stored fresh keys.
    again = crossload(tmp_path, "--matrix", m, "--out", out)
    assert f"{2 * len(FORMATS)} reused from earlier runs" in again.stdout
    assert {c["reused_from_run"] for c in cells(out).values()} == {2}


def worker_with_a_load_in_flight(root_pid):
    """The consumer worker while the slow load sleeps in its child: the parent of the process
    holding the load's marker file open, if that parent is crossload's child."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            held = [os.readlink(f) for f in (d / "fd").iterdir()]
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            grandparent = int((Path("/proc") / str(ppid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if grandparent == root_pid and any("crossload-slow-load-" in h for h in held):
            return ppid
    return None


def test_a_worker_killed_mid_request_is_restarted_once_and_its_cell_recorded(tmp_path):
    write_recipes(tmp_path)
    m = write_matrix(tmp_path, fixtures=("scale_slow_to_load", "scale_tree_b"), formats=["pickle-p5"])
    out = tmp_path / "out"
    env = dict(os.environ, CROSSLOAD_EXTRA_FIXTURES=str(tmp_path / "scale_fixtures.py"))
    proc = subprocess.Popen([BIN, "run", "--no-sandbox", "--report", "json", "--jobs", "1", "--matrix", str(m),
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    streams = {}
    readers = [threading.Thread(target=lambda k, s: streams.__setitem__(k, s.read()), args=(k, s))
               for k, s in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    killed, deadline = None, time.time() + 120
    while killed is None and proc.poll() is None and time.time() < deadline:
        worker = worker_with_a_load_in_flight(proc.pid)
        if worker:
            os.kill(worker, 9)  # a process this test started, through crossload
            killed = worker
        time.sleep(0.1)
    proc.wait(timeout=300)
    for r in readers:
        r.join()
    assert killed, "never saw the consumer worker with a load in flight"
    assert proc.returncode == 0, streams["err"]
    by_id = cells(out)
    slow = by_id["scale_slow_to_load/pickle-p5/host/host"]
    assert slow["outcome"] == "CRASH"
    assert slow["detail"]["signal"] == 9 and "killed by signal 9" in slow["detail"]["message"]
    assert streams["err"].count("consumer worker restarted") == 1
    # The revived worker loads the next artifact; the killed cell is recorded once, not retried.
    assert by_id["scale_tree_b/pickle-p5/host/host"]["outcome"] == "OK_EXACT"
    assert store_rows(out, "select count(*) from cells") == [(2,)]
