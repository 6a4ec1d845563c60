"""The harness speaks the worker protocol in one place, harness/core/protocol*.{h,cc}: no other C++
file builds a request by hand, every op of the worker's table has its request there, and no other
file reads an answer by hand: outside harness/core the raw JSON of an answer is never reached and
the fields only answers carry are never used as JSON keys (each answer has its decoder in
protocol_answers.cc)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CORE = ROOT / "harness" / "core"
PROTOCOL = sorted(CORE.glob("protocol*.h")) + sorted(CORE.glob("protocol*.cc"))
DECODERS = CORE / "protocol_answers.cc"

# Fields of the answers that the harness's own records (manifest, cells, the cached fixture list)
# carry too, so a record reader names them: they say nothing about who reads an answer.
ALSO_RECORD_FIELDS = {"name", "description", "tags", "rtol", "atol", "outputs", "inputs", "sha256", "size_bytes",
                      "dump_seconds", "format_details", "warnings", "invariants", "cv_score", "recipe_sha256",
                      "rows", "columns"}

# Readers of answer-shaped JSON that cannot use the decoders, each with why.
NOT_WORKER_ANSWERS = {
    # the native ONNX consumer's `measure` command prints its loads' results; harness/env sits
    # below harness/core (docs/architecture.md), so it cannot include the decoders
    "harness/env/native_onnx.cc",
}


def sources(outside_core=False):
    # formats/ holds the worker side of the native ONNX consumer (it writes answers) and the
    # inspectors, which speak to no worker: only the requests test looks there.
    for d in ("harness", "reports") + (() if outside_core else ("formats",)):
        for p in (ROOT / d).rglob("*"):
            if p.suffix not in (".cc", ".h") or p in PROTOCOL:
                continue
            if outside_core and (p.parent == CORE or p.name.endswith("_test.cc")):
                continue
            yield p


def relative(p):
    return p.relative_to(ROOT) if ROOT in p.parents else p


def lines_matching(paths, pattern):
    return [f"{relative(p)}:{n}: {line.strip()}" for p in paths
            for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1) if re.search(pattern, line)]


def test_no_request_is_written_outside_the_protocol_module():
    by_hand = lines_matching(sources(), r'\{"op",')
    assert not by_hand, "requests written by hand (use harness/core/protocol.h):\n" + "\n".join(by_hand)


def test_every_op_of_the_worker_has_its_request():
    table = (ROOT / "harness" / "worker" / "ops.py").read_text()
    ops = re.findall(r'^\s+"(\w+)": \w+\.\w+,$', table, re.M)
    assert len(ops) >= 10, ops
    text = "".join(p.read_text() for p in PROTOCOL)
    missing = [op for op in ops if f'"{op}"' not in text]
    assert not missing, f"ops without a request in harness/core/protocol.*: {missing}"


# call() and WorkerClient::request() hand back the undecoded answer (Answer, WorkerReply); ask() decodes it.
UNDECODED = r'\bcall\(|(->|\.)request\(|\.answer\b|\.result\(\)|\.reply\b'


def test_no_answer_is_opened_outside_core():
    found = lines_matching(sources(outside_core=True), UNDECODED)
    assert not found, "answers read undecoded (use ask() of harness/core/protocol.h):\n" + "\n".join(found)


def answer_only_fields():
    read = set(re.findall(r'\bf\.\w+\("(\w+)"', DECODERS.read_text()))
    assert {"load_seconds", "warm_load_seconds", "train_seconds", "pss_after_kb"} <= read, read
    return read - ALSO_RECORD_FIELDS


def test_no_answer_field_is_read_by_hand_outside_core():
    fields = "|".join(sorted(answer_only_fields()))
    used = r'(value|contains|find|at)\("(%s)"|\["(%s)"\]' % (fields, fields)
    paths = [p for p in sources(outside_core=True) if str(relative(p)) not in NOT_WORKER_ANSWERS]
    found = lines_matching(paths, used)
    assert not found, ("answer fields read by hand (decode them in harness/core/protocol_answers.cc):\n"
                       + "\n".join(found))


def test_the_signals_catch_a_hand_read_answer(tmp_path):
    """The patterns above do find the reads they are about (a test that cannot fail proves nothing)."""
    sample = tmp_path / "x.cc"
    sample.write_text('auto r = call(*w, q, t);\nauto s = r.reply.answer["result"].value("load_seconds", 0.0);\n'
                      'auto ok = ask(*w, q, t);\n')
    assert len(lines_matching([sample], UNDECODED)) == 2
    fields = "|".join(sorted(answer_only_fields()))
    assert lines_matching([sample], r'(value|contains|find|at)\("(%s)"|\["(%s)"\]' % (fields, fields))
