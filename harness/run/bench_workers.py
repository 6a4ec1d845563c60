"""The long-lived worker against one fresh interpreter per cell, under emulation (ci/bench-workers).

One environment (by default the big-endian `bookworm-s390x` of matrix/quick.toml, from the cache)
produces the zoo once (`crossload produce`; not measured), then consumes the same artifacts twice
in one go, one after the other:

  long-lived  `crossload consume`: the real harness, one sandboxed worker that imports the stack
              once; run twice, with `--isolation batch` (one child loads artifact after artifact)
              and `--isolation cell` (a child per load);
  fresh       per artifact, `crossload env shell ENV -- fresh_cell.py ...`: start python under QEMU,
              import, load, predict, exit.

A third, small pass talks to a long-lived worker directly (`load_predict` requests, both isolation
modes) to split the isolation's cost (the worker's `isolated_seconds` minus load+predict) from the
harness's own. A native environment (`--native-env`, default `host`) produces and consumes the same
fixtures for the native cells-per-second figures.

Prints a JSON summary (and writes it to WORK/bench-workers.json): seconds per cell for each mode,
their ratio, and the overhead outside the worker's load+predict as a share of a cell's time.
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Fixtures that are quick to train under QEMU and that every format of the zoo can hold:
# 14 x 9 formats = 126 artifacts, so at least 100 load in any environment.
FIXTURES = ["iris_hgb_classifier", "wine_random_forest_classifier", "diabetes_random_forest_regressor",
            "iris_decision_tree_classifier", "iris_logistic_regression", "diabetes_ridge", "iris_svc_proba",
            "wine_knn_classifier", "iris_gaussian_nb", "iris_kmeans", "breast_cancer_scaler_logreg_pipeline",
            "mixed_column_transformer_onehot", "iris_string_labels", "digits_pca"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def toml_value(v):
    return json.dumps(v)  # strings, numbers and lists of strings read the same in TOML


def write_matrix(source, env, fixtures, path):
    """A matrix whose only environment is `env` exactly as `source` declares it (same cache entry)."""
    spec = tomllib.loads(Path(source).read_text())["env"][env]
    lines = ["[matrix]", 'name = "bench-workers"', f"fixtures = {toml_value(fixtures)}", 'formats = ["*"]',
             f"producers = [{toml_value(env)}]", f"consumers = [{toml_value(env)}]", "cell_timeout = 600",
             "", f'[env."{env}"]']
    if "/" in spec.get("python", "") and not Path(spec["python"]).is_absolute():  # relative to its matrix file
        spec["python"] = os.path.normpath(Path(source).resolve().parent / spec["python"])  # a venv's symlink kept
    lines += [f"{k} = {toml_value(v)}" for k, v in spec.items()]
    path.write_text("\n".join(lines) + "\n")


def crossload(binary, *args, **kw):
    cmd = [binary, *map(str, args)]
    log("+ " + " ".join(cmd))
    return subprocess.run(cmd, text=True, **kw)


def long_lived(binary, matrix, env, produced, out, isolation):
    start = time.perf_counter()
    proc = crossload(binary, "consume", "--matrix", matrix, "--env", env, "--in", produced, "--out", out,
                     "--report", "json", "-q", "--isolation", isolation, capture_output=True)
    total = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"crossload consume failed ({proc.returncode}):\n{proc.stderr}")
    line = next(l for l in proc.stdout.splitlines() if l.startswith("run "))
    loop = float(line.split(" in ")[1].split()[0])
    db = sqlite3.connect(out / "results.db")
    # This consume's run only: an --out from an earlier bench holds its runs too.
    run = db.execute("select max(id) from runs").fetchone()[0]
    work = db.execute("select coalesce(sum(value), 0) from cell_measurements "
                      "where run_id = ? and name in ('load', 'predict')", (run,)).fetchone()[0]
    outcomes = dict(db.execute("select outcome, count(*) from cells where run_id = ? group by outcome",
                               (run,)).fetchall())
    # Cells settled without a load (UNSUPPORTED) cost next to nothing: count the loads.
    cells = sum(n for o, n in outcomes.items() if o not in ("UNSUPPORTED", "ENV_UNAVAILABLE"))
    return {"isolation": isolation, "cells": cells, "wall_seconds": total, "cells_seconds": loop,
            "startup_seconds": total - loop, "cells_per_second": cells / loop,
            "seconds_per_cell": loop / cells, "amortized_seconds_per_cell": total / cells,
            "load_predict_seconds_per_cell": work / cells, "outcomes": outcomes,
            "overhead_share": (loop - work) / loop}


def loadable(produced):
    index = json.loads((produced / "artifacts.json").read_text())
    return [a for a in index["artifacts"] if a["status"] == "ok"]


def cell_args(produced, a):
    folder = (produced / a["path"]).parent
    m = a["manifest"]
    return ["--format", a["format"], "--path", str(produced / a["path"]), "--inputs", str(folder / m["inputs"]),
            "--outputs", ",".join(m["outputs"]),
            "--trusted-types", json.dumps(m["format_details"].get("untrusted_types"), separators=(",", ":"))]


def fresh(binary, matrix, env, produced, limit):
    script = str(ROOT / "harness" / "worker" / "fresh_cell.py")
    walls, inner, failed = [], [], 0
    artifacts = loadable(produced)[:limit]
    for i, a in enumerate(artifacts, 1):
        cmd = [binary, "env", "shell", "--matrix", str(matrix), env, "--", script, "--root", str(ROOT),
               *cell_args(produced, a)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        try:
            inner.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        except (IndexError, ValueError):
            failed += 1  # a load error is a cell too: its time counts, its breakdown does not
        if i % 10 == 0:
            log(f"  fresh: {i}/{len(artifacts)} cells, {statistics.mean(walls):.2f} s per cell so far")
    mean = lambda key: statistics.mean(d[key] for d in inner) if inner else None
    return {"cells": len(walls), "failed_cells": failed, "seconds_per_cell": statistics.mean(walls),
            "median_seconds": statistics.median(walls), "in_script_import_seconds": mean("import_seconds"),
            "in_script_load_seconds": mean("load_seconds"), "in_script_predict_seconds": mean("predict_seconds"),
            "outside_script_seconds": statistics.mean(walls) - (mean("script_seconds") or 0)}


def fork_cost(binary, matrix, env, produced, sample, isolation):
    """isolated_seconds - (load + predict) per load, from a long-lived worker spoken to directly."""
    cmd = [binary, "env", "shell", "--matrix", str(matrix), env, "--",
           str(ROOT / "harness" / "worker" / "worker.py"), "--root", str(ROOT)]
    w = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def ask(i, req):
        w.stdin.write(json.dumps({"id": i, **req}) + "\n")
        w.stdin.flush()
        return json.loads(w.stdout.readline())

    ask(0, {"op": "hello"})
    # As `crossload consume` does at start-up: every format's runtime imported once, so the
    # sample's first load of a format does not count that import as the request's own cost.
    ask(0, {"op": "prepare_loads", "formats": ["*"]})
    extra, rounds, phases, work = [], [], [], []
    for i, a in enumerate(loadable(produced)[:sample], 1):
        args = cell_args(produced, a)
        req = {"op": "load_predict", "format": a["format"], "path": args[3], "inputs": args[5],
               "outputs": a["manifest"]["outputs"], "out_prefix": f"/tmp/bench/{i}",
               "trusted_types": json.loads(args[9]), "isolation": isolation}
        start = time.perf_counter()
        r = ask(i, req)
        rounds.append(time.perf_counter() - start)
        if r.get("ok"):
            res = r["result"]
            extra.append(res["isolated_seconds"] - res["load_seconds"] - res["predict_seconds"])
            work.append(res["load_seconds"] + res["predict_seconds"])
            ph = dict(res.get("phases", {}))
            if "work" in ph:  # the child's work besides load+predict: reading inputs, saving outputs
                ph["work_besides_load_predict"] = ph.pop("work") - res["load_seconds"] - res["predict_seconds"]
            ph["request_outside_isolation"] = rounds[-1] - res["isolated_seconds"]
            for key in ("inputs_seconds", "save_seconds"):
                ph["work:" + key.replace("_seconds", "")] = res.get(key, 0.0)
            phases.append(ph)
    w.stdin.close()
    w.wait(timeout=120)
    # The first load imports the stack into the worker: leave it out of the steady state.
    steady = phases[1:]
    names = sorted({k for ph in steady for k in ph})
    return {"isolation": isolation, "loads": len(extra) - 1, "fork_seconds_per_load": statistics.mean(extra[1:]),
            "request_seconds_per_load": statistics.mean(rounds[1:]),
            "load_predict_seconds_per_load": statistics.mean(work[1:]),
            # Where a load's time goes besides load+predict, per step (mean seconds per load).
            "phase_seconds_per_load": {k: statistics.mean(ph.get(k, 0.0) for ph in steady) for k in names}}


def produce(binary, matrix, env, produced):
    """Trains and dumps the zoo in env once; the seconds it took (docs/scale.md's per-pair cost
    of producing), or None when an earlier run's artifacts are reused."""
    if (produced / "artifacts.json").exists():
        return None
    start = time.perf_counter()
    crossload(binary, "produce", "--matrix", matrix, "--env", env, "--out", produced, "-q", check=True)
    return time.perf_counter() - start


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", default=str(ROOT / "build" / "crossload"))
    p.add_argument("--matrix", default=str(ROOT / "matrix" / "quick.toml"), help="where the environment is declared")
    p.add_argument("--env", default="bookworm-s390x")
    p.add_argument("--work", default=str(ROOT / "build" / "bench-workers"),
                   help="working directory; must lie inside the source tree, which the environment sees")
    p.add_argument("--fresh-cells", type=int, default=100000, help="at most this many fresh-interpreter cells")
    p.add_argument("--fork-sample", type=int, default=30)
    p.add_argument("--native-env", default="host",
                   help="a native environment of --matrix whose cells per second are measured beside (none: skip)")
    a = p.parse_args(argv)
    # One thread per native library in both modes, as ci/test runs: on shared cores OpenMP's
    # spin-waits under QEMU turned one HGB predict into 9 s (the debian launch passes these on).
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    matrix = work / "bench.toml"
    write_matrix(a.matrix, a.env, FIXTURES, matrix)
    produced = work / "produced"
    produce_seconds = produce(a.bin, matrix, a.env, produced)
    n = len(loadable(produced))
    log(f"{n} artifacts to load in {a.env}")
    summary = {"environment": a.env, "artifacts": n, "cpu_count": os.cpu_count(),
               "omp_num_threads": os.environ["OMP_NUM_THREADS"],
               "load_average_at_start": os.getloadavg(),
               "produce_seconds": produce_seconds, "produce_fixtures": len(FIXTURES)}
    # Both isolation modes, one after the other on the same artifacts (ratios side by side).
    modes = {m: long_lived(a.bin, matrix, a.env, produced, work / f"long-lived-{m}", m) for m in ("batch", "cell")}
    for m, r in modes.items():
        log(f"long-lived, isolation {m}: {r['seconds_per_cell']:.3f} s per cell")
    summary["long_lived"], summary["long_lived_cell"] = modes["batch"], modes["cell"]
    summary["fork_per_load"] = fork_cost(a.bin, matrix, a.env, produced, a.fork_sample, "batch")
    summary["fork_per_load_cell"] = fork_cost(a.bin, matrix, a.env, produced, a.fork_sample, "cell")
    if a.native_env != "none":
        summary["native"] = native(a, work)
    summary["fresh"] = fresh(a.bin, matrix, a.env, produced, a.fresh_cells)
    summary["load_average_at_end"] = os.getloadavg()
    report(summary)
    (work / "bench-workers.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print_goals(summary)


def native(a, work):
    """Cells per second of a native consumer, both isolation modes, on its own artifacts."""
    matrix = work / "bench-native.toml"
    write_matrix(a.matrix, a.native_env, FIXTURES, matrix)
    produced = work / "produced-native"
    produce_seconds = produce(a.bin, matrix, a.native_env, produced)
    out = {m: long_lived(a.bin, matrix, a.native_env, produced, work / f"native-{m}", m) for m in ("batch", "cell")}
    out["environment"], out["produce_seconds"] = a.native_env, produce_seconds
    return out


# The goals of ci/bench-workers (README): harness overhead under 10 % of an emulated cell, and
# the fresh-interpreter / long-lived ratio that follows from it.
OVERHEAD_GOAL = 0.10


def report(summary):
    ll, cell, fr = summary["long_lived"], summary["long_lived_cell"], summary["fresh"]
    summary["ratio"] = fr["seconds_per_cell"] / ll["seconds_per_cell"]
    summary["ratio_amortized"] = fr["seconds_per_cell"] / ll["amortized_seconds_per_cell"]
    summary["ratio_cell_isolation"] = fr["seconds_per_cell"] / cell["seconds_per_cell"]
    summary["batch_speedup_over_cell"] = cell["seconds_per_cell"] / ll["seconds_per_cell"]
    # The limit: a cell that were load + predict alone.
    summary["ratio_limit"] = fr["seconds_per_cell"] / ll["load_predict_seconds_per_cell"]
    summary["overhead_goal_met"] = ll["overhead_share"] < OVERHEAD_GOAL
    summary["breakdown_ms_per_cell"] = breakdown(ll, summary["fork_per_load"])


def breakdown(ll, fk):
    """Where a batched emulated load's time goes, ms per load, from the direct sample (one
    worker spoken to by this script, so the parts add up to its round trip): load + predict, the
    child's other work (inputs, saving the predictions, the invariants), its process-state check,
    the rest of the isolation (the request to the child, its answer, judging and the sweep for
    processes left behind, forks amortized), the worker outside the isolation (decoding,
    warming, the private directory, publishing, encoding, the pipes to this script). `harness`:
    what a consumed cell costs beyond the sample's round trip (copying and hashing the artifact,
    comparing, storing): meaningful only when the machine's load held still between the two."""
    ph = fk["phase_seconds_per_load"]
    child_work = ph.get("work_besides_load_predict", 0.0)
    state = ph.get("state_check", 0.0)
    parts = {"load_predict": fk["load_predict_seconds_per_load"], "child_work_besides": child_work,
             "state_check": state, "isolation_rest": fk["fork_seconds_per_load"] - child_work - state,
             "worker_outside_isolation": ph.get("request_outside_isolation", 0.0),
             "harness": ll["seconds_per_cell"] - fk["request_seconds_per_load"]}
    return {k: round(1000 * v, 2) for k, v in parts.items()}


def print_goals(summary):
    ll, cell, fr = summary["long_lived"], summary["long_lived_cell"], summary["fresh"]
    fk, fkc = summary["fork_per_load"], summary["fork_per_load_cell"]
    print(f"emulated ({summary['environment']}): isolation batch {ll['seconds_per_cell']:.3f} s/cell "
          f"({ll['cells_per_second']:.1f} cells/s; amortized with the worker's start-up "
          f"{ll['amortized_seconds_per_cell']:.3f} s/cell), isolation cell {cell['seconds_per_cell']:.3f} s/cell "
          f"({cell['cells_per_second']:.1f} cells/s): batch {summary['batch_speedup_over_cell']:.2f}x faster")
    print(f"harness overhead outside load+predict: batch {100 * ll['overhead_share']:.1f}% of a cell, "
          f"cell {100 * cell['overhead_share']:.1f}% (goal < {100 * OVERHEAD_GOAL:.0f}%: "
          f"{'met' if summary['overhead_goal_met'] else 'NOT met'}); isolation per load (direct sample): "
          f"batch {fk['fork_seconds_per_load'] * 1000:.1f} ms, cell {fkc['fork_seconds_per_load'] * 1000:.1f} ms")
    print("where a batched emulated load's time goes, direct sample (ms): " +
          ", ".join(f"{k} {v:.1f}" for k, v in summary["breakdown_ms_per_cell"].items()))
    print(f"fresh interpreter {fr['seconds_per_cell']:.2f} s/cell: ratio fresh / long-lived {summary['ratio']:.1f} "
          f"(amortized {summary['ratio_amortized']:.1f}; with a child per load {summary['ratio_cell_isolation']:.1f}; "
          f"limit with no overhead at all {summary['ratio_limit']:.1f})")
    if "native" in summary:
        n = summary["native"]
        print(f"native ({n['environment']}): isolation batch {n['batch']['cells_per_second']:.1f} cells/s "
              f"({n['batch']['seconds_per_cell'] * 1000:.1f} ms/cell, overhead {100 * n['batch']['overhead_share']:.0f}%), "
              f"isolation cell {n['cell']['cells_per_second']:.1f} cells/s "
              f"({n['cell']['seconds_per_cell'] * 1000:.1f} ms/cell, overhead {100 * n['cell']['overhead_share']:.0f}%)")


if __name__ == "__main__":
    main()
