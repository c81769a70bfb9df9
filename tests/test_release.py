"""The student release: stock `nbgrader generate_assignment` (what formgrader's Generate
button runs) regenerates the committed exercises/ exactly, `python -m autograder release`
adds only the zip, and the student bundle (dist/student-release.zip) leaks nothing and
works on its own."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.instructor.nbgrader_cli import BIN_DIR, nbgrader_env
from autograder.instructor.nbgrader_plugins import ReleaseNotebook
from autograder.instructor.release import assignments_in, build_bundle
from autograder.instructor.synthetic_class import scratch_course
from autograder.notebook_code import grade_id, is_answer_cell, is_test_cell

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = assignments_in(ROOT)
SECRET_MARKERS = ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "run_hidden_tests")
STABLE_METADATA = {"kernelspec", "language_info"}


def _notebook(path):
    """Everything of a notebook but its nbformat minor version: metadata, then per cell its id,
    type, source, metadata (tags, nbgrader checksum...), outputs and execution count."""
    nb = nbformat.read(path, as_version=4)
    return dict(nb.metadata), [dict(cell) for cell in nb.cells]


def _course(tmp_path_factory, name, assignments=None):
    return scratch_course(tmp_path_factory.mktemp(name), assignments or ASSIGNMENTS, release=None)


@pytest.fixture(scope="module")
def stock(tmp_path_factory):
    """Plain `nbgrader generate_assignment <assignment>` in a copy of the course: no option,
    nothing run after it (formgrader's Generate button runs the same converter)."""
    course = _course(tmp_path_factory, "stock")
    logs = {}
    for assignment in ASSIGNMENTS:
        proc = subprocess.run([str(BIN_DIR / "nbgrader"), "generate_assignment", assignment], cwd=course,
                              env=nbgrader_env(), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        logs[assignment] = proc.stdout + proc.stderr
    return course, logs


def test_there_are_assignments():
    assert ASSIGNMENTS and ASSIGNMENTS[0] == "ex01_differentiation"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_is_stock_generate_assignment_output(stock, assignment):
    name = f"{assignment}/{assignment}.ipynb"
    committed, generated = _notebook(ROOT / "exercises" / name), _notebook(stock[0] / "exercises" / name)
    assert committed[0] == generated[0], f"exercises/{name}: notebook metadata differs; run `make release`"
    assert len(committed[1]) == len(generated[1]), f"exercises/{name} is stale: run `make release`"
    for index, (ours, theirs) in enumerate(zip(*(committed[1], generated[1]))):
        assert ours == theirs, f"exercises/{name} cell {index} is stale: run `make release`"


def test_stock_generate_assignment_logs_no_warning(stock):
    """No "Config option ... not recognized", no "root '.' is not absolute"."""
    for assignment, log in stock[1].items():
        assert not [line for line in log.splitlines() if "WARNING" in line], f"{assignment}:\n{log}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_test_cells_carry_on_after_an_error(assignment):
    """Run All (and nbval --nbval-lax) go past a failing test cell; only stable notebook metadata."""
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    tests = [cell for cell in nb.cells if is_test_cell(cell)]
    assert tests and all(cell.metadata.get("tags") == ["raises-exception"] for cell in tests)
    assert not any("tags" in cell.metadata for cell in nb.cells if not is_test_cell(cell))
    assert set(nb.metadata) <= STABLE_METADATA


def test_release_notebook_preprocessor():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"solution": True, "grade": False}}),
        nbformat.v4.new_code_cell("assert x", metadata={"nbgrader": {"grade": True, "solution": False},
                                                        "tags": ["keep"]}),
        nbformat.v4.new_code_cell("assert x", metadata={"nbgrader": {"grade": True, "solution": False},
                                                        "tags": ["raises-exception"]}),
        nbformat.v4.new_code_cell("print(x)")])
    nb.metadata.update({"kernelspec": {"name": "python3"}, "language_info": {"name": "python"},
                        "widgets": {"state": {}}, "toc": {"number_sections": True}})
    out, _ = ReleaseNotebook()(nb, {})
    assert set(out.metadata) == STABLE_METADATA
    assert [cell.metadata.get("tags") for cell in out.cells] == [None, ["keep", "raises-exception"],
                                                                 ["raises-exception"], None]


def test_config_release_preprocessors_are_nbgraders_then_ours(tmp_path):
    """The course lists GenerateAssignment's preprocessors in full: nbgrader's defaults (checked against
    the installed nbgrader, so an upgrade that changes them fails here) and ReleaseNotebook last."""
    from nbgrader.converters import GenerateAssignment
    from traitlets.config.loader import PyFileConfigLoader
    from traitlets.utils.importstring import import_item
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    configured = [import_item(name) for name in config.GenerateAssignment.preprocessors]
    assert configured == [*GenerateAssignment.class_traits()["preprocessors"].default(), ReleaseNotebook]


def test_autograder_release_is_generate_assignment_plus_zip(tmp_path_factory, stock):
    """`python -m autograder release` = the same stock release, and the student zip."""
    course = _course(tmp_path_factory, "cli-release", ASSIGNMENTS[:1])
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--course", str(course)],
                          env=nbgrader_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    name = f"{ASSIGNMENTS[0]}/{ASSIGNMENTS[0]}.ipynb"
    assert (course / "exercises" / name).read_bytes() == (stock[0] / "exercises" / name).read_bytes()
    with zipfile.ZipFile(course / "dist" / "student-release.zip") as archive:
        assert archive.read(f"exercises/{name}") == (stock[0] / "exercises" / name).read_bytes()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_stubs_raise_and_hide_tests(assignment):
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = [c for c in nb.cells if is_answer_cell(c)]
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
                yield assignment, grade_id(cell), block


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
    for assignment, cell, block in solution_blocks():
        needle = _squash(block)
        leaks += [f"{name} contains the solution of {assignment}/{cell}"
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
    assert_all_not_implemented(proc.stdout)
    usage = subprocess.run([sys.executable, "-m", "autograder", "--help"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert usage.returncode == 0 and listed_commands(usage.stdout) == {"check", "gradcheck-demo"}, usage.stdout
    grade = subprocess.run([sys.executable, "-m", "autograder", "grade"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert grade.returncode != 0 and "invalid choice: 'grade'" in grade.stderr


def assert_all_not_implemented(report):
    """`python -m autograder check`'s report on the release: one line per function, each "not implemented yet"."""
    lines = [line for line in report.splitlines() if line.startswith("  ")]
    assert lines and all(line.rstrip().endswith("not implemented yet") for line in lines), report


def listed_commands(usage):
    """The subcommands `python -m autograder --help` lists (its {a,b,...} line)."""
    return set(re.search(r"\{([\w,-]+)\}", usage).group(1).split(","))
