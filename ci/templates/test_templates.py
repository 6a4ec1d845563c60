"""The CI templates parse, have the jobs and steps they promise, and use only commands and flags
the real crossload binary has (asked through each subcommand's --help)."""
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload"))
HERE = Path(__file__).resolve().parent
# Subcommands with subcommands of their own: the second word names the one --help is asked of.
NESTED = {"env"}


def load(name):
    return yaml.safe_load((HERE / name).read_text())


def run_scripts_github(doc):
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            if "run" in step:
                yield step["run"]


def run_scripts_gitlab(doc):
    for name, job in doc.items():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                yield from (line for line in job.get(key, []))


def crossload_calls(script):
    """(subcommand words, flags) of every `crossload ...` in a shell script."""
    text = script.replace("\\\n", " ")
    for line in text.splitlines():
        for m in re.finditer(r"(?:^|[\s;|&(])crossload\s+([^|;&>)]*)", line):
            words = shlex.split(m.group(1), posix=True) if '"' in m.group(1) or "'" in m.group(1) else m.group(1).split()
            if not words:
                continue
            sub = words[:2] if words[0] in NESTED else words[:1]
            flags = [w.split("=", 1)[0] for w in words if w.startswith("--")]
            yield tuple(sub), flags


def help_text(sub):
    proc = subprocess.run([BIN, *sub, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"crossload {' '.join(sub)} --help: {proc.returncode} {proc.stderr}"
    return proc.stdout


def check_calls(scripts):
    calls = [c for s in scripts for c in crossload_calls(s)]
    assert calls
    helps = {}
    for sub, flags in calls:
        text = helps.setdefault(sub, help_text(sub))
        for flag in flags:
            assert re.search(rf"(^|[\s,]){re.escape(flag)}\b", text), f"crossload {' '.join(sub)} has no {flag}"
    return {sub for sub, _ in calls}


def test_github_workflow_has_the_promised_jobs_and_steps():
    doc = load("github-actions.yml")
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on and "push" in on
    jobs = doc["jobs"]
    assert {"plan", "produce", "consume", "report"} <= set(jobs)
    for name, job in jobs.items():
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            assert need in jobs, f"{name} needs unknown job {need}"
    assert "--emit github" in " ".join(run_scripts_github({"jobs": {"plan": jobs["plan"]}}))
    assert "fromJSON(needs.plan.outputs.shards)" in json.dumps(jobs["produce"]["strategy"])
    runners = {c["runner"] for c in jobs["consume"]["strategy"]["matrix"]["consumer"]}
    assert {"ubuntu-24.04-arm", "ubuntu-24.04"} <= runners
    envs = {c["env"] for c in jobs["consume"]["strategy"]["matrix"]["consumer"]}
    assert "bookworm-s390x" in envs  # the QEMU consumer
    uses = lambda job: [s.get("uses", "") for s in jobs[job]["steps"]]
    for job in ("produce", "consume"):
        cache = next(s for s in jobs[job]["steps"] if s.get("uses", "").startswith("actions/cache@"))
        assert cache["with"]["path"] == "${{ env.CROSSLOAD_CACHE_DIR }}"
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses("report"))
    report = "\n".join(run_scripts_github({"jobs": {"report": jobs["report"]}}))
    assert "GITHUB_STEP_SUMMARY" in report and "crossload diff" in report and "--format sarif" in report
    uploads = [s["with"]["path"] for s in jobs["report"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert any("report.html" in p for p in uploads)


def test_gitlab_pipeline_has_the_promised_jobs_and_reports():
    doc = load("gitlab-ci.yml")
    stages = doc["stages"]
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    assert {"plan", "produce", "consume", "report"} <= set(jobs)
    for name, job in jobs.items():
        assert job["stage"] in stages, name
        for need in job.get("needs", []):
            assert need in jobs, f"{name} needs unknown job {need}"
        for parent in [job["extends"]] if isinstance(job.get("extends"), str) else job.get("extends", []):
            assert parent in doc, f"{name} extends unknown {parent}"
    assert jobs["produce"]["parallel"] == int(doc["variables"]["CROSSLOAD_SHARDS"])
    consumers = {m["CONSUMER"]: m["RUNNER_TAG"] for m in jobs["consume"]["parallel"]["matrix"]}
    assert "arm64" in consumers["arm64-native"] and "bookworm-s390x" in consumers
    assert doc[".environments-cache"]["cache"]["paths"] == [".crossload-cache/"]
    assert jobs["consume"]["artifacts"]["reports"]["junit"]
    reports = jobs["report"]["artifacts"]["reports"]
    assert reports["junit"] == "merged/junit.xml" and reports["codequality"]
    assert "merged/report.html" in jobs["report"]["artifacts"]["paths"]


def test_every_crossload_command_and_flag_in_the_templates_exists():
    used = check_calls(run_scripts_github(load("github-actions.yml")))
    used |= check_calls(run_scripts_gitlab(load("gitlab-ci.yml")))
    assert {("plan",), ("produce",), ("consume",), ("merge",), ("diff",), ("inspect",)} <= used


def test_the_checker_catches_a_flag_crossload_lacks():
    with pytest.raises(AssertionError, match="has no --no-such-flag"):
        check_calls(["crossload consume --env x --no-such-flag"])


def test_the_example_matrix_declares_the_templates_environments(tmp_path):
    proc = subprocess.run([BIN, "plan", "--matrix", str(HERE / "crossload-ci.toml"), "--shards", "4",
                           "--emit", "github"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [s["shard"] for s in json.loads(proc.stdout)["include"]] == ["1/4", "2/4", "3/4", "4/4"]
    matrix = (HERE / "crossload-ci.toml").read_text()
    for env in ("x86_64", "arm64-native", "bookworm-s390x"):
        assert f"[env.{env}]" in matrix


def test_codequality_conversion_of_a_real_inspection(tmp_path):
    import pickle

    evil = tmp_path / "model.pkl"
    evil.write_bytes(pickle.dumps(os.system, protocol=4))  # a global nobody should load
    inspected = subprocess.run([BIN, "inspect", "--format", "json", "--fail-on", "never", str(evil)],
                               capture_output=True, text=True, timeout=60)
    assert inspected.returncode == 0, inspected.stderr
    (tmp_path / "inspect.json").write_text(inspected.stdout)
    out = subprocess.run(["python3", str(HERE / "codequality.py"), str(tmp_path / "inspect.json")],
                         capture_output=True, text=True, check=True)
    issues = json.loads(out.stdout)
    assert issues and all(i["location"]["path"] == str(evil) for i in issues)
    assert any(i["severity"] == "critical" for i in issues)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
