"""One cell in a fresh interpreter: the design the long-lived worker replaces, kept only so
ci/bench-workers can measure what that design costs (harness/run/bench_workers.py).

    <python> harness/worker/fresh_cell.py --root ROOT --format F --path P --inputs X.npy
                                          --outputs predict,predict_proba [--trusted-types JSON]

Imports the format, loads the artifact, predicts each output into a private temporary
directory, prints one JSON line of timings and exits. No fork, no sandbox of its own: the
interpreter start and the imports it pays on every cell are what is measured.
"""
import argparse
import json
import sys
import tempfile
import time

STARTED = time.perf_counter()


def main(argv=None):
    p = argparse.ArgumentParser()
    for name in ("--root", "--format", "--path", "--inputs", "--outputs"):
        p.add_argument(name, required=True)
    p.add_argument("--trusted-types", default="null")
    a = p.parse_args(argv)
    sys.path.insert(0, a.root)
    import numpy as np
    from formats import registry
    from formats.common import Context

    imported = time.perf_counter()
    variant = registry.get(a.format)
    X = np.load(a.inputs, allow_pickle=False)
    loaded = variant.load(a.path, Context(trusted_types=json.loads(a.trusted_types)))
    load_done = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for output in a.outputs.split(","):
            np.save("%s/%s.npy" % (tmp, output), variant.predict(loaded, output, X), allow_pickle=False)
    done = time.perf_counter()
    print(json.dumps({"import_seconds": imported - STARTED, "load_seconds": load_done - imported,
                      "predict_seconds": done - load_done, "script_seconds": done - STARTED}))


if __name__ == "__main__":
    main()
