"""`crossload produce` / `crossload consume` end to end: the real binary, worker and libraries,
on a tiny host-only matrix (two consumers with the project venv under two names)."""
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
VENV_PYTHON = str(ROOT / ".venv" / "bin" / "python")
FIXTURES = ["iris_logistic_regression", "iris_decision_tree_classifier"]
FORMATS = ["pickle-p5", "joblib", "skops"]


def write_matrix(path):
    path.write_text(f"""
[matrix]
name = "split"
fixtures = {json.dumps(FIXTURES)}
formats = {json.dumps(FORMATS)}
producers = ["host"]
consumers = ["host", "host-again"]

[env.host]
provider = "host"
python = "{VENV_PYTHON}"

[env.host-again]
provider = "host"
python = "{VENV_PYTHON}"
""")
    return path


def crossload(*args, check=True):
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"crossload {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def outcomes(out):
    doc = json.loads((out / "results.json").read_text())
    return {c["id"]: c["outcome"] for c in doc["cells"]}


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    """A produced directory, moved after producing (as a CI artifact download would)."""
    tmp = tmp_path_factory.mktemp("split")
    matrix = write_matrix(tmp / "m.toml")
    crossload("produce", "--matrix", matrix, "--env", "host", "--out", tmp / "made-here", "-q")
    moved = tmp / "elsewhere" / "downloaded"
    moved.parent.mkdir()
    shutil.move(tmp / "made-here", moved)
    return tmp, matrix, moved


def fresh_copy(produced, name):
    tmp, _, moved = produced
    copy = tmp / name
    shutil.copytree(moved, copy)
    return copy


def test_the_index_holds_only_paths_relative_to_the_directory(produced):
    tmp, _, moved = produced
    index = json.loads((moved / "artifacts.json").read_text())
    assert index["kind"] == "crossload-artifacts" and index["schema_version"] == 1
    assert index["producer"]["name"] == "host" and index["producer"]["fingerprint"]["packages"]["scikit-learn"]
    assert len(index["artifacts"]) == len(FIXTURES) * len(FORMATS)
    for a in index["artifacts"]:
        assert a["status"] == "ok", a
        assert a["path"] == f"artifacts/host/{a['fixture']}/{Path(a['path']).name}"
        assert a["path"] in a["files"] and len(a["files"]) >= 4  # model, manifest, reference(s), inputs
    for f in [moved / "artifacts.json", *moved.glob("artifacts/**/*.manifest.json")]:
        assert "made-here" not in f.read_text(), f


def test_consumers_of_a_moved_directory_merge_into_the_cells_of_a_run(produced, tmp_path):
    tmp, matrix, moved = produced
    for consumer in ["host", "host-again"]:
        proc = crossload("consume", "--matrix", matrix, "--env", consumer, "--in", moved,
                         "--out", tmp_path / consumer, "-q")
        assert f"{len(FIXTURES) * len(FORMATS)} cells" in proc.stdout
    crossload("merge", tmp_path / "host" / "results.db", tmp_path / "host-again" / "results.db",
              "--out", tmp_path / "merged")
    crossload("run", "--matrix", matrix, "--out", tmp_path / "run", "-q")
    merged, run = outcomes(tmp_path / "merged"), outcomes(tmp_path / "run")
    assert len(run) == len(FIXTURES) * len(FORMATS) * 2
    assert merged == run
    assert set(run.values()) == {"OK_EXACT"}
    # the consumer's output directory holds what it loaded: the report's paths stay valid
    db = sqlite3.connect(tmp_path / "host" / "results.db")
    paths = [p for (p,) in db.execute("select path from artifacts")]
    assert paths and all(Path(p).is_file() and str(tmp_path / "host") in p for p in paths)


def test_a_corrupt_artifact_is_named_and_the_other_cells_are_recorded(produced, tmp_path):
    copy = fresh_copy(produced, "corrupt")
    victim = copy / "artifacts" / "host" / FIXTURES[0] / "model.joblib"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    _, matrix, _ = produced
    proc = crossload("consume", "--matrix", matrix, "--env", "host", "--in", copy, "--out", tmp_path / "out",
                     check=False)
    assert proc.returncode == 3, proc.stderr
    assert f"{victim}: corrupt: sha256" in proc.stderr and str(copy / "artifacts.json") in proc.stderr
    cells = outcomes(tmp_path / "out")
    assert f"{FIXTURES[0]}/joblib/host/host" not in cells
    assert len(cells) == len(FIXTURES) * len(FORMATS) - 1
    assert set(cells.values()) == {"OK_EXACT"}


def test_a_missing_file_is_named(produced, tmp_path):
    copy = fresh_copy(produced, "missing")
    gone = copy / "artifacts" / "host" / FIXTURES[1] / "inputs.npy"
    gone.unlink()
    _, matrix, _ = produced
    proc = crossload("consume", "--matrix", matrix, "--env", "host", "--in", copy, "--out", tmp_path / "out",
                     check=False)
    assert proc.returncode == 3
    assert f"{gone}: missing (listed in {copy / 'artifacts.json'})" in proc.stderr
    assert len(outcomes(tmp_path / "out")) == len(FIXTURES) * len(FORMATS) - len(FORMATS)


def test_a_directory_without_index_is_an_error_naming_the_file(produced, tmp_path):
    _, matrix, _ = produced
    (tmp_path / "empty").mkdir()
    proc = crossload("consume", "--matrix", matrix, "--env", "host", "--in", tmp_path / "empty",
                     "--out", tmp_path / "out", check=False)
    assert proc.returncode == 3
    assert f"{tmp_path / 'empty' / 'artifacts.json'}: missing" in proc.stderr
    assert not (tmp_path / "out" / "results.db").exists()


