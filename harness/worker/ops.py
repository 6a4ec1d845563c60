"""The worker's op table (PROTOCOL.md): the one place an op name is bound to its function. The
ops themselves live with what they serve: run_ops.py (run, produce, consume), check_ops.py
(check), bench.py (bench); what they share is common.py."""
import bench
import check_ops
import run_ops

OPS = {
    "hello": run_ops.hello,
    "fingerprint": run_ops.fingerprint,
    "list": run_ops.list_op,
    "train": run_ops.train,
    "dump": run_ops.dump,
    "prepare_loads": run_ops.prepare_loads,
    "load_predict": run_ops.load_predict,
    "convert_inputs": check_ops.convert_inputs,
    "check_predict": check_ops.check_predict,
    "retrain_cv": check_ops.retrain_cv,
    "bench": bench.bench_op,
}
