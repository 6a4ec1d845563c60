"""Real environments, built by the real `crossload env` binary (no fakes of mmdebstrap or QEMU).

Builds a big-endian Debian rootfs (bookworm s390x under qemu-s390x) and a pip venv with an older
scikit-learn, then asks the worker inside each for its fingerprint; `env list` and `env gc` (the
latter only on a private cache directory: the user's cache is shared and never collected here). Environments are cached in
the user's crossload cache (or $CROSSLOAD_CACHE_DIR), which persists between runs on one machine:
the first run takes a few minutes, later ones seconds.

The binary: $CROSSLOAD_BIN, else the newest `crossload` in a build directory of the tree.
The environments: those of matrix/quick.toml when it has them (so CI builds each rootfs once),
else a matrix written here.
"""
import json
import pathlib
import re
import subprocess
import time
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1500  # seconds; a fresh s390x rootfs takes 1-4 minutes on 2 cores


def quick_env(predicate):
    """The name of an environment of matrix/quick.toml that satisfies predicate, or None."""
    path = ROOT / "matrix" / "quick.toml"
    if not path.exists():
        return None
    envs = tomllib.loads(path.read_text()).get("env", {})
    return next((name for name, spec in envs.items() if predicate(spec)), None)


def sklearn_pin(spec):
    for req in spec.get("pip", []):
        if req.replace(" ", "").startswith("scikit-learn=="):
            return req.split("==", 1)[1].strip()
    return None


OWN_MATRIX = """
[matrix]
name = "env-test"
producers = ["bookworm-s390x"]
consumers = ["sklearn-1.5.2"]

[env.bookworm-s390x]
provider = "debian"
suite = "bookworm"
arch = "s390x"

[env."sklearn-1.5.2"]
provider = "pip"
python = "python3.11"
pip = ["scikit-learn==1.5.2", "numpy<2"]
"""


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """(matrix path, s390x env name, pip env name, pinned scikit-learn version)."""
    s390x = quick_env(lambda s: s.get("provider") == "debian" and s.get("suite") == "bookworm"
                      and s.get("arch") == "s390x")
    pip = quick_env(lambda s: s.get("provider") == "pip" and sklearn_pin(s))
    if s390x and pip:
        spec = tomllib.loads((ROOT / "matrix" / "quick.toml").read_text())["env"][pip]
        return str(ROOT / "matrix" / "quick.toml"), s390x, pip, sklearn_pin(spec)
    path = tmp_path_factory.mktemp("matrix") / "env-test.toml"
    path.write_text(OWN_MATRIX)
    return str(path), "bookworm-s390x", "sklearn-1.5.2", "1.5.2"


@pytest.fixture(scope="module")
def crossload(crossload_bin):
    """crossload(*args, timeout=...) -> the finished process, echoed with its exit and time."""
    def run(*args, timeout=BUILD_TIMEOUT):
        cmd = [crossload_bin, *args]
        print("+", " ".join(cmd), "  [host]", flush=True)
        start = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        print(f"  exit {r.returncode} after {time.monotonic() - start:.1f} s")
        print(r.stderr[-4000:])
        return r

    return run


def info(crossload, matrix_path, name):
    r = crossload("env", "info", name, "--matrix", matrix_path, "--json")
    assert r.returncode == 0, f"env info {name} failed:\n{r.stdout}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout)


def test_bookworm_s390x_is_big_endian_with_scikit_learn_1_2(matrix, crossload):
    path, name, _, _ = matrix
    r = crossload("env", "build", name, "--matrix", path)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    out = info(crossload, path, name)
    fp = out["fingerprint"]
    assert out["emulated"] is True
    assert fp["byteorder"] == "big"
    assert fp["machine"] == "s390x"
    assert fp["packages"]["scikit-learn"].startswith("1.2.")
    assert fp["packages"]["numpy"].startswith("1.24.")
    assert "qemu-s390x" in out["qemu"]


def test_pip_environment_has_the_pinned_scikit_learn(matrix, crossload):
    path, _, name, version = matrix
    out = info(crossload, path, name)
    assert out["emulated"] is False
    assert out["fingerprint"]["packages"]["scikit-learn"] == version
    assert out["provision"]["facts"]["smoke"]["packages"]["scikit-learn"] == version


FOREIGN_WHEELS = """
[matrix]
producers = ["sklearn-1.5-arm64"]
consumers = ["sklearn-1.5-arm64"]

[env."sklearn-1.5-arm64"]
provider = "pip"
arch = "arm64"
pip = ["scikit-learn==1.5.2", "numpy==1.26.4", "scipy==1.13.1"]
"""


def test_pip_on_a_foreign_cpu_installs_that_cpus_wheels_into_a_debian_rootfs(tmp_path, crossload):
    """PyPI's aarch64 wheels of a pinned scikit-learn, in bookworm arm64's Python under QEMU:
    the pins hold (not Debian's scikit-learn 1.2 / numpy 1.24) and the CPU is the foreign one."""
    path = tmp_path / "wheels.toml"
    path.write_text(FOREIGN_WHEELS)
    r = crossload("env", "build", "sklearn-1.5-arm64", "--matrix", str(path))
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    out = info(crossload, str(path), "sklearn-1.5-arm64")
    fp = out["fingerprint"]
    assert out["emulated"] is True
    assert fp["machine"] == "aarch64" and fp["byteorder"] == "little"
    assert fp["python"].startswith("3.11.")
    assert fp["packages"]["scikit-learn"] == "1.5.2"
    assert fp["packages"]["numpy"] == "1.26.4"
    facts = out["provision"]["facts"]
    wheels = {w["name"]: w["wheel"] for w in facts["pip"]}
    assert "aarch64" in wheels["numpy"] and "cp311" in wheels["numpy"], wheels
    assert "aarch64" in wheels["scikit-learn"], wheels
    assert facts["glibc"] == "2.36"
    assert "python3-sklearn" not in facts["include"]


