"""Self-check for students: run an exercise notebook's public tests and say what to fix.

From a terminal (fresh kernel, the notebook as saved):

    python -m autograder check exercises/ex04_expanded_jacobians/ex04_expanded_jacobians.ipynb

prints one line per graded function (passed / FAILED with the diagnosis / not
implemented yet) and exits with status 0 only when every public test passes.
Inside the notebook, right after writing a function:

    from autograder.selfcheck import check
    check("affine_backward")

runs that function's public tests in the notebook's own namespace. Only the
public tests and the gradient checker are used: no hidden tests, no answers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.notebook_code import is_test_cell, public_tests, tested_function

PASSED, FAILED, NOT_IMPLEMENTED = "passed", "FAILED", "not implemented yet"
CELL_TIMEOUT = 60  # seconds one cell of the notebook may run in the self-check's kernel (`check --timeout`)
DETAIL_LIMIT = 1000  # characters of a failure shown: a diagnosis and its hint fit (an overflow hint is ~450)


@dataclass
class FunctionStatus:
    name: str
    status: str
    detail: str = ""

    def line(self):
        return f"{self.name:28s} {self.status}" + (f": {self.detail}" if self.detail else "")

    def __repr__(self):
        return f"<{self.name}: {self.status}>"

    def _ipython_display_(self):
        """Shown as a cell's result: nothing, since check() printed the line already."""


def _test_cells(nb):
    """(function, cell) for every test cell of a graded function (grade_id test_<function>)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and is_test_cell(cell) and tested_function(cell):
            yield tested_function(cell), cell


def _status_from_outputs(name, outputs):
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        return FunctionStatus(name, PASSED)
    error = errors[0]
    if error.get("ename") == "NotImplementedError":
        return FunctionStatus(name, NOT_IMPLEMENTED)
    detail = f"{error.get('ename')}: {error.get('evalue')}".strip()
    return FunctionStatus(name, FAILED, " ".join(detail.split())[:DETAIL_LIMIT])


def check_notebook(path, timeout=CELL_TIMEOUT):
    """Execute the notebook in a fresh kernel (in its folder); returns a FunctionStatus per graded function."""
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    for _, cell in _test_cells(nb):  # only public tests, even on an instructor's copy
        cell.source = public_tests(cell)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                   extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no kernel start-up warnings on screen
                   resources={"metadata": {"path": str(path.parent.resolve())}}).execute()
    return [_status_from_outputs(name, cell.get("outputs", [])) for name, cell in _test_cells(nb)]


def main(notebook, timeout=CELL_TIMEOUT):
    path = Path(notebook)
    if not path.exists():
        print(f"no such notebook: {path}", file=sys.stderr)
        return 2
    statuses = check_notebook(path, timeout)
    print(f"Self-check of {path.name} (public tests only):")
    for status in statuses:
        print("  " + status.line())
    passed = sum(s.status == PASSED for s in statuses)
    print(f"{passed}/{len(statuses)} functions pass their public tests.")
    return 0 if statuses and passed == len(statuses) else 1


def _find_test_source(name, folder):
    for candidate in sorted(Path(folder).glob("*.ipynb")):
        try:
            nb = nbformat.read(candidate, as_version=4)
        except Exception:  # noqa: BLE001 - skip unreadable files
            continue
        for test_name, cell in _test_cells(nb):
            if test_name == name:
                return public_tests(cell)
    raise LookupError(f"no public tests for {name!r} in the notebooks of {Path(folder).resolve()} "
                      "(save the notebook first?)")


def check(name, namespace=None):
    """Run the public tests of `name` in the notebook's namespace; prints its line and returns its
    FunctionStatus (which, as a cell's last line, adds no second copy of the line)."""
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    source = _find_test_source(name, Path.cwd())
    try:
        exec(compile(source, f"<public tests for {name}>", "exec"), namespace)
        status = FunctionStatus(name, PASSED)
    except NotImplementedError:
        status = FunctionStatus(name, NOT_IMPLEMENTED)
    except Exception as exc:  # noqa: BLE001 - report any failure with its message
        status = FunctionStatus(name, FAILED, f"{type(exc).__name__}: {exc}")
    print(status.line())
    return status
