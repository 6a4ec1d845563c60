"""ci/tree-rss: the memory of a command's whole process tree, children included."""
import re
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parent / "tree-rss"

# A parent that holds little and a child that holds 300 MB: only the tree's sum sees the child.
CHILD = "import time; b = bytearray(300 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
PARENT = f"import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', {CHILD!r}]) + 3)"


def test_counts_the_children_and_keeps_the_exit_status(tmp_path):
    log = tmp_path / "peaks.log"
    run = subprocess.run([sys.executable, str(TOOL), "--every", "0.2", "--log", str(log), "--", sys.executable, "-c", PARENT],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 3
    peak = re.search(r"peak tree RSS: ([0-9.]+) GB \((\d+) processes\)", run.stderr)
    assert peak, run.stderr
    assert float(peak.group(1)) >= 0.30
    assert int(peak.group(2)) >= 2
    assert "tree_rss=" in log.read_text()


def test_refuses_to_run_nothing():
    run = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert "no command to run" in run.stderr
