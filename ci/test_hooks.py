""".pre-commit-hooks.yaml through the real pre-commit (PyPI) in a throw-away git repository:
staging a pickle that calls os.system is refused with the finding, a benign model passes, and the
hook looks only at model files."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
HOOK = "crossload-inspect-system"  # crossload-inspect proper pip-installs this repository first: ci/test-wheel


class SystemCall:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.fixture
def repo(tmp_path, crossload_bin):
    r = tmp_path / "repo"
    r.mkdir()
    subprocess.run(["git", "init", "-q", str(r)], check=True)
    env = dict(os.environ, PATH=f"{Path(crossload_bin).parent}:{os.environ['PATH']}",
               PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    return r, env


def try_repo(repo_dir, env, *files):
    subprocess.run(["git", "add", *files], cwd=repo_dir, check=True, env=env)
    return subprocess.run(PRE_COMMIT + ["try-repo", str(ROOT), HOOK], cwd=repo_dir, env=env, capture_output=True,
                          text=True, timeout=300)


def test_hooks_file_declares_both_hooks_on_the_model_files():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"crossload-inspect", "crossload-inspect-system"}
    for h in hooks.values():
        assert h["entry"] == "crossload inspect --fail-on unsafe"
        for ext in ("pkl", "pickle", "joblib", "skops", "onnx", "npz"):
            assert ext in h["files"]


def test_a_pickle_calling_os_system_is_refused_with_the_finding(repo):
    repo_dir, env = repo
    (repo_dir / "model.pkl").write_bytes(pickle.dumps(SystemCall(), protocol=4))
    r = try_repo(repo_dir, env, "model.pkl")
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "Failed" in out and "UNSAFE" in out and "imports posix.system" in out, out  # os.system pickles as posix.system


def test_a_benign_model_passes_and_other_files_are_skipped(repo, trained):
    repo_dir, env = repo
    model, _ = trained("iris_logistic_regression")
    (repo_dir / "model.pickle").write_bytes(pickle.dumps(model, protocol=5))
    (repo_dir / "notes.txt").write_text("os.system is not a model\n")
    r = try_repo(repo_dir, env, "model.pickle", "notes.txt")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "Passed" in out, out
