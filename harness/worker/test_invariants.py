"""Output invariants (invariants.py) on real fitted scikit-learn estimators, in this process."""
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "run", "testdata"))
import invariants  # noqa: E402
from wrong_answers import ContrarianTreeClassifier, iris_counting_tree  # noqa: E402


def outputs(model, X):
    return {"predict": model.predict(X), "predict_proba": model.predict_proba(X)}


def names(found):
    return [f["name"] for f in found]


@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")
def test_real_classifiers_keep_every_invariant():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    for model in (DecisionTreeClassifier(random_state=0).fit(X, y),
                  make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, labels),
                  SVC(probability=True, random_state=0).fit(X, y)):
        assert invariants.check(model, outputs(model, X)) == [], model


def test_a_multilabel_chain_answers_one_probability_per_label_and_keeps_every_invariant():
    # Its rows do not sum to 1 (30 of 30 in the every-estimator run, before this rule).
    from sklearn.datasets import make_multilabel_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.multioutput import ClassifierChain

    X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    model = ClassifierChain(LogisticRegression(max_iter=500), random_state=0).fit(X, Y)
    values = outputs(model, X)
    assert not np.allclose(values["predict_proba"].sum(axis=1), 1)
    assert invariants.check(model, values) == []
    values["predict_proba"] = values["predict_proba"] * 3  # still caught: outside [0, 1]
    assert names(invariants.check(model, values)) == ["proba-in-unit-interval"]


def test_class_counts_break_the_probability_invariants_and_name_the_estimator():
    model, X = iris_counting_tree()
    found = invariants.check(model, outputs(model, X))
    assert names(found) == ["proba-in-unit-interval", "proba-rows-sum-to-one"]
    assert found[0]["message"].endswith("(CountingTreeClassifier)")
    assert "outside [0, 1]" in found[0]["message"] and "sums to 50.0" in found[1]["message"]


def test_predict_that_is_not_the_argmax_and_unknown_labels():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    model = ContrarianTreeClassifier(random_state=0).fit(X, y)
    found = invariants.check(model, outputs(model, X))
    assert names(found) == []  # ContrarianTreeClassifier is not known to predict by arg-max
    invariants.ARGMAX_ESTIMATORS = invariants.ARGMAX_ESTIMATORS | {"ContrarianTreeClassifier"}
    try:
        found = invariants.check(model, outputs(model, X))
    finally:
        invariants.ARGMAX_ESTIMATORS = invariants.ARGMAX_ESTIMATORS - {"ContrarianTreeClassifier"}
    assert names(found) == ["predict-is-argmax"]
    assert "100 of 150 labels differ" in found[0]["message"]
    found = invariants.check(model, {"predict": np.array([0, 1, 7])})
    assert names(found) == ["labels-in-classes"] and "first 7" in found[0]["message"]


def test_non_finite_and_float32_rounding():
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    nan = proba.copy()
    nan[3, 1] = np.nan
    assert "proba-finite" in names(invariants.check(model, {"predict_proba": nan}))
    # ONNX's float32 arithmetic: -1.19e-07 and sums off by a few ulp are not violations.
    rounded = proba.astype(np.float32)
    rounded[0, 0] -= np.float32(1.19e-07)
    assert invariants.check(model, {"predict_proba": rounded}) == []


@pytest.mark.parametrize("values", [{}, {"predict_proba": np.array([1.0, 2.0])}, {"predict": np.array(["a"])}])
def test_what_cannot_be_judged_is_skipped(values):
    assert invariants.check(object(), values) == []


def test_no_zoo_fixture_breaks_an_invariant(trained):
    """No false alarm: every model of the zoo (but the large one) keeps every invariant."""
    from fixtures import zoo

    for fixture in zoo.FIXTURES:
        if "large" in fixture.tags:
            continue
        model, X = trained(fixture.name)
        values = {o: getattr(model, o)(X) for o in fixture.outputs if o in ("predict", "predict_proba")}
        assert invariants.check(model, values) == [], fixture.name


@pytest.mark.parametrize("labels, classes", [
    (np.array([0, 1, 2, 5]), np.array([0, 1, 2])),
    (np.array([0.5, np.nan, -0.0, 2.0]), np.array([0.0, 0.5, np.nan])),
    (np.array(["a", "bb", "c"]), np.array(["a", "bb"])),
    (np.array([True, False]), np.array([True])),
    (np.array([1, 2], dtype=np.uint8), np.array([1, 3], dtype=np.int64)),  # kinds differ: np.isin itself
    (np.array([[0, 1], [1, 1]]), np.array([0, 1])),  # multilabel: np.isin itself
    (np.array(["a", 1], dtype=object), np.array(["a", 2], dtype=object)),
    (np.array([], dtype=np.int64), np.array([0, 1])),
])
def test_labels_among_classes_is_np_isin(labels, classes):
    np.testing.assert_array_equal(invariants._not_among(labels, classes), ~np.isin(labels, classes))