def test_an_index_of_another_schema_version_is_refused(produced, tmp_path):
    copy = fresh_copy(produced, "future")
    index = json.loads((copy / "artifacts.json").read_text())
    index["schema_version"] = 99
    (copy / "artifacts.json").write_text(json.dumps(index))
    _, matrix, _ = produced
    proc = crossload("consume", "--matrix", matrix, "--env", "host", "--in", copy, "--out", tmp_path / "out",
                     check=False)
    assert proc.returncode == 3
    assert f"{copy / 'artifacts.json'}: made by crossload" in proc.stderr
    assert "schema version 99" in proc.stderr and "reads version 1" in proc.stderr


def test_an_index_path_leaving_the_directory_is_refused(produced, tmp_path):
    copy = fresh_copy(produced, "escape")
    index = json.loads((copy / "artifacts.json").read_text())
    a = index["artifacts"][0]
    a["files"]["../../etc/passwd"] = "0" * 64
    (copy / "artifacts.json").write_text(json.dumps(index))
    _, matrix, _ = produced
    proc = crossload("consume", "--matrix", matrix, "--env", "host", "--in", copy, "--out", tmp_path / "out",
                     check=False)
    assert proc.returncode == 3
    assert "artifacts[0]: file '../../etc/passwd' is not inside the directory" in proc.stderr


def test_an_environment_outside_the_role_is_an_error_naming_the_matrix(produced, tmp_path):
    _, matrix, moved = produced
    proc = crossload("produce", "--matrix", matrix, "--env", "host-again", "--out", tmp_path / "p", check=False)
    assert proc.returncode == 2  # a bad command line
    assert f"{matrix}: 'host-again' is not one of the [matrix] producers (host)" in proc.stderr


def test_the_consumer_audits_the_copies_instead_of_trusting_the_producers_verdict(produced, tmp_path):
    """An artifact swapped after producing, with an index rewritten to match, is still refused."""
    import hashlib
    import pickle

    copy = fresh_copy(produced, "swapped")
    rel = f"artifacts/host/{FIXTURES[0]}/model.p5.pkl"
    evil = pickle.dumps(os.system, protocol=5)  # what an unsafe artifact imports
    (copy / rel).write_bytes(evil)
    index = json.loads((copy / "artifacts.json").read_text())
    entry = next(a for a in index["artifacts"] if a["path"] == rel)
    entry["files"][rel] = entry["sha256"] = hashlib.sha256(evil).hexdigest()
    assert entry["manifest"]["audit"]["verdict"] == "SAFE"  # what the producer saw
    (copy / "artifacts.json").write_text(json.dumps(index))
    _, matrix, _ = produced
    crossload("consume", "--matrix", matrix, "--env", "host", "--in", copy, "--out", tmp_path / "out", "-q")
    cells = outcomes(tmp_path / "out")
    assert cells[f"{FIXTURES[0]}/pickle-p5/host/host"] == "BLOCKED"
    assert sum(o == "OK_EXACT" for o in cells.values()) == len(FIXTURES) * len(FORMATS) - 1


PLANNED = {f"{f}/{fmt}/host/{c}" for f in FIXTURES for fmt in FORMATS for c in ["host", "host-again"]}


@pytest.fixture(scope="module")
def shards(produced):
    """Both halves of the matrix by `run --shard K/2` and by `produce --shard K/2`, and the merge."""
    tmp, matrix, _ = produced
    runs, made = {}, {}
    for k in (1, 2):
        crossload("run", "--matrix", matrix, "--shard", f"{k}/2", "--out", tmp / f"run-{k}", "-q")
        runs[k] = outcomes(tmp / f"run-{k}")
        crossload("produce", "--matrix", matrix, "--env", "host", "--shard", f"{k}/2", "--out", tmp / f"made-{k}", "-q")
        made[k] = json.loads((tmp / f"made-{k}" / "artifacts.json").read_text())["artifacts"]
    crossload("merge", tmp / "run-1" / "results.db", tmp / "run-2" / "results.db", "--out", tmp / "merged")
    plan = crossload("plan", "--matrix", matrix, "--shards", "2").stdout
    return runs, made, outcomes(tmp / "merged"), plan


def test_run_shards_partition_the_plan_by_fixture(shards):
    runs, _, _, plan = shards
    assert runs[1] and runs[2]
    assert not set(runs[1]) & set(runs[2])
    assert set(runs[1]) | set(runs[2]) == PLANNED
    fixtures = {k: {cell.split("/")[0] for cell in runs[k]} for k in (1, 2)}
    assert not fixtures[1] & fixtures[2]  # a fixture is trained in one shard only
    for k in (1, 2):
        assert f"shard {k}/2: 1 fixture×producer pairs, {len(runs[k])} cells" in plan


def test_merged_shards_are_the_whole_run(shards):
    runs, _, merged, _ = shards
    assert merged == {**runs[1], **runs[2]}
    assert set(merged) == PLANNED and set(merged.values()) == {"OK_EXACT"}


def test_produce_shards_persist_what_run_shards_train(shards):
    runs, made, _, _ = shards
    for k in (1, 2):
        produced = {(a["fixture"], a["format"]) for a in made[k]}
        trained = {tuple(cell.split("/")[:2]) for cell in runs[k]}
        assert produced == trained, k
    assert len(made[1]) + len(made[2]) == len(FIXTURES) * len(FORMATS)
