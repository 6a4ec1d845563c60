"""ci/test's skip policy (ci/skips.py) and summary line (ci/summary.py), on real pytest and
GoogleTest runs of small suites written here."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CI_DIR = Path(__file__).resolve().parent
ROOT = CI_DIR.parent

SUITE = '''
import pytest

def test_passes():
    pass

def test_needs_a_tool():
    pytest.skip("frobnicator is not installed")

@pytest.mark.xfail(reason="known")
def test_known_bug():
    assert False
'''

GTEST_SUITE = '''
#include <gtest/gtest.h>
TEST(Tools, Passes) { EXPECT_EQ(1, 1); }
TEST(Tools, NeedsATool) { GTEST_SKIP() << "frobnicator is not installed"; }
TEST(Tools, AlsoPasses) { EXPECT_TRUE(true); }
'''


def environment(ci=None, allow=None):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CROSSLOAD_STRICT_SKIPS", "CROSSLOAD_ALLOWED_SKIPS")}
    env["PYTHONPATH"] = str(ROOT)
    if ci is not None:
        env["CI"] = ci
    if allow is not None:
        env["CROSSLOAD_ALLOWED_SKIPS"] = str(allow)
    return env


def pytest_run(tmp_path, source=SUITE, **env):
    """pytest on one file with the skip policy loaded (outside the tree: no root conftest)."""
    (tmp_path / "test_suite.py").write_text(source)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "ci.skips",
                           "test_suite.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=environment(**env))


def summary(gtest_json, pytest_log, **env):
    return subprocess.run([sys.executable, str(CI_DIR / "summary.py"), str(gtest_json), str(pytest_log)],
                          capture_output=True, text=True, timeout=60, env=environment(**env))


def test_a_skip_outside_ci_is_only_counted(tmp_path):
    r = pytest_run(tmp_path)
    assert r.returncode == 0, r.stdout
    assert "1 passed, 1 skipped, 1 xfailed" in r.stdout


def test_a_skip_under_ci_fails_and_says_how_to_allow_it(tmp_path):
    r = pytest_run(tmp_path, ci="true")
    assert r.returncode == 1, r.stdout
    assert "1 failed, 1 passed, 1 xfailed" in r.stdout  # xfail is declared in the test: not a skip
    assert ("test_suite.py::test_needs_a_tool skipped under CI (Skipped: frobnicator is not installed); "
            "CI must run it") in r.stdout
    assert "ci/allowed-skips" in r.stdout


def test_an_allow_listed_skip_under_ci_passes(tmp_path):
    allow = tmp_path / "allowed"
    allow.write_text("# the frobnicator needs a GPU\ntest_suite.py::test_needs_*   # no GPU in CI\n")
    r = pytest_run(tmp_path, ci="true", allow=allow)
    assert r.returncode == 0, r.stdout
    assert "1 passed, 1 skipped, 1 xfailed" in r.stdout


def test_a_file_skipped_whole_under_ci_fails(tmp_path):
    r = pytest_run(tmp_path, source='import pytest\npytest.importorskip("no_such_module_here")\n', ci="true")
    assert r.returncode != 0, r.stdout
    assert "test_suite.py skipped under CI" in r.stdout


def test_the_project_allows_no_skip_today():
    assert [line for line in (CI_DIR / "allowed-skips").read_text().splitlines()
            if line.split("#", 1)[0].strip()] == []


@pytest.fixture(scope="module")
def gtest_json(tmp_path_factory):
    """The JSON report of a real GoogleTest binary with one skipped test (g++, libgtest-dev: ci/setup)."""
    if not shutil.which("g++"):
        pytest.fail("g++ is missing: ci/setup installs it")
    tmp = tmp_path_factory.mktemp("gtest")
    (tmp / "suite.cc").write_text(GTEST_SUITE)
    subprocess.run(["g++", "-std=c++20", "suite.cc", "-lgtest", "-lgtest_main", "-pthread", "-o", "suite"],
                   cwd=tmp, check=True, timeout=300)
    subprocess.run([str(tmp / "suite"), "--gtest_brief=1", "--gtest_output=json:" + str(tmp / "gtest.json")],
                   cwd=tmp, check=True, capture_output=True, timeout=60)
    return tmp / "gtest.json"


def pytest_log(tmp_path, **env):
    log = tmp_path / "pytest.log"
    log.write_text(pytest_run(tmp_path, **env).stdout)
    return log


def test_summary_counts_skipped_and_xfailed_beside_passed_and_failed(gtest_json, tmp_path):
    r = summary(gtest_json, pytest_log(tmp_path), ci="false")
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines()[-1] == "3 passed, 0 failed, 3 skipped (1 xfailed)"


def test_summary_under_ci_fails_on_a_googletest_skip_it_does_not_allow(gtest_json, tmp_path):
    allow = tmp_path / "allowed"
    allow.write_text("test_suite.py::test_needs_a_tool\n")
    r = summary(gtest_json, pytest_log(tmp_path, ci="true", allow=allow), ci="true", allow=allow)
    assert r.returncode == 1, r.stdout
    assert "ci/test: Tools.NeedsATool skipped under CI; CI must run it" in r.stdout
    assert r.stdout.splitlines()[-1] == "3 passed, 1 failed, 2 skipped (1 xfailed)"
    allow.write_text("test_suite.py::test_needs_a_tool\nTools.NeedsATool  # no frobnicator in CI\n")
    r = summary(gtest_json, pytest_log(tmp_path, ci="true", allow=allow), ci="true", allow=allow)
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines()[-1] == "3 passed, 0 failed, 3 skipped (1 xfailed)"


def test_summary_fails_when_a_suite_died(gtest_json, tmp_path):
    (tmp_path / "cut.log").write_text("....F\nFatal Python error: Segmentation fault\n")
    r = summary(gtest_json, tmp_path / "cut.log", ci="false")
    assert r.returncode == 1
    assert "ci/test: pytest printed no summary" in r.stdout
    r = summary(tmp_path / "missing.json", pytest_log(tmp_path), ci="false")
    assert r.returncode == 1
    assert "ci/test: GoogleTest wrote no JSON report: the test binary died" in r.stdout
