"""environment.yml (conda) and pyproject.toml (pip) must install the same packages."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDENT_FILES = ROOT / "autograder" / "instructor" / "student_files"
PIN = re.compile(r"([A-Za-z0-9_.-]+)==([\w.]+)")  # name==version, nothing else


def requirements(pyproject):
    """The requirement strings of a pyproject.toml: its dependencies and its dev extra."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return project["dependencies"] + project.get("optional-dependencies", {}).get("dev", [])


def unpinned(reqs):
    """The requirements that are not `name==version` (a range, a bare name, an extra, a marker)."""
    return [r for r in reqs if not PIN.fullmatch(r)]


def pins(reqs):
    """{name: version} of the `name==version` requirements among reqs."""
    return dict(m.groups() for m in map(PIN.fullmatch, reqs) if m)


def pip_pins():
    return pins(requirements(ROOT / "pyproject.toml"))


def conda_pins():
    found = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.fullmatch(r"\s*-\s+([A-Za-z0-9_.-]+)\s*(==|=)\s*([\w.]+)\s*", line)
        if m and m.group(1) != "python":
            found[m.group(1)] = m.group(3)
    return found


def test_unpinned_finds_every_requirement_that_is_not_name_equals_version():
    assert unpinned(["numpy==2.1.3", "scipy>=1.14", "nbgrader", "dask[distributed]==2024.8.0",
                     "pytest==8.3.3; python_version<'3.12'", "matplotlib~=3.9"]) == [
        "scipy>=1.14", "nbgrader", "dask[distributed]==2024.8.0", "pytest==8.3.3; python_version<'3.12'",
        "matplotlib~=3.9"]


@pytest.mark.parametrize("pyproject", [ROOT / "pyproject.toml", STUDENT_FILES / "pyproject.toml"],
                         ids=["course", "student bundle"])
def test_every_dependency_is_pinned_exactly(pyproject):
    reqs = requirements(pyproject)
    assert "numpy" in pins(reqs), f"{pyproject}: no numpy==<version> among {reqs}"
    assert unpinned(reqs) == [], f"{pyproject}: pin these exactly (name==version)"


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


@pytest.mark.parametrize("pyproject", [ROOT / "pyproject.toml", STUDENT_FILES / "pyproject.toml"],
                         ids=["course", "student bundle"])
def test_every_current_python_may_install(pyproject):
    """3.11 at least, and no upper bound: a cap such as <3.12 stops `pip install -e .` on 3.12 and 3.13
    (the pinned packages have wheels for 3.12 to 3.14)."""
    requires = tomllib.loads(pyproject.read_text())["project"]["requires-python"]
    clauses = [c.strip() for c in requires.split(",")]
    assert clauses == [">=3.11"], f"requires-python = {requires!r}: only a lower bound, >=3.11"


def test_student_bundle_pins_the_course_versions():
    student = pins(tomllib.loads((STUDENT_FILES / "pyproject.toml").read_text())["project"]["dependencies"])
    course = pip_pins()
    assert student, "the student bundle pins nothing"
    assert {name: course.get(name) for name in student} == student, "the student bundle pins other versions"


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
