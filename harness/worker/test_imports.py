"""The worker's modules import one another without a cycle: each imports on its own in a fresh
interpreter, no module imports one that (directly or not) imports it back, counting the imports
made inside functions, and ops.py holds the op table only, one entry per op of PROTOCOL.md."""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).resolve().parent
ROOT = WORKER.parent.parent
MODULES = sorted(p.stem for p in WORKER.glob("*.py") if not p.stem.startswith("test_"))


def imported_worker_modules(name):
    """The worker modules `name` imports, at module level or inside a function."""
    tree = ast.parse((WORKER / (name + ".py")).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return sorted(found & set(MODULES) - {name})


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(module):
    code = "import sys; sys.path[:0] = [%r, %r]; import %s" % (str(ROOT), str(WORKER), module)
    r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode == 0, "import %s alone failed:\n%s" % (module, r.stderr)


def test_no_module_imports_itself_back():
    graph = {m: imported_worker_modules(m) for m in MODULES}
    cycles = []

    def visit(module, path):
        for nxt in graph[module]:
            if nxt == path[0]:
                cycles.append(" -> ".join(path + [nxt]))
            elif nxt not in path and len(path) < len(MODULES):
                visit(nxt, path + [nxt])

    for m in MODULES:
        visit(m, [m])
    assert not cycles, "import cycles between worker modules:\n" + "\n".join(sorted(set(cycles)))


def test_ops_holds_only_the_op_table_of_the_protocol():
    tree = ast.parse((WORKER / "ops.py").read_text())
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert not defined, "ops.py defines %s: ops live in run_ops.py, check_ops.py, bench.py" % defined
    sys.path[:0] = [str(ROOT), str(WORKER)]
    try:
        import ops
    finally:
        del sys.path[:2]
    documented = re.findall(r"^### `([a-z_]+)`", (WORKER / "PROTOCOL.md").read_text(), re.M)
    assert sorted(ops.OPS) == sorted(documented)
