"""ci/test's last line: `N passed, N failed, N skipped` over the GoogleTest and pytest runs.

    python ci/summary.py GTEST_JSON PYTEST_LOG

GTEST_JSON is what `crossload_tests --gtest_output=json:FILE` writes (its brief console output does
not name skipped tests); PYTEST_LOG is pytest's console output, whose last line has the counts.

Exits 1 when anything failed, when a log has no summary (the suite died), or, under CI (see
ci/skips.py), when a GoogleTest test skipped that ci/allowed-skips does not list. pytest's skips
under CI are already failures in its own log (ci/skips.py). xfailed tests count as skipped,
xpassed as passed; both are named in the line when there are any.
"""
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import skips  # noqa: E402  (ci/skips.py: the allow-list and when CI is strict)

PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|deselected)\b")


def gtest_counts(report):
    """{"passed", "failed", "skipped", "skipped_names"} from --gtest_output=json, or None without it."""
    try:
        doc = json.loads(report)
    except ValueError:
        return None  # not written: the binary died before the end
    counts = {"passed": 0, "failed": 0, "skipped": 0, "skipped_names": []}
    for suite in doc.get("testsuites", []):
        for test in suite.get("testsuite", []):
            if test.get("status") != "RUN":
                continue  # DISABLED_ tests are not run, by choice
            if test.get("failures"):
                counts["failed"] += 1
            elif test.get("result") == "SKIPPED":
                counts["skipped"] += 1
                counts["skipped_names"].append(f"{suite['name']}.{test['name']}")
            else:
                counts["passed"] += 1
    return counts


def pytest_counts(text):
    """Counts from pytest's last summary line, or None when there is none."""
    lines = [line for line in text.splitlines() if re.search(r"\b(passed|failed|errors?|skipped)\b.* in [\d.]+s", line)]
    if not lines:
        return None
    found = {kind.rstrip("s") if kind.startswith("error") else kind: int(n)
             for n, kind in PYTEST_COUNT.findall(lines[-1])}
    return {"passed": found.get("passed", 0) + found.get("xpassed", 0),
            "failed": found.get("failed", 0) + found.get("error", 0),
            "skipped": found.get("skipped", 0) + found.get("xfailed", 0),
            "xfailed": found.get("xfailed", 0), "xpassed": found.get("xpassed", 0)}


def summarize(gtest_text, pytest_text, strict, patterns):
    """(the summary line, problems to print before it, whether the run failed)."""
    problems = []
    g = gtest_counts(gtest_text)
    p = pytest_counts(pytest_text)
    if g is None:
        problems.append("GoogleTest wrote no JSON report: the test binary died")
        g = {"passed": 0, "failed": 1, "skipped": 0, "skipped_names": []}
    if p is None:
        problems.append("pytest printed no summary: it died or collected nothing")
        p = {"passed": 0, "failed": 1, "skipped": 0, "xfailed": 0, "xpassed": 0}
    failed, skipped = g["failed"] + p["failed"], g["skipped"] + p["skipped"]
    if strict:  # a skip CI does not allow is a failure, as ci/skips.py makes it in pytest
        for name in g["skipped_names"]:
            if not skips.allowed(name, patterns):
                problems.append(f"{name} skipped under CI; CI must run it: give the machine what it lacks, "
                                f"or list it in ci/allowed-skips with the reason")
                failed, skipped = failed + 1, skipped - 1
    line = f"{g['passed'] + p['passed']} passed, {failed} failed, {skipped} skipped"
    extra = [f"{p[k]} {k}" for k in ("xfailed", "xpassed") if p[k]]
    return line + (f" ({', '.join(extra)})" if extra else ""), problems, failed > 0


def main(argv):
    if len(argv) != 3:
        print("usage: summary.py GTEST_JSON PYTEST_LOG", file=sys.stderr)
        return 2
    texts = [Path(a).read_text(errors="replace") if Path(a).exists() else "" for a in argv[1:]]
    line, problems, failed = summarize(*texts, skips.strict(), skips.allowed_patterns())
    for problem in problems:
        print(f"ci/test: {problem}")
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
