"""The judge and its sandbox, directly: what student code can and cannot do while graded."""

import json
import time

import nbformat
import numpy as np
import pytest

from autograder.notebook_code import is_test_cell
from autograder.sandbox import wire
from autograder.instructor import judge
from autograder.instructor.judge import judge_cells
from autograder.instructor.normalize import DELETED_ANSWER, normalize_submission

A = "ex01_differentiation"
GOOD = "def d_power(x, c):\n    return c * x ** (c - 1)\n"
GOOD_RATE = ("def average_rate_of_change(f, a, b):\n    if a == b:\n        raise ValueError\n"
             "    return (f(b) - f(a)) / (b - a)\n")


def verdict(*cells, function="d_power", unsafe=False):
    return judge_cells(A, ["import numpy as np", *cells], [function], unsafe=unsafe)[function]


def test_correct_code_passes():
    assert verdict(GOOD).passed


@pytest.mark.parametrize("source, words", [
    ("from autograder.instructor.reference.ex01_differentiation import d_power", "NameError"),
    ("import autograder.instructor.judge\n" + GOOD, "NameError"),
    ("open(__import__('autograder').__file__.replace('__init__.py', 'instructor/reference/ex01_differentiation.py')).read()\n" + GOOD,
     "NameError"),
    ("import subprocess\nsubprocess.run(['true'])\n" + GOOD, "NameError"),
    ("open('/usr/autograder-should-not-exist.txt', 'w').write('x')\n" + GOOD, "NameError"),
    ("import ctypes\nctypes.CDLL(None)\n" + GOOD, "NameError"),
])
def test_forbidden_actions_at_load_time_leave_the_function_undefined(source, words):
    result = verdict(source)
    assert not result.passed and words in result.message


def test_forbidden_actions_inside_the_function_fail_it():
    source = ("import os, signal\ndef d_power(x, c):\n    os.kill(os.getpid(), signal.SIGKILL)\n")
    result = verdict(source)
    assert not result.passed and "not allowed" in result.message


@pytest.mark.parametrize("body, words", [
    ("    while True:\n        pass\n", "timed out"),
    ("    import os\n    os._exit(3)\n", "ended the grading process"),
    ("    import sys\n    sys.exit(0)\n", "SystemExit"),
    ("    raise NotImplementedError()\n", "not implemented"),
])
def test_misbehaving_function_fails_alone(body, words):
    results = judge_cells(A, ["import numpy as np", "def d_power(x, c):\n" + body, GOOD_RATE],
                          ["d_power", "average_rate_of_change"])
    assert not results["d_power"].passed and words in results["d_power"].message
    assert results["average_rate_of_change"].passed  # the next function is graded in a fresh sandbox


@pytest.mark.parametrize("attack", [
    "open('mine.txt', 'w').write('x')\nos.replace('mine.txt', {victim!r})",  # rename over a file outside
    "shutil.copyfile(__file__ if '__file__' in globals() else '/etc/hostname', {victim!r})",
    "os.symlink('/etc/hostname', 'link')\nshutil.move('link', {victim!r})",
    "os.remove({victim!r})",
    "import sqlite3\nsqlite3.connect({victim!r}).execute('create table t (a)')",  # sqlite opens files in C
    "os.link({reference!r}, 'stolen.py')\nprint(open('stolen.py').read())",  # a hard link to a blocked file
])
@pytest.mark.parametrize("unsafe", [False, True], ids=["bubblewrap", "audit-hook-only"])
def test_sandbox_cannot_touch_files_outside_its_scratch_directory(tmp_path, attack, unsafe):
    """Under bubblewrap the files are not there at all; the audit hook (the second layer, and the only
    one under --unsafe-no-sandbox) refuses them by name."""
    import autograder.instructor.reference.ex01_differentiation as reference
    victim = tmp_path / "victim.txt"
    victim.write_text("intact")
    source = ("import os, shutil\ndef d_power(x, c):\n"
              + "".join(f"    {line}\n" for line in attack.format(victim=str(victim), reference=reference.__file__)
                        .splitlines())
              + "    return c * x ** (c - 1)\n")
    result = verdict(source, unsafe=unsafe)
    assert not result.passed and (not unsafe or "not allowed" in result.message)
    assert victim.read_bytes() == b"intact"


def test_slow_function_is_stopped_by_its_time_budget(monkeypatch):
    monkeypatch.setattr(judge, "FUNCTION_BUDGET", 3.0)
    start = time.monotonic()
    results = judge_cells(A, ["import numpy as np, time", "def d_power(x, c):\n    time.sleep(0.5)\n"
                              "    return c * x ** (c - 1)\n", GOOD_RATE], ["d_power", "average_rate_of_change"])
    assert time.monotonic() - start < 3.0 + 10  # the budget, plus starting the sandbox and the next function
    assert not results["d_power"].passed and "out of grading time" in results["d_power"].message
    assert results["average_rate_of_change"].passed


