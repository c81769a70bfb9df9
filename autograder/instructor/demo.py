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

import shutil
import sys
from pathlib import Path

from autograder.gradcheck_demo import main as gradcheck_demo
from autograder.instructor.grading import grade_course
from autograder.instructor.release import assignments_in
from autograder.instructor.synthetic_class import (filled, function_points, released, scratch_course,
                                                   solution_answers, submit, with_planted_bug, without_test_cells)

DEMO_CELL_TIMEOUT = 10  # seconds per cell: shorter than settings.CELL_TIMEOUT, so the looping student costs little

HOSTILE = {
    "loop": "def {name}(*args, **kwargs):\n    while True:\n        pass\n",
    "exit": "import os\n\ndef {name}(*args, **kwargs):\n    os._exit(0)\n",
    "steal": ("import importlib\n_ref = importlib.import_module('autograder.instructor.reference.{assignment}')\n"
              "{name} = getattr(_ref, '{name}')\n"),
    "vandal": ("from pathlib import Path\nPath({target!r}).write_text('vandalised')\n"
               "def {name}(*args, **kwargs):\n    raise RuntimeError('vandal')\n"),
}


def build_class(course, assignments):
    """Write the synthetic submissions; returns {(student, assignment): expected score}."""
    expected = {}
    for index, assignment in enumerate(assignments):
        answers, points = solution_answers(course, assignment), function_points(course, assignment)
        full = sum(points.values())
        submit(course, "perfect", assignment, filled(course, assignment, answers))
        expected["perfect", assignment] = full
        submit(course, "untouched", assignment, released(course, assignment))
        expected["untouched", assignment] = 0.0
        target = list(points)[index % len(points)]
        submit(course, "planted_bug", assignment, filled(course, assignment, with_planted_bug(answers, target)))
        expected["planted_bug", assignment] = full - points[target]
        if index < 2:
            sabotaged = dict(zip(HOSTILE, list(points)))
            hostile = dict(answers)
            for kind, name in sabotaged.items():
                hostile[name] = HOSTILE[kind].format(name=name, assignment=assignment,
                                                     target=str(course / "gradebook.db"))
            submit(course, "hostile", assignment, without_test_cells(filled(course, assignment, hostile)))
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
    print("=" * 78 + f"\n2. Release regenerated from solutions/ in {course}\n" + "=" * 78)
    assignments = assignments_in(scratch_course(course))
    for assignment in assignments:
        print(f"  exercises/{assignment}/{assignment}.ipynb")
    expected = build_class(course, assignments)
    print("=" * 78 + "\n3. Grading the synthetic class in parallel\n" + "=" * 78)
    report = grade_course(course, timeout=DEMO_CELL_TIMEOUT)
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
