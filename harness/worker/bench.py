"""The `bench` op (`crossload bench`, PROTOCOL.md "bench"), and its cold-start script.

    <python> harness/worker/bench.py cold --root <root> --format F --path P [--trusted-types JSON]

The op has steps: `train` and `dump` make the artifacts (the zoo's fixtures, plus the bench's own
large-array model), `measure`, `rss` and `share` time and weigh loading them. Each of the last three
runs in its own forked child (isolation.py), so a load that crashes or hangs is an answer with
stage `crash` or `timeout` and the worker goes on. The cold-start script is what the harness
spawns through the environment's launch: a fresh interpreter, imports included, up to a loaded
model.

Only the standard library at module level: ops.py imports this module into every worker, and
`bench.py cold` imports crossload's packages only once it has put the tree on sys.path.
"""
import json
import os
import sys
import time

# Rows a batch prediction uses at least: the inputs are tiled up to this.
BATCH_ROWS = 1000
# The bench's own fixture: arrays large enough that copying them shows (the guide's "large arrays").
LARGE_ROWS, LARGE_COLUMNS = 1000000, 4
# joblib codecs the compression claim measures, each at level 3.
CODECS = ("zlib", "gzip", "bz2", "lzma", "xz", "lz4")


def bench_large_arrays():
    """KNeighborsRegressor keeps its 32 MB training matrix (and a kd-tree over it, so predicting
    stays cheap): large float64 and int64 arrays, the guide's case for protocol 5 and mmap. The
    fitted model pickles to 54 MB (protocols 4 and 5) and dumps to 86 MB with joblib."""
    import numpy as np
    from sklearn.neighbors import KNeighborsRegressor

    rng = np.random.RandomState(0)
    X = rng.standard_normal((LARGE_ROWS, LARGE_COLUMNS))
    y = X[:, 0] * 2.0 + rng.standard_normal(LARGE_ROWS)
    return KNeighborsRegressor(n_neighbors=5, algorithm="kd_tree"), X, y, X[:50].copy()


def _bench_fixtures():
    from fixtures import zoo

    return (zoo.Fixture("bench_large_arrays",
                        "KNeighborsRegressor (kd-tree) over a 1000000 x 4 float64 matrix (32 MB; a 54 MB pickle)",
                        ("predict",), bench_large_arrays, tags=("regressor", "large"), cv=False),)


def fixture(name):
    import common

    for f in _bench_fixtures():
        if f.name == name:
            return f
    return common.fixture_named(name)


def variant(name):
    """A registry variant, or one of the bench's joblib codecs (`joblib-<codec>-3`)."""
    from formats import registry
    from formats.joblib.adapter import JoblibFormat

    for codec in CODECS:
        if name == "joblib-%s-3" % codec:
            return JoblibFormat(name, ".joblib." + codec, "joblib.dump, compress=(%r, 3)" % codec,
                                compress=(codec, 3), needs="lz4" if codec == "lz4" else None)
    import common

    return common.lookup(registry.get, name)


def bench_op(session, req):
    import common

    step = common.param(req, "step")
    if step not in STEPS:
        raise common.ProtocolError("bench: unknown step %r (known: %s)" % (step, ", ".join(STEPS)))
    return STEPS[step](session, req)


# --- making the artifacts -------------------------------------------------------------------

def _train(session, req):
    import common

    f = fixture(_param(req, "fixture"))
    facts, _, _ = common.train_fixture(session, f, _param(req, "out_dir"), cv=False)
    return {"inputs": facts["inputs"], "train_seconds": facts["train_seconds"],
            "outputs": list(f.outputs), "rtol": f.rtol, "atol": f.atol}


def _dump(session, req):
    import common
    from formats.common import Context

    f = fixture(_param(req, "fixture"))
    path = _param(req, "path")
    ctx = Context(inputs=common.read_inputs(_param(req, "inputs")), outputs=f.outputs)
    try:
        return common.dump_and_reference(variant(_param(req, "format")), session.trained(f.name), path, ctx)
    except BaseException:
        common.remove_quietly(path)
        raise


