"""environment.yml (conda) and pyproject.toml (pip) must install the same packages."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pip_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==([\w.]+)", d).groups() for d in deps)


def conda_pins():
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.fullmatch(r"\s*-\s+([A-Za-z0-9_.-]+)\s*(==|=)\s*([\w.]+)\s*", line)
        if m and m.group(1) != "python":
            pins[m.group(1)] = m.group(3)
    return pins


def test_every_dependency_is_pinned_exactly():
    for dep in pip_pins():
        assert dep, "unpinned dependency in pyproject.toml"


def test_conda_and_pip_pin_the_same_packages_and_versions():
    assert pip_pins() == conda_pins()


def test_constraints_agree_with_pins():
    constraints = dict(line.split("==") for line in (ROOT / "requirements/constraints.txt").read_text().split()
                       if "==" in line)
    lowered = {k.lower().replace("_", "-"): v for k, v in constraints.items()}
    for name, version in pip_pins().items():
        assert lowered.get(name.lower()) == version, f"{name}: constraints.txt has {lowered.get(name.lower())}"


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "3.11" in project["requires-python"]
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


STUDENT_FILES = ROOT / "autograder" / "instructor" / "student_files"


@pytest.mark.parametrize("pyproject", [ROOT / "pyproject.toml", STUDENT_FILES / "pyproject.toml"],
                         ids=["course", "student bundle"])
def test_every_current_python_may_install(pyproject):
    """3.11 at least, and no upper bound: a cap such as <3.12 stops `pip install -e .` on 3.12 and 3.13
    (the pinned packages have wheels for 3.12 to 3.14)."""
    requires = tomllib.loads(pyproject.read_text())["project"]["requires-python"]
    clauses = [c.strip() for c in requires.split(",")]
    assert clauses == [">=3.11"], f"requires-python = {requires!r}: only a lower bound, >=3.11"


def test_student_bundle_pins_the_course_versions():
    student = tomllib.loads((STUDENT_FILES / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = pip_pins()
    for dep in student:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([\w.]+)", dep).groups()
        assert pins.get(name) == version, f"student pyproject pins {dep}, the course {name}=={pins.get(name)}"


@pytest.mark.parametrize("readme, section", [(ROOT / "README.md", "## For students"),
                                             (STUDENT_FILES / "README.md", "")], ids=["course", "student bundle"])
def test_students_are_told_to_use_the_virtualenv(readme, section):
    """A bare `python -m autograder check` outside the venv fails with ModuleNotFoundError: nbformat."""
    text = readme.read_text()
    if section:
        text = text.split(section, 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/python -m autograder check" in text
    assert "source .venv/bin/activate" in text
    assert "ModuleNotFoundError" in text  # the symptom, so a student who saw it finds the fix
