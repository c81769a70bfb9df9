"""The students' self-check, on the untouched release, the solutions and a planted bug."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
import pytest

from autograder.notebook_code import grade_id
from autograder.selfcheck import FAILED, NOT_IMPLEMENTED, PASSED, check, check_notebook

ROOT = Path(__file__).resolve().parents[1]
A = "ex01_differentiation"
RELEASE = ROOT / "exercises" / A / f"{A}.ipynb"
SOLUTION = ROOT / "solutions" / A / f"{A}.ipynb"


def _statuses(path):
    return {s.name: s for s in check_notebook(path, timeout=120)}


def _with_answers(tmp_path, answers, assignment=A):
    """The solution notebook with the answer cells named in `answers` ({grade_id: source}) replaced."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(nb, path)
    return path


RIGHT_D_POWER = "\ndef d_power(x, c):\n    return c * x ** (c - 1)\n"


def _setup():
    """The source of the release's set-up cell (imports)."""
    return next(c.source for c in nbformat.read(RELEASE, as_version=4).cells
                if grade_id(c) == "setup")


def test_release_is_all_not_implemented():
    statuses = _statuses(RELEASE)
    assert statuses and {s.status for s in statuses.values()} == {NOT_IMPLEMENTED}


def test_solution_passes_everything_and_exit_status_zero():
    proc = subprocess.run([sys.executable, "-m", "autograder", "check", str(SOLUTION)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAILED" not in proc.stdout and "not implemented" not in proc.stdout


def test_planted_bug_fails_with_diagnosis_and_nonzero_exit(tmp_path):
    path = _with_answers(tmp_path, {"d_power": "def d_power(x, c):\n    return -c * x ** (c - 1)\n"})
    statuses = _statuses(path)
    assert statuses["d_power"].status == FAILED
    assert "sign" in statuses["d_power"].detail  # the checker's diagnosis is shown
    assert all(s.status == PASSED for name, s in statuses.items() if name != "d_power")
    proc = subprocess.run([sys.executable, "-m", "autograder", "check", str(path)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 1 and "d_power" in proc.stdout and "FAILED" in proc.stdout


def test_in_notebook_check_runs_one_functions_public_tests(tmp_path, monkeypatch, capsys):
    shutil.copy(RELEASE, tmp_path / RELEASE.name)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(_setup() + RIGHT_D_POWER, namespace)
    assert check("d_power", namespace).status == PASSED
    exec("def d_power(x, c):\n    return c * x ** c\n", namespace)
    assert check("d_power", namespace).status == FAILED
    exec("def d_power(x, c):\n    raise NotImplementedError()\n", namespace)
    assert check("d_power", namespace).status == NOT_IMPLEMENTED
    assert "d_power" in capsys.readouterr().out
    with pytest.raises(LookupError):
        check("no_such_function", namespace)


def test_failures_carry_the_checkers_diagnosis(tmp_path):
    bugs = {  # grade_id: (wrong answer, words of the diagnosis)
        "mse_backward": ("def mse_backward(Y, Y_hat):\n    return -2 * (Y - Y_hat)\n", "1/N"),
        "affine_backward": ("def affine_backward(dZ, X, W):\n    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)\n",
                            "transpose"),
        "sigmoid_backward": ("def sigmoid_backward(dA, A):\n    return -dA * A * (1 - A)\n", "sign"),
    }
    path = _with_answers(tmp_path, {name: source for name, (source, _) in bugs.items()},
                         "ex04_expanded_jacobians")
    statuses = _statuses(path)
    for name, (_, words) in bugs.items():
        assert statuses[name].status == FAILED and words in statuses[name].detail, statuses[name].detail
    assert all(s.status == PASSED for name, s in statuses.items() if name not in bugs)


ISSUE_EXAMPLES = {  # assignment: {grade_id: (wrong answer the public tests used to pass or explain badly, words)}
    "ex03_jacobians": {
        "jacobian_softmax": ("def jacobian_softmax(l):\n    l -= l.max()\n    y = np.exp(l) / np.exp(l).sum()\n"
                             "    return np.diag(y) - np.outer(y, y)\n", ["modified its argument l in place"]),
        "chain_jacobians": ("def chain_jacobians(jacobians):\n    jacobians.reverse()\n    out = jacobians[0]\n"
                            "    for J in jacobians[1:]:\n        out = out @ J\n    return out\n",
                            ["modified its argument jacobians in place", "reversed"]),
    },
    "ex04_expanded_jacobians": {
        "sigmoid_backward": ("def sigmoid_backward(dA, A):\n    dA *= A * (1 - A)\n    return dA\n",
                             ["modified its argument dA in place"]),
        "softmax": ("def softmax(L):\n    E = np.exp(L - L.max())\n    return E / E.sum(axis=1, keepdims=True)\n",
                    ["AssertionError: softmax of logits +-1000", "max of each row", "axis=1, keepdims=True"]),
        "mse_loss": ("def mse_loss(Y, Y_hat):\n    return float(np.mean((Y - Y_hat) ** 2))\n", ["N*K = 2", "N = 1"]),
        "bias_backward": ("def bias_backward(dC):\n    return np.mean(dC, axis=0)\n",
                          ["N = 3", "a mean where the sum is needed"]),
    },
    "ex01_differentiation": {
        "sigmoid": ("def sigmoid(x):\n    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))\n",
                    ["AssertionError: sigmoid at x = +-1000", "np.where computes both branches", "np.tanh(x / 2)) / 2."]),
    },
}


@pytest.mark.parametrize("assignment", sorted(ISSUE_EXAMPLES))
def test_public_tests_name_in_place_changes_and_explain_overflow(tmp_path, assignment):
    """Issue 16: in-place changes used to pass the public tests (the hidden ones took the points), a global-max
    softmax showed a bare FloatingPointError, np.mean in mse_loss was blamed on a missing derivative 2."""
    bugs = ISSUE_EXAMPLES[assignment]
    path = _with_answers(tmp_path, {name: source for name, (source, _) in bugs.items()}, assignment)
    statuses = _statuses(path)
    for name, (_, words) in bugs.items():
        assert statuses[name].status == FAILED, f"{name} passed its public tests"
        for word in words:
            assert word in statuses[name].detail, f"{name}: {word!r} not in {statuses[name].detail}"
        assert "derivative" not in statuses[name].detail or name.endswith("backward")
    assert all(s.status == PASSED for name, s in statuses.items() if name not in bugs)


def test_check_as_a_cells_last_line_shows_its_status_once(tmp_path):
    """Issue 16: `check("x")` ending a cell printed its line and then showed its return value's repr."""
    shutil.copy(RELEASE, tmp_path / RELEASE.name)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(_setup() + RIGHT_D_POWER + "from autograder.selfcheck import check\n"
                                          "check('d_power')")]
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream"], outputs
    assert outputs[0].text.split() == ["d_power", PASSED]
