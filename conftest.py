"""Shared pytest set-up: one thread per native library, each zoo model trained once per session,
the crossload binary a test drives, and whether bwrap can build a sandbox here."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

# Under CI a skipped test fails unless ci/allowed-skips lists it.
pytest_plugins = ("ci.skips",)

# Before numpy or scikit-learn load their OpenMP/BLAS runtimes (they read these once): on the
# 2 shared cores an oversubscribed OpenMP spin-waits, and HGB tests took 30 s instead of 0.1 s.
# Worker subprocesses started by the tests inherit them.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


@pytest.fixture(scope="session")
def trained():
    """trained(name) -> (fitted model, X_predict), fitted once per session."""
    from fixtures import zoo

    cache = {}

    def get(name):
        if name not in cache:
            model, X, y, X_predict = zoo.get(name).build()
            cache[name] = (model.fit(X, y), X_predict)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def crossload_bin():
    """$CROSSLOAD_BIN, else the newest `crossload` in a build directory of the tree."""
    if os.environ.get("CROSSLOAD_BIN"):
        return os.environ["CROSSLOAD_BIN"]
    found = [p for p in ROOT.glob("build*/crossload") if os.access(p, os.X_OK)]
    if not found:
        pytest.fail("no crossload binary: build it (meson setup build && ninja -C build) or set CROSSLOAD_BIN")
    return str(max(found, key=lambda p: p.stat().st_mtime))


@pytest.fixture(scope="session")
def sandbox():
    """Skips the test where bwrap cannot build a sandbox (no user namespaces, say)."""
    try:
        works = subprocess.run(["bwrap", "--unshare-net", "--ro-bind", "/", "/", "true"],
                               capture_output=True, timeout=30).returncode == 0
    except OSError:
        works = False
    if not works:
        pytest.skip("bwrap cannot build a sandbox on this machine")


@pytest.fixture(scope="session")
def host_matrix():
    """host_matrix(path, fixtures, formats, name="test") -> path: writes a matrix whose one
    environment, `host`, is the tree's .venv, producing and consuming."""
    import json

    def write(path, fixtures, formats, name="test"):
        path.write_text(f"""
[matrix]
name = "{name}"
fixtures = {json.dumps(list(fixtures))}
formats = {json.dumps(list(formats))}
producers = ["host"]
consumers = ["host"]

[env.host]
provider = "host"
python = "{ROOT / '.venv' / 'bin' / 'python'}"
""")
        return path

    return write
