"""Output invariants that need no reference: what any classifier's answers must satisfy,
checked in the consumer environment on the outputs a cell computed. A violation means the
loaded model answers wrongly even where no producer's reference says what is right (a tree
pickled by scikit-learn 1.3 and loaded by 1.9 returns class counts from predict_proba).

check(loaded, values) -> [{"name", "message"}], one entry per invariant broken:
  proba-finite            every predict_proba value is finite
  proba-in-unit-interval  every value lies in [0, 1] (within the output dtype's rounding)
  proba-rows-sum-to-one   every row sums to 1 (likewise), unless predict answers several labels per
                          row (ClassifierChain, multilabel one-vs-rest): then each column is
                          one label's own probability and a row has no reason to sum to 1
  predict-is-argmax       predict == classes_[argmax(predict_proba)], for estimators whose
                          predict is defined that way (not SVC's Platt-scaled probabilities)
  labels-in-classes       every predicted label is one of classes_
Each message ends with the estimator's class name in parentheses, so the catalogue of causes
(harness/causes/catalogue.toml) can tell which model broke which invariant. Never raises: an
invariant that cannot be evaluated (an ONNX session has no classes_) is skipped.
"""

# The classifiers whose predict is the arg-max of predict_proba by construction.
ARGMAX_ESTIMATORS = frozenset((
    "DecisionTreeClassifier", "ExtraTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier",
    "GradientBoostingClassifier", "HistGradientBoostingClassifier", "LogisticRegression",
    "GaussianNB", "MLPClassifier", "KNeighborsClassifier"))


def final_estimator(loaded):
    """The last step of a Pipeline (recursively), else the object itself."""
    steps = getattr(loaded, "steps", None)
    if isinstance(steps, list) and steps:
        return final_estimator(steps[-1][1])
    return loaded


def check(loaded, values):
    try:
        return _check(loaded, values)
    except Exception:  # an invariant must never turn a cell into an error of its own
        return []


def _check(loaded, values):
    import numpy as np

    name = type(final_estimator(loaded)).__name__
    found = []
    proba = values.get("predict_proba")
    predict = values.get("predict")
    multilabel = predict is not None and np.asarray(predict).ndim == 2
    if proba is not None and np.asarray(proba).ndim == 2 and np.asarray(proba).dtype.kind == "f":
        found += _proba_violations(np.asarray(proba), rows_are_distributions=not multilabel)
    classes = getattr(loaded, "classes_", None)
    if classes is not None and predict is not None:
        found += _label_violations(np.asarray(predict), np.asarray(classes), proba, name)
    return [{"name": n, "message": "%s (%s)" % (m, name)} for n, m in found]


def _proba_violations(proba, rows_are_distributions=True):
    import numpy as np

    # float32 (ONNX) rounds at ~1e-7 per value; float64 at ~1e-16.
    eps = 1e-5 if proba.dtype == np.float32 else 1e-8
    found = []
    finite = np.isfinite(proba)
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        found.append(("proba-finite", "row %d holds %r" % (row, proba[row].tolist())))
        proba = np.where(finite, proba, 0.0)
    outside = (proba < -eps) | (proba > 1 + eps)
    if outside.any():
        row, col = (int(i) for i in np.argwhere(outside)[0])
        found.append(("proba-in-unit-interval", "%d of %d probabilities outside [0, 1], first row %d column %d: %r"
                      % (int(outside.sum()), proba.size, row, col, float(proba[row, col]))))
    sums = proba.sum(axis=1)
    off = np.abs(sums - 1) > eps * max(1, proba.shape[1])
    if rows_are_distributions and off.any():
        row = int(np.argmax(off))
        found.append(("proba-rows-sum-to-one", "%d of %d rows do not sum to 1, first row %d sums to %r"
                      % (int(off.sum()), len(sums), row, float(sums[row]))))
    return found


def _not_among(labels, classes):
    """~np.isin(labels, classes): by one broadcast comparison where both are 1-D and of one kind
    of numbers or strings (np.isin sorts or loops in Python: 1.4 ms under QEMU, this 0.15 ms)."""
    import numpy as np

    if (labels.ndim == 1 and classes.ndim == 1 and labels.dtype.kind == classes.dtype.kind
            and labels.dtype.kind in "biufU" and labels.size * classes.size <= 1 << 22):
        return ~(labels[:, None] == classes[None, :]).any(axis=1)
    return ~np.isin(labels, classes)


def _label_violations(predict, classes, proba, name):
    import numpy as np

    from formats.common import saveable

    classes = saveable(classes)
    found = []
    unknown = _not_among(predict, classes)
    if unknown.any():
        found.append(("labels-in-classes", "%d of %d labels not among classes_ %r, first %r"
                      % (int(unknown.sum()), len(predict), classes.tolist(), predict[unknown][0].item())))
    proba = None if proba is None else np.asarray(proba)
    if (name in ARGMAX_ESTIMATORS and proba is not None and proba.ndim == 2
            and proba.shape == (len(predict), len(classes))):
        expected = classes[np.argmax(proba, axis=1)]
        differ = expected != predict
        if differ.any():
            row = int(np.argmax(differ))
            found.append(("predict-is-argmax", "%d of %d labels differ from the arg-max of predict_proba, first row "
                          "%d: %r, arg-max %r" % (int(differ.sum()), len(predict), row, predict[row].item(),
                                                  expected[row].item())))
    return found
