"""End-to-end: `crossload run` audits each artifact before any consumer loads it.

The producer pickles the test-only fixtures of testdata/audit_gate_fixtures.py
(CROSSLOAD_EXTRA_FIXTURES): a real tree whose pickle calls builtins.exec while it loads, and a
plain tree. The audit calls the first UNSAFE, so every consumer cell is BLOCKED and its payload
never runs; with --allow-unsafe it really loads, inside the sandbox; --allow-unsafe with
--no-sandbox is refused as a usage error.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
VENV_PYTHON = str(ROOT / ".venv" / "bin" / "python")
GATE = ROOT / "harness" / "run" / "testdata" / "audit_gate_fixtures.py"
CONSUMERS = ["host", "host_again"]


def write_matrix(tmp_path):
    path = tmp_path / "m.toml"
    envs = "".join(f'\n[env.{name}]\nprovider = "host"\npython = "{VENV_PYTHON}"\n' for name in CONSUMERS)
    path.write_text(f"""
[matrix]
name = "audit-gate"
fixtures = ["gate_*"]
formats = ["pickle-p5"]
producers = ["host"]
consumers = {json.dumps(CONSUMERS)}
{envs}""")
    return path


def markers(out):
    """Where the payload tries to write: the run directory (read-only in the sandbox) and the
    test's own directory beside it (not in the sandbox at all)."""
    return {"run_dir": out / "gate-marker.txt", "beside": out.parent / f"{out.name}-gate-marker.txt"}


def payload_lines(out, consumer):
    # Any of the consumer's workers (--jobs starts more when loads queue up).
    text = "".join(p.read_text() for p in sorted((out / "logs").glob(f"{consumer}.consumer*.worker.log")))
    return [line for line in text.splitlines() if line.startswith("audit gate payload")]


def run(tmp_path, name, *flags):
    out = tmp_path / name
    env = dict(os.environ, CROSSLOAD_EXTRA_FIXTURES=str(GATE),
               AUDIT_GATE_MARKERS=os.pathsep.join(map(str, markers(out).values())))
    proc = subprocess.run([BIN, "run", "--matrix", write_matrix(tmp_path), "--out", out, *flags],
                          capture_output=True, text=True, timeout=600, env=env)
    return out, proc


def cells(out):
    return {(c["fixture"], c["consumer"]): c for c in json.loads((out / "results.json").read_text())["cells"]}


def manifest(out, fixture):
    found = list((out / "artifacts" / "host" / fixture).glob("*.manifest.json"))
    assert len(found) == 1, found
    return json.loads(found[0].read_text())


@pytest.fixture(scope="module")
def blocked(tmp_path_factory, sandbox):
    out, proc = run(tmp_path_factory.mktemp("gate"), "blocked")
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.mark.usefixtures("sandbox")
def test_an_unsafe_artifact_is_blocked_in_every_consumer_and_never_runs(blocked):
    out, _ = blocked
    by_cell = cells(out)
    for consumer in CONSUMERS:
        cell = by_cell[("gate_exec_tree", consumer)]
        assert cell["outcome"] == "BLOCKED", cell
        assert cell["detail"]["stage"] == "audit"
        message = cell["detail"]["message"]
        assert "builtins.exec" in message and "--allow-unsafe" in message, message
        assert f"byte offset {cell['detail']['audit_offset']}" in message
        assert "measurements" not in cell or not cell["measurements"]
    for consumer in CONSUMERS:
        assert payload_lines(out, consumer) == []  # the payload never ran
    assert not any(p.exists() for p in markers(out).values())


@pytest.mark.usefixtures("sandbox")
def test_the_manifest_on_disk_carries_the_audit_that_blocked_it(blocked):
    out, _ = blocked
    audit = manifest(out, "gate_exec_tree")["audit"]
    assert audit["verdict"] == "UNSAFE" and audit["format"] == "pickle"
    errors = [f for f in audit["findings"] if f["severity"] == "error"]
    assert errors and "builtins.exec" in errors[0]["reason"]
    assert "builtins.exec" in audit["globals"]
    cell = cells(out)[("gate_exec_tree", "host")]
    assert cell["detail"]["audit_offset"] == errors[0]["offset"]
    assert cell["detail"]["audit_rule"] == errors[0]["rule"] == "CL100"


@pytest.mark.usefixtures("sandbox")
def test_a_plain_artifact_in_the_same_run_is_audited_and_loads(blocked):
    out, _ = blocked
    assert manifest(out, "gate_plain_tree")["audit"]["verdict"] in ("SAFE", "UNTRUSTED")
    for consumer in CONSUMERS:
        assert cells(out)[("gate_plain_tree", consumer)]["outcome"] == "OK_EXACT"
    html = (out / "report.html").read_text()
    assert "audit verdict <b>UNSAFE</b>" in html


@pytest.mark.usefixtures("sandbox")
def test_allow_unsafe_really_loads_it_but_only_inside_the_sandbox(tmp_path):
    out, proc = run(tmp_path, "allowed", "--allow-unsafe")
    assert proc.returncode == 0, proc.stderr
    by_cell = cells(out)
    for consumer in CONSUMERS:
        cell = by_cell[("gate_exec_tree", consumer)]
        assert cell["outcome"] == "OK_EXACT", cell
        assert "--allow-unsafe" in cell["detail"]["audit"]
    for consumer in CONSUMERS:  # it really ran, once in each consumer, and could write nothing
        lines = payload_lines(out, consumer)
        assert lines.count("audit gate payload ran") == 1, lines
        writes = [line for line in lines if ": write " in line]
        assert len(writes) == len(markers(out)) and all(": refused: " in line for line in writes), lines
    assert not any(p.exists() for p in markers(out).values())


def test_allow_unsafe_without_the_sandbox_is_a_usage_error(tmp_path):
    out, proc = run(tmp_path, "refused", "--allow-unsafe", "--no-sandbox")
    assert proc.returncode == 2
    assert "--allow-unsafe" in proc.stderr and "--no-sandbox" in proc.stderr
    assert not out.exists()  # refused before anything ran


def test_a_machine_without_a_working_sandbox_stops_run_with_exit_4(tmp_path, monkeypatch):
    """The sandbox is the machine's, not the input's: exit 4 (as for an environment), before any
    environment starts or any run is recorded."""
    no_bwrap = tmp_path / "bin"  # PATH of a machine where bubblewrap is not installed
    no_bwrap.mkdir()
    monkeypatch.setenv("PATH", str(no_bwrap))
    out, proc = run(tmp_path, "nobwrap")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "the consumer sandbox does not work on this machine: bubblewrap (bwrap) is not installed" in proc.stderr
    assert not (out / "results.db").exists() and not (out / "logs").exists()
