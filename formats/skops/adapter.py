"""skops.io.dump; load trusts exactly the types get_untrusted_types reported at dump."""
from formats.common import Package, PythonObjectFormat, require


class SkopsFormat(PythonObjectFormat):
    name = "skops"
    extension = ".skops"
    description = "skops.io.dump, loaded trusting the recorded types"
    warm_modules = ("skops.io",)

    def dump(self, model, path, ctx):
        sio = require("skops.io", "skops")
        sio.dump(model, path)
        return {"untrusted_types": list(sio.get_untrusted_types(file=path))}

    def load(self, path, ctx):
        import skops.io as sio

        # Nothing beyond the recorded list: a withheld list makes skops refuse the untrusted types.
        return sio.load(path, trusted=list(ctx.trusted_types or []))


PACKAGES = (Package("skops", "skops"),)

VARIANTS = [SkopsFormat()]
