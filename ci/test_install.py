"""`meson install` gives a crossload that works on its own: installed with --destdir, moved to
another prefix, run from an empty directory with the source tree hidden (a private mount
namespace puts an empty tmpfs over it; only the test's Python interpreter stays visible), it
finds its worker, adapters, fixtures and default matrix under <prefix>/share/crossload."""
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# The interpreter running this test: it stays visible inside the namespace (below).
VENV = Path(sys.prefix)


def meson_install(build_dir, destdir):
    r = subprocess.run(["meson", "install", "-C", str(build_dir), "--destdir", str(destdir), "--no-rebuild",
                        "--quiet"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.fixture(scope="module")
def installed(crossload_bin, tmp_path_factory):
    """<prefix>/bin/crossload after install --destdir and a move to a new prefix."""
    tmp = tmp_path_factory.mktemp("install")
    meson_install(Path(crossload_bin).parent, tmp / "dest")
    prefixes = [p.parent.parent for p in (tmp / "dest").rglob("bin/crossload")]
    assert len(prefixes) == 1, prefixes
    moved = tmp / "elsewhere" / "prefix"
    moved.parent.mkdir()
    shutil.move(str(prefixes[0]), str(moved))  # relocatable: nothing points at the install prefix
    return moved


def hidden_source_tree(argv, cwd):
    """argv run with an empty tmpfs over the source tree, the test's venv bound back in."""
    keep = Path(os.environ.get("TMPDIR", "/tmp")) / f"crossload-venv-{os.getpid()}"
    script = (f"set -e; mkdir -p {keep}; mount --bind {VENV} {keep}; mount -t tmpfs none {ROOT}; "
              f"mkdir -p {VENV}; mount --bind {keep} {VENV}; cd {cwd}; exec \"$@\"")
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"] + argv


def run_installed(installed, args, cwd, timeout=600):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSLOAD_")}
    env["CROSSLOAD_CACHE_DIR"] = str(cwd / ".cache")
    argv = hidden_source_tree([str(installed / "bin" / "crossload")] + args, cwd)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def empty_dir(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d


def test_install_lays_out_the_python_side_and_the_default_matrices(installed):
    share = installed / "share" / "crossload"
    for rel in ("harness/worker/worker.py", "formats/registry.py", "formats/onnx/adapter.py",
                "formats/onnx/native/main.cc", "fixtures/zoo.py", "matrix/quick.toml", "matrix/full.toml"):
        assert (share / rel).is_file(), rel
    assert not list(share.rglob("test_*.py"))
    # Installed, `host` is the python3 on PATH: the checkout's .venv does not exist there.
    assert 'python = "python3"' in (share / "matrix/quick.toml").read_text()
    assert "../.venv" not in (share / "matrix/quick.toml").read_text()


def test_every_runtime_file_of_the_tree_is_installed(installed):
    """meson.build lists the Python side file by file; a module added to the worker, a format or
    the fixtures without its line there breaks only installed copies (and wheels), so compare
    the install with every tracked runtime file."""
    tracked = subprocess.run(["git", "ls-files", "harness/worker", "formats", "fixtures"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    runtime = [f for f in tracked if (f.endswith(".py") or "/native/" in f or f.endswith("PROTOCOL.md"))
               and not Path(f).name.startswith(("test_", "conftest")) and not f.startswith("fixtures/hostile/")]
    assert len(runtime) > 30, runtime
    share = installed / "share" / "crossload"
    missing = [f for f in runtime if not (share / f).is_file()]
    assert not missing, f"not installed (add them to meson.build's install_data): {missing}"


def test_version_and_inspect_work_with_the_source_tree_hidden(installed, empty_dir, tmp_path):
    r = run_installed(installed, ["--version"], empty_dir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("crossload ") and "pickle-p5" in r.stdout
    model = empty_dir / "model.pkl"
    model.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
    r = run_installed(installed, ["inspect", "--format", "json", "model.pkl"], empty_dir)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["verdict"] == "SAFE"
    # The tree really is gone for the binary: a path into it is not there.
    r = run_installed(installed, ["inspect", str(ROOT / "README.md")], empty_dir)
    assert r.returncode != 0 and "README.md" in r.stderr


def test_check_from_an_empty_directory_with_the_source_tree_hidden(installed, empty_dir, trained, sandbox):
    import joblib

    model, X = trained("iris_logistic_regression")
    joblib.dump(model, empty_dir / "model.joblib")
    np.save(empty_dir / "X.npy", X[:10])
    r = run_installed(installed, ["check", "model.joblib", "--inputs", "X.npy", "--env", f"python:{sys.executable}",
                                  "--json", "-q"], empty_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    envs = json.loads(r.stdout)["environments"]
    assert [(e["name"], e["outcome"]) for e in envs] == [(f"python:{sys.executable}", "OK_EXACT")]


def test_run_of_the_installed_default_matrix_from_an_empty_directory(installed, empty_dir, sandbox):
    host = f"python:{sys.executable}"
    r = run_installed(installed, ["run", "--producers", host, "--consumers", host, "--fixtures",
                                  "iris_logistic_regression", "--formats", "pickle-p5", "--report", "json", "-q"],
                      empty_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    results = json.loads((empty_dir / "crossload-out" / "results.json").read_text())
    assert results["run"]["matrix"].endswith("share/crossload/matrix/quick.toml")
    assert [c["outcome"] for c in results["cells"]] == ["OK_EXACT"]
    assert results["cells"][0]["id"] == f"iris_logistic_regression/pickle-p5/{host}/{host}"


def test_root_override_still_wins(installed, empty_dir):
    env = dict(os.environ, CROSSLOAD_ROOT=str(empty_dir / "nowhere"))
    r = subprocess.run([str(installed / "bin" / "crossload"), "plan", "--fixtures", "iris_kmeans"], cwd=empty_dir,
                       capture_output=True, text=True, env=env, timeout=120)
    # The default matrix is looked up in the overriding root, which has none.
    assert r.returncode != 0
    assert "matrix/quick.toml" in r.stderr
