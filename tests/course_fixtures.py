"""What the tests that grade a class share: its assignments and the planted bug, grading with the
tests' settings, and reading or writing the gradebook as formgrader does.

Courses and notebooks come from autograder.instructor.synthetic_class (also the demo's and the
benchmarks'); tests/conftest.py makes them fixtures.
"""

import shutil
from pathlib import Path

from nbgrader.api import Gradebook

from autograder.instructor import course_config
from autograder.instructor.grading import grade_course

EX1, EX2, EX4 = "ex01_differentiation", "ex02_total_derivatives", "ex04_expanded_jacobians"
TARGET = "d_power"  # ex01's function under attack
WRONG_D_POWER = "def d_power(x, c):\n    return c * x ** c\n"


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
