"""The `fingerprint` op: facts about the interpreter, the CPU and the package versions."""
import importlib
import platform
import struct
import sys

from formats import registry

# protocol name -> module to import (a package counts only if it imports here): the scientific
# base, then the formats' converters, then their runtimes (formats/registry.py). Converters come
# first because importing stays for the worker's life: onnxruntime 1.21 (Debian trixie) imported
# before skl2onnx makes every later ONNX dump fail with KeyError 'OnnxDisentangledAttention'.
PACKAGES = (("numpy", "numpy"), ("scipy", "scipy"), ("scikit-learn", "sklearn"),
            ("threadpoolctl", "threadpoolctl")) + tuple(
    (p.dist, p.module) for p in registry.packages(("dump",)) + registry.packages(("library", "optional")))


def fingerprint():
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "machine": platform.machine(),
        "byteorder": sys.byteorder,
        "pointer_bits": struct.calcsize("P") * 8,
        "libc": " ".join(part for part in platform.libc_ver() if part),
        "packages": {name: _version(module) for name, module in PACKAGES},
        "blas": _blas(),
    }


def _version(module):
    try:
        return str(importlib.import_module(module).__version__)
    except Exception:  # absent, or present but broken: either way not usable here
        return None


def _blas():
    # threadpoolctl sees only libraries already loaded: _version() imported numpy and scipy.
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return threadpool_info()
