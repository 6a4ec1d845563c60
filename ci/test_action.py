"""action.yml: its check step (ci/action/check) run here with the inputs the action passes it as
INPUT_* variables, against the real crossload binary; and actionlint (with shellcheck) on a
workflow that uses the action and on the GitHub templates of ci/templates."""
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "ci" / "action" / "check"


class SystemCall:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def action():
    return yaml.safe_load((ROOT / "action.yml").read_text())


def check_step():
    return next(s for s in action()["runs"]["steps"] if s.get("id") == "check")


def run_check(workdir, crossload_bin, **inputs):
    """ci/action/check as the action runs it: each input as INPUT_<NAME>, defaults from action.yml."""
    env = dict(os.environ, PATH=f"{Path(crossload_bin).parent}:{os.environ['PATH']}",
               GITHUB_STEP_SUMMARY=str(workdir / "summary.md"), GITHUB_OUTPUT=str(workdir / "output.txt"))
    for name, spec in action()["inputs"].items():
        env["INPUT_" + name.upper().replace("-", "_")] = str(inputs.get(name.replace("-", "_"), spec.get("default", "")))
    return subprocess.run(["bash", str(CHECK)], cwd=workdir, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture
def models(tmp_path, trained):
    model, X = trained("iris_logistic_regression")
    (tmp_path / "models" / "sub").mkdir(parents=True)
    joblib.dump(model, tmp_path / "models" / "sub" / "good.joblib")
    np.save(tmp_path / "X.npy", X[:8])
    return tmp_path


def test_the_step_reads_exactly_the_inputs_the_action_passes():
    passed = set(check_step()["env"])
    read = set(re.findall(r"\bINPUT_[A-Z_]+", CHECK.read_text())) - {"INPUT_REPORT"}
    assert read == passed
    assert {"INPUT_" + n.upper().replace("-", "_") for n in action()["inputs"]} == passed


def test_an_unsafe_model_fails_the_job_with_the_finding_in_summary_and_sarif(models, crossload_bin):
    (models / "models" / "evil.pkl").write_bytes(pickle.dumps(SystemCall(), protocol=4))
    r = run_check(models, crossload_bin, models="models/**/*.*")
    assert r.returncode == 1, r.stdout + r.stderr
    summary = (models / "summary.md").read_text()
    assert "UNSAFE" in summary and "posix.system" in summary and "good.joblib" in summary  # os.system pickles as posix.system
    sarif = json.loads((models / "crossload.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert any("evil.pkl" in json.dumps(res) for res in sarif["runs"][0]["results"])
    outputs = (models / "output.txt").read_text()
    assert "sarif=crossload.sarif" in outputs and "report=report.md" in outputs
    # fail-on: never reports the same and passes.
    assert run_check(models, crossload_bin, models="models/**/*.*", fail_on="never").returncode == 0


def test_with_inputs_each_model_is_checked_in_the_environments(models, crossload_bin, sandbox):
    host = f"python:{sys.executable}"
    r = run_check(models, crossload_bin, models="models/**/*.joblib", inputs="X.npy", envs=host)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = (models / "summary.md").read_text()
    assert "loads and predictions" in summary and "OK_EXACT" in summary and host in summary
    # inspect-only skips the loads.
    r = run_check(models, crossload_bin, models="models/**/*.joblib", inputs="X.npy", envs=host, inspect_only="true")
    assert r.returncode == 0 and "loads and predictions" not in (models / "report.md").read_text()


def test_a_glob_without_match_and_a_bad_fail_on_are_errors(models, crossload_bin):
    r = run_check(models, crossload_bin, models="nothing/*.pkl")
    assert r.returncode == 3 and "no file matches models: nothing/*.pkl" in r.stderr
    r = run_check(models, crossload_bin, models="models/**/*.joblib", fail_on="sometimes")
    assert r.returncode == 2 and "fail-on" in r.stderr


def actionlint():
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip()
    found = shutil.which("actionlint") or (gopath and shutil.which("actionlint", path=f"{gopath}/bin"))
    assert found, "no actionlint: ci/setup installs it (go install github.com/rhysd/actionlint/cmd/actionlint)"
    assert shutil.which("shellcheck"), "no shellcheck: ci/setup installs it (apt-get install shellcheck)"
    return found


def test_actionlint_passes_the_templates_and_a_workflow_using_the_action(tmp_path):
    lint = actionlint()
    # A repository whose workflow uses the action locally: actionlint checks the inputs it is given
    # against action.yml and shellchecks the workflow's scripts.
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(ROOT / "action.yml", repo / "action.yml")
    (repo / ".github" / "workflows" / "models.yml").write_text((ROOT / "ci" / "templates" / "github-action.yml").read_text()
                                                              .replace("your-org/crossload@main", "./"))
    r = subprocess.run([lint, "-shellcheck", "shellcheck"], cwd=repo, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # A wrong input name is caught, so the check above can fail.
    (repo / ".github" / "workflows" / "models.yml").write_text(
        (repo / ".github" / "workflows" / "models.yml").read_text().replace("fail-on:", "fail_on:"))
    assert subprocess.run([lint], cwd=repo, capture_output=True).returncode != 0
    templates = sorted(str(p) for p in (ROOT / "ci" / "templates").glob("github-*.yml"))
    r = subprocess.run([lint, "-shellcheck", "shellcheck", *templates], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_shellcheck_passes_the_action_scripts():
    actionlint()
    scripts = [str(ROOT / "ci" / "action" / n) for n in ("install", "check")]
    r = subprocess.run(["shellcheck", "-s", "bash", *scripts], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
