"""`python -m autograder grade` on real course notebooks: exact points for correct,
untouched, buggy, hostile and malformed submissions, graded together in parallel.

One class is graded once (module fixture) and only read; the re-run grades a copy
of it. Every student except the one under test is correct, so each test also
proves that the others were not affected.
The function under attack is ex01's `d_power`.
"""

import csv
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.instructor.grading import grade_course
from autograder.instructor.synthetic_class import (full_marks, function_points, grade_cell_points, released, solved,
                                                   submit, without_test_cells)
from autograder.notebook_code import grade_id, is_test_cell
from autograder.notebook_code import tested_function as function_of  # (a test_* name would be collected)
from nbgrader.api import Gradebook
from tests.course_fixtures import EX1, EX2, TARGET, WRONG_D_POWER, copy_course

HOSTILE = {
    "loops_in_function": "def d_power(x, c):\n    while True:\n        pass\n",
    "loops_at_import": "while True:\n    pass\n\ndef d_power(x, c):\n    return c * x ** (c - 1)\n",
    "sys_exit": "import sys\n\ndef d_power(x, c):\n    sys.exit(0)\n",
    "os_exit": "import os\n\ndef d_power(x, c):\n    os._exit(0)\n",
    "kills_itself": "import os, signal\n\ndef d_power(x, c):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
    "allocates_forever": ("import numpy as np\n\ndef d_power(x, c):\n    hog = []\n    while True:\n"
                          "        hog.append(np.ones(10 ** 7))\n"),
    "steals_reference": ("from autograder.instructor.reference.ex01_differentiation import d_power as _ref\n\n"
                         "def d_power(x, c):\n    return _ref(x, c)\n"),
    "steals_by_path": ("import importlib.util, pathlib, autograder\n"
                       "_p = pathlib.Path(autograder.__file__).parent / 'instructor' / 'reference' / 'ex01_differentiation.py'\n"
                       "_spec = importlib.util.spec_from_file_location('r', _p)\n_m = importlib.util.module_from_spec(_spec)\n"
                       "_spec.loader.exec_module(_m)\nd_power = _m.d_power\n"),
    "copies_a_classmate": ("import glob, json, tempfile\n\ndef _classmates_answer():\n"  # at grading time
                           "    for pattern in ('/tmp/autograder-grade-*/*/*/*/ex01_differentiation/*.ipynb',\n"
                           f"                    {str(Path(tempfile.gettempdir()) / 'autograder-grade-*')!r} + '/**/*.ipynb'):\n"
                           "        for path in glob.glob(pattern, recursive=True):\n"
                           "            try:\n                cells = json.load(open(path))['cells']\n"
                           "            except Exception:\n                continue\n"
                           "            for cell in cells:\n                source = ''.join(cell['source'])\n"
                           "                if source.startswith('def d_power') and 'BEGIN SOLUTION' in source:\n"
                           "                    return source\n"
                           "    return 'def d_power(x, c):\\n    return 0 * x'\n\n"
                           "exec(_classmates_answer())\n"),
    "redefines_helpers": ("import numpy as np\nimport autograder.gradcheck as gc\n"
                          "np.isclose = lambda *a, **k: True\nnp.allclose = lambda *a, **k: True\n"
                          "np.testing.assert_allclose = lambda *a, **k: None\n"
                          "class _Always:\n    ok = True\n    message = 'ok'\n    def assert_ok(self):\n        return self\n"
                          "gc.check_gradient = lambda *a, **k: _Always()\ncheck_gradient = gc.check_gradient\n"
                          + WRONG_D_POWER),
}
PRINTS_A_LOT = ("def d_power(x, c):\n    for _ in range(3):\n        print('x' * 100_000_000)\n"
                "    return c * x ** (c - 1)\n")