def test_notebook_budget_bounds_the_whole_battery(monkeypatch):
    monkeypatch.setattr(judge, "NOTEBOOK_BUDGET", 4.0)
    slow_cell = "import time\ntime.sleep(1.5)\n"  # every restart of the sandbox replays it
    crash = "def average_rate_of_change(f, a, b):\n    import os\n    os._exit(1)\n"
    start = time.monotonic()
    results = judge_cells(A, ["import numpy as np", slow_cell, GOOD, crash, slow_cell])
    assert time.monotonic() - start < 4.0 + 10
    first, *later = results  # the battery's order: the crash costs a restart, which runs out of time
    assert "ended the grading process" in results[first].message
    assert all(not results[name].passed and "out of grading time" in results[name].message for name in later)


def test_hanging_cell_is_skipped_and_later_cells_still_load():
    result = verdict("while True:\n    pass\n", GOOD)
    assert result.passed


def test_in_place_modification_is_caught():
    result = verdict("def d_power(x, c):\n    x *= 0\n    x += c * (x + 1) ** (c - 1)\n    return x\n")
    assert not result.passed


def test_printing_is_harmless():
    assert verdict("def d_power(x, c):\n    print('x' * 10_000_000)\n    return c * x ** (c - 1)\n").passed


def test_wire_round_trip_and_refuses_objects():
    value = {"a": (np.arange(6.0).reshape(2, 3), 1, 2.5, None, True), "b": [np.int64(3), "s"]}
    back = wire.loads(wire.dumps(value))
    np.testing.assert_array_equal(back["a"][0], value["a"][0])
    assert back["a"][1:] == (1, 2.5, None, True) and back["b"] == [3, "s"]
    with pytest.raises(wire.WireError):
        wire.dumps(object())
    with pytest.raises(wire.WireError):
        wire.dumps(np.array([object()]))
    with pytest.raises((wire.WireError, ValueError, KeyError)):
        wire.loads(json.dumps({"__array__": "AAAA", "dtype": "object", "shape": [1]}).encode())


def _nb(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def _cell(source, grade_id=None, **flags):
    meta = {"nbgrader": {"grade_id": grade_id, "grade": flags.get("grade", False),
                         "solution": flags.get("solution", False), "locked": flags.get("locked", False),
                         "schema_version": 3}} if grade_id else {}
    return nbformat.v4.new_code_cell(source, metadata=meta)


def test_normalize_repairs_structure():
    template = _nb(_cell("import numpy as np", "setup", locked=True),
                   _cell("def f():\n    raise NotImplementedError()", "f", solution=True),
                   _cell("assert f() == 1", "test_f", grade=True, locked=True))
    md = nbformat.v4.new_markdown_cell("assert f() == 1", metadata=template.cells[2].metadata)
    submitted = _nb(template.cells[0], _cell("def f():\n    return 0", "f", solution=True),
                    _cell("helper = 1"), _cell("def f():\n    return 1", "f", solution=True), md)
    fixed, repairs = normalize_submission(submitted, template)
    sources = [c.source for c in fixed.cells]
    assert sources == ["import numpy as np", "def f():\n    return 1", "helper = 1", "assert f() == 1"]
    assert fixed.cells[3].cell_type == "code"
    assert any("appeared 2 times" in r for r in repairs) and any("markdown" in r for r in repairs)
    deleted, repairs = normalize_submission(_nb(template.cells[0]), template)
    assert [c.source for c in deleted.cells] == ["import numpy as np", DELETED_ANSWER, "assert f() == 1"]
    assert any("answer cell f had been deleted" in r for r in repairs)
    assert any("test cell test_f had been deleted" in r for r in repairs)


def test_function_rewritten_in_a_new_cell_still_counts():
    """The student deleted the answer cell (or its metadata) and wrote the function in a cell of their own."""
    template = _nb(_cell("import numpy as np", "setup", locked=True),
                   _cell("def d_power(x, c):\n    raise NotImplementedError()", "d_power", solution=True),
                   _cell("assert True", "test_d_power", grade=True, locked=True))
    submitted = _nb(template.cells[0], _cell(GOOD), template.cells[2])
    fixed, _ = normalize_submission(submitted, template)
    assert judge_cells(A, [c.source for c in fixed.cells if not is_test_cell(c)],
                       ["d_power"])["d_power"].passed


def test_markdown_answers_and_added_cells_carry_no_live_html():
    answer_meta = {"nbgrader": {"grade_id": "why", "grade": True, "solution": True, "points": 1, "schema_version": 3}}
    template = _nb(_cell("import numpy as np", "setup", locked=True),
                   nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", metadata=answer_meta))
    payload = "<script>alert(1)</script> <img src=x onerror=alert(1)> [link](javascript:alert(1))"
    submitted = _nb(template.cells[0], nbformat.v4.new_markdown_cell(payload, metadata=answer_meta),
                    nbformat.v4.new_markdown_cell("<script>alert(2)</script>"))
    fixed, _ = normalize_submission(submitted, template)
    text = "".join(c.source for c in fixed.cells)
    assert "<script" not in text and "<img" not in text and "javascript:" not in text
    assert "&lt;script&gt;alert(1)" in text and "alert(2)" not in text  # an added Markdown cell is dropped
