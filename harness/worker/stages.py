"""How a failure inside a request becomes an error answer: its stage, and the warnings beside it.

Stages: protocol (bad request, or a bug in the worker), train, dump, unsupported, load, predict,
and, for a load in its own child (isolation.py), crash (the child died) and timeout (a wall or
CPU limit ran out).
"""
import contextlib
import traceback
import warnings

from formats.common import Unsupported

# SystemExit too: an artifact that calls sys.exit() while loading must not end the worker.
FAILURES = (Exception, SystemExit)


class ProtocolError(Exception):
    """The request itself is wrong: not JSON, a missing field, an unknown op, fixture or format."""


class StageError(Exception):
    """A failure tagged with the protocol stage it belongs to."""

    def __init__(self, stage, cause, caught=None, explain=""):
        super().__init__(str(cause))
        self.stage = stage
        self.cause = cause
        self.caught = caught  # the live list of recorded warnings, when there is one
        self.explain = explain

    def error(self):
        """The protocol's `error` object."""
        cause = self.cause
        error = {
            "stage": self.stage,
            "type": type(cause).__name__,
            "message": self.explain + str(cause),
            "traceback": "".join(traceback.format_exception(type(cause), cause,
                                                            cause.__traceback__)),
        }
        if self.caught is not None:
            error["warnings"] = describe_warnings(self.caught)
        return error


class ReportedError(StageError):
    """An error object already in protocol form: what a load's child answered, or how it died."""

    def __init__(self, error):
        super().__init__(error.get("stage", "protocol"), Exception(error.get("message", "")))
        self.reported = error

    def error(self):
        return self.reported


@contextlib.contextmanager
def in_stage(stage, caught=None, explain=""):
    """Tags any failure in the block with `stage`; Unsupported always means stage `unsupported`."""
    try:
        yield
    except StageError:
        raise
    except ProtocolError:
        raise
    except FAILURES as exc:
        tag = "unsupported" if isinstance(exc, Unsupported) else stage
        raise StageError(tag, exc, caught, explain) from exc


@contextlib.contextmanager
def recorded_warnings():
    """Every warning raised in the block, each occurrence (filters would hide repeats)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def describe_warnings(caught):
    """Protocol warning records, one per distinct (category, message), with a count."""
    records = {}
    for w in caught:
        key = (w.category.__name__, str(w.message))
        if key in records:
            records[key]["count"] += 1
            continue
        record = {"category": key[0], "message": key[1], "count": 1}
        # scikit-learn's InconsistentVersionWarning carries the version that wrote the model.
        version = getattr(w.message, "original_sklearn_version", None)
        if version is not None:
            record["original_sklearn_version"] = str(version)
        records[key] = record
    return list(records.values())


def jsonable(value):
    """Plain JSON: numpy scalars become Python numbers, NaN and infinities null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value
