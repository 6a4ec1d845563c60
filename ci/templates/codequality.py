"""`crossload inspect --format json` -> a GitLab Code Quality report (CodeClimate JSON).

    python3 codequality.py inspect.json > gl-code-quality-report.json

One issue per finding; a file's verdict is in each issue's description. Only the standard library.
"""
import hashlib
import json
import sys

# crossload's finding severities -> Code Quality's (info, minor, major, critical, blocker)
SEVERITY = {"note": "info", "warning": "major", "error": "critical"}


def issues(records):
    for record in records:
        for f in record.get("findings", []):
            key = "%s:%s:%s" % (record["path"], f.get("rule", ""), f.get("offset", ""))
            yield {
                "type": "issue",
                "check_name": "crossload/%s" % f.get("rule", "finding"),
                "description": "%s (verdict %s): %s" % (record["path"], record.get("verdict", "?"), f.get("reason", "")),
                "categories": ["Security"],
                "severity": SEVERITY.get(str(f.get("severity", "")).lower(), "major"),
                "fingerprint": hashlib.sha256(key.encode()).hexdigest(),
                "location": {"path": record["path"], "lines": {"begin": 1}},
            }


def main(argv):
    with open(argv[1]) as f:
        records = json.load(f)
    json.dump(list(issues(records)), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
