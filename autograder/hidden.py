"""Kernel-side entry point of the hidden tests (called from nbgrader test cells).

    ### BEGIN HIDDEN TESTS
    from autograder.hidden import run_hidden_tests
    run_hidden_tests("ex04_expanded_jacobians", "affine_backward")
    ### END HIDDEN TESTS

The verdict never comes from this process: under `python -m autograder grade`
the pipeline has judged the notebook already and keeps its verdicts in
AUTOGRADER_VERDICTS_DIR/<student>__<assignment>.json (nbgrader runs the kernel
in autograded/<student>/<assignment>); otherwise (plain `nbgrader autograde`, nbval) the judge is
run once per notebook in a separate process on the notebook file in the
working directory. A failed verdict raises AssertionError with its message.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

_verdict_cache = {}


def _judge_file(assignment, notebook):
    key = (assignment, hashlib.sha256(notebook.read_bytes()).hexdigest())
    if key not in _verdict_cache:
        proc = subprocess.run([sys.executable, "-m", "autograder.instructor.judge", str(notebook),
                               "--assignment", assignment], capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"the hidden-test judge failed:\n{proc.stderr[-2000:]}")
        _verdict_cache[key] = json.loads(proc.stdout)
    return _verdict_cache[key]


def verdicts_for(assignment):
    verdict_dir = os.environ.get("AUTOGRADER_VERDICTS_DIR")
    if verdict_dir:
        student = Path.cwd().parent.name
        return json.loads((Path(verdict_dir) / f"{student}__{assignment}.json").read_text())
    notebook = Path.cwd() / f"{assignment}.ipynb"
    if not notebook.exists():
        raise FileNotFoundError(f"hidden tests need {notebook.name} in the working directory {Path.cwd()}")
    return _judge_file(assignment, notebook)


def run_hidden_tests(assignment, function):
    verdict = verdicts_for(assignment).get(function)
    if verdict is None:
        raise AssertionError(f"{function}: no hidden-test verdict (the grader could not run it)")
    if not verdict["passed"]:
        raise AssertionError(verdict["message"])
    print(verdict["message"])
