"""What a load may leave changed in its process, for batched loads (batch.py).

A batch child loads several artifacts one after another. A load that changes the process for
the loads after it (imports a module of its own, monkeypatches the stack, changes scikit-learn's
config or numpy's error handling, reseeds a global RNG, starts threads or processes, changes a
limit, the environment or sys.path) would make their verdicts depend on the order of the batch:
after such a load the child is retired and the next load starts in a fresh child, as every load
does with --isolation cell. The snapshot is taken after every load, so it keeps raw values that
compare in C (the RNG states as they are, the environment as a dict) instead of hashing their
text: ~0.8 ms under QEMU s390x instead of 3.1 ms.

What it cannot see: a change inside a C extension's private state, a patched attribute not in
PATCHABLE, a module of the stack reloaded in place, numpy's cached second Gaussian set by
set_state() with the generator's keys unchanged (any draw moves the keys' position). Python 3.8 compatible.
"""
import os
import resource
import sys
import threading

from isolation import WARM_PACKAGES

# New modules whose top-level package is one of these do not retire a child: the persistence
# stack (isolation.WARM_PACKAGES, imported into the worker too, so a fresh child would have them
# as well) and crossload's own trusted zoo. The standard library is allowed too (see _stdlib).
ALLOWED_ROOTS = WARM_PACKAGES | frozenset(["fixtures"])

# (module, dotted attribute): functions a load could monkeypatch to change what later loads do.
PATCHABLE = (("builtins", "__import__"), ("builtins", "open"), ("builtins", "print"),
             ("builtins", "getattr"), ("builtins", "isinstance"), ("os", "fork"),
             ("os", "_exit"), ("os", "write"), ("json", "dumps"), ("pickle", "load"),
             ("pickle", "loads"), ("pickle", "Unpickler"), ("copyreg", "_reconstructor"),
             ("numpy", "save"), ("numpy", "load"), ("numpy", "asarray"), ("numpy", "array"),
             ("numpy", "ndarray.__reduce__"), ("numpy", "ndarray.__setstate__"),
             ("sklearn.base", "BaseEstimator.__setstate__"),
             ("sklearn.base", "BaseEstimator.__getstate__"),
             ("joblib", "load"), ("skops.io", "load"), ("onnxruntime", "InferenceSession"))

LIMITS = ("RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_STACK", "RLIMIT_FSIZE")


def snapshot():
    """The process facts later loads could depend on, as comparable values."""
    state = {
        "threads": threading.active_count(),
        "tasks": _tasks(),
        "children": _has_children(),
        "environ": _environ(),
        "sys.path": tuple(sys.path),
        "sys.meta_path": tuple(id(f) for f in sys.meta_path),
        "sys.path_hooks": tuple(id(h) for h in sys.path_hooks),
        "sys.trace": (id(sys.gettrace()), id(sys.getprofile())),
        "sys.recursionlimit": sys.getrecursionlimit(),
        "streams": (id(sys.stdout), id(sys.stderr), id(sys.stdin)),
        "random": _random_state(),
        "limits": tuple(resource.getrlimit(getattr(resource, n)) for n in LIMITS),
    }
    for module, attr in PATCHABLE:
        state["patch:%s.%s" % (module, attr)] = _attribute_id(module, attr)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        state["numpy.errstate"] = tuple(sorted(numpy.geterr().items()))
        state["numpy.random"] = _numpy_random_state(numpy)
    sklearn = sys.modules.get("sklearn")
    if sklearn is not None and hasattr(sklearn, "get_config"):
        state["sklearn.config"] = repr(sorted(sklearn.get_config().items()))
    return state


def changes(before, after):
    """The names of the facts that differ: empty when the process is as it was. A fact that was
    not there before (the attribute of a module the stack imported meanwhile) is no change."""
    return sorted(k for k in before if before[k] is not None and before[k] != after.get(k))


def foreign_modules(names):
    """Of newly imported module names, those neither of the stack, nor the zoo, nor stdlib."""
    return sorted(n for n in names
                  if n.split(".")[0] not in ALLOWED_ROOTS and not _stdlib(n))


def _stdlib(name):
    root = name.split(".")[0]
    names = getattr(sys, "stdlib_module_names", None)  # Python >= 3.10
    if names is not None:
        return root in names
    module = sys.modules.get(root)
    path = getattr(module, "__file__", None)
    if path is None:
        return root in sys.builtin_module_names
    return "site-packages" not in path and "dist-packages" not in path \
        and os.path.realpath(path).startswith(os.path.realpath(os.__file__).rsplit("/", 1)[0])


def _tasks():
    """Threads of the process, native ones included (a BLAS or OpenMP pool)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def _has_children():
    """Whether a load left a child process running (or unreaped) in this one."""
    try:
        return os.waitpid(-1, os.WNOHANG) is not None
    except ChildProcessError:
        return False


def _attribute_id(module_name, dotted):
    obj = sys.modules.get(module_name)
    if obj is None:
        return None
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return id(obj)


def _environ():
    env = dict(os.environ)
    env.pop("TMPDIR", None)  # each batched load's own private directory
    return env


def _random_state():
    import random

    return random.getstate()


def _numpy_random_state(numpy):
    """The global RandomState's Mersenne Twister (its 624 keys and position), read as bytes
    straight from its C struct: get_state() copies the keys one by one, 0.6 ms under QEMU.
    get_state() where the generator is another or has no ctypes view (numpy < 1.17)."""
    rand = getattr(numpy.random.mtrand, "_rand", None)
    bitgen = getattr(rand, "_bit_generator", None)
    if type(bitgen).__name__ == "MT19937":
        try:
            import ctypes

            # struct mt19937_state {uint32_t key[624]; int pos;}; the ids catch a replaced generator.
            return (id(rand), id(bitgen), ctypes.string_at(bitgen.ctypes.state_address, 624 * 4 + 4))
        except (AttributeError, ImportError, TypeError, ValueError):
            pass
    rng = numpy.random.get_state()  # ('MT19937', keys, pos, has_gauss, cached_gaussian)
    return rng[1].tobytes() + repr(rng[2:]).encode()
