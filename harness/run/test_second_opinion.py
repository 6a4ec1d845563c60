"""End to end: a failure only emulation shows gets a second opinion under the other QEMU build.

The lambda pipeline cloudpickled on the host's Python 3.11 kills the loading process with SIGSEGV
on Python 3.13 (docs/findings.md: by-value code across Python versions). trixie-armhf (Python
3.13 under qemu-arm) is its emulated consumer here and the host its native one, which loads it
fine: the CRASH is seen only under emulation, so the real `crossload run` loads it once more
under the other QEMU build (armhf prefers the system's 7.2; the other is trixie's 10.0, which
ci/setup unpacks with ci/fetch-qemu) and records that the crash reproduced — the Python version,
not the emulator. Real artifacts, real rootfs, both real emulators; the trixie-armhf rootfs comes
from the environment cache (about 3 minutes to build once). About a minute warm.
"""
import json
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARMHF = "trixie-armhf"
CELL = f"lambda_pipeline/cloudpickle/host/{ARMHF}"


@pytest.fixture(scope="module")
def run(crossload_bin, tmp_path_factory, sandbox):
    out = tmp_path_factory.mktemp("second-opinion") / "out"
    cmd = [crossload_bin, "run", "--matrix", str(ROOT / "matrix" / "full.toml"), "--producers", "host",
           "--consumers", f"host,{ARMHF}", "--fixtures", "lambda_pipeline", "--formats", "cloudpickle",
           "--out", str(out), "-q"]
    print("+", " ".join(cmd), "  [host]", flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    print(f"  exit {proc.returncode} after {time.monotonic() - start:.1f} s\n{proc.stdout}{proc.stderr[-3000:]}")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr[-3000:]
    doc = json.loads((out / "results.json").read_text())
    return doc, {c["id"]: c for c in doc["cells"]}, out


def test_the_emulation_only_crash_is_reproduced_under_the_other_qemu(run):
    _, cells, _ = run
    crash = cells[CELL]
    assert crash["outcome"] == "CRASH", crash
    opinion = crash["detail"]["second_opinion"]
    assert opinion["reproduced"] is True, opinion
    assert opinion["outcome"] == "CRASH"
    assert opinion["qemu"]["build"] == "debian:trixie", opinion
    assert "version 10." in opinion["qemu"]["version"]


def test_a_cell_native_environments_load_gets_no_second_opinion(run):
    _, cells, _ = run
    native = cells["lambda_pipeline/cloudpickle/host/host"]
    assert native["outcome"].startswith("OK_"), native
    assert "second_opinion" not in native["detail"]


def test_the_emulated_fingerprint_names_its_qemu_build(run):
    doc, _, _ = run
    fp = {e["name"]: e["fingerprint"] for e in doc["environments"]}
    assert fp[ARMHF]["qemu"]["build"] == "system"
    assert fp[ARMHF]["qemu"]["version"].startswith("qemu-arm version 7.2")
    assert "qemu" not in fp["host"]


def test_the_markdown_report_marks_the_second_opinion(run):
    _, _, out = run
    assert "2nd QEMU (debian:trixie 10.0" in (out / "report.md").read_text()
