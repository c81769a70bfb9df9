"""The judge: runs an assignment's hidden battery against a student's notebook.

The student's code runs only in a sandbox process (autograder.sandbox.server,
inside bubblewrap: autograder.instructor.isolation); the judge sends it
plain-data inputs, receives plain data back (treated as untrusted: a missing
field fails the case), and compares with the reference implementation here, in
a process where no student code ever ran. For the grading pipeline the same
sandbox also executes the whole notebook once and records each cell's outputs
(`--batch`), so the notebook never runs anywhere else.
A sandbox that hangs, exits or dies is killed and restarted for the remaining
functions, so one bad function costs only its own points. Time is bounded three
ways (the budgets of autograder.instructor.settings): each case and each notebook
cell has its own timeout, each function's cases share FUNCTION_BUDGET seconds, and
a notebook gets NOTEBOOK_BUDGET seconds in all (a function that is merely slow on
every call cannot stretch a class's grading).

    python -m autograder.instructor.judge NOTEBOOK --assignment ex04_expanded_jacobians [--function NAME]

prints {function: {"passed": bool, "message": str, "cases": n, "failed": k, "parts": {part: bool}}} as JSON
(the format of every verdict).

A function returning several parts (battery.graded_parts: affine_backward's dX, dW,
db) has "parts": each is True if it was right in every case (its share of the
points, job_steps.score_from_verdicts); a case that fails as a whole (an
exception, an input changed in place, a time-out) fails every part. Other
functions have "parts": {}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.instructor import isolation, protocol
from autograder.instructor.batteries import load_battery
from autograder.instructor.battery import PartsCheck, graded_parts, unchanged_problem
from autograder.instructor.settings import CELL_TIMEOUT, FUNCTION_BUDGET, NOTEBOOK_BUDGET
from autograder.notebook_code import student_code_cells
from autograder.sandbox import wire

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding the autograder package
INSTRUCTOR_DIR = Path(__file__).resolve().parent
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
    parts: dict = field(default_factory=dict)  # part -> right in every case (functions graded by parts)


class Sandbox:
    """A restartable sandbox process holding the student's notebook code.

    cells: [(source, is_test_cell)] in notebook order. With record=True the first
    execution of each cell records its outputs (self.outputs: {index: [raw outputs]});
    after a restart only the student's cells are replayed (unrecorded), so the
    namespace again holds their definitions.
    """

    def __init__(self, cells, blocked=(), record=False, cell_timeout=CELL_TIMEOUT, unsafe=False):
        self.cells = [(c, False) if isinstance(c, str) else tuple(c) for c in cells]
        self.blocked = [str(INSTRUCTOR_DIR), *map(str, blocked)]
        self.record, self.cell_timeout, self.unsafe = record, cell_timeout, unsafe
        self.skipped_cells = {}  # index -> why it was skipped (hung or killed the process)
        self.cell_errors = {}  # index -> exception raised while loading a student cell
        self.outputs = {}  # index -> raw outputs of its recorded execution
        self.process = None

    # -- process management
    def _spawn(self):
        cmd_r, self.cmd_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        server = [sys.executable, "-s", "-P", "-m", "autograder.sandbox.server", str(cmd_r), str(reply_w)]
        if self.unsafe:  # the audit hook alone: a host scratch directory and the blocked paths
            self.scratch = tempfile.mkdtemp(prefix="autograder-sandbox-")
            env = {**isolation.sandbox_environment(), "HOME": self.scratch, "TMPDIR": self.scratch,
                   "MPLCONFIGDIR": self.scratch, "PYTHONPATH": str(PACKAGE_ROOT)}
            argv, fds, cwd = [*server, self.scratch, *self.blocked], (cmd_r, reply_w), self.scratch
        else:
            isolation.require_isolation()
            self.scratch = None
            seccomp = isolation.seccomp_fd()
            env, fds, cwd = isolation.sandbox_environment(), (cmd_r, reply_w, seccomp), "/"
            argv = isolation.sandboxed_command([*server, isolation.WORKDIR], seccomp)
        try:
            self.process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=fds,
                                            start_new_session=True, preexec_fn=isolation.limit_resources)
        finally:
            for fd in fds:
                os.close(fd)

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
        if self.scratch:
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
        try:
            return wire.read_message(self.reply_r, time.monotonic() + timeout)
        except wire.MessageTooLarge as exc:
            raise SandboxFailure("the result was too large to return") from exc
        except TimeoutError as exc:
            raise SandboxTimeout(f"timed out after {self._timeout_label} s (an infinite loop, or far too slow?)") from exc
        except EOFError as exc:
            raise SandboxFailure("your code ended the grading process (sys.exit/os._exit/kill, or it crashed)") from exc
        except (ValueError, UnicodeDecodeError, RecursionError, wire.WireError) as exc:
            raise SandboxFailure("the grading channel was corrupted by your code") from exc

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
            for index, (source, is_test) in enumerate(self.cells):
                record = self.record and index not in self.outputs
                if index in self.skipped_cells or (is_test and not record):
                    continue
                try:
                    reply = self._request_before({"op": "exec", "index": index, "source": source,
                                                  "record": record}, self.cell_timeout, deadline)
                except SandboxFailure as exc:
                    self.skipped_cells[index] = str(exc)
                    if record:
                        self.outputs[index] = [{"output_type": "error", "ename": "GradingError",
                                                "evalue": str(exc), "traceback": [f"GradingError: {exc}"]}]
                    break
                if record:
                    self.outputs[index] = reply.get("outputs")
                if not reply.get("ok") and not is_test:
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
    """(problem, wrong parts): (None, ()) if the case passed, else the message for the student and the
    parts of the returned value it found wrong (None: the case failed as a whole)."""
    problem = _reply_problem(case, reply)
    if problem or case.expect_error:
        return problem, None
    result = reply["result"]
    try:
        if isinstance(case.check, PartsCheck):
            problems = case.check.problems(result)
            return case.check.message(problems), tuple(part for part, p in problems.items() if p)
        return case.check(result), None
    except Exception as exc:  # a malformed value (wrong types) must not crash grading
        return f"returned a value of an unexpected kind ({type(exc).__name__}: {exc})", None


def _reply_problem(case, reply):
    """What is wrong with a case's reply before its value is checked (an exception, an error that should
    have been raised, an unreadable result, an input changed in place, numpy warnings), or None."""
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
    problem = _incomplete(case.inputs, result.get("args_after")) or unchanged_problem(case.inputs, result.get("args_after"))
    if problem:
        return problem
    if case.no_fp_warnings and reply.get("fp_warnings"):
        hint = f" {case.no_fp_warnings}" if isinstance(case.no_fp_warnings, str) else ""
        return (f"numpy warned \"{'; '.join(map(str, reply['fp_warnings']))}\": on these inputs a step of your "
                "formula overflows or divides by zero, even if the result looks right; rewrite it so every "
                f"intermediate value stays finite.{hint}")
    return None


def _incomplete(inputs, args_after):
    """The sandbox's reply comes from the process that ran student code: every input that is
    plain data must come back to be checked for in-place changes (a missing one fails the case)."""
    if inputs is None:
        return None
    if not isinstance(args_after, list) or len(args_after) != len(inputs) or any(
            after is None and not _is_marker(before) for before, after in zip(inputs, args_after)):
        return "the grader could not check that the inputs were left unchanged (the reply was incomplete)"
    return None


def _is_marker(value):
    """An input that is not plain data (a named function, a generator), or one the case does not check."""
    return value is None or isinstance(value, dict) and set(value) in ({"__fn__"}, {"__rng__"})


def judge_function(sandbox, battery, function, deadline=float("inf")):
    cases = battery.iter_cases(function)
    parts = graded_parts(cases)
    deadline = min(deadline, time.monotonic() + FUNCTION_BUDGET)
    failures, stopped = [], False  # (case, problem, the parts it found wrong)
    for case in cases:
        try:
            problem, wrong_parts = evaluate(case, sandbox.run(case, deadline))
        except SandboxFailure as exc:
            failures.append((case, str(exc), set(parts)))
            stopped = True
            break
        except BudgetExceeded:
            failures.append((case, f"out of grading time: the hidden tests of one function may take "
                                   f"{FUNCTION_BUDGET:g} s and those of one notebook {NOTEBOOK_BUDGET:g} s "
                                   "in all (is your code sleeping, or far too slow?)", set(parts)))
            stopped = True
            break
        if problem:
            failures.append((case, problem, set(parts if wrong_parts is None else wrong_parts)))
            if problem.startswith("not implemented"):
                break
    wrong = set().union(*(f[2] for f in failures))
    right = {part: part not in wrong and not stopped for part in parts}  # untested cases prove no part right
    if not failures:
        return Verdict(True, f"{function}: passed all {len(cases)} hidden test cases.", len(cases), 0, right)
    if failures[0][1].startswith("not implemented"):
        return Verdict(False, f"{function}: not implemented yet (raises NotImplementedError).", len(cases), len(cases),
                       right)
    summary = (f"stopped at hidden test case {cases.index(failures[-1][0]) + 1} of {len(cases)}" if stopped
               else f"failed {len(failures)} of {len(cases)} hidden test cases")
    lines = [f"{function}: {summary}{_parts_summary(right)}."]
    lines += [f"  - case {case.description}: {problem}" for case, problem in _reported(failures)]
    lines.extend(_loading_notes(sandbox))
    return Verdict(False, "\n".join(lines), len(cases), len(failures), right)


def _parts_summary(right):
    """'; right in every case: dX, dW (2 of 3 parts)' when some parts, not all, earn their points."""
    good = [part for part, ok in right.items() if ok]
    if not good or len(good) == len(right):
        return ""
    bad = [part for part, ok in right.items() if not ok]
    return f"; right in every case: {', '.join(good)} ({len(good)} of {len(right)} parts); wrong: {', '.join(bad)}"


def _reported(failures):
    """(case, problem) of the failures to show: the first MAX_REPORTED_FAILURES distinct problems, and
    the first problem of each wrong part they do not cover (every wrong part is explained)."""
    reported, covered = [], set()
    for case, problem, wrong in failures:
        if problem not in (p for _, p in reported) and (len(reported) < MAX_REPORTED_FAILURES or wrong - covered):
            reported.append((case, problem))
            covered |= wrong
    return reported


def _loading_notes(sandbox):
    notes = [f"  note: code cell {i + 1} was skipped: {why}" for i, why in sandbox.skipped_cells.items()]
    notes += [f"  note: code cell {i + 1} raised {err}" for i, err in sandbox.cell_errors.items()]
    return notes[:3]


def judge_cells(assignment, cells, functions=None, blocked=(), record=False, cell_timeout=CELL_TIMEOUT,
                unsafe=False):
    """Judge code cells of `assignment` (sources, or (source, is_test_cell) pairs in notebook order).
    Returns {function: Verdict}, and with record=True ({function: Verdict}, {cell index: raw outputs})."""
    battery = load_battery(assignment)
    names = list(functions) if functions else list(battery.functions)
    unknown = [n for n in names if n not in battery.functions]
    if unknown:
        raise ValueError(f"{assignment} has no graded function(s) {unknown}")
    deadline = time.monotonic() + NOTEBOOK_BUDGET
    with Sandbox(cells, blocked, record=record, cell_timeout=cell_timeout, unsafe=unsafe) as sandbox:
        if record:  # every cell runs (and is recorded) even if no function needs the sandbox
            try:
                sandbox.ensure_started(deadline)
            except BudgetExceeded:
                pass
        verdicts = {name: judge_function(sandbox, battery, name, deadline) for name in names}
    return (verdicts, sandbox.outputs) if record else verdicts


def judge_notebook(notebook_path, assignment, functions=None, blocked=()):
    """Judge a notebook file; returns {function: Verdict}."""
    return judge_cells(assignment, student_code_cells(notebook_path), functions, blocked)


def _as_json(verdicts):
    return {name: asdict(v) for name, v in verdicts.items()}


def judge_batch(request, out):
    """The grading pipeline's entry point: a request of protocol.judge_request; writes one
    protocol.result_line per notebook to `out` as soon as it is judged."""
    for item in request["notebooks"]:
        try:
            verdicts, outputs = judge_cells(item["assignment"], item["cells"], record=True,
                                            cell_timeout=request["cell_timeout"], unsafe=request["unsafe"])
            line = protocol.result_line(item["key"], _as_json(verdicts), outputs)
        except Exception as exc:  # noqa: BLE001 - one notebook must not stop the batch
            line = protocol.result_line(item["key"], error=f"{type(exc).__name__}: {exc}")
        out.write(line)
        out.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, nargs="?")
    parser.add_argument("--assignment")
    parser.add_argument("--function", action="append", help="judge only this function (repeatable)")
    parser.add_argument("--batch", action="store_true", help="read a batch request (JSON) on stdin and write "
                                                             "one JSON line per notebook (see protocol.py)")
    args = parser.parse_args(argv)
    if args.batch:
        judge_batch(json.load(sys.stdin), sys.stdout)
        return
    if not args.notebook or not args.assignment:
        parser.error("give NOTEBOOK and --assignment, or --batch")
    json.dump(_as_json(judge_notebook(args.notebook, args.assignment, args.function)), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
