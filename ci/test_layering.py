"""The layering of docs/architecture.md holds in the code: no room includes a higher one, and no
two rooms include each other, except the includes that document lists as still to be removed.
The rules are read from the document, so the map and the code cannot drift apart."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
EXEMPT = re.compile(r"(_test\.cc|_bench\.cc|/testing\.h|/test_support\.h|/fuzz/.*)$")


def layering_section():
    text = DOC.read_text()
    return text[text.index("## Layering"):text.index("## Outcome taxonomy")]


def levels():
    """Room -> level, from the numbered list (an item may go on over indented lines)."""
    rooms = {}
    for m in re.finditer(r"^(\d+)\. (.*(?:\n +\S.*)*)", layering_section(), re.M):
        for room in re.findall(r"`([^`]+)`", m.group(2)):
            rooms[room] = int(m.group(1))
    return rooms


def exceptions():
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", layering_section(), re.M)
    return set(rows)


def room_of(path, rooms):
    """The longest room name that is a prefix of the path (harness/main.cc is a room itself)."""
    best = None
    for room in rooms:
        if path == room or path.startswith(room + "/"):
            if best is None or len(room) > len(best):
                best = room
    return best


def include_edges(rooms):
    edges = {}
    for src in sorted(ROOT.glob("harness/**/*")) + sorted(ROOT.glob("formats/**/*")) + sorted(ROOT.glob("reports/**/*")):
        if src.suffix not in (".cc", ".h") or EXEMPT.search(src.as_posix()):
            continue
        rel = src.relative_to(ROOT).as_posix()
        frm = room_of(rel, rooms)
        for inc in INCLUDE.findall(src.read_text(errors="replace")):
            to = room_of(inc, rooms)
            if frm and to and frm != to:
                edges.setdefault((frm, to), []).append(f"{rel} includes {inc}")
    return edges


def test_the_document_names_levels_and_exceptions():
    rooms = levels()
    assert rooms["harness/util"] == 1 and rooms["harness/cli"] == max(rooms.values()), rooms
    assert "| from | to | why it is still there |" in layering_section(), \
        "the exceptions table of docs/architecture.md was not found"


def test_every_folder_of_code_is_a_room():
    """A new folder under harness/ must take a level, or its includes would escape the rules."""
    rooms = levels()
    folders = {p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("harness/*/*") if p.suffix in (".cc", ".h")}
    missing = sorted(f for f in folders if room_of(f, rooms) is None)
    assert not missing, "folders without a level in docs/architecture.md (Layering): " + ", ".join(missing)


def test_no_room_includes_a_higher_one():
    rooms, allowed = levels(), exceptions()
    upward = [where for (frm, to), wheres in include_edges(rooms).items()
              if rooms[to] > rooms[frm] and (frm, to) not in allowed for where in wheres]
    assert not upward, "upward includes (docs/architecture.md, Layering):\n" + "\n".join(upward)


def test_no_two_rooms_include_each_other():
    rooms, allowed = levels(), exceptions()
    edges = include_edges(rooms)
    cycles = [f"{a} <-> {b}: {edges[(a, b)][0]}; {edges[(b, a)][0]}"
              for (a, b) in edges if (b, a) in edges and a < b
              and (a, b) not in allowed and (b, a) not in allowed]
    assert not cycles, "rooms that include each other:\n" + "\n".join(cycles)


def test_every_listed_exception_still_exists():
    """A removed upward include must leave the table too, or the table stops meaning anything."""
    rooms, edges = levels(), include_edges(levels())
    stale = [f"{a} -> {b}" for (a, b) in exceptions() if (a, b) not in edges]
    assert not stale, "listed as exceptions but no longer included: " + ", ".join(stale)



def test_the_inspectors_and_the_audit_share_only_a_lower_room():
    """formats/<name>/ inspectors and harness/audit meet in harness/inspection, below both; the
    audit reaches the formats through their registry, so an inspector including the audit is an
    upward include, caught by test_no_room_includes_a_higher_one."""
    rooms = levels()
    assert rooms["harness/inspection"] < rooms["formats"] < rooms["harness/audit"], rooms
    assert ("harness/audit", "formats") not in exceptions() and ("formats", "harness/audit") not in exceptions()
    edges = include_edges(rooms)
    assert ("formats", "harness/audit") not in edges, edges.get(("formats", "harness/audit"))
    # Synthetic: an inspector that included the audit's dispatcher would be reported as upward.
    assert rooms[room_of("harness/audit/inspect.h", rooms)] > rooms[room_of("formats/pickle/calls.cc", rooms)]
