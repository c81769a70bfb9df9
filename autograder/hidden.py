"""Kernel-side entry point of the hidden tests (called from nbgrader test cells).

    ### BEGIN HIDDEN TESTS
    from autograder.hidden import run_hidden_tests
    run_hidden_tests("ex04_expanded_jacobians", "affine_backward")
    ### END HIDDEN TESTS

Under `python -m autograder grade` these lines never run: no kernel executes a
submission there (the sandbox records the outputs and the verdicts are put under
the test cells, see autograder/instructor/recorded_outputs.py). Under plain
`nbgrader autograde` and nbval, the judge is run once per notebook in a separate
process on the notebook file in the working directory (nbgrader starts the kernel in
the notebook's folder; its sandbox under bubblewrap, as always), given
settings.judge_timeout(1) seconds (nbgrader_config.py's c.Execute.timeout covers that
wait). A failed verdict raises AssertionError with its message, so there a function
graded by parts (its verdict's "parts") earns nothing unless every part is right; its
share per part is given by `python -m autograder grade` (job_steps.points_earned).
"""

import hashlib
import json
import subprocess
from pathlib import Path

_verdict_cache = {}


def _judge_file(assignment, notebook):
    key = (assignment, hashlib.sha256(notebook.read_bytes()).hexdigest())
    if key not in _verdict_cache:
        from autograder.instructor import protocol, settings  # the instructor's kernel (never a sandbox)
        proc = subprocess.run(protocol.judge_notebook_command(notebook, assignment), capture_output=True,
                              text=True, timeout=settings.judge_timeout(1))
        if proc.returncode != 0:
            raise RuntimeError(f"the hidden-test judge failed:\n{proc.stderr[-2000:]}")
        _verdict_cache[key] = json.loads(proc.stdout)
    return _verdict_cache[key]


def verdicts_for(assignment):
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
