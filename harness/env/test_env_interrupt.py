"""SIGINT sent to `crossload env build` while a pip environment is installing (to the pid alone):
pip's process group goes, the half-built environment leaves no entry in the cache (nothing a later
command would take as built, no build directory), crossload says which environment it was building
and exits 130 like `run`; the same command then builds the environment. Real binary, real venv and
pip from PyPI, into a throwaway cache (README, "Interrupting a run"). A build waiting for another
crossload's lock on the same entry stops waiting."""
import fcntl
import os
import re
import shutil
import signal
import time

from harness.run.test_interrupt import stopped_as_said
from harness.run.test_split import crossload

# A small pip environment: one `pip install` of about 15 s to interrupt, about 25 s to build again.
MATRIX = """
[matrix]
name = "env-interrupt"
fixtures = ["iris_logistic_regression"]
formats = ["pickle-p5"]
producers = ["small"]
consumers = ["small"]

[env.small]
provider = "pip"
python = "python3"
pip = ["scikit-learn==1.5.2", "numpy==1.26.4", "scipy==1.13.1"]
"""


def cache_row(matrix, cache):
    listing = crossload("env", "list", "--matrix", matrix, "--cache-dir", cache).stdout
    return next(line for line in listing.splitlines() if line.startswith("small "))


def pip_installing(cache):
    """A `pip install` into a venv under `cache` is running."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv[0].startswith(str(cache)) and argv[1:4] == ["-m", "pip", "install"]:
            return True
    return False


def test_sigint_during_a_pip_build_leaves_no_entry_and_the_same_command_builds_it(tmp_path):
    matrix = tmp_path / "m.toml"
    matrix.write_text(MATRIX)
    cache = tmp_path / "cache"
    argv = ["env", "build", "small", "--matrix", matrix, "--cache-dir", cache]
    said, stdout = stopped_as_said(argv, lambda: pip_installing(cache), signal.SIGINT,
                                   r"interrupted by {signal} while building small \(its unfinished build was removed\): "
                                   r"environments built: none; rerun the same command to build the rest", wait=120)
    assert "stopped: crossload was interrupted (process group killed)" in said.string  # pip's step
    assert "ENV_UNAVAILABLE" not in stdout
    assert list((cache / "envs").iterdir()) == []  # neither an entry nor a build directory
    assert cache_row(matrix, cache).endswith(" not built")

    again = crossload(*argv)
    assert re.search(r"^small: ready in ", again.stdout, re.M), again.stdout + again.stderr
    built = re.search(r" built in .+ \((pip-[^)]+)\)$", cache_row(matrix, cache))
    assert built

    # Waiting for another crossload that builds the same entry (its lock held here) stops too.
    shutil.rmtree(cache / "envs" / built.group(1))
    with open(cache / "locks" / f"{built.group(1)}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.monotonic()
        said, _ = stopped_as_said(argv, lambda: time.monotonic() - started > 4, signal.SIGTERM,
                                  r"interrupted by {signal} while building small .+; rerun the same command to build "
                                  r"the rest", children=False)
    assert "waiting for another crossload building" in said.string
    assert "still locked" not in said.string
