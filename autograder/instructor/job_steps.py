"""The nbgrader side of a grading job, in one process (one nbgrader start-up per job, not two).

    python -m autograder.instructor.job_steps ROOT

In the job's scratch course ROOT (its layout and nbgrader_config.py: protocol.py; no
student code runs here): stock nbgrader `autograde` for every submission (with
RecordedOutputs in place of Execute), then the points of ROOT/grades.json applied
to the job's gradebook, then stock `generate_feedback`.

    ROOT/grades.json: [{"student", "assignment", "verdicts": {function: {"passed", "parts", ...}},
                        "manual": {"scores": {cell: score}, "extra_credit": {cell: points},
                                   "comments": {cell: text}}}]
"""

import sys

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import AutogradeApp, GenerateFeedbackApp

from autograder.instructor import protocol
from autograder.notebook_code import tested_function

NBGRADER_ARGS = ["*", "--force"]


def score_from_verdicts(grade, verdicts):
    """A test cell's auto_score: the points its function's verdict earns of the cell's maximum."""
    grade.auto_score = points_earned(verdicts.get(tested_function(grade.name), {}), grade.max_score)


def points_earned(verdict, points):
    """Of a function's `points`: all if its verdict passed; for a function graded by parts (the verdict's
    "parts", e.g. affine_backward's dX, dW, db) an equal share for each part right in every case; else 0."""
    if verdict.get("passed") is True:
        return points
    parts = verdict.get("parts") or {}
    return points * sum(ok is True for ok in parts.values()) / len(parts) if parts else 0.0


def apply_grades(db_url, submissions):
    """Test cell points from the verdicts; the course's manual scores, extra credit and comments (for the feedback)."""
    with Gradebook(db_url) as gb:
        for sub in submissions:
            try:
                notebook = gb.find_submission_notebook(sub["assignment"], sub["assignment"], sub["student"])
            except MissingEntry:
                continue  # autograde could not process it: the job reports that
            manual = sub.get("manual", {})
            for grade in notebook.grades:
                score_from_verdicts(grade, sub["verdicts"])
                grade.manual_score = manual.get("scores", {}).get(grade.name)
                grade.extra_credit = manual.get("extra_credit", {}).get(grade.name)
                grade.needs_manual_grade = False
            for comment in notebook.comments:
                comment.manual_comment = manual.get("comments", {}).get(comment.name)
        gb.db.commit()


def _run(app_class):
    """One stock nbgrader command; it exits non-zero if any notebook failed, and the others still count."""
    app = app_class()
    try:
        app.initialize(NBGRADER_ARGS)
        app.start()
    except SystemExit:
        pass


def main(root):
    _run(AutogradeApp)
    apply_grades(protocol.job_db_url(root), protocol.read_grades(root))
    _run(GenerateFeedbackApp)


if __name__ == "__main__":
    main(sys.argv[1])
