"""`make demo`: the instructor pipeline end to end on a synthetic class.

1. the gradient checker's worked example (affine layer, three classic bugs);
2. a scratch course directory: solutions/ copied, the release regenerated with nbgrader;
3. a synthetic class: `perfect` (every answer right), `untouched` (the release as
   handed out), `planted_bug` (in each notebook one function returns twice the
   right value), `hostile` (in two notebooks: a function that loops forever, one
   that kills its process, one that imports the reference answers, a file
   written into the course, every test cell deleted), `broken` (a file that is
   not JSON, a notebook of the wrong assignment);
4. `python -m autograder grade` in parallel, then the gradebook table beside the
   expected scores, and where grades.csv and the feedback are.
"""

import copy
import shutil
import sys
from pathlib import Path

import nbformat

from autograder.gradcheck_demo import main as gradcheck_demo
from autograder.instructor.grading import grade_course
from autograder.instructor.release import assignments_in, generate_release
from autograder.notebook_code import grade_id, is_answer_cell, is_test_cell, points, tested_function

REPO = Path(__file__).resolve().parents[2]

PLANTED_BUG = '''

def _planted_bug(function):
    def buggy(*args, **kwargs):
        out = function(*args, **kwargs)
        return tuple(2 * o for o in out) if isinstance(out, tuple) else 2 * out
    return buggy


{name} = _planted_bug({name})
'''

HOSTILE = {
    "loop": "def {name}(*args, **kwargs):\n    while True:\n        pass\n",
    "exit": "import os\n\ndef {name}(*args, **kwargs):\n    os._exit(0)\n",
    "steal": ("import importlib\n_ref = importlib.import_module('autograder.instructor.reference.{assignment}')\n"
              "{name} = getattr(_ref, '{name}')\n"),
    "vandal": ("from pathlib import Path\nPath({target!r}).write_text('vandalised')\n"
               "def {name}(*args, **kwargs):\n    raise RuntimeError('vandal')\n"),
}


def solution_answers(course, assignment):
    nb = nbformat.read(course / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {grade_id(c): c.source for c in nb.cells if is_answer_cell(c)}


def test_points(course, assignment):
    nb = nbformat.read(course / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {tested_function(c): points(c)
            for c in nb.cells if is_test_cell(c)}


def write_student(course, student, assignment, answers, drop_tests=False):
    release = nbformat.read(course / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    if drop_tests:
        nb.cells = [c for c in nb.cells if not is_test_cell(c)]
    path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def build_class(course, assignments):
    """Write the synthetic submissions; returns {(student, assignment): expected score}."""
    expected = {}
    for index, assignment in enumerate(assignments):
        answers, points = solution_answers(course, assignment), test_points(course, assignment)
        full = sum(points.values())
        write_student(course, "perfect", assignment, answers)
        expected["perfect", assignment] = full
        write_student(course, "untouched", assignment, {})
        expected["untouched", assignment] = 0.0
        target = list(points)[index % len(points)]
        buggy = dict(answers, **{target: answers[target] + PLANTED_BUG.format(name=target)})
        write_student(course, "planted_bug", assignment, buggy)
        expected["planted_bug", assignment] = full - points[target]
        if index < 2:
            sabotaged = dict(zip(HOSTILE, list(points)))
            hostile = dict(answers)
            for kind, name in sabotaged.items():
                hostile[name] = HOSTILE[kind].format(name=name, assignment=assignment,
                                                     target=str(course / "gradebook.db"))
            write_student(course, "hostile", assignment, hostile, drop_tests=True)
            expected["hostile", assignment] = full - sum(points[n] for n in sabotaged.values())
    broken = course / "submitted" / "broken"
    (broken / assignments[0]).mkdir(parents=True)
    (broken / assignments[0] / f"{assignments[0]}.ipynb").write_text('{"cells": [ this is not json')
    if len(assignments) > 1:
        (broken / assignments[1]).mkdir(parents=True)
        shutil.copy(course / "exercises" / assignments[0] / f"{assignments[0]}.ipynb",
                    broken / assignments[1] / f"{assignments[1]}.ipynb")
    return expected


def main(course_dir=Path("demo-course")):
    print("=" * 78 + "\n1. The numeric gradient checker\n" + "=" * 78)
    gradcheck_demo()
    course = Path(course_dir).resolve()
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", course)
    assignments = assignments_in(REPO)
    for assignment in assignments:
        shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    print("=" * 78 + f"\n2. Release regenerated from solutions/ in {course}\n" + "=" * 78)
    generate_release(course)
    for assignment in assignments:
        print(f"  exercises/{assignment}/{assignment}.ipynb")
    expected = build_class(course, assignments)
    print("=" * 78 + "\n3. Grading the synthetic class in parallel\n" + "=" * 78)
    report = grade_course(course, timeout=10)
    print("\n" + report.table())
    print("\nexpected vs graded:")
    got = {(o.student, o.assignment): sum(s for s, _ in o.scores.values()) for o in report.outcomes}
    mismatches = 0
    for key in sorted(expected):
        ok = got.get(key) == expected[key]
        mismatches += not ok
        print(f"  {key[0]:12s} {key[1]:26s} expected {expected[key]:5g}  graded {got.get(key, float('nan')):5g}"
              f"  {'ok' if ok else 'MISMATCH'}")
    print(f"\nproblems reported ({len(report.problems)}):")
    for problem in report.problems:
        print(f"  - {problem}")
    vandal_target = course / "gradebook.db"
    print(f"\ngradebook intact: {vandal_target.read_bytes()[:15] == b'SQLite format 3'}")
    print(f"graded {len(report.outcomes)} submissions in {report.seconds:.0f} s")
    print(f"grades:   {course / 'grades.csv'}\nfeedback: {course / 'feedback'}/<student>/<assignment>/")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("demo-course")))
