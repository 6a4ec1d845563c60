"""pickle.dump / pickle.load at a fixed protocol."""
import pickle

from formats.common import PythonObjectFormat, unpicklable_is_unsupported


class PickleFormat(PythonObjectFormat):
    def __init__(self, protocol, description):
        self.protocol = protocol
        self.name = "pickle-p%d" % protocol
        self.extension = ".p%d.pkl" % protocol
        self.description = description

    def dump(self, model, path, ctx):
        with open(path, "wb") as f, unpicklable_is_unsupported("pickle"):
            pickle.dump(model, f, protocol=self.protocol)
        return {"protocol": self.protocol}

    def load(self, path, ctx):
        with open(path, "rb") as f:
            return pickle.load(f)


PACKAGES = ()  # the standard library

VARIANTS = [
    PickleFormat(4, "pickle.dump, protocol 4"),
    PickleFormat(5, "pickle.dump, protocol 5 (out-of-band capable)"),
]
