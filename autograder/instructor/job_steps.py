"""The nbgrader side of a grading job, in one process (one nbgrader start-up per job, not two).

    python -m autograder.instructor.job_steps ROOT

In the job's scratch course ROOT (its nbgrader_config.py written by the job; no
student code runs here): stock nbgrader `autograde` for every submission (with
RecordedOutputs in place of Execute), then the points of ROOT/grades.json applied
to the job's gradebook, then stock `generate_feedback`.

    ROOT/grades.json: [{"student", "assignment", "verdicts": {function: {"passed", ...}},
                        "manual": {"scores": {cell: score}, "extra_credit": {cell: points},
                                   "comments": {cell: text}}}]
"""

import json
import sys
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import AutogradeApp, GenerateFeedbackApp

from autograder.notebook_code import tested_function

NBGRADER_ARGS = ["*", "--force", "--CourseDirectory.source_directory=source"]


def score_from_verdicts(grade, verdicts):
    """A test cell's auto_score: its maximum if the battery of its function passed, else 0."""
    passed = verdicts.get(tested_function(grade.name), {}).get("passed") is True
    grade.auto_score = grade.max_score if passed else 0.0


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
    root = Path(root)
    _run(AutogradeApp)
    apply_grades(f"sqlite:///{root / 'gradebook.db'}", json.loads((root / "grades.json").read_text()))
    _run(GenerateFeedbackApp)


if __name__ == "__main__":
    main(sys.argv[1])
