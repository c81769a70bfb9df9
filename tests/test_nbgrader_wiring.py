"""The course's nbgrader configuration, exercised with the real nbgrader commands
on a throw-away one-question assignment in a temporary course directory."""

import csv
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.instructor.nbgrader_cli import run_nbgrader
from autograder.instructor.synthetic_class import scratch_course
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_LINE = "assert double(21.5) == 43.0, 'hidden check'"


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id,
            "schema_version": 3, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def one_question_notebook():
    answer = new_code_cell('def double(x):\n    """Return 2 x."""\n    ### BEGIN SOLUTION\n'
                           '    return 2 * x\n    ### END SOLUTION', metadata=_meta("double", solution=True))
    test = new_code_cell("assert double(2) == 4\n### BEGIN HIDDEN TESTS\n" + HIDDEN_LINE + "\n### END HIDDEN TESTS",
                         metadata=_meta("test_double", grade=True, locked=True, points=3))
    nb = new_notebook(cells=[new_markdown_cell("# Doubling"), answer, test])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = scratch_course(tmp_path_factory.mktemp("course"), (), release=None)
    src = root / "solutions" / "demo" / "demo.ipynb"
    src.parent.mkdir(parents=True)
    nbformat.write(one_question_notebook(), src)
    run_nbgrader(["generate_assignment", "demo", "--force"], root)
    release = root / "exercises" / "demo" / "demo.ipynb"
    for student, notebook in (("untouched", release), ("solved", src)):
        dest = root / "submitted" / student / "demo"
        dest.mkdir(parents=True)
        shutil.copy(notebook, dest / "demo.ipynb")
    run_nbgrader(["autograde", "demo", "--force"], root)
    run_nbgrader(["generate_feedback", "demo", "--force"], root)
    run_nbgrader(["export", "--to", "grades.csv"], root)
    return root


def test_release_has_stub_and_no_hidden_tests(course):
    text = (course / "exercises" / "demo" / "demo.ipynb").read_text()
    assert "raise NotImplementedError()" in text
    assert "return 2 * x" not in text
    assert HIDDEN_LINE not in text and "BEGIN HIDDEN TESTS" not in text
    assert "assert double(2) == 4" in text  # the public test stays


def test_gradebook_is_sqlite_in_course_root(course):
    assert (course / "gradebook.db").exists()


def test_untouched_release_scores_zero_and_solution_full_marks(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("demo", "untouched").score == 0
        assert gb.find_submission("demo", "solved").score == 3
        assert gb.find_submission("demo", "solved").max_score == 3


def test_hidden_tests_are_restored_at_autograde(course):
    graded = (course / "autograded" / "untouched" / "demo" / "demo.ipynb").read_text()
    assert HIDDEN_LINE in graded


def test_feedback_and_export(course):
    assert (course / "feedback" / "solved" / "demo" / "demo.html").exists()
    rows = {r["student_id"]: r for r in csv.DictReader(open(course / "grades.csv"))}
    assert float(rows["solved"]["score"]) == 3.0
    assert float(rows["untouched"]["score"]) == 0.0
