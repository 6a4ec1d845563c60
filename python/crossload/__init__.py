"""crossload from Python: audit and cross-load a persisted scikit-learn model from a notebook or
a script. Each function runs the `crossload` executable (installed beside this package by the
wheel, or found on PATH) and returns plain data: lists and dicts as its JSON output holds them.

    import crossload
    crossload.inspect("model.pkl")[0]["verdict"]            # 'SAFE' | 'UNTRUSTED' | 'UNSAFE'
    result = crossload.check("model.joblib", inputs="X.npy",
                             envs=["debian:bookworm/s390x", "pip:scikit-learn==1.5.2"])
    result["exit_code"], [(e["name"], e["outcome"]) for e in result["environments"]]

Nothing here loads the model in this process: the executable audits it statically and loads it
only inside the chosen environments, sandboxed.
"""
import json
import os
import shutil
import subprocess
import sysconfig

__all__ = ["CrossloadError", "check", "executable", "inspect"]


class CrossloadError(RuntimeError):
    """The executable could not give an answer (bad input, missing tool, no environment)."""

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code


def executable():
    """The crossload binary: $CROSSLOAD_BIN, the one this package was installed with, or PATH's."""
    candidates = [os.environ.get("CROSSLOAD_BIN"),
                  os.path.join(sysconfig.get_path("scripts"), "crossload"),
                  shutil.which("crossload")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise CrossloadError("no crossload executable (pip install crossload, or set CROSSLOAD_BIN)", 127)


def _run(args, ok_codes):
    proc = subprocess.run([executable()] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    if proc.returncode not in ok_codes:
        raise CrossloadError("crossload {}: exit {}: {}".format(
            args[0], proc.returncode, proc.stderr.strip() or proc.stdout.strip()), proc.returncode)
    try:
        return json.loads(proc.stdout), proc.returncode
    except ValueError:
        raise CrossloadError("crossload {}: no JSON on stdout: {}".format(args[0], proc.stderr.strip()),
                             proc.returncode)


def inspect(*paths, trust=None):
    """The static audit of each file (never loaded): a list of dicts with path, format, verdict
    ('SAFE' | 'UNTRUSTED' | 'UNSAFE'), findings, globals, arrays, versions."""
    args = ["inspect", "--format", "json", "--fail-on", "never"] + list(paths)
    if trust:
        args += ["--trust", trust]
    return _run(args, {0})[0]


def check(path, inputs, envs=(), reference=None, matrix=None, out_dir=None, allow_unsafe=False,
          extra_args=()):
    """Loads and predicts the artifact in each environment (specs such as 'debian:sid/s390x',
    'pip:scikit-learn==1.5.2@3.11', 'python:/opt/venv/bin/python', 'requirements:req.txt', or names
    of the matrix) and compares with reference predictions. Returns `crossload check --json`'s
    dict: "environments" (name, outcome, versions, explanation ...), "exit_code" 0 when every
    environment agrees, 1 when one does not. Other exits raise CrossloadError."""
    args = ["check", path, "--inputs", inputs, "--json", "--quiet"]
    for env in envs:
        args += ["--env", env]
    for flag, value in (("--reference", reference), ("--matrix", matrix), ("--out", out_dir)):
        if value:
            args += [flag, value]
    if allow_unsafe:
        args.append("--allow-unsafe")
    result, code = _run(args + list(extra_args), {0, 1})
    result.setdefault("exit_code", code)
    return result