def build_class(course):
    vandal_target = course / "submitted" / "perfect" / EX1 / f"{EX1}.ipynb"
    students = {
        "perfect": solved(course, EX1),
        "untouched": released(course, EX1),
        "planted_bug": solved(course, EX1, d_power=WRONG_D_POWER),
        "prints_a_lot": solved(course, EX1, d_power=PRINTS_A_LOT),
        "vandal": solved(course, EX1, d_power=(
            "import os\nfrom pathlib import Path\n"
            f"gradebook, victim = {str(course / 'gradebook.db')!r}, {str(vandal_target)!r}\n"
            "def _replace(target):\n    Path('mine.txt').write_text('x')\n    os.replace('mine.txt', target)\n"
            "def _wipe(database):\n    import sqlite3\n    db = sqlite3.connect(database)\n"
            "    db.execute('DELETE FROM grade_cells')\n    db.commit()\n"
            "for attack in (lambda: Path(gradebook).write_text('x'), lambda: Path(victim).write_text('x'),\n"
            "               lambda: _replace(gradebook), lambda: _replace(victim), lambda: os.remove(victim),\n"
            "               lambda: _wipe(gradebook)):\n"
            "    try:\n        attack()\n    except Exception:\n        pass\n" + WRONG_D_POWER)),
    }
    students.update({name: solved(course, EX1, d_power=src) for name, src in HOSTILE.items()})

    students["deletes_test_cells"] = without_test_cells(solved(course, EX1))

    tampered = solved(course, EX1, d_power=WRONG_D_POWER)
    for cell in tampered.cells:
        if is_test_cell(cell) and function_of(cell) == TARGET:
            cell.source = "pass  # tests? what tests?"
    students["edits_test_cell"] = tampered

    markdown = solved(course, EX1)
    for cell in markdown.cells:
        if is_test_cell(cell):
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    students["test_cells_to_markdown"] = nbformat.from_dict(markdown)

    duplicated = solved(course, EX1)
    index = next(i for i, c in enumerate(duplicated.cells) if grade_id(c) == TARGET)
    wrong_copy = nbformat.from_dict(json.loads(json.dumps(duplicated.cells[index])))
    wrong_copy.source = WRONG_D_POWER
    duplicated.cells.insert(index, wrong_copy)  # a wrong first copy, the right one last
    students["duplicates_answer_cell"] = duplicated

    for name, nb in students.items():
        submit(course, name, EX1, nb)
        submit(course, name, EX2, solved(course, EX2))

    # bad input
    (course / "submitted" / "empty_file" / EX1).mkdir(parents=True)
    (course / "submitted" / "empty_file" / EX1 / f"{EX1}.ipynb").write_text("")
    (course / "submitted" / "not_json" / EX1).mkdir(parents=True)
    (course / "submitted" / "not_json" / EX1 / f"{EX1}.ipynb").write_text("{'cells': oops")
    submit(course, "wrong_assignment", EX1, solved(course, EX2))
    submit(course, "unknown_name", EX1, solved(course, EX1), name="Untitled (1).ipynb")
    submit(course, "missing_assignment", EX1, solved(course, EX1))
    submit(course, "not_on_roster", EX1, solved(course, EX1))
    for name in ("empty_file", "not_json", "wrong_assignment", "unknown_name"):
        submit(course, name, EX2, solved(course, EX2))
    # an LMS download: loose <student>_<assignment>.ipynb files in a zip, a resubmission among them
    with zipfile.ZipFile(course / "lms-download.zip", "w") as archive:
        for name, nb in ((f"lms_student_{EX1}.ipynb", released(course, EX1)),
                         (f"lms_student_{EX1}-1.ipynb", solved(course, EX1)),
                         (f"lms_student_{EX2}.ipynb", solved(course, EX2))):
            archive.writestr(name, nbformat.writes(nb))
    roster = [*students, "empty_file", "not_json", "wrong_assignment", "unknown_name", "missing_assignment",
              "lms_student"]
    (course / "students.txt").write_text("\n".join(roster) + "\n")
    return students


@pytest.fixture(scope="module")
def graded(new_course):
    """(course, its GradingReport, the first 16 bytes of its gradebook before grading): the class
    of build_class graded once. Tests only read it; one that grades again works on a copy."""
    course = new_course("course", [EX1, EX2])
    build_class(course)
    gradebook_before = (course / "gradebook.db").read_bytes()[:16]
    report = grade_course(course, jobs=2, timeout=5, import_from=course / "lms-download.zip",
                          progress=lambda *_: None)
    return course, report, gradebook_before


def score(course, student, assignment=EX1):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return gb.find_submission(assignment, student).score


def full(course, assignment=EX1):
    return full_marks(course, assignment)


def target_points(course):
    return function_points(course, EX1)[TARGET]


def problems_of(report, student):
    return [str(p) for p in report.problems if p.student == student]


def test_correct_submission_full_marks_and_untouched_zero(graded):
    course, _, _ = graded
    assert score(course, "perfect") == full(course)
    assert score(course, "perfect", EX2) == full(course, EX2)
    assert score(course, "untouched") == 0


def test_lms_download_is_imported_and_its_latest_version_graded(graded):
    course, report, _ = graded
    assert score(course, "lms_student") == full(course)
    assert score(course, "lms_student", EX2) == full(course, EX2)
    assert any("several versions" in p for p in problems_of(report, "lms_student"))


