"""A producing environment's worker stops once it has produced every fixture of the run, while the
consumers go on loading: a matrix with many producers (matrix/full.toml: 34, most under QEMU at
300-600 MB each) no longer keeps them all resident to the end (two full.toml shards side by side
ran a 24 GB machine out of memory on 2026-12-07)."""
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))


def test_the_producer_worker_stops_after_its_last_fixture_and_every_cell_is_loaded(tmp_path, host_matrix):
    matrix = host_matrix(tmp_path / "m.toml", ["iris_decision_tree_classifier", "iris_gaussian_nb"],
                         ["pickle-p5", "joblib"], name="retire")
    out = tmp_path / "out"
    proc = subprocess.run([BIN, "run", "--matrix", matrix, "--out", out, "-v"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = (proc.stdout + proc.stderr).splitlines()
    stopped = [i for i, line in enumerate(lines) if "every fixture of the run produced; its worker stopped" in line]
    trained = [i for i, line in enumerate(lines) if "host worker: train" in line]
    assert len(stopped) == 1 and len(trained) == 2 and stopped[0] > trained[-1], "\n".join(lines)
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert sorted(c["outcome"] for c in cells) == ["OK_EXACT"] * 4
