"""cloudpickle.dump; loading is the standard pickle.load (cloudpickle must be importable)."""
import pickle

from formats.common import Package, PythonObjectFormat, require, unpicklable_is_unsupported


class CloudpickleFormat(PythonObjectFormat):
    name = "cloudpickle"
    extension = ".cloudpkl"
    description = "cloudpickle.dump (by-value functions)"
    warm_modules = ("cloudpickle",)

    def dump(self, model, path, ctx):
        cloudpickle = require("cloudpickle")
        with open(path, "wb") as f, unpicklable_is_unsupported("cloudpickle"):
            cloudpickle.dump(model, f)
        return {"protocol": cloudpickle.DEFAULT_PROTOCOL}

    def load(self, path, ctx):
        with open(path, "rb") as f:
            return pickle.load(f)


PACKAGES = (Package("cloudpickle", "cloudpickle"),)

VARIANTS = [CloudpickleFormat()]