def test_a_suite_arch_pair_that_does_not_exist_is_unavailable_quickly(tmp_path, crossload):
    path = tmp_path / "bad.toml"
    path.write_text("""
[matrix]
producers = ["bookworm-riscv64"]
consumers = ["bookworm-riscv64"]

[env.bookworm-riscv64]
provider = "debian"
suite = "bookworm"
arch = "riscv64"
""")
    start = time.monotonic()
    r = crossload("env", "build", "bookworm-riscv64", "--matrix", str(path), "--cache-dir", str(tmp_path / "cache"),
                  timeout=180)
    assert time.monotonic() - start < 120
    assert r.returncode == 4  # exit_code::kEnvironment
    assert "ENV_UNAVAILABLE" in r.stdout
    assert "riscv64" in r.stdout and "full log: " in r.stdout


def test_shell_passes_every_argument_after_the_separator_verbatim(matrix, crossload):
    """A JSON list, commas and a second `--` reach python as they were typed (CLI11 splits an
    argument like ["a","b"] when it is an option's value)."""
    path, name, _, _ = matrix
    args = ['["a","b"]', "x,y", "[1]", "run", "--", "--matrix"]
    r = crossload("env", "shell", "--matrix", path, name, "--", "-c",
                  "import json, sys; print(json.dumps(sys.argv[1:]))", *args)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == args


CACHE_STATUS = re.compile(r"^(\S+)\s+(\S+)\s+(.*?)\s+(-|not built|no base interpreter|built in .* \(\S+\))$")


def listing(crossload, matrix_path, *args):
    """`env list`: {name: (provider, what, cache status)} and the cache directory it read."""
    r = crossload("env", "list", "--matrix", matrix_path, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PROVIDER", "WHAT", "CACHE"]
    assert lines[-1].startswith("cache: ")
    rows = {}
    for line in lines[1:-1]:
        m = CACHE_STATUS.match(line)
        assert m, line
        rows[m[1]] = (m[2], m[3], m[4])
    return rows, lines[-1][len("cache: "):]


@pytest.fixture(scope="module")
def s390x_entry(matrix, crossload):
    """(cache key id, entry directory) of the bookworm s390x environment in the shared cache."""
    path, name, _, _ = matrix
    r = crossload("env", "build", name, "--matrix", path)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    rows, cache_dir = listing(crossload, path)
    status = rows[name][2]
    assert status.startswith("built in "), status
    key = status[status.rindex("(") + 1:-1]
    assert key.startswith("debian-bookworm-s390x-"), key
    return key, pathlib.Path(cache_dir) / "envs" / key


def test_env_list_names_each_environment_its_provider_and_cache_entry(matrix, crossload, s390x_entry, tmp_path):
    path, name, pip, _ = matrix
    key, entry = s390x_entry
    rows, _ = listing(crossload, path)
    assert rows[name][0] == "debian" and rows[name][1].startswith("bookworm/s390x")
    assert rows["host"] == ("host", str(ROOT / ".venv" / "bin" / "python"), "-")  # resolved from the file
    assert rows[pip][0] == "pip"
    assert json.loads((entry / "stamp.json").read_text())["key"] == key  # the entry it names exists
    private, cache_dir = listing(crossload, path, "--cache-dir", str(tmp_path / "empty"))
    assert cache_dir == str(tmp_path / "empty")
    assert private[name][2] == "not built" and private[pip][2] == "not built"


def test_env_gc_removes_abandoned_builds_and_with_unused_what_the_matrix_does_not_use(matrix, crossload,
                                                                                       s390x_entry, tmp_path):
    """On a private cache laid out as harness/env/cache.h describes (the shared one is never collected):
    the matrix's s390x entry (its real stamp), an entry of an environment no longer in the matrix,
    a build a killed crossload left behind, and a build in progress (its lock held)."""
    import fcntl
    import shutil

    path, name, _, _ = matrix
    key, entry = s390x_entry
    cache = tmp_path / "cache"
    envs = cache / "envs"
    kept, unused = envs / key, envs / "debian-bookworm-s390x-0123456789abcdef"
    abandoned, in_progress = envs / f".building-{key}-4242", envs / ".building-pip-sklearn-9-1-4343"
    for d in (kept, unused, abandoned, in_progress):
        d.mkdir(parents=True)
        (d / "rootfs-file").write_text("x")
    for d in (kept, unused):
        shutil.copy(entry / "stamp.json", d / "stamp.json")
    (cache / "locks").mkdir()
    with open(cache / "locks" / "pip-sklearn-9-1.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a crossload building that environment holds it

        dry = crossload("env", "gc", "--cache-dir", str(cache), "--dry-run")
        assert dry.returncode == 0 and f"would remove {abandoned}\n" in dry.stdout
        assert abandoned.exists()

        r = crossload("env", "gc", "--cache-dir", str(cache))
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.splitlines() == [f"removed {abandoned}", f"1 entry removed; cache: {cache}"]
        assert not abandoned.exists() and in_progress.exists() and kept.exists() and unused.exists()

        rows, _ = listing(crossload, path, "--cache-dir", str(cache))
        assert rows[name][2].startswith("built in ") and rows[name][2].endswith(f"({key})")

        r = crossload("env", "gc", "--unused", "--matrix", path, "--cache-dir", str(cache))
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.splitlines() == [f"removed {unused}", f"1 entry removed; cache: {cache}"]
        assert kept.exists() and in_progress.exists() and not unused.exists()
    assert (entry / "stamp.json").exists()  # the shared entry is untouched
