"""Fixtures for harness/run/test_run_invariants.py, loaded with CROSSLOAD_EXTRA_FIXTURES.

`counting_tree` is wrong_answers.CountingTreeClassifier (beside this file): a real decision tree
whose predict_proba returns class counts, as a scikit-learn 1.3 tree does in 1.9. Producer and
consumer agree bitwise, so only the output invariants can tell the answer is wrong. Only the
standard library and `fixtures` at module level, as the worker's `list` op requires.
"""
from fixtures import datasets, zoo


def counting_tree():
    from wrong_answers import CountingTreeClassifier

    return (CountingTreeClassifier(random_state=0),) + datasets.split(*datasets.iris())


FIXTURES = (
    zoo.Fixture("counting_tree", "test only: a tree whose predict_proba returns class counts",
                ("predict", "predict_proba"), counting_tree, tags=("test-only",), cv=False),
)
