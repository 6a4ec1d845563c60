"""Shared pytest set-up: one thread per native library, each zoo model trained once per session."""
import os

import pytest

# Before numpy or scikit-learn load their OpenMP/BLAS runtimes (they read these once): on the
# 2 shared cores an oversubscribed OpenMP spin-waits, and HGB tests took 30 s instead of 0.1 s.
# Worker subprocesses started by the tests inherit them.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


@pytest.fixture(scope="session")
def trained():
    """trained(name) -> (fitted model, X_predict), fitted once per session."""
    from fixtures import zoo

    cache = {}

    def get(name):
        if name not in cache:
            model, X, y, X_predict = zoo.get(name).build()
            cache[name] = (model.fit(X, y), X_predict)
        return cache[name]

    return get
