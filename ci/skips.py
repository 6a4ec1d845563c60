"""Skipped tests under CI: a test CI must run that skips there fails instead.

A skip usually means the machine lacks something (bwrap, chromium, root, a built binary): on a
developer's machine that is fine, in CI it would hide an untested path behind a green line. So,
when strict, every pytest skip becomes a failure and ci/summary.py counts every GoogleTest skip
as failed, unless the test is listed in ci/allowed-skips.

Strict when CROSSLOAD_STRICT_SKIPS=1 (ci/test sets it unless told otherwise), or, when that is
unset, when CI is true (GitHub Actions and GitLab set CI=true). xfail is not a skip: it is
declared in the test itself and counted on its own.

ci/allowed-skips: one pattern per line (fnmatch), matched against the pytest node id
(`harness/run/test_run.py::test_x[param]`) or the GoogleTest name (`Suite.Name`); `#` starts a
comment, which should say why CI may skip it. CROSSLOAD_ALLOWED_SKIPS names another file.

Loaded by the root conftest.py (`pytest_plugins`); stdlib and pytest only.
"""
import fnmatch
import os
from pathlib import Path

import pytest

ALLOW_LIST = Path(__file__).resolve().parent / "allowed-skips"
TRUE = {"1", "true", "yes", "on"}


def strict():
    """Whether a skip fails the run here (see the module's docstring)."""
    own = os.environ.get("CROSSLOAD_STRICT_SKIPS")
    if own is not None and own != "":
        return own.strip().lower() in TRUE
    return os.environ.get("CI", "").strip().lower() in TRUE


def allowed_patterns():
    path = Path(os.environ.get("CROSSLOAD_ALLOWED_SKIPS") or ALLOW_LIST)
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def allowed(name, patterns=None):
    """True when the test named `name` may skip in CI."""
    return any(fnmatch.fnmatchcase(name, p) for p in (allowed_patterns() if patterns is None else patterns))


def _fail_skip(report, name):
    if not report.skipped or hasattr(report, "wasxfail") or allowed(name):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (f"{name} skipped under CI ({reason}); CI must run it: give the machine what it "
                       f"lacks, or list it in ci/allowed-skips with the reason")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if strict():
        _fail_skip(outcome.get_result(), item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    if strict():  # pytest.importorskip / skip(allow_module_level=True) skip a whole file
        _fail_skip(outcome.get_result(), collector.nodeid)
