"""A dump that takes the producer's worker down (a crash here; a timeout under emulation ends the
same way) loses that format only: the worker is restarted, the fixture trained again, and the
formats after it are dumped and loaded as usual. Before, every later format of the fixture failed
with "fixture ... is not trained in this worker" (seen in the full matrix run on trixie-armhf)."""
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
FIXTURES = ROOT / "harness" / "run" / "testdata" / "dying_dump_fixtures.py"


def test_the_formats_after_a_dump_that_killed_the_worker_are_dumped_and_loaded(tmp_path, host_matrix):
    matrix = host_matrix(tmp_path / "m.toml", ["dies_on_protocol_4"], ["pickle-p5", "pickle-p4"], name="restart")
    out = tmp_path / "out"
    proc = subprocess.run([BIN, "run", "--matrix", matrix, "--out", out], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, CROSSLOAD_EXTRA_FIXTURES=str(FIXTURES)))
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    cells = {c["format"]: c for c in json.loads((out / "results.json").read_text())["cells"]}
    assert cells["pickle-p5"]["outcome"] == "OK_EXACT", cells["pickle-p5"]
    dead = cells["pickle-p4"]
    assert dead["outcome"] == "UNSUPPORTED" and "worker" in dead["detail"]["message"], dead
    assert "not trained" not in json.dumps(cells)
