"""SIGINT and SIGTERM sent to `crossload produce` and `crossload consume` (to the pid alone): each
stops within seconds, leaves no worker behind, keeps what it finished, says so in one line and exits
130 like `run`. produce: the index lists exactly the artifacts on disk, each a whole file (the one
being dumped is removed, not left half-written under its final name). consume: the stored cells
stay, the run is marked interrupted, no report is written, and the same command continues the run
without loading the kept cells again. Real binary, real workers, host only (README, "Interrupting
a run")."""
import hashlib
import json
import re
import signal
import sqlite3

import pytest

from harness.run.test_interrupt import stopped_as_said, stored_cells
from harness.run.test_run import crossload, write_matrix

# Enough artifacts that a signal sent after the first one lands while others are still to come.
FORMATS = ["pickle-p4", "pickle-p5", "joblib", "joblib-zlib3", "cloudpickle", "skops", "dill"]


def indexed(out):
    """The index's artifacts, or [] while there is none."""
    try:
        return json.loads((out / "artifacts.json").read_text())["artifacts"]
    except (OSError, ValueError):
        return []


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_files(out):
    """Every artifact file under out/artifacts: not a manifest, a reference or the inputs."""
    return {str(p.relative_to(out)) for p in (out / "artifacts").rglob("model.*")
            if not p.name.endswith(".manifest.json") and ".ref." not in p.name}


def test_sigint_stops_produce_and_keeps_only_whole_artifacts_listed_in_its_index(tmp_path):
    matrix = write_matrix(tmp_path, fixtures='["iris_*"]', formats=json.dumps(FORMATS))
    out = tmp_path / "produced"
    argv = ["produce", "--matrix", matrix, "--env", "host", "--out", out]
    # Once a fixture is indexed and the next one's artifacts are being written.
    def next_fixture_dumping():
        listed = indexed(out)
        return listed and model_files(out) - {a["path"] for a in listed}

    said, _ = stopped_as_said(argv, next_fixture_dumping, signal.SIGINT,
                              r"interrupted by {signal}: (\d+) complete artifacts kept, listed in (.+); "
                              r"rerun the same command to produce them all")
    assert said.group(2) == str(out / "artifacts.json")
    artifacts = indexed(out)
    assert 0 < len(artifacts) == int(said.group(1)) < 7 * len(FORMATS)
    assert {a["status"] for a in artifacts} == {"ok"}  # the dump cut short is not recorded as an error
    # Each listed file whole (its sha256 as recorded), and no artifact on disk that the index lacks.
    for a in artifacts:
        for rel, digest in a["files"].items():
            assert sha256(out / rel) == digest, rel
    assert model_files(out) == {a["path"] for a in artifacts}


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("produced")
    matrix = write_matrix(tmp, fixtures='["iris_*"]', formats=json.dumps(FORMATS))
    crossload("produce", "--matrix", matrix, "--env", "host", "--out", tmp / "produced", "-q")
    return matrix, tmp / "produced"


def test_sigterm_stops_consume_keeps_its_cells_and_the_same_command_continues_the_run(produced, tmp_path):
    matrix, produced_dir = produced
    total = len(indexed(produced_dir))
    out = tmp_path / "consumed"
    db = out / "results.db"
    # One child per load (slower than a batch) leaves time to interrupt between the first cell and the last.
    argv = ["consume", "--matrix", matrix, "--env", "host", "--in", produced_dir, "--out", out, "--isolation", "cell"]
    said, _ = stopped_as_said(argv, lambda: stored_cells(db) > 0, signal.SIGTERM,
                              r"interrupted by {signal}: (\d+) cells kept in (.+); rerun the same command to continue")
    assert said.group(2) == str(db)
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT id, status FROM runs").fetchall() == [(1, "interrupted")]
        kept = c.execute("SELECT count(*) FROM cells").fetchone()[0]
        outcomes = {o for (o,) in c.execute("SELECT DISTINCT outcome FROM cells")}
    assert 0 < kept == int(said.group(1)) < total
    assert outcomes <= {"OK_EXACT", "OK_TOLERANCE"}  # the load cut short is no CRASH
    assert not (out / "results.json").exists()  # no report of a run that did not finish

    again = crossload(*argv, "-v")
    assert re.search(rf"^continuing run 1 of .+: its {kept} cells are kept$", again.stderr, re.M), again.stderr
    summary = re.search(r"^run 1: (\d+) cells in [\d.]+ s \((\d+) kept from the interrupted run\)", again.stdout, re.M)
    assert summary, again.stdout
    assert (int(summary.group(1)), int(summary.group(2))) == (total, kept)
    assert again.stderr.count("kept from the interrupted run: ") == kept
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT id, status FROM runs").fetchall() == [(1, "finished")]
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert len(cells) == total and {c["outcome"] for c in cells} <= {"OK_EXACT", "OK_TOLERANCE"}
