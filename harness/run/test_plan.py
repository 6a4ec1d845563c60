"""`crossload plan` with the slice flags of `run`: it counts the cells the same `run` line runs,
and refuses an environment the matrix does not define (no environment is built: plan is cheap)."""
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
FULL = str(ROOT / "matrix" / "full.toml")


def plan(*args):
    return subprocess.run([BIN, "plan", "--matrix", FULL, *args], capture_output=True, text=True, timeout=120)


def summary(stdout):
    m = re.search(r"(\d+) fixtures × (\d+) formats × (\d+) producers × (\d+) consumers = (\d+) cells", stdout)
    assert m, stdout
    return tuple(map(int, m.groups()))


def test_plan_counts_the_slice_run_would_run():
    whole = summary(plan().stdout)
    proc = plan("--producers", "host,bookworm-amd64", "--consumers", "bookworm-arm64,sid-s390x,sklearn-1.0",
                "--fixtures", "iris_*", "--formats", "pickle-p5,skops")
    assert proc.returncode == 0, proc.stderr
    fixtures, formats, producers, consumers, cells = summary(proc.stdout)
    assert (formats, producers, consumers) == (2, 2, 3)
    assert 0 < fixtures < whole[0]
    assert cells == fixtures * formats * producers * consumers


def test_plan_refuses_an_environment_the_matrix_lacks():
    proc = plan("--consumers", "bookworm-arm64,bookworm-arm46")
    assert proc.returncode == 2
    assert "--consumers" in proc.stderr and "bookworm-arm46" in proc.stderr and "full.toml" in proc.stderr
