"""The command table and its flag groups, through the real binary: a flag several commands share is
declared once (harness/cli/flag_groups.cc), so it reads the same in every command's --help; each
command keeps the shared flags it always had; and the default matrix is found in crossload's tree
from any directory (resolved in one place).
"""
import re
import subprocess

import pytest

from harness.run.test_run import BIN, ROOT

# The shared flags each command has (its groups in harness/cli/cli.cc); env's are on its subcommands.
SHARED = {
    ("run",): {"--matrix", "--root", "--cache-dir", "--isolation", "--no-sandbox", "--allow-unsafe",
               "--report", "--fail-on", "--quiet", "--verbose"},
    ("consume",): {"--matrix", "--root", "--cache-dir", "--isolation", "--no-sandbox", "--allow-unsafe",
                   "--report", "--fail-on", "--quiet", "--verbose"},
    ("produce",): {"--matrix", "--root", "--cache-dir", "--quiet", "--verbose"},
    ("check",): {"--matrix", "--root", "--cache-dir", "--allow-unsafe", "--quiet", "--verbose"},
    ("plan",): {"--matrix", "--root"},
    ("bench",): {"--matrix", "--root", "--cache-dir"},
    ("report",): {"--report"},
    ("env", "list"): {"--matrix", "--root", "--cache-dir"},
    ("env", "build"): {"--matrix", "--root", "--cache-dir"},
}
ALL_SHARED = set().union(*SHARED.values())


def help_lines(words):
    r = subprocess.run([BIN, *words, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = {}
    for line in r.stdout.splitlines():
        stripped = line.strip()
        if not stripped.startswith("-"):
            continue
        for name in re.findall(r"(--[a-z][a-z-]*)", stripped.split("  ")[0]):
            lines[name] = re.sub(r"\s+", " ", line.strip())
    return lines


@pytest.mark.parametrize("words", sorted(SHARED), ids=" ".join)
def test_each_command_keeps_its_shared_flags(words):
    lines = help_lines(words)
    missing = SHARED[words] - set(lines)
    assert not missing, f"crossload {' '.join(words)} lost {sorted(missing)}"
    extra = (ALL_SHARED & set(lines)) - SHARED[words]
    assert not extra, f"crossload {' '.join(words)} gained {sorted(extra)}"


def test_a_shared_flag_reads_the_same_in_every_command():
    seen = {}
    for words in SHARED:
        for flag, line in help_lines(words).items():
            if flag in ALL_SHARED:
                seen.setdefault(flag, {})[" ".join(words)] = line
    differing = {flag: by_command for flag, by_command in seen.items() if len(set(by_command.values())) > 1}
    assert not differing, differing


def test_the_default_matrix_is_found_from_any_directory(tmp_path):
    r = subprocess.run([BIN, "plan"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{ROOT}/matrix/quick.toml: " in r.stdout, r.stdout


def test_the_table_lists_every_command_in_order():
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=60)
    listed = re.findall(r"^  (\w+)\s", r.stdout, re.M)
    table = re.findall(r'^    \{"(\w+)", "', (ROOT / "harness" / "cli" / "cli.cc").read_text(), re.M)
    assert table and listed == table, (listed, table)
