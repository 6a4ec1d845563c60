"""Fixtures for harness/run/test_audit_gate.py, loaded with CROSSLOAD_EXTRA_FIXTURES.

`gate_exec_tree` is a real decision tree whose pickle calls `builtins.exec` while it loads: the
static audit must call it UNSAFE, so `crossload run` blocks it in every consumer unless told
--allow-unsafe. What the exec'd code does is harmless and observable: anywhere but in the process
that dumped it (the producer's own round trip runs there), it says so on stderr (the consumer
worker's log) and tries to append a line to each file named in AUDIT_GATE_MARKERS, so the test
can tell whether a consumer really loaded it, and that the sandbox kept it from writing. `gate_plain_tree` is a plain tree in the same run, which loads as usual.

Only the standard library, `fixtures` and wrapped_tree.py beside it at module level, as the
worker's `list` op requires.
"""
import os

from fixtures import datasets, zoo
from wrapped_tree import WrappedTree

MARKERS_VAR = "AUDIT_GATE_MARKERS"

# Runs under exec with a fresh globals dict, so it leaves nothing in the loader's namespace.
PAYLOAD = """
import os, sys
if os.getpid() != %d:
    sys.stderr.write("audit gate payload ran\\n")
    for path in filter(None, os.environ.get(%r, "").split(os.pathsep)):
        try:
            with open(path, "a") as f:
                f.write("executed by pid %%d\\n" %% os.getpid())
            outcome = "written"
        except OSError as exc:
            outcome = "refused: %%s" %% type(exc).__name__
        sys.stderr.write("audit gate payload: write %%s: %%s\\n" %% (path, outcome))
    sys.stderr.flush()
"""


class ExecOnLoad:
    """Pickles as exec(PAYLOAD, {}): the dangerous global the audit must find."""

    def __init__(self, dumped_by):
        self.dumped_by = dumped_by

    def __reduce__(self):
        return exec, (PAYLOAD % (self.dumped_by, MARKERS_VAR), {})


class GatedTree(WrappedTree):
    """A decision tree persisted as tree_after(tree, exec(...)): loading runs the exec first."""

    def __reduce__(self):
        return tree_after, (self.tree, ExecOnLoad(os.getpid()))


def tree_after(tree, _ran):
    return tree


def gate_exec_tree():
    return (GatedTree(),) + datasets.split(*datasets.iris())


def gate_plain_tree():
    from sklearn.tree import DecisionTreeClassifier

    return (DecisionTreeClassifier(random_state=0),) + datasets.split(*datasets.iris())


FIXTURES = (
    zoo.Fixture("gate_exec_tree", "test only: a tree whose pickle calls builtins.exec on load",
                ("predict",), gate_exec_tree, tags=("test-only",), cv=False),
    zoo.Fixture("gate_plain_tree", "test only: a plain tree beside it",
                ("predict",), gate_plain_tree, tags=("test-only",), cv=False),
)
