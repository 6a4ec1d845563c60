"""A real decision tree whose persisted form a test fixture chooses: the fixture modules beside
this file (and the one test_scale.py writes next to a copy of it) subclass WrappedTree and give
it a __reduce__ that makes loading the pickle do something first. Loaded through
CROSSLOAD_EXTRA_FIXTURES, whose folder the worker puts on sys.path; only the standard library at
module level, as the worker's `list` op requires.
"""


class WrappedTree:
    """Fits and predicts as DecisionTreeClassifier(random_state=0); the subclass's __reduce__
    says what unpickling it runs."""

    def __init__(self):
        self.tree = None

    def fit(self, X, y):
        from sklearn.tree import DecisionTreeClassifier

        self.tree = DecisionTreeClassifier(random_state=0).fit(X, y)
        return self

    def predict(self, X):
        return self.tree.predict(X)
