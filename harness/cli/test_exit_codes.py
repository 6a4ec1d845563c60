"""Exit codes, end to end with the real binary: one table drives every command into every kind of
error. Each kind must give one code whatever the command, that code must be the mapping of
harness/util/exit_codes.h, and the README's "Exit codes" table must say the same, so the three
cannot drift apart again (they had: a locked store exited 3 where the README said 5).
"""
import fcntl
import pickle
import re
import subprocess

import numpy as np
import pytest

from harness.run.test_run import BIN, ROOT, VENV_PYTHON, write_matrix

FIXTURE = "iris_logistic_regression"


def crossload(*args, timeout=600):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def kind_name(constant):
    """kBadInput -> "bad input", as the README's table writes kinds."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", constant[1:]).lower()


def code_mapping():
    """{kind: exit code} as harness/util/exit_codes.h maps them (exit_code::of)."""
    header = (ROOT / "harness" / "util" / "exit_codes.h").read_text()
    codes = {name: int(value) for name, value in re.findall(r"constexpr int (k\w+) = (\d+);", header)}
    cases = re.findall(r"case ErrorKind::(k\w+): return (k\w+);", header)
    assert cases, "exit_code::of not found in exit_codes.h"
    return {kind_name(kind): codes[code] for kind, code in cases}, codes


def readme_table():
    """[(code, kind, meaning)] of the README's "### Exit codes" table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Exit codes\n", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| (\d+) \| ([^|]+?) \| (.+) \|$", section, re.M)
    assert rows, "no table under '### Exit codes' in README.md"
    return [(int(code), kind.strip(), meaning) for code, kind, meaning in rows]


