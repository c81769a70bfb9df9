"""The judge: runs an assignment's hidden battery against a student's notebook.

The student's code runs only in a sandbox process (autograder.sandbox); the
judge sends it plain-data inputs, receives plain data back, and compares with
the reference implementation here, in a process where no student code ever ran.
A sandbox that hangs, exits or dies is killed and restarted for the remaining
functions, so one bad function costs only its own points. Time is bounded three
ways: each case and each notebook cell has its own timeout, each function's cases
share FUNCTION_BUDGET seconds, and a notebook gets NOTEBOOK_BUDGET seconds in all
(a function that is merely slow on every call cannot stretch a class's grading).

    python -m autograder.instructor.judge NOTEBOOK --assignment ex04_expanded_jacobians [--function NAME]

prints {function: {"passed": bool, "message": str, "cases": n, "failed": k}} as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.sandbox import wire
from autograder.instructor.batteries import load_battery
from autograder.instructor.battery import unchanged_problem
from autograder.notebook_code import student_code_cells

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding the autograder package
INSTRUCTOR_DIR = Path(__file__).resolve().parent
CELL_TIMEOUT = 10.0
FUNCTION_BUDGET = 60.0  # seconds for all cases of one function (sandbox restarts included)
NOTEBOOK_BUDGET = 300.0  # seconds for the whole battery of one notebook
MAX_REPORTED_FAILURES = 2


class SandboxFailure(Exception):
    """The sandbox did not answer: it timed out, exited or broke the protocol."""


class SandboxTimeout(SandboxFailure):
    """The sandbox did not answer in time."""


class BudgetExceeded(Exception):
    """A function's (or the notebook's) share of grading time ran out."""


@dataclass
class Verdict:
    passed: bool
    message: str
    cases: int
    failed: int


class Sandbox:
    """A restartable sandbox process holding the student's notebook code."""

    def __init__(self, cells, blocked=()):
        self.cells = list(cells)
        self.blocked = [str(INSTRUCTOR_DIR), *map(str, blocked)]
        self.skipped_cells = {}  # index -> why it was skipped (hung or killed the process)
        self.cell_errors = {}  # index -> exception raised while loading
        self.process = None

    # -- process management
    def _spawn(self):
        self.scratch = tempfile.mkdtemp(prefix="autograder-sandbox-")
        cmd_r, self.cmd_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.scratch,
               "PYTHONPATH": str(PACKAGE_ROOT), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": self.scratch, "LANG": "C.UTF-8"}
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-m", "autograder.sandbox.server", str(cmd_r), str(reply_w), *self.blocked],
            cwd=self.scratch, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, pass_fds=(cmd_r, reply_w), start_new_session=True)
        os.close(cmd_r)
        os.close(reply_w)

    def close(self):
        if self.process is None:
            return
        for fd in (self.cmd_w, self.reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.process = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- messaging
    def _request(self, message, timeout):
        try:
            wire.write_message(self.cmd_w, message)
        except OSError as exc:
            raise SandboxFailure("your code ended the grading process (sys.exit/os._exit/kill?)") from exc
        deadline = time.monotonic() + timeout
        header = self._read(wire.HEADER.size, deadline)
        (size,) = wire.HEADER.unpack(header)
        if size > wire.MAX_MESSAGE_BYTES:
            raise SandboxFailure("the result was too large to return")
        try:
            return wire.loads(self._read(size, deadline))
        except (ValueError, wire.WireError) as exc:
            raise SandboxFailure("the grading channel was corrupted by your code") from exc

    def _read(self, n, deadline):
        chunks, remaining = [], n
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.reply_r], [], [], left)[0]:
                raise SandboxTimeout(f"timed out after {self._timeout_label} s (an infinite loop, or far too slow?)")
            chunk = os.read(self.reply_r, min(remaining, 1 << 20))
            if not chunk:
                raise SandboxFailure("your code ended the grading process (sys.exit/os._exit/kill, or it crashed)")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    # -- loading the notebook code
    def _request_before(self, message, timeout, deadline):
        """_request, given at most `timeout` seconds and never past `deadline` (time.monotonic()).
        On failure the process is reset; a timeout that only the deadline caused is BudgetExceeded."""
        budget = deadline - time.monotonic()
        self._timeout_label = f"{timeout:g}"
        try:
            return self._request(message, min(timeout, budget))
        except SandboxFailure as exc:
            self.close()
            if isinstance(exc, SandboxTimeout) and budget < timeout:
                raise BudgetExceeded() from exc
            raise

    def ensure_started(self, deadline=float("inf")):
        """Start the process and execute every cell that has not hung or killed it before.
        Raises BudgetExceeded if the deadline passes first."""
        while self.process is None:
            if time.monotonic() >= deadline:
                raise BudgetExceeded()
            self._spawn()
            for index, source in enumerate(self.cells):
                if index in self.skipped_cells:
                    continue
                try:
                    reply = self._request_before({"op": "exec", "index": index, "source": source},
                                                 CELL_TIMEOUT, deadline)
                except SandboxFailure as exc:
                    self.skipped_cells[index] = str(exc)
                    break
                if not reply.get("ok"):
                    self.cell_errors[index] = str(reply.get("error", ""))

    def run(self, case, deadline=float("inf")):
        """Run one case before `deadline`; returns the sandbox's reply dict.
        Raises SandboxFailure (and resets), or BudgetExceeded."""
        self.ensure_started(deadline)
        if time.monotonic() >= deadline:
            raise BudgetExceeded()
        return self._request_before({"op": "probe", "probe": case.probe, "args": list(case.args)},
                                    case.timeout, deadline)


