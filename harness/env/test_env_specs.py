"""Environments named on the command line by their spec (harness/env/env_text.h), with the real
binary and real environments, from an empty directory with no matrix file.

- `check --env debian:bookworm/s390x --env pip:scikit-learn==1.5.2`: the rootfs is the cache
  entry matrix/quick.toml's bookworm-s390x uses (no second one is built), the venv is built.
- A pip environment asking for a Python this machine lacks (pyenv hidden, PATH without it) gets
  it from the Debian suite whose python3 it is, running natively; a version no suite has is an
  error listing the versions that exist.

Environments are cached in the user's crossload cache (or $CROSSLOAD_CACHE_DIR), shared with the
other tests: the first run builds them (a few minutes), later ones take seconds.
"""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import joblib
import numpy as np
import pytest

BUILD_TIMEOUT = 1500
ROOT = Path(__file__).resolve().parents[2]


def cache_dir():
    if os.environ.get("CROSSLOAD_CACHE_DIR"):
        return Path(os.environ["CROSSLOAD_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ.get("HOME", "/tmp"), ".cache")
    return Path(base) / "crossload"


def entries(prefix):
    envs = cache_dir() / "envs"
    return sorted(p.name for p in envs.glob(prefix + "-*")) if envs.exists() else []


def matrix_entry(crossload_bin, name, cwd):
    """The cache entry `env list` names for the default matrix's environment `name`."""
    r = run(crossload_bin, ["env", "list", "--matrix", str(ROOT / "matrix" / "quick.toml")], cwd)
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.split()[:1] == [name])
    found = re.search(r"\((debian-[^)]+)\)$", row)
    assert found, row
    return found.group(1)


def run(crossload_bin, args, cwd, env=None, timeout=BUILD_TIMEOUT):
    print("+", crossload_bin, " ".join(args), f"  [host, in {cwd}]", flush=True)
    start = time.monotonic()
    r = subprocess.run([crossload_bin, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    print(f"  exit {r.returncode} after {time.monotonic() - start:.1f} s\n{r.stderr[-3000:]}", flush=True)
    return r


def without_extra_pythons(tmp_path):
    """An environment where only the system's python3 (Debian bookworm: 3.11) is found."""
    empty = tmp_path / "no-pyenv"
    empty.mkdir(exist_ok=True)
    return dict(os.environ, PATH="/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", PYENV_ROOT=str(empty))


def test_check_with_environment_specs_from_an_empty_directory(crossload_bin, trained, tmp_path, sandbox):
    work = tmp_path / "empty"
    work.mkdir()
    model, X = trained("iris_logistic_regression")
    joblib.dump(model, work / "model.joblib")
    np.save(work / "X.npy", X[:10])
    specs = ["debian:bookworm/s390x", "pip:scikit-learn==1.5.2"]
    rootfs_before = entries("debian-bookworm-s390x")
    # Neither has the host's scikit-learn the model records: without --no-rebuild-reference check
    # would add its producer's environment (harness/check/test_check_rebuild.py tests that).
    args = ["check", "model.joblib", "--inputs", "X.npy", "--json", "--env", specs[0], "--env", specs[1],
            "--no-rebuild-reference"]
    r = run(crossload_bin, args, work)
    assert r.returncode in (0, 1), r.stderr
    report = json.loads(r.stdout)
    assert [e["name"] for e in report["environments"]] == specs
    outcomes = {e["name"]: e["outcome"] for e in report["environments"]}
    assert "ENV_UNAVAILABLE" not in outcomes.values(), report
    versions = {e["name"]: e["versions"] for e in report["environments"]}
    assert "scikit-learn 1.5.2" in versions[specs[1]]
    assert "scikit-learn 1.2" in versions[specs[0]]  # bookworm's own
    # The spec used the very entry the default matrix's bookworm-s390x table names (its key, as
    # `env list` prints it once built), and built no other: an entry of an older key (a format
    # since added a Debian package) may sit in the shared cache beside it.
    after = entries("debian-bookworm-s390x")
    matrix_key = matrix_entry(crossload_bin, "bookworm-s390x", work)
    assert matrix_key in after, (matrix_key, after)
    assert set(after) - set(rootfs_before) <= {matrix_key}, (rootfs_before, after)
    assert not (work / "crossload-check" / "cells" / "debian:bookworm").exists()  # file names hold no '/'


def test_a_python_the_machine_lacks_comes_from_the_debian_suite_that_has_it(crossload_bin, tmp_path):
    env = without_extra_pythons(tmp_path)
    spec = "pip:scikit-learn==1.6.1@3.13"
    r = run(crossload_bin, ["env", "build", spec], tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no python3.13 on this machine: Python from Debian trixie (amd64, native)" in r.stderr
    assert f"{spec}: ready" in r.stdout and "trixie/amd64" in r.stdout and "qemu" not in r.stdout
    info = run(crossload_bin, ["env", "info", spec, "--json"], tmp_path, env=env)
    assert info.returncode == 0, info.stderr
    out = json.loads(info.stdout)
    assert out["fingerprint"]["python"].startswith("3.13.")
    assert out["fingerprint"]["packages"]["scikit-learn"] == "1.6.1"
    assert out["emulated"] is False and "trixie/amd64" in out["where"]


def test_a_python_no_source_has_is_an_error_listing_those_that_exist(crossload_bin, tmp_path):
    r = run(crossload_bin, ["env", "build", "pip:scikit-learn==0.24.2@3.7"], tmp_path, env=without_extra_pythons(tmp_path))
    assert r.returncode == 4
    assert "no interpreter 'python3.7'" in r.stdout
    assert "3.9 (bullseye), 3.11 (bookworm), 3.13 (trixie), 3.14 (sid)" in r.stdout
