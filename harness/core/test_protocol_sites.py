"""The harness writes worker requests in one place, harness/core/protocol.* (a struct per op): no
other C++ file builds one by hand, and every op of the worker's table has its request there."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PROTOCOL = [ROOT / "harness" / "core" / "protocol.h", ROOT / "harness" / "core" / "protocol.cc"]


def test_no_request_is_written_outside_the_protocol_module():
    sources = [p for d in ("harness", "reports", "formats") for p in (ROOT / d).rglob("*")
               if p.suffix in (".cc", ".h") and p not in PROTOCOL]
    by_hand = [f"{p.relative_to(ROOT)}:{n}" for p in sources
               for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
               if re.search(r'\{"op",', line)]
    assert not by_hand, "requests written by hand (use harness/core/protocol.h):\n" + "\n".join(by_hand)


def test_every_op_of_the_worker_has_its_request():
    table = (ROOT / "harness" / "worker" / "ops.py").read_text()
    ops = re.findall(r'^\s+"(\w+)": \w+\.\w+,$', table, re.M)
    assert len(ops) >= 10, ops
    text = "".join(p.read_text() for p in PROTOCOL)
    missing = [op for op in ops if f'"{op}"' not in text]
    assert not missing, f"ops without a request in harness/core/protocol.*: {missing}"
