"""Fixtures for harness/run/test_produce_restart.py, loaded with CROSSLOAD_EXTRA_FIXTURES.

`dies_on_protocol_4` is a real decision tree whose pickling at protocol 4 ends the process that
pickles it (os._exit): dumping it as pickle-p4 kills the producer's worker, as a dump that runs
out of memory or time under emulation does, and the formats after it (pickle-p5: formats go in
name order) must still get their own try. Only the standard library, `fixtures` and wrapped_tree.py at module level, as the
worker's `list` op requires.
"""
import os

from fixtures import datasets, zoo
from wrapped_tree import WrappedTree


class DiesOnProtocol4(WrappedTree):
    def __reduce_ex__(self, protocol):
        if protocol == 4:
            os._exit(9)
        return plain_tree, (self.tree,)


def plain_tree(tree):
    return tree


def dies_on_protocol_4():
    return (DiesOnProtocol4(),) + datasets.split(*datasets.iris())


FIXTURES = (
    zoo.Fixture("dies_on_protocol_4", "test only: pickling at protocol 4 kills the process",
                ("predict",), dies_on_protocol_4, tags=("test-only",), cv=False),
)
