"""One load_predict request, checked and done: built in the worker (which judges the child and
publishes its predictions) and, for a batched load, again in the batch child from the same request
(which does the load). Shared by run_ops.py and batch.py."""
import os
import time

import common
import invariants  # output invariants that need no reference
from stages import in_stage, recorded_warnings, describe_warnings


class LoadJob:
    """One load_predict request, checked: built in the worker (which judges and publishes) and,
    for a batched load, again in the batch child from the same request (which does the work)."""

    def __init__(self, req):
        from isolation import Limits

        self.variant = common.variant(common.param(req, "format"))
        # The child works in its private directory: relative paths would mean something else there.
        self.path, self.inputs, self.out_prefix = (os.path.abspath(common.param(req, name))
                                                   for name in ("path", "inputs", "out_prefix"))
        self.outputs = common.param(req, "outputs")
        self.trusted_types = req.get("trusted_types")
        self.limits = Limits.from_request(req.get("limits"))
        self.tmp_root = req.get("tmp_root")

    def work(self, session):
        """work(tmpdir) -> result, to run in the load's child; the inputs are read now, in the
        process that calls this (the worker, so that every child inherits them)."""
        start = time.perf_counter()
        X = session.inputs(self.inputs)
        inputs_seconds = time.perf_counter() - start

        def in_child(tmpdir):
            result = load_predict_into(self.variant, self.path, X, self.outputs,
                                       self.trusted_types, tmpdir)
            result["inputs_seconds"] = inputs_seconds
            return result

        return in_child

    def publish(self, result, tmpdir):
        result["outputs"] = common.publish_outputs(result["outputs"], tmpdir, self.out_prefix + ".")
        return result


def load_predict_into(variant, path, X, outputs, trusted_types, out_dir):
    """The load itself (in the child): predictions go to <out_dir>/<output>.npy."""
    from formats.common import Context

    ctx = Context(trusted_types=trusted_types)
    with recorded_warnings() as caught:
        with in_stage("load", caught):
            start = time.perf_counter()
            loaded = variant.load(path, ctx)
            load_seconds = time.perf_counter() - start
        with in_stage("predict", caught):
            values, predict_seconds = common.predict_all(variant, loaded, outputs, X)
    start = time.perf_counter()
    saved = common.save_outputs(values, os.path.join(out_dir, ""))
    return {"load_seconds": load_seconds, "predict_seconds": predict_seconds, "outputs": saved,
            "warnings": describe_warnings(caught), "invariants": invariants.check(loaded, values),
            "save_seconds": time.perf_counter() - start}  # for ci/bench-workers
