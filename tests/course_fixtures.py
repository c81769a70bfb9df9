"""Shared set-up for tests that grade a small class with `grade_course` and then read what students
and instructors see (tests/test_feedback_content.py, tests/test_manual_grades.py).

The notebook helpers (`_solved`, `_release`, `_submit`, `_points`) are those of
tests/test_grading_pipeline.py, imported rather than copied.
"""

import shutil
from pathlib import Path

from nbgrader.api import Gradebook

from autograder.instructor import course_config
from autograder.instructor.grading import grade_course
from autograder.instructor.release import generate_release
from tests.test_grading_pipeline import _points, _release, _solved, _submit  # noqa: F401 - re-exported

ROOT = Path(__file__).resolve().parents[1]
EX1, EX4 = "ex01_differentiation", "ex04_expanded_jacobians"


def make_course(course, assignments, db_url=None):
    """A course directory holding the course's nbgrader_config.py (with `db_url` as its gradebook
    if given; else gradebook.db), the solutions of `assignments` and their release (stock
    `nbgrader generate_assignment`, which also fills the gradebook)."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    if db_url:
        config += f"\n# the gradebook of this test course\nc.CourseDirectory.db_url = {db_url!r}\n"
    (course / "nbgrader_config.py").write_text(config)
    for assignment in assignments:
        shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    generate_release(course)
    return course


def copy_course(source, target):
    """A copy of a graded course (gradebook, state file, submitted/, autograded/, feedback/)."""
    shutil.copytree(source, target, symlinks=True)
    return Path(target)


def grade(course, **options):
    """grade_course with the settings of the tests (2 jobs, 20 s per cell, quiet)."""
    options.setdefault("jobs", 2)
    options.setdefault("timeout", 20)
    options.setdefault("progress", lambda *_: None)
    return grade_course(course, **options)


def gradebook(course):
    """The course's gradebook (the database its nbgrader_config.py names)."""
    return Gradebook(course_config.db_url(course))


def full_marks(course, assignment):
    return sum(_points(course, assignment).values())


def formgrade_score(course, student, assignment, grade_cell, manual_score, extra_credit=None):
    """A manual score as formgrader writes it (nbgrader's GradeHandler.put): the Grade row of the
    cell found through the Gradebook API, manual_score and extra_credit set, committed."""
    with gradebook(course) as gb:
        grade = gb.find_grade(grade_cell, assignment, assignment, student)
        grade.manual_score = manual_score
        grade.extra_credit = extra_credit
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        gb.db.commit()


def formgrade_comment(course, student, assignment, cell, text):
    """A manual comment as formgrader writes it (nbgrader's CommentHandler.put)."""
    with gradebook(course) as gb:
        comment = gb.find_comment(cell, assignment, assignment, student)
        comment.manual_comment = text
        gb.db.commit()


def grade_row(course, student, assignment, grade_cell):
    """(auto_score, manual_score, extra_credit, needs_manual_grade, score) of one Grade row."""
    with gradebook(course) as gb:
        g = gb.find_grade(grade_cell, assignment, assignment, student)
        return g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade, g.score


def comment_text(course, student, assignment, cell):
    with gradebook(course) as gb:
        return gb.find_comment(cell, assignment, assignment, student).manual_comment


def submission_score(course, student, assignment):
    with gradebook(course) as gb:
        return gb.find_submission(assignment, student).score
