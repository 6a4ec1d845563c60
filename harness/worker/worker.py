"""crossload's worker: answers the JSON-lines protocol of PROTOCOL.md on stdin/stdout.

    <python> harness/worker/worker.py --root <crossload source tree>

Runs in every environment the harness tests, old ones included (Python 3.8, scikit-learn 1.0):
Python 3.8 syntax, and no import of an optional package outside the op that needs it.
"""
import argparse
import json
import os
import sys

# Where a failure the op did not tag itself belongs. A load's own failures come tagged from its
# child (isolation.py); one in the worker around it is the worker's.
DEFAULT_STAGE = {"train": "train", "dump": "dump"}


def main(argv=None):
    args = _parse_args(argv)
    protocol_out = _claim_stdout()  # before any import that might print
    sys.path.insert(0, os.path.abspath(args.root))
    from common import enable_extra_fixtures
    from session import Session

    enable_extra_fixtures()
    serve(sys.stdin.buffer, protocol_out, Session(protected_fds=[protocol_out.fileno()]))
    return 0


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="crossload worker (JSON lines on stdin/stdout)")
    parser.add_argument("--root", required=True, help="the crossload source tree")
    return parser.parse_args(argv)


def _claim_stdout():
    """Keeps the real stdout for answers; fd 1 and sys.stdout then lead to stderr (the log)."""
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return open(protocol_fd, "w", encoding="utf-8", newline="\n")


def serve(requests, out, session):
    """Answers each request line until EOF."""
    for raw in iter(requests.readline, b""):
        if not raw.strip():
            continue
        out.write(_encode(handle(raw, session)) + "\n")
        out.flush()


def _encode(answer):
    """The answer as one JSON line; an answer that cannot be encoded becomes an error answer."""
    from stages import StageError

    try:
        return json.dumps(answer, allow_nan=False)
    except (TypeError, ValueError) as exc:
        error = StageError("protocol", exc, explain="the worker could not encode its answer: ")
        return json.dumps({"id": answer.get("id"), "ok": False, "error": error.error()})


def handle(raw, session):
    """One answer for one request line, whatever happens while serving it."""
    from ops import OPS
    from stages import FAILURES, ProtocolError, StageError, in_stage, jsonable

    req_id = None
    try:
        req = _decode(raw)
        req_id = req["id"]
        name = req.get("op")
        op = OPS.get(name) if isinstance(name, str) else None
        if op is None:
            raise ProtocolError("unknown op %r (known: %s)" % (name, ", ".join(OPS)))
        with in_stage(DEFAULT_STAGE.get(name, "protocol")):
            result = jsonable(op(session, req))
        return {"id": req_id, "ok": True, "result": result}
    except StageError as exc:
        error = exc.error()
    except FAILURES as exc:  # a bad request, or a bug in the worker: an answer, never the end
        error = StageError("protocol", exc).error()
    return {"id": req_id, "ok": False, "error": jsonable(error)}


def _decode(raw):
    from stages import ProtocolError

    try:
        req = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError both
        raise ProtocolError("request is not a JSON line: %s" % exc) from exc
    if not isinstance(req, dict):
        raise ProtocolError("request is not a JSON object")
    if not isinstance(req.get("id"), int) or isinstance(req.get("id"), bool):
        raise ProtocolError("request lacks an integer \"id\"")
    return req


if __name__ == "__main__":
    sys.exit(main())
