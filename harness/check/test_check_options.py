"""End-to-end: `crossload check`'s options with the real binary and workers: an explicit
--format, a bad --format, an unknown --env, --allow-unsafe on an artifact whose pickle runs code,
and a machine whose sandbox does not work (exit 4).
"""
import io
import json
import os
import pickle
import re

import numpy as np
import pytest

from check_e2e import QUICK, crossload, iris_tree, worker_logs

HOST = ["--matrix", QUICK, "--env", "host"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("options")
    model, X, _ = iris_tree()
    np.save(tmp / "inputs.npy", X[::5])
    (tmp / "model.pkl").write_bytes(pickle.dumps(model, protocol=5))
    return tmp


@pytest.mark.parametrize("fmt", ["skops", "joblib"])
def test_an_explicit_format_loads_the_artifact_with_that_format(made, tmp_path, fmt):
    import joblib
    import skops.io as sio

    model, X, _ = iris_tree()
    artifact = tmp_path / "model.bin"  # a name that says nothing: the format comes from --format
    if fmt == "skops":
        sio.dump(model, artifact)
    else:
        joblib.dump(model, artifact)
    r = crossload("check", artifact, "--format", fmt, "--inputs", made / "inputs.npy", *HOST, "--json", "-q",
                  "--out", tmp_path / "o")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["format"] == fmt and doc["verdict"] in ("SAFE", "UNTRUSTED")
    [host] = doc["environments"]
    assert (host["outcome"], host["reference"]) == ("OK_EXACT", True)
    assert doc["reference"]["outputs"] == ["predict", "predict_proba"]
    predicted = np.load(tmp_path / "o" / "cells" / "host" / "predictions.predict.npy")
    np.testing.assert_array_equal(predicted, model.predict(X[::5]))


def test_an_explicit_format_is_trusted_over_the_bytes(made, tmp_path):
    r = crossload("check", made / "model.pkl", "--format", "skops", "--inputs", made / "inputs.npy", *HOST,
                  "--out", tmp_path / "o")
    assert r.returncode == 1, r.stdout + r.stderr  # a pickle read as a skops zip does not load
    assert re.search(r"^crossload check .*model\.pkl  \(skops, ", r.stdout, re.M), r.stdout
    assert re.search(r"^host\s+LOAD_ERROR\s", r.stdout, re.M), r.stdout


def test_a_bad_format_is_a_usage_error_before_anything_runs(made, tmp_path):
    r = crossload("check", made / "model.pkl", "--format", "pickel", "--inputs", made / "inputs.npy", *HOST,
                  "--out", tmp_path / "o")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "--format" in r.stderr and "pickel" in r.stderr
    assert "skops" in r.stderr  # the message lists what is accepted
    assert not (tmp_path / "o").exists()


def test_an_unknown_environment_is_a_clear_error_naming_the_known_ones(made, tmp_path):
    r = crossload("check", made / "model.pkl", "--inputs", made / "inputs.npy", "--matrix", QUICK,
                  "--env", "host", "--env", "prod-x86", "--out", tmp_path / "o")
    assert r.returncode == 2, r.stdout + r.stderr  # a bad command line
    assert f"--env prod-x86: {QUICK} has no such environment (it has: bookworm-s390x, host, sklearn-1.5)" \
        in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


# Runs while the artifact loads (builtins.exec, which the audit calls UNSAFE): says so on stderr,
# which the consumer worker's log keeps, and tries to write each file named in it.
PAYLOAD = """
import sys
sys.stderr.write("check payload ran\\n")
for path in %r:
    try:
        open(path, "a").write("written while loading\\n")
        sys.stderr.write("check payload: write %%s: written\\n" %% path)
    except OSError as exc:
        sys.stderr.write("check payload: write %%s: refused: %%s\\n" %% (path, type(exc).__name__))
"""


class ExecOnLoad:
    def __init__(self, markers):
        self.markers = markers

    def __reduce__(self):
        return exec, (PAYLOAD % ([str(m) for m in self.markers],), {})


def tree_running_code_on_load(markers):
    """A real tree whose pickled state holds one more entry, exec(PAYLOAD): loading runs it, then
    sets the entry (None) on the tree, which predicts as before. Only the standard library's exec
    and scikit-learn in the pickle, so any environment can load it."""
    model, X, _ = iris_tree()

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if obj is not model:
                return NotImplemented
            reduced = obj.__reduce_ex__(5)
            return reduced[:2] + (dict(reduced[2], _loaded_after=ExecOnLoad(markers)),) + reduced[3:]

    buffer = io.BytesIO()
    Pickler(buffer, protocol=5).dump(model)
    return buffer.getvalue(), model, X


@pytest.mark.usefixtures("sandbox")
def test_allow_unsafe_loads_an_unsafe_artifact_in_the_sandbox_and_shows_the_finding(made, tmp_path):
    out = tmp_path / "o"
    markers = [out / "marker.txt", tmp_path / "beside-marker.txt"]  # run directory; outside the sandbox's view
    data, model, X = tree_running_code_on_load(markers)
    unsafe = tmp_path / "unsafe.pkl"
    unsafe.write_bytes(data)
    refused = crossload("check", unsafe, "--inputs", made / "inputs.npy", *HOST, "--out", tmp_path / "refused")
    assert refused.returncode == 3 and "refused: the static audit judged it UNSAFE" in refused.stderr

    r = crossload("check", unsafe, "--allow-unsafe", "--inputs", made / "inputs.npy", *HOST, "--out", out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^crossload check .*unsafe\.pkl  \(pickle-p5, audit UNSAFE, ", r.stdout, re.M), r.stdout
    assert "audit: UNSAFE: imports builtins.exec (code execution); loaded anyway (--allow-unsafe), only in the " \
           "sandbox" in r.stdout, r.stdout
    assert re.search(r"^host\s+OK_EXACT \(ref\)\s+0\s", r.stdout, re.M), r.stdout
    np.testing.assert_array_equal(np.load(out / "cells" / "host" / "predictions.predict.npy"),
                                  model.predict(X[::5]))
    lines = [line for line in worker_logs(out, "host").splitlines() if line.startswith("check payload")]
    assert lines.count("check payload ran") == 1, lines  # it really loaded, once
    writes = [line for line in lines if ": write " in line]
    assert len(writes) == len(markers) and all(": refused: " in line for line in writes), lines
    assert not any(m.exists() for m in markers)


def test_a_machine_without_a_working_sandbox_exits_4_before_any_environment_starts(made, tmp_path):
    no_bwrap = tmp_path / "bin"  # PATH of a machine where bubblewrap is not installed
    no_bwrap.mkdir()
    r = crossload("check", made / "model.pkl", "--inputs", made / "inputs.npy", *HOST, "--out", tmp_path / "o",
                  env=dict(os.environ, PATH=str(no_bwrap)))
    assert r.returncode == 4, r.stdout + r.stderr
    assert "check loads only inside the sandbox, which does not work on this machine: bubblewrap (bwrap) is " \
           "not installed" in r.stderr, r.stderr
    assert r.stdout == ""
    assert not (tmp_path / "o" / "logs").exists()


# `check` died with "internal error: [json.exception.type_error.306] cannot use value() with null"
# (exit 70) when one environment could not start, though `run` records ENV_UNAVAILABLE for it.
def test_an_environment_that_cannot_start_is_a_row_and_the_others_are_judged(made, tmp_path):
    venv = QUICK.parent.parent / ".venv" / "bin" / "python"
    matrix = tmp_path / "m.toml"
    matrix.write_text(f"""
[matrix]
producers = ["host"]
consumers = ["dead", "host"]
[env.host]
provider = "host"
python = "{venv}"
[env.dead]
provider = "host"
python = "/bin/false"
""")
    r = crossload("check", made / "model.pkl", "--inputs", made / "inputs.npy", "--matrix", matrix,
                  "--out", tmp_path / "o")
    assert r.returncode == 1, r.stdout + r.stderr  # it did not load everywhere asked
    assert "internal error" not in r.stderr
    assert re.search(r"^dead\s+ENV_UNAVAILABLE\s", r.stdout, re.M), r.stdout
    assert re.search(r"^\s+error: environment unavailable: \S", r.stdout, re.M), r.stdout  # with the reason
    assert re.search(r"^host\s+OK_EXACT \(ref\)\s", r.stdout, re.M), r.stdout
    doc = json.loads(crossload("check", made / "model.pkl", "--inputs", made / "inputs.npy", "--matrix", matrix,
                               "--out", tmp_path / "j", "--json", "-q").stdout)
    assert {e["name"]: e["outcome"] for e in doc["environments"]} == {"dead": "ENV_UNAVAILABLE", "host": "OK_EXACT"}


# `check` called every pickle "pickle-p5"; `inspect` reads the protocol from the bytes, and so does check.
@pytest.mark.parametrize("protocol", [4, 5])
def test_a_pickle_is_labelled_by_the_protocol_in_its_bytes(made, tmp_path, protocol):
    model, X, _ = iris_tree()
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(pickle.dumps(model, protocol=protocol))
    r = crossload("check", artifact, "--inputs", made / "inputs.npy", *HOST, "--json", "-q", "--out", tmp_path / "o")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["format"] == f"pickle-p{protocol}"
