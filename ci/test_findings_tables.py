"""ci/findings-tables on a stored run of docs/findings/: its tables add up to the run's cells,
and the relations read from the fingerprints cover both directions of a scikit-learn upgrade."""
import gzip
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "docs" / "findings" / "quick-2026-11-29.results.json.gz"


def rows(text, heading):
    section = text.split(f"### {heading}")[1].split("###")[0]
    return [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| outcome") and not line.startswith("| relation")]


def test_the_tables_add_up_to_the_run():
    doc = json.loads(gzip.decompress(RUN.read_bytes()))
    out = subprocess.run([sys.executable, str(ROOT / "ci" / "findings-tables"), str(RUN)],
                         capture_output=True, text=True, check=True).stdout
    cells = len(doc["cells"])
    assert out.startswith(f"{cells} cells in 1 file(s)")
    outcomes = {r[0]: int(r[1]) for r in rows(out, "Outcomes")}
    assert sum(outcomes.values()) == cells
    assert outcomes.get("OK_EXACT") == sum(c["outcome"] == "OK_EXACT" for c in doc["cells"])
    relations = {r[0]: int(r[1]) for r in rows(out, "By what separates producer and consumer")}
    assert sum(relations.values()) == cells - outcomes.get("ENV_UNAVAILABLE", 0)
    same_env = sum(c["producer"] == c["consumer"] and c["outcome"] != "ENV_UNAVAILABLE" for c in doc["cells"])
    assert relations["same environment"] >= same_env
    assert relations["scikit-learn newer → older"] > 0 and relations["scikit-learn older → newer"] > 0
    causes = rows(out, "Causes of every cell that is not OK")
    not_ok = sum(not c["outcome"].startswith("OK") and c["outcome"] != "ENV_UNAVAILABLE" for c in doc["cells"])
    assert sum(int(r[1]) for r in causes if r[0] != "cause") == not_ok
