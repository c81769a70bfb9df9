"""What passes between the grading processes: their commands, messages and files, named once.

(The channel between the judge and the sandbox that runs student code is autograder.sandbox.wire.)

    main process --grading.BatchTask--> a job (grading.grade_batch: a thread, or a Dask worker)
    job --judge_request (stdin)--> judge_batch_command() --result lines (stdout)--> job
    job writes its scratch course ROOT, then runs job_steps_command(ROOT), whose `nbgrader
    autograde` reads the recordings (recorded_outputs.RecordedOutputs) and whose points come
    from ROOT/grades.json

The judge batch (autograder.instructor.judge --batch):
    request: {"notebooks": [{"key": str, "assignment": str, "cells": [[source, is_test_cell], ...]}],
              "cell_timeout": seconds, "unsafe": bool}
    one line per notebook: {"key", "verdicts": {function: verdict}, "outputs": {cell index: [output]}}
                           or {"key", "error": str}

The job's scratch course ROOT (no student code runs there):
    nbgrader_config.py                       the course's, then job_config_overrides(ROOT)
    gradebook.db                             the job's sqlite gradebook (job_db_url)
    source/ submitted/ autograded/ feedback/ nbgrader's folders, named by the overrides (not by the course)
    recordings/<student>/<assignment>.json   {"outputs", "verdicts", "notes"} (recorded_outputs.py)
    grades.json                              [{"student", "assignment", "verdicts", "manual"}] (job_steps.py)

Nothing passes through environment variables or the working directory: every path and timeout is
an argument, a field of a message, or a line of the job's configuration.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GRADEBOOK = "gradebook.db"
GRADES = "grades.json"
RECORDINGS = "recordings"
JOB_FOLDERS = ("source", "submitted", "autograded", "feedback")  # nbgrader's, in the job course


# --------------------------------------------------------------------------- the processes

def judge_batch_command():
    return [sys.executable, "-m", "autograder.instructor.judge", "--batch"]


def judge_notebook_command(notebook, assignment):
    """The judge on one notebook file; prints {function: verdict} as JSON (autograder.hidden)."""
    return [sys.executable, "-m", "autograder.instructor.judge", str(notebook), "--assignment", assignment]


def job_steps_command(root):
    return [sys.executable, "-m", "autograder.instructor.job_steps", str(root)]


# --------------------------------------------------------------------------- the judge batch

def judge_request(notebooks, cell_timeout, unsafe):
    """The request (JSON text) for {key: (assignment, cells)}."""
    return json.dumps({"cell_timeout": cell_timeout, "unsafe": unsafe,
                       "notebooks": [{"key": key, "assignment": assignment, "cells": cells}
                                     for key, (assignment, cells) in notebooks.items()]})


def result_line(key, verdicts=None, outputs=None, error=None):
    """One line of the judge's output: the verdicts and outputs of a notebook, or why it has none."""
    body = {"error": error} if error is not None else {"verdicts": verdicts, "outputs": outputs}
    return json.dumps({"key": key, **body}) + "\n"


def read_results(lines):
    """{key: result} from the judge's output lines; anything that is not a result line is ignored."""
    results = {}
    for line in lines:
        try:
            result = json.loads(line)
            results[result["key"]] = result
        except (ValueError, KeyError, TypeError):
            continue
    return results


# --------------------------------------------------------------------------- the job's scratch course

def job_config_overrides(root):
    """The lines appended to the course's nbgrader_config.py in the job course ROOT: its root, its
    gradebook, its folders, and RecordedOutputs in place of nbgrader's Execute."""
    root = Path(root)
    folders = "".join(f"c.CourseDirectory.{kind}_directory = {kind!r}\n" for kind in JOB_FOLDERS)
    return f"""
# ---- grading job overrides (autograder.instructor.protocol) ----
from nbgrader.converters import Autograde as _Autograde
c.CourseDirectory.root = {str(root)!r}
c.CourseDirectory.db_url = {job_db_url(root)!r}
{folders}c.RecordedOutputs.directory = {str(root / RECORDINGS)!r}
c.Autograde.autograde_preprocessors = [
    "autograder.instructor.recorded_outputs.RecordedOutputs" if getattr(p, "__name__", p) == "Execute" else p
    for p in _Autograde.class_traits()["autograde_preprocessors"].default()]
"""


def job_db_url(root):
    return f"sqlite:///{Path(root) / GRADEBOOK}"


def recording_path(recordings, student, assignment):
    """Where the recording of a submission is, in the folder of recordings."""
    return Path(recordings) / student / f"{assignment}.json"


def write_grades(root, submissions):
    (Path(root) / GRADES).write_text(json.dumps(submissions))


def read_grades(root):
    return json.loads((Path(root) / GRADES).read_text())
