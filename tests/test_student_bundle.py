"""The student bundle on a fresh machine: its pinned packages have wheels for every current CPython,
and its README's commands, run exactly as written in the unzipped bundle, install it and self-check
the release (every function "not implemented yet"); the bundle's CLI offers only the student commands.

These tests need PyPI (CI has it): without it they are skipped, saying so.
"""

import json
import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from autograder.instructor.release import STUDENT_FILES, build_bundle
from tests.test_release import assert_all_not_implemented, listed_commands

ROOT = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.12", "3.13")  # every current CPython: the bundle's requires-python has no upper bound
STUDENT_COMMANDS = {"check", "gradcheck-demo"}
PYPI = "https://pypi.org/simple/pip/"


@pytest.fixture(scope="module")
def pypi():
    try:
        urllib.request.urlopen(PYPI, timeout=10).close()
    except OSError as exc:
        pytest.skip(f"PyPI is unreachable from here ({PYPI}: {exc}); CI runs these tests with it")


def student_dependencies():
    """The requirements of the bundle's pyproject.toml (name==version each)."""
    return tomllib.loads((STUDENT_FILES / "pyproject.toml").read_text())["project"]["dependencies"]


@pytest.mark.parametrize("version", PYTHONS)
def test_the_pins_have_wheels_for_every_current_python(pypi, version):
    """pip resolves the bundle's pins (and what they need) to wheels alone for CPython `version`:
    no pin is too old for a new Python (no wheel) or too new for an old one (requires-python)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                           "--only-binary=:all:", "--python-version", version, "--report", "-", "--quiet",
                           *student_dependencies()], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"CPython {version}:\n{proc.stderr[-3000:]}"
    resolved = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                for item in json.loads(proc.stdout)["install"]}
    for requirement in student_dependencies():
        name, pin = requirement.split("==")
        assert resolved.get(name.lower()) == pin, (version, requirement, resolved.get(name.lower()))


def readme_commands(readme):
    """The shell commands a student is told to run, in order: those of the README's fenced code blocks
    (comments dropped), then the inline `.venv/bin/python -m autograder check ...` of its Work section."""
    blocks = re.findall(r"^```(?:bash|sh)?\n(.*?)^```", readme, re.S | re.M)
    commands = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    commands = [c for c in commands if c and not c.startswith("#")]
    return commands + re.findall(r"`(\.venv/bin/python -m autograder check [^`]+)`", readme)


def fresh_machine_environment():
    """This environment without the course's virtualenv: `python3` is the system's, nothing imported
    from the course checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(ROOT)))
    return env


@pytest.fixture(scope="module")
def followed(pypi, tmp_path_factory):
    """The bundle unzipped into an empty folder and its README's commands run there as written
    (`jupyter lab`, which serves until stopped, as `jupyter lab --version`): ({command: (process, seconds)},
    the process of `python -m autograder --help` in the new virtualenv)."""
    folder = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(build_bundle(ROOT, folder / "student-release.zip")) as archive:
        archive.extractall(folder)
    env, done = fresh_machine_environment(), {}
    for command in readme_commands((folder / "README.md").read_text()):
        run = f"{command} --version" if command.endswith("jupyter lab") else command
        start = time.monotonic()
        proc = subprocess.run(run, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
        done[command] = proc, time.monotonic() - start
        print(f"{done[command][1]:6.1f} s  {run}")
    usage = subprocess.run([str(folder / ".venv" / "bin" / "python"), "-m", "autograder", "--help"], cwd=folder,
                           env=env, capture_output=True, text=True, timeout=120)
    return done, usage


def test_the_readme_installs_the_bundle_as_written(followed):
    done, _ = followed
    assert list(done)[:2] == ["python3 -m venv .venv", ".venv/bin/pip install -e ."], list(done)
    for command, (proc, _) in done.items():
        if "autograder check" not in command:  # the self-check of the untouched release exits 1
            assert proc.returncode == 0, f"{command}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"


def test_the_readmes_self_check_says_every_function_is_not_implemented(followed):
    [(proc, _)] = [result for command, result in followed[0].items() if "autograder check" in command]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_all_not_implemented(proc.stdout)


def test_the_bundles_cli_lists_only_student_commands(followed):
    _, proc = followed
    assert proc.returncode == 0 and listed_commands(proc.stdout) == STUDENT_COMMANDS, proc.stdout + proc.stderr
