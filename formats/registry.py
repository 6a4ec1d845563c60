"""The explicit table of every format variant.

Twin of formats/registry.cc; formats/registry_test.cc keeps the two equal.

Imports only the standard library: `python3 -c 'from formats.registry import names'` must work
in an environment without numpy or scikit-learn.
"""
from formats.cloudpickle import adapter as _cloudpickle
from formats.joblib import adapter as _joblib
from formats.onnx import adapter as _onnx
from formats.pickle import adapter as _pickle
from formats.skops import adapter as _skops

VARIANTS = tuple(_pickle.VARIANTS + _joblib.VARIANTS + _cloudpickle.VARIANTS
                 + _skops.VARIANTS + _onnx.VARIANTS)


def names():
    return [v.name for v in VARIANTS]


def get(name):
    """The variant called `name`; KeyError naming the known ones otherwise."""
    for variant in VARIANTS:
        if variant.name == name:
            return variant
    raise KeyError("unknown format %r (known: %s)" % (name, ", ".join(names())))
