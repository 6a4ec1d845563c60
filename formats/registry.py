"""The table of every format variant: the Python half of formats/registry.h.

formats/registry.txt lists the format folders, one a line; each folder with an adapter.py gives
its VARIANTS and the PACKAGES it needs. formats/registry_test.cc compares this table with the C++
descriptors (formats/<name>/descriptor.cc) field by field, through table().

Imports only the standard library: `python3 -c 'from formats.registry import names'` must work
in an environment without numpy or scikit-learn.
"""
import importlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def folders():
    """The format folders, in registry.txt's order."""
    with open(os.path.join(HERE, "registry.txt")) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def _adapters():
    return tuple(importlib.import_module("formats.%s.adapter" % name) for name in folders()
                 if os.path.exists(os.path.join(HERE, name, "adapter.py")))


ADAPTERS = _adapters()
VARIANTS = tuple(v for adapter in ADAPTERS for v in adapter.VARIANTS)


def names():
    return [v.name for v in VARIANTS]


def get(name):
    """The variant called `name`; KeyError naming the known ones otherwise."""
    for variant in VARIANTS:
        if variant.name == name:
            return variant
    raise KeyError("unknown format %r (known: %s)" % (name, ", ".join(names())))


def packages(uses=("library", "optional", "dump")):
    """The formats' Python distributions of the given uses, in the table's order, each once."""
    seen = []
    for adapter in ADAPTERS:
        for package in adapter.PACKAGES:
            if package.use in uses and package.dist not in [p.dist for p in seen]:
                seen.append(package)
    return seen


def table():
    """The table as plain data, as formats/registry_test.cc prints the C++ one."""
    return [{"folder": adapter.__name__.split(".")[1],
             "variants": [{"name": v.name, "extension": v.extension, "description": v.description}
                          for v in adapter.VARIANTS],
             "packages": [{"dist": p.dist, "module": p.module, "use": p.use}
                          for p in adapter.PACKAGES]}
            for adapter in ADAPTERS]


if __name__ == "__main__":
    import json

    print(json.dumps(table(), sort_keys=True))
