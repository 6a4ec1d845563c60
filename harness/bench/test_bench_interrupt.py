"""SIGINT sent to `crossload bench` (to its pid alone) while it measures: the bench worker and the
children measuring for it end, nothing is written from part of the plan (the previous bench.json
stays as it was, no store), one line says so, and it exits 130 like `run` (README, "Interrupting a
run"). Real binary, host venv."""
import signal

from harness.run.test_interrupt import stopped_as_said


def test_sigint_stops_bench_with_its_children_and_writes_nothing_from_part_of_the_plan(tmp_path):
    out = tmp_path / "bench"
    out.mkdir()
    previous = '{"benchmarks": []}\n'
    (out / "bench.json").write_text(previous)
    argv = ["bench", "--fixture", "iris_logistic_regression", "--format", "pickle-p5", "--format", "joblib",
            "--env", "host", "--out", out]

    def measuring():  # the fixture is trained and dumped: its first predictions are written
        return (out / "cells").is_dir() and any((out / "cells").rglob("*.npy"))

    said, _ = stopped_as_said(argv, measuring, signal.SIGINT,
                              r"interrupted by {signal}: (\d+) cases measured, none written \(bench's outputs hold "
                              r"every case of the plan: those in (.+) stay as they were\); rerun the same command to "
                              r"measure")
    assert said.group(2) == str(out)
    assert (out / "bench.json").read_text() == previous
    assert not (out / "results.db").exists() and not (out / "bench.md").exists()
