"""Every graded function's public tests catch an argument modified in place.

The spec forbids in-place changes of arguments, and the hidden tests take the points for them; the
public tests must say so first. For each solution notebook and each k, every graded function (and
every method of a graded class) is wrapped to change its k-th mutable argument (an array entry, a
list's length, an array or number inside a dict) right after computing a correct result; then
every function whose public tests passed such an argument must fail them with an in-place
diagnosis that names the parameter. k runs until no call has a k-th mutable argument, so every
array/list/dict parameter the public tests pass is covered. Only the tests' own calls change
anything (not the calls one graded function makes to another, e.g. train_mlp to mlp_forward).
"""

import re
from pathlib import Path

import nbformat
import pytest

from autograder.instructor.batteries import ASSIGNMENTS
from autograder.selfcheck import FAILED, check_notebook

ROOT = Path(__file__).resolve().parents[1]

# Functions whose public tests pass no array, list or dict (floats and functions only): nothing to change.
SCALAR_ONLY = {"average_rate_of_change", "tangent_line", "gradient_descent_1d"}
# (function, parameter) that may change: the cache belongs to the student's own mlp_forward.
MAY_CHANGE = {("mlp_backward", "cache")}

MUTATOR = '''
import functools as _functools
import inspect as _inspect
import numpy as _np


def _mutate(value):
    """Change value in place if it can be; True if it was changed."""
    if isinstance(value, _np.ndarray):
        if value.size == 0 or not value.flags.writeable:
            return False
        if value.dtype == bool:
            value.flat[0] = not value.flat[0]
        else:
            value.flat[0] = value.flat[0] + 1
        return True
    if isinstance(value, list):
        if not value:
            return False
        value.append(value[-1])
        return True
    if isinstance(value, dict):
        for key, item in value.items():
            if _mutate(item):
                return True
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                value[key] = item + 1
                return True
        return False
    if isinstance(value, tuple):
        return any(_mutate(item) for item in value)
    return False


def _mutable(value):
    if isinstance(value, _np.ndarray):
        return value.size > 0 and value.flags.writeable
    if isinstance(value, (list, dict)):
        return bool(value)
    if isinstance(value, tuple):
        return any(_mutable(item) for item in value)
    return False


_depth = [0]


def _inplace_after(f, k, label):
    """f that changes its k-th mutable argument after the (correct) call, and logs which.
    Only calls made by the tests themselves change anything (not those made by another graded function)."""
    signature = _inspect.signature(f)

    @_functools.wraps(f)
    def wrapper(*args, **kwargs):
        _depth[0] += 1
        try:
            result = f(*args, **kwargs)
        finally:
            _depth[0] -= 1
        if _depth[0]:
            return result
        bound = signature.bind(*args, **kwargs)
        mutable = [(name, value) for name, value in bound.arguments.items() if _mutable(value)]
        if len(mutable) > k and _mutate(mutable[k][1]):
            with open("mutated.txt", "a") as log:
                log.write(f"{label}\\t{mutable[k][0]}\\n")
        return result
    return wrapper
'''


def _graded_names(nb):
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.metadata["nbgrader"]["grade_id"] != "setup"]


def _mutant_notebook(assignment, k, folder):
    """The solution notebook with every graded function changing its k-th mutable argument."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id")
        if meta.get("grade_id") == "setup":
            cell.source += "\n" + MUTATOR
        elif meta.get("solution"):
            if re.search(rf"^class\s+{name}\b", cell.source, re.MULTILINE):
                wraps = [f"{name}.{m} = _inplace_after({name}.{m}, {k}, '{name}')" for m in ("forward", "backward")]
            else:
                wraps = [f"{name} = _inplace_after({name}, {k}, '{name}')"]
            cell.source += "\n" + "\n".join(wraps) + "\n"
    path = folder / f"{assignment}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_public_test_catches_an_argument_changed_in_place(assignment, tmp_path):
    graded = _graded_names(nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4))
    covered = set()
    for k in range(10):
        folder = tmp_path / f"k{k}"
        folder.mkdir()
        statuses = {s.name: s for s in check_notebook(_mutant_notebook(assignment, k, folder), timeout=120)}
        log = folder / "mutated.txt"
        changed = {}
        for line in (log.read_text().splitlines() if log.exists() else []):
            function, parameter = line.split("\t")
            changed.setdefault(function, set()).add(parameter)
        if not changed:
            break
        for function, parameters in changed.items():
            if all((function, p) in MAY_CHANGE for p in parameters):
                continue
            status = statuses[function]
            assert status.status == FAILED, (
                f"{function}: the public tests pass although argument(s) {sorted(parameters)} were changed in "
                f"place (k = {k})")
            assert "in place" in status.detail, f"{function} (k = {k}): {status.detail}"
            assert any(re.search(rf"\b{re.escape(p)}\b", status.detail) for p in parameters), \
                f"{function} (k = {k}): the message should name one of {sorted(parameters)}: {status.detail}"
            covered.add(function)
    assert covered >= set(graded) - SCALAR_ONLY, f"never changed: {sorted(set(graded) - SCALAR_ONLY - covered)}"