def test_planted_bug_loses_exactly_that_function(graded):
    course, _, _ = graded
    assert score(course, "planted_bug") == full(course) - target_points(course)


@pytest.mark.parametrize("student", sorted(HOSTILE) + ["vandal", "edits_test_cell"])
def test_hostile_code_earns_nothing_for_that_function_only(graded, student):
    course, _, _ = graded
    assert score(course, student) == full(course) - target_points(course)
    assert score(course, student, EX2) == full(course, EX2)  # the same student's other notebook


def test_printing_hundreds_of_megabytes_neither_crashes_nor_costs_points(graded):
    course, _, _ = graded
    assert score(course, "prints_a_lot") == full(course)
    feedback = course / "feedback" / "prints_a_lot" / EX1 / f"{EX1}.html"
    assert feedback.stat().st_size < 20_000_000


@pytest.mark.parametrize("student", ["deletes_test_cells", "test_cells_to_markdown", "duplicates_answer_cell"])
def test_structural_damage_is_repaired_and_graded(graded, student):
    course, report, _ = graded
    assert score(course, student) == full(course)
    outcome = next(o for o in report.outcomes if o.student == student and o.assignment == EX1)
    assert outcome.notes, "the repair must be reported"


def test_vandal_could_not_touch_the_course(graded):
    course, _, gradebook_before = graded
    assert (course / "gradebook.db").read_bytes()[:16] == gradebook_before
    victim = course / "submitted" / "perfect" / EX1 / f"{EX1}.ipynb"
    assert nbformat.read(victim, as_version=4).cells  # still a notebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # sqlite3.connect is not `open`
        for assignment in (EX1, EX2):
            cells = {c.name for c in gb.find_notebook(assignment, assignment).grade_cells}
            assert cells == set(grade_cell_points(course, assignment))


@pytest.mark.parametrize("student, words", [
    ("empty_file", "empty"), ("not_json", "not valid JSON"), ("wrong_assignment", f"notebook of {EX2}"),
    ("unknown_name", "Untitled (1).ipynb"), ("missing_assignment", "missing"), ("not_on_roster", "unknown student"),
])
def test_bad_input_is_reported_and_the_rest_graded(graded, student, words):
    course, report, _ = graded
    assert any(words in p for p in problems_of(report, student)), problems_of(report, student)
    if student not in ("missing_assignment", "not_on_roster"):
        assert score(course, student, EX2) == full(course, EX2)  # their other notebook is graded
    if student == "not_on_roster":
        assert not (course / "autograded" / student).exists()


def test_feedback_explains_without_revealing_hidden_tests(graded):
    course, _, _ = graded
    html = (course / "feedback" / "planted_bug" / EX1 / f"{EX1}.html").read_text()
    assert "Hidden tests FAILED" in html and "d_power" in html
    assert "BEGIN HIDDEN TESTS" not in html and "run_hidden_tests" not in html
    assert "autograder.instructor" not in html


def test_grades_csv_matches_gradebook(graded):
    course, _, _ = graded
    rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(open(course / "grades.csv"))}
    assert rows["perfect", EX1] == full(course)
    assert rows["planted_bug", EX1] == full(course) - target_points(course)


def test_no_lost_or_doubled_gradebook_rows(graded):
    course, report, _ = graded
    graded_ex1 = sorted(o.student for o in report.outcomes if o.assignment == EX1)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert sorted(s.student.id for s in gb.assignment_submissions(EX1)) == graded_ex1
        for outcome in report.outcomes:
            submission = gb.find_submission_notebook(outcome.assignment, outcome.assignment, outcome.student)
            names = [g.name for g in submission.grades]
            assert sorted(names) == sorted(grade_cell_points(course, outcome.assignment))


def test_rerun_after_fix_grades_only_the_fixed_file(graded, tmp_path):
    course = copy_course(graded[0], tmp_path / "course")  # the module's course stays as graded
    perfect_before = score(course, "perfect")
    autograded_mtime = (course / "autograded" / "perfect" / EX1 / f"{EX1}.ipynb").stat().st_mtime
    submit(course, "not_json", EX1, solved(course, EX1))
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--course", str(course), "--jobs", "2",
                           "--timeout", "5", "--assignment", EX1], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert score(course, "not_json") == full(course)
    assert score(course, "perfect") == perfect_before
    assert (course / "autograded" / "perfect" / EX1 / f"{EX1}.ipynb").stat().st_mtime == autograded_mtime
    assert "unchanged" in proc.stdout
