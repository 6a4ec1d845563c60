"""`run --max-workers N`: never more than N environment workers at once, whatever the matrix's
size, and the same verdicts as a run that starts every worker up front. Counted from outside, in
/proc, while the run goes: a worker is a process running harness/worker/worker.py whose parent is
not one (the sandboxed child a consumer forks per batch is part of its worker)."""
import json
import os
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
ENVS = ["a", "b", "c"]


def write_matrix(path):
    envs = "".join(f'\n[env.{e}]\nprovider = "host"\npython = "{ROOT / ".venv" / "bin" / "python"}"\n' for e in ENVS)
    path.write_text(f"""
[matrix]
name = "max-workers"
fixtures = ["iris_decision_tree_classifier", "iris_gaussian_nb"]
formats = ["pickle-p5", "skops"]
producers = {json.dumps(ENVS)}
consumers = {json.dumps(ENVS)}
{envs}""")
    return path


def processes():
    """pid -> (ppid, argv) of every process readable now."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        out[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), [a.decode(errors="replace") for a in argv])
    return out


def live_workers(root_pid):
    procs = processes()

    def is_worker(pid):
        argv = procs[pid][1]
        return any(a.endswith("harness/worker/worker.py") for a in argv) and "bwrap" not in Path(argv[0]).name

    def under_root(pid):
        seen = set()
        while pid in procs and pid not in seen:
            if pid == root_pid:
                return True
            seen.add(pid)
            pid = procs[pid][0]
        return False

    return sum(1 for pid in procs
               if is_worker(pid) and not (procs[pid][0] in procs and is_worker(procs[pid][0])) and under_root(pid))


def run(matrix, out, cache, *extra):
    """Runs crossload, sampling its live workers every 20 ms: (process, most workers seen)."""
    proc = subprocess.Popen([BIN, "run", "--matrix", matrix, "--out", out, "--cache-dir", cache, "--jobs", "2",
                             "--report", "json", "-v", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    most = [0]

    def watch():
        while proc.poll() is None:
            most[0] = max(most[0], live_workers(proc.pid))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    stdout, stderr = proc.communicate(timeout=900)
    watcher.join()
    assert proc.returncode == 0, stdout + stderr
    return stdout + stderr, most[0]


def verdicts(out):
    cells = json.loads((out / "results.json").read_text())["cells"]
    return {c["id"]: (c["outcome"], c["detail"]["outputs"]) for c in cells}


def test_a_worker_budget_keeps_to_it_and_changes_no_verdict(tmp_path):
    matrix = write_matrix(tmp_path / "m.toml")
    cache = tmp_path / "cache"  # fresh: the first capped run starts every environment to learn its fingerprint
    free_log, free_most = run(matrix, tmp_path / "free", tmp_path / "free-cache")
    first_log, first_most = run(matrix, tmp_path / "capped", cache, "--max-workers", "2")
    known_log, known_most = run(matrix, tmp_path / "known", cache, "--max-workers", "2")

    assert "fingerprints and fixture list known from earlier runs" in known_log, known_log
    # Uncapped, each of the three environments runs a producer and a consumer worker at once.
    assert free_most >= 4, free_log
    assert 1 <= first_most <= 2, first_log
    assert 1 <= known_most <= 2, known_log
    for log in (first_log, known_log):
        said = [line for line in log.splitlines() if "workers ran at once (--max-workers 2)" in line]
        assert said and int(said[0].split("at most ")[1].split()[0]) <= 2, log
    expected = verdicts(tmp_path / "free")
    assert len(expected) == 2 * 2 * 3 * 3
    assert {o for o, _ in expected.values()} == {"OK_EXACT"}
    assert verdicts(tmp_path / "capped") == expected
    assert verdicts(tmp_path / "known") == expected


def test_a_budget_of_one_runs_everything_one_worker_at_a_time(tmp_path):
    matrix = write_matrix(tmp_path / "m.toml")
    log, most = run(matrix, tmp_path / "one", tmp_path / "cache", "--max-workers", "1")
    assert most == 1, log
    lines = log.splitlines()
    trained = [i for i, line in enumerate(lines) if " worker: train " in line]
    loaded = [i for i, line in enumerate(lines) if "load_predict" in line]
    # Everything is produced before the consumers take their turns.
    assert len(trained) == 2 * 3 and len(loaded) == 36 and max(trained) < min(loaded), log
    assert {o for o, _ in verdicts(tmp_path / "one").values()} == {"OK_EXACT"}
