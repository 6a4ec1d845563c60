"""Hostile fixtures for harness/run/test_isolation.py, loaded with CROSSLOAD_EXTRA_FIXTURES.

Each `hostile_*` fixture trains a small real decision tree, wrapped so that its pickle, when
loaded in a *consumer*, first does something hostile: segfault, exit, spin, eat memory, fork
without end, or try to escape (write outside its sandbox, open sockets). The producer's own round
trip happens in the very process that dumped it (same pid), and there loading is harmless: the
producer must be able to write the artifact and its reference predictions. `after_hostile_tree`
is a plain tree that comes after them all, to show the consumer carried on.

Only the standard library, `fixtures` and wrapped_tree.py beside it at module level, as the
worker's `list` op requires.
"""
import os
import sys

from fixtures import datasets, zoo
from wrapped_tree import WrappedTree

# For the escape attempt, from the test: files to try to create, and a port listening on the
# host's 127.0.0.1.
ESCAPE_PATHS_VAR = "HOSTILE_ESCAPE_PATHS"
PROBE_PORT_VAR = "HOSTILE_PROBE_PORT"
PUBLIC_ADDRESS = ("1.1.1.1", 53)


class Hostile(WrappedTree):
    """A decision tree persisted as a call to detonate(kind, tree, pid of the dumping process)."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def __reduce__(self):
        return detonate, (self.kind, self.tree, os.getpid())


def detonate(kind, tree, dumped_by):
    """Runs at unpickling. Anywhere but in the process that dumped it, misbehaves first."""
    if os.getpid() != dumped_by:
        ACTS[kind]()
    return tree


def _segfault():
    import ctypes

    ctypes.string_at(0)


def _exit3():
    os._exit(3)


def _spin():
    while True:
        pass


def _hog():
    blocks = []
    while True:  # until the address-space limit turns an allocation into MemoryError
        blocks.append(bytearray(1 << 24))


def _fork_bomb():
    # Bounded by 2**10 processes even if no limit applied; each leaves the load's process group.
    for _ in range(10):
        try:
            if os.fork() == 0:
                os.setsid()
        except OSError:
            pass
    _spin()


def _escape():
    """Tries to write each file named by the test and to connect out; says how each went."""
    for path in filter(None, os.environ.get(ESCAPE_PATHS_VAR, "").split(os.pathsep)):
        _attempt("write %s" % path, lambda: open(path, "w").write("escaped"))
    port = os.environ.get(PROBE_PORT_VAR)
    if port:
        _attempt("connect 127.0.0.1:%s" % port, lambda: _connect(("127.0.0.1", int(port))))
    _attempt("connect %s:%d" % PUBLIC_ADDRESS, lambda: _connect(PUBLIC_ADDRESS))


def _connect(address):
    import socket

    socket.create_connection(address, timeout=3).close()


def _attempt(what, action):
    try:
        action()
        outcome = "SUCCEEDED"
    except OSError as exc:
        outcome = "refused: %s: %s" % (type(exc).__name__, exc)
    sys.stderr.write("hostile escape: %s: %s\n" % (what, outcome))
    sys.stderr.flush()


ACTS = {"segfault": _segfault, "exit3": _exit3, "spin": _spin, "hog": _hog,
        "fork_bomb": _fork_bomb, "escape": _escape}


def _recipe(kind):
    def build():
        return (Hostile(kind),) + datasets.split(*datasets.iris())

    build.__name__ = "hostile_" + kind
    return build


def after_hostile_tree():
    from sklearn.tree import DecisionTreeClassifier

    return (DecisionTreeClassifier(random_state=0),) + datasets.split(*datasets.iris())


FIXTURES = tuple(
    zoo.Fixture("hostile_" + kind, "test only: a tree whose loading elsewhere runs %s first" % kind,
                ("predict",), _recipe(kind), tags=("test-only", "hostile"), cv=False)
    for kind in ACTS
) + (zoo.Fixture("after_hostile_tree", "test only: a plain tree loaded after the hostile ones",
                 ("predict",), after_hostile_tree, tags=("test-only",), cv=False),)