def evaluate(case, reply):
    """None if the case passed, else the problem (a message for the student)."""
    if not reply.get("ok"):
        error = str(reply.get("error", "an error"))
        error_type = reply.get("error_type", "")
        if case.expect_error and error_type == case.expect_error:
            return None
        if error_type == "NotImplementedError":
            return "not implemented yet (raises NotImplementedError)"
        return f"raised {error}"
    if case.expect_error:
        return f"should raise {case.expect_error}, but returned normally"
    result = reply.get("result")
    if not isinstance(result, dict) or "value" not in result:
        return "returned something the grader could not read"
    problem = unchanged_problem(case.inputs, result.get("args_after"))
    if problem:
        return problem
    if case.no_fp_warnings and reply.get("fp_warnings"):
        return (f"numpy warned \"{'; '.join(map(str, reply['fp_warnings']))}\": on these inputs a step of your "
                "formula overflows or divides by zero, even if the result looks right; rewrite it so every "
                "intermediate value stays finite")
    try:
        return case.check(result)
    except Exception as exc:  # a malformed value (wrong types) must not crash grading
        return f"returned a value of an unexpected kind ({type(exc).__name__}: {exc})"


def judge_function(sandbox, battery, function, deadline=float("inf")):
    cases = battery.iter_cases(function)
    deadline = min(deadline, time.monotonic() + FUNCTION_BUDGET)
    failures, stopped = [], False
    for case in cases:
        try:
            problem = evaluate(case, sandbox.run(case, deadline))
        except SandboxFailure as exc:
            failures.append((case, str(exc)))
            stopped = True
            break
        except BudgetExceeded:
            failures.append((case, f"out of grading time: the hidden tests of one function may take "
                                   f"{FUNCTION_BUDGET:g} s and those of one notebook {NOTEBOOK_BUDGET:g} s "
                                   "in all (is your code sleeping, or far too slow?)"))
            stopped = True
            break
        if problem:
            failures.append((case, problem))
            if problem.startswith("not implemented"):
                break
    if not failures:
        return Verdict(True, f"{function}: passed all {len(cases)} hidden test cases.", len(cases), 0)
    if failures[0][1].startswith("not implemented"):
        return Verdict(False, f"{function}: not implemented yet (raises NotImplementedError).", len(cases), len(cases))
    summary = (f"stopped at hidden test case {cases.index(failures[-1][0]) + 1} of {len(cases)}" if stopped
               else f"failed {len(failures)} of {len(cases)} hidden test cases")
    lines = [f"{function}: {summary}."]
    reported = []
    for case, problem in failures:
        if problem not in reported and len(reported) < MAX_REPORTED_FAILURES:
            reported.append(problem)
            lines.append(f"  - case {case.description}: {problem}")
    lines.extend(_loading_notes(sandbox))
    return Verdict(False, "\n".join(lines), len(cases), len(failures))


def _loading_notes(sandbox):
    notes = [f"  note: code cell {i + 1} was skipped: {why}" for i, why in sandbox.skipped_cells.items()]
    notes += [f"  note: code cell {i + 1} raised {err}" for i, err in sandbox.cell_errors.items()]
    return notes[:3]


def judge_cells(assignment, cells, functions=None, blocked=()):
    """Judge code cells (list of sources) of `assignment`; returns {function: Verdict}."""
    battery = load_battery(assignment)
    names = list(functions) if functions else list(battery.functions)
    unknown = [n for n in names if n not in battery.functions]
    if unknown:
        raise ValueError(f"{assignment} has no graded function(s) {unknown}")
    deadline = time.monotonic() + NOTEBOOK_BUDGET
    with Sandbox(cells, blocked) as sandbox:
        return {name: judge_function(sandbox, battery, name, deadline) for name in names}


def judge_notebook(notebook_path, assignment, functions=None, blocked=()):
    """Judge a notebook file; returns {function: Verdict}."""
    return judge_cells(assignment, student_code_cells(notebook_path), functions, blocked)


def _as_json(verdicts):
    return {name: asdict(v) for name, v in verdicts.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, nargs="?")
    parser.add_argument("--assignment")
    parser.add_argument("--function", action="append", help="judge only this function (repeatable)")
    parser.add_argument("--blocked", action="append", default=[], help="a path student code may not read")
    parser.add_argument("--batch", type=Path, help="a JSON list of {notebook, assignment, output}: judge each "
                                                   "notebook (one sandbox each) and write its verdicts to output")
    args = parser.parse_args(argv)
    if args.batch:
        for job in json.loads(args.batch.read_text()):
            try:
                result = _as_json(judge_notebook(job["notebook"], job["assignment"], None, args.blocked))
            except Exception as exc:  # noqa: BLE001 - one notebook must not stop the batch
                result = {"__error__": f"{type(exc).__name__}: {exc}"}
            Path(job["output"]).write_text(json.dumps(result))
        return
    if not args.notebook or not args.assignment:
        parser.error("give NOTEBOOK and --assignment, or --batch")
    json.dump(_as_json(judge_notebook(args.notebook, args.assignment, args.function, args.blocked)), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
