"""Real estimators that answer wrongly, for the output-invariant tests (harness/worker/invariants.py).

CountingTreeClassifier is a scikit-learn DecisionTreeClassifier whose predict_proba returns what a
tree pickled by scikit-learn 1.3 returns when loaded by 1.9 (docs/findings.md): the class counts
of the leaf (fractions x weighted_n_node_samples) instead of fractions. Its predict is still right.
"""
import numpy as np
from sklearn.tree import DecisionTreeClassifier


class CountingTreeClassifier(DecisionTreeClassifier):
    def predict_proba(self, X, check_input=True):
        fractions = super().predict_proba(X, check_input)
        leaves = self.apply(X, check_input)
        return fractions * self.tree_.weighted_n_node_samples[leaves][:, None]


class ContrarianTreeClassifier(DecisionTreeClassifier):
    """predict says the last class where predict_proba's arg-max says another: inconsistent state."""

    def predict(self, X, check_input=True):
        return np.full(len(X), self.classes_[-1])


def iris_counting_tree():
    """(fitted CountingTreeClassifier, X) on iris."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return CountingTreeClassifier(random_state=0).fit(X, y), X[::5]