def matrix(d, name, fixtures=f'["{FIXTURE}"]', extra=""):
    """d/NAME.toml: one fixture, pickle-p5, host to host (test_run's layout: fixtures on line 4)."""
    (d / name).mkdir()
    made = write_matrix(d / name, fixtures=fixtures, formats='["pickle-p5"]', extra=extra)
    return made.rename(d / f"{name}.toml")


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    """Everything the cases point at: good and bad matrices, a file where a directory belongs, a
    corrupt store, a store locked by "another run", an empty store, a produced directory and a model."""
    d = tmp_path_factory.mktemp("exit_codes")
    matrix(d, "good")
    matrix(d, "inf", extra="cell_timeout = inf")
    matrix(d, "nomatch", fixtures='["nomatch_*"]')
    dead = matrix(d, "dead")
    dead.write_text(dead.read_text().replace(VENV_PYTHON, "/bin/false"))
    (d / "afile").write_text("not a directory\n")
    (d / "junk").mkdir()
    (d / "junk" / "results.db").write_bytes(b"this is not SQLite" * 100)
    (d / "locked").mkdir()
    lock = open(d / "locked" / "results.db.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held for the module, as a running crossload holds it
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    (d / "model.pkl").write_bytes(pickle.dumps(DecisionTreeClassifier(random_state=0).fit(X, y), protocol=5))
    np.save(d / "inputs.npy", X[::10])
    produced = crossload("produce", "--matrix", d / "good.toml", "--env", "host", "--out", d / "produced", "-q")
    assert produced.returncode == 0, produced.stderr
    yield d
    lock.close()


def run(w, *args):
    return ["run", "--matrix", w / "good.toml", "--out", w / "out-run", "-q", *args]


# (command, kind, argv(w), a phrase the error must say, a path that must not exist afterwards).
CASES = [
    # usage: refused while parsing, before any work (an hour-long run must not end in "unknown report")
    ("run", "usage", lambda w: run(w, "--report", "md,pdf"), "pdf", "out-run"),
    ("run", "usage", lambda w: run(w, "--shard", "0/2"), "0/2: K must be between 1 and N", "out-run"),
    ("run", "usage", lambda w: ["run", "--matrix", w / "good.toml", "--out", w / "afile"], "is a file", None),
    ("run", "usage", lambda w: run(w, "--fail-on", "OK_EXAKT"), "OK_EXAKT", "out-run"),
    ("run", "usage", lambda w: run(w, "--consumers", "hots"), "did you mean 'host'", "out-run"),
    ("run", "usage", lambda w: run(w, "--fixtures", "nosuch*"), "--fixtures: 'nosuch*' matches no fixture",
     "out-run"),
    ("plan", "usage", lambda w: ["plan", "--matrix", w / "good.toml", "--formats", "pickel-p5"],
     "did you mean 'pickle-p5'", None),
    ("produce", "usage", lambda w: ["produce", "--matrix", w / "good.toml", "--env", "host", "--out", w / "p2",
                                    "--shard", "3/2"], "3/2: K must be between 1 and N", "p2"),
    ("produce", "usage", lambda w: ["produce", "--matrix", w / "good.toml", "--env", "nohost", "--out", w / "p3"],
     "'nohost' is not one of the [matrix] producers", None),
    ("produce", "usage", lambda w: ["produce", "--matrix", w / "good.toml", "--env", "host", "--out", w / "afile"],
     "is a file", None),
    ("consume", "usage", lambda w: ["consume", "--matrix", w / "good.toml", "--env", "host", "--in", w / "produced",
                                    "--out", w / "afile"], "is a file", None),
    ("consume", "usage", lambda w: ["consume", "--matrix", w / "good.toml", "--env", "host", "--in", w / "produced",
                                    "--out", w / "c1", "--report", "pdf"], "pdf", "c1"),
    ("check", "usage", lambda w: ["check", w / "model.pkl", "--inputs", w / "inputs.npy", "--matrix", w / "good.toml",
                                  "--out", w / "afile"], "is a file", None),
    ("check", "usage", lambda w: ["check", w / "model.pkl", "--inputs", w / "inputs.npy", "--matrix", w / "good.toml",
                                  "--env", "hots", "--out", w / "k1"], "has no such environment", "k1"),
    ("forecast", "usage", lambda w: ["forecast", w / "model.pkl", "--matrix", w / "good.toml", "--env", "hots"],
     "has no such environment", None),
    ("forecast", "usage", lambda w: ["forecast", w / "model.pkl", "--validate", w / "produced"],
     "give no ARTIFACT beside it", None),
    ("merge", "usage", lambda w: ["merge", w / "junk" / "results.db", "--out", w / "afile"], "is a file", None),
    ("report", "usage", lambda w: ["report", "--store", w / "junk" / "results.db", "--report", "pdf",
                                   "--out", w / "r1"], "pdf", "r1"),
    ("report", "usage", lambda w: ["report", "--store", w / "junk" / "results.db", "--out", w / "afile"],
     "is a file", None),
    # bad input: the files given
    ("run", "bad input", lambda w: ["run", "--matrix", w / "inf.toml", "--out", w / "out-inf"],
     "inf.toml:8: [matrix] cell_timeout: must be a positive number of seconds, at most", "out-inf"),
    ("run", "bad input", lambda w: ["run", "--matrix", w / "nomatch.toml", "--out", w / "out-nomatch"],
     "nomatch.toml:4: [matrix] fixtures: 'nomatch_*' matches no fixture", "out-nomatch"),
    ("plan", "bad input", lambda w: ["plan", "--matrix", w / "nomatch.toml"],
     "nomatch.toml:4: [matrix] fixtures: 'nomatch_*' matches no fixture", None),
    ("produce", "bad input", lambda w: ["produce", "--matrix", w / "inf.toml", "--env", "host", "--out", w / "p4"],
     "cell_timeout", "p4"),
    ("consume", "bad input", lambda w: ["consume", "--matrix", w / "good.toml", "--env", "host", "--in", w / "junk",
                                        "--out", w / "c2"], "artifacts.json", None),
    ("check", "bad input", lambda w: ["check", w / "missing.pkl", "--inputs", w / "inputs.npy", "--matrix",
                                      w / "good.toml", "--out", w / "k2"], "missing.pkl: no such file", None),
    ("forecast", "bad input", lambda w: ["forecast", w / "missing.pkl", "--matrix", w / "good.toml"], "missing.pkl",
     None),
    ("forecast", "bad input", lambda w: ["forecast", "--validate", w / "junk"], "results.json", None),
    ("report", "bad input", lambda w: ["report", "--store", w / "empty.db", "--out", w / "r2"], "no run recorded",
     None),
    # environment: nothing can start here
    ("run", "environment", lambda w: ["run", "--matrix", w / "dead.toml", "--out", w / "out-dead"],
     "no environment of the matrix could start", None),
    ("produce", "environment", lambda w: ["produce", "--matrix", w / "dead.toml", "--env", "host", "--out", w / "p5"],
     "environment host unavailable", None),
    ("consume", "environment", lambda w: ["consume", "--matrix", w / "dead.toml", "--env", "host", "--in",
                                          w / "produced", "--out", w / "c3"], "environment host unavailable", None),
    ("check", "environment", lambda w: ["check", w / "model.pkl", "--inputs", w / "inputs.npy", "--matrix",
                                        w / "dead.toml", "--out", w / "k3"], "no environment could start", None),
    # store: locked by another run, or not a store at all
    ("run", "store", lambda w: ["run", "--matrix", w / "good.toml", "--out", w / "locked"], "in use by another", None),
    ("run", "store", lambda w: ["run", "--matrix", w / "good.toml", "--out", w / "junk"], "results store", None),
    ("consume", "store", lambda w: ["consume", "--matrix", w / "good.toml", "--env", "host", "--in", w / "produced",
                                    "--out", w / "locked"], "in use by another", None),
    ("merge", "store", lambda w: ["merge", w / "junk" / "results.db", "--out", w / "m1"], "results store", None),
    ("merge", "store", lambda w: ["merge", w / "junk" / "results.db", "--out", w / "locked"], "in use by another",
     None),
    ("report", "store", lambda w: ["report", "--out", w / "junk"], "results store", None),
]


def case_id(case):
    command, kind, _, says, _ = case
    return f"{command}-{kind}-{says[:24]}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_every_command_exits_with_the_code_of_the_errors_kind(w, case):
    command, kind, argv, says, untouched = case
    proc = crossload(*argv(w))
    mapping, _ = code_mapping()
    assert proc.returncode == mapping[kind], f"{command}: {kind}\n{proc.stdout}\n{proc.stderr}"
    assert says in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr
    if untouched:  # refused before any work: nothing written
        assert not (w / untouched).exists()


def test_every_kind_is_driven_through_every_command_that_can_meet_it():
    covered = {(command, kind) for command, kind, *_ in CASES}
    for command in ("run", "produce", "consume", "check"):
        for kind in ("usage", "bad input", "environment"):
            assert (command, kind) in covered, (command, kind)
    for command in ("run", "consume", "merge", "report"):
        assert (command, "store") in covered, command
    mapping, _ = code_mapping()
    # a bug has no test case; an interrupted run is driven by harness/run/test_interrupt.py (a signal)
    assert {kind for _, kind, *_ in CASES} == set(mapping) - {"internal", "interrupted"}


def test_the_readme_table_is_the_codes_mapping():
    mapping, codes = code_mapping()
    table = readme_table()
    assert {kind: code for code, kind, _ in table if kind != "-"} == mapping
    assert {code for code, _, _ in table} == set(codes.values())
    assert sorted(code for code, _, _ in table) == [code for code, _, _ in table]


def test_fail_on_says_which_outcomes_made_the_exit_code(w):
    argv = ["run", "--matrix", w / "good.toml", "--out", w / "out-fail-on", "-q", "--report", "json"]
    proc = crossload(*argv, "--fail-on", "OK_EXACT,CRASH")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error: exit 1: --fail-on OK_EXACT,CRASH matched 1 OK_EXACT cell" in proc.stderr, proc.stderr
    quiet = crossload(*argv, "--fail-on", "CRASH")
    assert quiet.returncode == 0 and "--fail-on" not in quiet.stderr, quiet.stderr
