"""SIGTERM sent to `crossload check` (to its pid alone) once its first consumer worker started:
every worker ends, no verdict is printed from part of the answers, one line says so, and it exits
130 like `run` (README, "Interrupting a run"). Real binary, host venv and sklearn-1.5."""
import pickle
import re
import signal

import numpy as np

from check_e2e import BOTH, iris_tree
from harness.run.test_interrupt import stopped_as_said


def test_sigterm_stops_check_with_every_worker_and_no_verdict(tmp_path):
    model, X, _ = iris_tree()
    artifact, inputs = tmp_path / "model.pkl", tmp_path / "X.npy"
    artifact.write_bytes(pickle.dumps(model, protocol=4))
    np.save(inputs, X)
    out = tmp_path / "out"
    argv = ["check", artifact, "--inputs", inputs, *BOTH, "--out", out]

    def a_worker_started():
        return (out / "logs").is_dir() and any((out / "logs").glob("*.worker.log"))

    _, stdout = stopped_as_said(argv, a_worker_started, signal.SIGTERM,
                                r"interrupted by {signal}: no verdict \(it needs every environment's answer\); the "
                                rf"working files are in {re.escape(str(out))}; rerun the same command to check")
    assert stdout == ""  # no screen
