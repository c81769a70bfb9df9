"""nbgrader configuration for the course (the course root is this directory: nbgrader runs here).

Only options nbgrader knows belong here (a test loads every one against nbgrader's
classes). The assignments are nbgrader's own: the folders of the source directory
(solutions/<assignment>/<assignment>.ipynb), read by autograder.instructor.course_config;
the time budgets are autograder/instructor/settings.py.
"""

import contextlib
import os

from autograder.instructor.settings import EXECUTE_TIMEOUT

c = get_config()  # noqa: F821 - provided by nbgrader

COURSE = os.path.dirname(os.path.abspath(__file__))

# CourseDirectory.root: nbgrader's default, the working directory (where this file is read from).
c.CourseDirectory.course_id = "backprop-jacobians"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# The exchange carries releases, submissions and feedback between the instructor and the
# students (formgrader's Release / Collect / Release Feedback, the students' Assignment List).
# On one machine (`make lab`) it is the course's exchange/ folder; on JupyterHub set EXCHANGE
# to the shared exchange that the students' config names too (README: "Larger courses on
# JupyterHub"). nbgrader requires it to exist, so it is created when possible.
EXCHANGE = os.path.join(COURSE, "exchange")
c.Exchange.root = EXCHANGE
with contextlib.suppress(OSError):
    os.makedirs(EXCHANGE, exist_ok=True)

# What students see in place of a solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The release (`nbgrader generate_assignment`, formgrader's Generate button): nbgrader's own
# steps, then ReleaseNotebook tags the test cells `raises-exception` (a student's Run All goes
# on past a failing test) and keeps only stable notebook metadata.
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
    "autograder.instructor.nbgrader_plugins.ReleaseNotebook",
]

# Each cell may run this long before it is interrupted (plain `nbgrader autograde`; `python -m
# autograder grade` runs no kernel). The first hidden-test cell of a notebook waits for the judge
# of the whole hidden battery (ex05 trains a network): settings.EXECUTE_TIMEOUT covers that wait.
c.Execute.timeout = EXECUTE_TIMEOUT

# Deleted grade cells come back from the gradebook instead of costing points.
c.OverwriteCells.add_missing_cells = True

# Feedback shows scores, outputs and the hidden-test verdicts, never the hidden test code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.instructor.nbgrader_plugins.FeedbackClearHiddenTests",
]

# --- feedback pages (autograder/instructor/feedback_style.py) ---------------------------------
# Math typeset into the page (no MathJax from a CDN: it reads offline), a mobile viewport,
# output blocks (the hidden-test verdicts) that wrap, a table of contents naming each function.
c.GenerateFeedback.exporter_class = "autograder.instructor.feedback_style.FeedbackExporter"
# --- end feedback pages ------------------------------------------------------------------------