# --- measuring, each in a forked child -----------------------------------------------------

def _isolated(session, req, work, publish=lambda result, tmpdir: result):
    from isolation import Limits

    limits = Limits(wall_seconds=req.get("wall_seconds"))
    return session.isolation().run(work, limits, publish, tmp_root=req.get("tmp_root"))


def _load_args(req):
    from formats.common import Context

    return (variant(_param(req, "format")), os.path.abspath(_param(req, "path")),
            Context(trusted_types=req.get("trusted_types")))


def _measure(session, req):
    """Warm loads, first-prediction latency and batch throughput; the first load's predictions."""
    fmt, path, ctx = _load_args(req)
    inputs, outputs = os.path.abspath(_param(req, "inputs")), _param(req, "outputs")
    repetitions, out_prefix = int(_param(req, "repetitions")), os.path.abspath(_param(req, "out_prefix"))

    def work(tmpdir):
        import numpy as np

        import common
        from stages import in_stage, recorded_warnings

        X = np.load(inputs, allow_pickle=False)
        with recorded_warnings():
            with in_stage("load"):
                start = time.perf_counter()
                model = fmt.load(path, ctx)
                first_load = time.perf_counter() - start
            with in_stage("predict"):
                # A runtime may serve fewer outputs than the fixture declares (ONNX): not timed.
                predictions, _ = common.predict_all(fmt, model, outputs, X, skip_missing=True)
            warm, first = _warm_loads(fmt, path, ctx, outputs[0], X[:1], repetitions)
            batch = _batch_times(fmt, model, outputs[0], X, repetitions)
        return {"first_load_seconds": first_load, "warm_load_seconds": warm,
                "first_predict_seconds": first, "batch_seconds": batch["seconds"],
                "batch_rows": batch["rows"], "outputs": _save(predictions, tmpdir)}

    def publish(result, tmpdir):
        import common

        result["outputs"] = common.publish_outputs(result["outputs"], tmpdir, out_prefix + ".")
        return result

    return _isolated(session, req, work, publish)


def _warm_loads(fmt, path, ctx, output, one_row, repetitions):
    from stages import in_stage

    loads, firsts = [], []
    for _ in range(repetitions):
        with in_stage("load"):
            start = time.perf_counter()
            model = fmt.load(path, ctx)
            loaded = time.perf_counter()
        with in_stage("predict"):
            fmt.predict(model, output, one_row)
        firsts.append(time.perf_counter() - loaded)
        loads.append(loaded - start)
        del model
    return loads, firsts


