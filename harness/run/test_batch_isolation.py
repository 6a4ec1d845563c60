"""End to end: `--isolation batch` and `--isolation cell` give the same verdicts.

The same matrix runs twice, once per mode, into two output directories; every cell must have the
same outcome and the same detail, measurements (RSS, seconds) and messages that carry them aside.
One matrix mixes plain fixtures with hostile ones whose load segfaults or os._exit()s, so a
batch child dies in the middle of its batch and the cells after it are still computed; the other
is the default matrix's host-only slice.
"""
import json
import re

import pytest

import test_run
from test_isolation import HOSTILE, ROOT, crossload

# Fields of a cell's detail that measure rather than judge: they differ from run to run anyway.
MEASURED = re.compile(r"(^rss_|_seconds$|^seconds$)")


def write_matrix(tmp_path, fixtures, formats):
    return test_run.write_matrix(tmp_path, fixtures=json.dumps(fixtures), formats=json.dumps(formats),
                                 extra="cell_timeout = 60")


# A producer's message may name an object by its address ("<lambda> at 0x7f..."): each run has its own.
ADDRESS = re.compile(r"0x[0-9a-f]+")


def verdicts(out):
    """(fixture, format, producer, consumer) -> (outcome, detail without measurements).

    Each mode has its own output directory, which a message may name (a BLOCKED cell's names the
    artifact it did not load): it is written as <out>."""
    text = (out / "results.json").read_text().replace(json.dumps(str(out))[1:-1], "<out>")
    doc = json.loads(ADDRESS.sub("0x?", text))
    return {(c["fixture"], c["format"], c["producer"], c["consumer"]):
            (c["outcome"], {k: v for k, v in c["detail"].items() if not MEASURED.search(k)})
            for c in doc["cells"]}


def run_both(tmp_path, args, env=None):
    results = {}
    for mode in ("cell", "batch"):
        out = tmp_path / mode
        proc = crossload("run", *args, "--out", out, "--isolation", mode, "--jobs", "1",
                         env=env, check=False)
        assert proc.returncode in (0, 1), proc.stderr  # 1: some cell failed, as it should
        results[mode] = (verdicts(out), out)
    return results


def consumer_log(out):
    return "".join(p.read_text() for p in sorted((out / "logs").glob("host.consumer*.worker.log")))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, sandbox):
    tmp = tmp_path_factory.mktemp("batch-hostile")
    fixtures = ["iris_decision_tree_classifier", "hostile_segfault", "iris_logistic_regression",
                "hostile_exit3", "after_hostile_tree"]
    matrix = write_matrix(tmp, fixtures, ["pickle-p5", "cloudpickle"])
    return run_both(tmp, ["--matrix", matrix], env={"CROSSLOAD_EXTRA_FIXTURES": str(HOSTILE)})


def test_hostile_batches_give_the_verdicts_of_one_child_per_cell(hostile):
    cell, batch = hostile["cell"][0], hostile["batch"][0]
    assert len(batch) == 10
    assert batch == cell


def test_a_crash_mid_batch_is_the_cells_crash_and_the_batch_goes_on(hostile):
    cells, out = hostile["batch"]
    for fmt in ("pickle-p5", "cloudpickle"):
        assert cells[("hostile_segfault", fmt, "host", "host")][1]["signal"] == 11
        assert cells[("hostile_exit3", fmt, "host", "host")][1]["exit_status"] == 3
    plain = [v[0] for k, v in cells.items() if not k[0].startswith("hostile_")]
    assert len(plain) == 6 and all(o.startswith("OK_") for o in plain), cells
    log = consumer_log(out)
    # A child died in the middle of its batch (after loads that went well), and a fresh child
    # took the next load: fewer children than loads, so loads really were batched.
    ended = [int(n) for n in re.findall(r"batch child \d+ ended in its load (\d+)", log)]
    assert len(ended) == 4 and max(ended) >= 2, log
    started = len(re.findall(r"batch child \d+ started", log))
    assert started < 10, log


def test_the_default_matrix_host_slice_gives_the_same_verdicts_in_both_modes(tmp_path, sandbox):
    results = run_both(tmp_path, ["--matrix", ROOT / "matrix" / "quick.toml",
                                  "--producers", "host", "--consumers", "host"])
    cell, batch = results["cell"][0], results["batch"][0]
    assert len(cell) >= 90  # 11 fixtures x 9 formats, less what a format cannot hold
    assert batch == cell
    assert len(re.findall(r"batch child \d+ started", consumer_log(results["batch"][1]))) < len(batch) / 2
