"""The student release: regenerated from solutions/ it equals the committed exercises/,
and the student bundle (dist/student-release.zip) leaks nothing and works on its own."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.instructor.release import assignments_in, build_bundle, generate_release

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = assignments_in(ROOT)
SECRET_MARKERS = ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "run_hidden_tests")


def _cells(path):
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, dict(c.metadata)) for c in nb.cells]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    course = tmp_path_factory.mktemp("regen")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    generate_release(course)
    return course


def test_there_are_assignments():
    assert ASSIGNMENTS and ASSIGNMENTS[0] == "ex01_differentiation"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_matches_nbgrader_output(regenerated, assignment):
    name = f"{assignment}/{assignment}.ipynb"
    assert _cells(ROOT / "exercises" / name) == _cells(regenerated / "exercises" / name), (
        f"exercises/{name} is stale: run `make release`")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_stubs_raise_and_hide_tests(assignment):
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all("raise NotImplementedError()" in c.source for c in answers)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    text = nbformat.writes(nb)
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


def solution_blocks():
    """(assignment, grade_id, block) for every solution region of the source notebooks."""
    for assignment in ASSIGNMENTS:
        nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
        for cell in nb.cells:
            for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
                yield assignment, cell.metadata["nbgrader"]["grade_id"], block


def _squash(text):
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_bundle(ROOT, tmp_path_factory.mktemp("dist") / "student-release.zip")


def _bundle_texts(zip_path):
    with zipfile.ZipFile(zip_path) as archive:
        return {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}


def _code_text(name, text):
    """Notebooks: the code of their code cells (what a student could copy); other files as they are."""
    if not name.endswith(".ipynb"):
        return text
    return "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells if c.cell_type == "code")


def find_leaks(zip_path):
    texts = {name: _squash(_code_text(name, text)) for name, text in _bundle_texts(zip_path).items()}
    leaks = [f"{name} is not for students" for name in texts
             if name.startswith("solutions/") or "instructor" in name]
    for name, text in _bundle_texts(zip_path).items():
        if name.endswith(".ipynb"):  # hidden-test or solution regions in a handed-out notebook
            leaks += [f"{name} contains {marker!r}" for marker in SECRET_MARKERS if marker in text]
    for assignment, grade_id, block in solution_blocks():
        needle = _squash(block)
        leaks += [f"{name} contains the solution of {assignment}/{grade_id}"
                  for name, text in texts.items() if len(needle) > 20 and needle in text]
    return leaks


def test_bundle_leaks_nothing(bundle):
    assert list(solution_blocks()), "no solution regions found: the leak check would be vacuous"
    assert find_leaks(bundle) == []


def test_leak_check_catches_a_copied_solution(bundle, tmp_path):
    _, grade_id, block = next(solution_blocks())
    leaky = tmp_path / "leaky.zip"
    shutil.copy(bundle, leaky)
    with zipfile.ZipFile(leaky, "a") as archive:
        archive.writestr("autograder/helpers.py", f"def {grade_id}_helper():\n{block}")
    assert any(grade_id in leak for leak in find_leaks(leaky))


def test_bundle_contents(bundle):
    names = set(_bundle_texts(bundle))
    for assignment in ASSIGNMENTS:
        assert f"exercises/{assignment}/{assignment}.ipynb" in names
    assert {"README.md", "pyproject.toml", "environment.yml", "autograder/gradcheck.py",
            "autograder/selfcheck.py"} <= names


def test_unzipped_bundle_self_check_says_not_implemented(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
    notebook = tmp_path / "exercises" / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb"
    env = dict(os.environ, PYTHONPATH=str(tmp_path))  # the bundle's autograder, also inside the kernel
    proc = subprocess.run([sys.executable, "-m", "autograder", "check", str(notebook)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    lines = [line for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert lines and all(line.rstrip().endswith("not implemented yet") for line in lines), proc.stdout
    grade = subprocess.run([sys.executable, "-m", "autograder", "grade"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert grade.returncode != 0 and "not part of the student bundle" in grade.stderr
