"""joblib.dump / joblib.load, with compression or a memory-mapped load."""
from formats.common import Package, PythonObjectFormat, require, unpicklable_is_unsupported


class JoblibFormat(PythonObjectFormat):
    warm_modules = ("joblib",)

    def __init__(self, name, extension, description, compress=0, mmap_mode=None, needs=None):
        self.name = name
        self.extension = extension
        self.description = description
        self.compress = compress
        self.mmap_mode = mmap_mode
        self.needs = needs  # a compressor's module, which joblib imports lazily

    def dump(self, model, path, ctx):
        joblib = require("joblib")
        if self.needs:
            require(self.needs)
        with unpicklable_is_unsupported("joblib"):
            joblib.dump(model, path, compress=self.compress)
        return self._details()

    def load(self, path, ctx):
        import joblib

        return joblib.load(path, mmap_mode=self.mmap_mode)

    def _details(self):
        if isinstance(self.compress, tuple):
            return {"compress": self.compress[0], "level": self.compress[1]}
        if self.compress:
            return {"compress": self.compress}
        return {"mmap_mode": self.mmap_mode} if self.mmap_mode else {}


PACKAGES = (Package("joblib", "joblib"), Package("lz4", "lz4", "optional"))

VARIANTS = [
    JoblibFormat("joblib", ".joblib", "joblib.dump, uncompressed"),
    JoblibFormat("joblib-zlib3", ".joblib.z", "joblib.dump, compress=('zlib', 3)",
                 compress=("zlib", 3)),
    JoblibFormat("joblib-lz4", ".joblib.lz4", "joblib.dump, compress='lz4' (needs lz4)",
                 compress="lz4", needs="lz4"),
    JoblibFormat("joblib-mmap", ".mmap.joblib", "joblib.dump, loaded with mmap_mode='r'",
                 mmap_mode="r"),
]