def _batch_times(fmt, model, output, X, repetitions):
    import numpy as np

    from stages import in_stage

    batch = np.ascontiguousarray(np.tile(X, (-(-BATCH_ROWS // len(X)), 1)))
    times = []
    with in_stage("predict"):
        for _ in range(repetitions):
            start = time.perf_counter()
            fmt.predict(model, output, batch)
            times.append(time.perf_counter() - start)
    return {"seconds": times, "rows": int(len(batch))}


def _save(predictions, tmpdir):
    import numpy as np

    from formats.common import saveable

    for output, value in predictions.items():
        np.save(os.path.join(tmpdir, output + ".npy"), saveable(value), allow_pickle=False)
    return list(predictions)


def _rss(session, req):
    """One load in a fresh child: how far its peak RSS (VmHWM) rose above its RSS before the load."""
    fmt, path, ctx = _load_args(req)

    def work(tmpdir):
        from process_tools import status_kb
        from stages import in_stage

        _release_free_heap()
        _reset_peak()
        before = status_kb("VmRSS")
        with in_stage("load"):
            model = fmt.load(path, ctx)
        peak = status_kb("VmHWM")
        del model
        return {"rss_before_kb": before, "rss_growth_kb": max(0, peak - before)}

    return _isolated(session, req, work)


def _release_free_heap():
    """Returns the worker's freed heap to the kernel (glibc malloc_trim): a load would otherwise
    reuse pages already resident since the dump, and its growth would not show in RSS or PSS."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the growth may read low


def _reset_peak():
    """Resets VmHWM to the current RSS where the kernel lets us (else it holds the peak since fork,
    which the forked child starts at)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _share(session, req):
    """K processes load the same artifact at once; their PSS (smaps_rollup) before and after."""
    fmt, path, ctx = _load_args(req)
    k, seconds = int(_param(req, "processes")), float(req.get("wall_seconds") or 300)

    def work(tmpdir):
        return _concurrent_pss(lambda: fmt.load(path, ctx), k, seconds)

    return _isolated(session, req, work)


def _concurrent_pss(load, k, seconds):
    """Forks k loaders; once all have loaded, each reads its own PSS (only a process itself may
    read its smaps when it runs under another uid than the one that forked it)."""
    from stages import StageError

    go, ready, measure, report = os.pipe(), os.pipe(), os.pipe(), os.pipe()
    pids = [_loader(load, go[0], ready[1], measure[0], report[1]) for _ in range(k)]
    try:
        os.write(go[1], b"g" * k)
        deadline = time.monotonic() + seconds
        loaded = _read_until(ready[0], lambda got: len(got) >= k, deadline, pids)
        failed = k - loaded.count(b"y")
        if failed:
            raise StageError("load", RuntimeError("%d of %d concurrent loads failed or died"
                                                  % (failed, k)))
        os.write(measure[1], b"m" * k)
        lines = _read_until(report[0], lambda got: got.count(b"\n") >= k, deadline, pids).split()
    finally:
        for pid in pids:
            _end(pid)
        for fd in go + ready + measure + report:
            os.close(fd)
    if len(lines) != 2 * k:
        raise StageError("load", RuntimeError("only %d of %d loaders reported their PSS in %g s"
                                              % (len(lines) // 2, k, seconds)))
    return {"processes": k, "pss_before_kb": [int(x) for x in lines[0::2]],
            "pss_after_kb": [int(x) for x in lines[1::2]]}


def _loader(load, go, ready, measure, report):
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        os.read(go, 1)
        _release_free_heap()
        before = _pss_kb("self")
        model = load()
        os.write(ready, b"y")
        os.read(measure, 1)
        os.write(report, b"%d %d\n" % (before, _pss_kb("self")))
        time.sleep(3600)  # holds the model until the measuring parent ends it
        del model
    except BaseException:
        os.write(ready, b"n")
        code = 1
    os._exit(code)


def _read_until(fd, done, deadline, pids):
    """Reads until done(bytes so far), the deadline, or a loader's death (it will never answer)."""
    import select

    got = b""
    while not done(got) and time.monotonic() < deadline:
        if select.select([fd], [], [], min(0.2, max(0.0, deadline - time.monotonic())))[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            got += chunk
        elif any(_died(pid) for pid in pids):
            break
    return got


def _died(pid):
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def _pss_kb(pid):
    """Pss of /proc/<pid>/smaps_rollup (Linux 4.14+); 0 when the kernel does not say."""
    try:
        with open("/proc/%s/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _end(pid):
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


STEPS = {"train": _train, "dump": _dump, "measure": _measure, "rss": _rss, "share": _share}


def _param(req, name):
    import common

    return common.param(req, name)


# --- the cold-start script ------------------------------------------------------------------

def cold_main(argv):
    """Loads one artifact in this fresh interpreter; prints one JSON line once it is loaded."""
    import argparse

    parser = argparse.ArgumentParser(description="crossload bench: one cold load")
    parser.add_argument("mode", choices=["cold"])
    parser.add_argument("--root", required=True)
    parser.add_argument("--format", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--trusted-types", default="null")
    args = parser.parse_args(argv)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the load prints must not look like the answer
    sys.path[:0] = [os.path.abspath(args.root), os.path.dirname(os.path.abspath(__file__))]
    import resource

    import common

    common.enable_extra_fixtures()  # an artifact may reference classes of test or user recipes

    from formats.common import Context

    start = time.perf_counter()
    variant(args.format).load(args.path, Context(trusted_types=json.loads(args.trusted_types)))
    out.write(json.dumps({"loaded": True, "in_process_seconds": time.perf_counter() - start,
                          "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(cold_main(sys.argv[1:]))
