"""dill.dump / dill.load: pickle extended to lambdas, closures and interactively defined code."""
from formats.common import Package, PythonObjectFormat, require, unpicklable_is_unsupported


class DillFormat(PythonObjectFormat):
    name = "dill"
    extension = ".dill"
    description = "dill.dump (by-value functions and closures)"
    warm_modules = ("dill",)

    def dump(self, model, path, ctx):
        dill = require("dill")
        with open(path, "wb") as f, unpicklable_is_unsupported("dill"):
            dill.dump(model, f)
        return {"protocol": dill.settings["protocol"], "dill": dill.__version__}

    def load(self, path, ctx):
        import dill

        with open(path, "rb") as f:
            return dill.load(f)


PACKAGES = (Package("dill", "dill"),)

VARIANTS = [DillFormat()]
