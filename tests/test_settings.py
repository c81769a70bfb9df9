"""The settings and the protocol between the grading processes agree with every place that uses them:
the budgets nest (an outer guard never fires before the inner budgets it contains), nbgrader's cell
timeout is the derived one, the course's assignments are the same wherever they are looked up, no
grading module hides a bare time-out, and a reply is read with a deadline by the wire module."""

import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder.instructor import course_config, protocol, settings
from autograder.instructor.batteries import ASSIGNMENTS, load_battery
from autograder.instructor.release import assignments_in
from autograder.sandbox import wire

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_CALL = re.compile(r"run_hidden_tests\(\s*['\"]([^'\"]+)['\"]")


def test_the_time_budgets_nest():
    assert settings.CASE_TIMEOUT <= settings.FUNCTION_BUDGET <= settings.NOTEBOOK_BUDGET
    assert settings.CELL_TIMEOUT <= settings.NOTEBOOK_BUDGET
    for notebooks in (1, 2, 40):
        assert settings.judge_timeout(notebooks) > notebooks * settings.NOTEBOOK_BUDGET + settings.SANDBOX_CHECK_TIMEOUT
    assert settings.EXECUTE_TIMEOUT > settings.judge_timeout(1) + settings.CELL_TIMEOUT - 1
    assert settings.CPU_LIMIT_SECONDS >= settings.NOTEBOOK_BUDGET


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_case_fits_its_function_budget(assignment):
    battery = load_battery(assignment)
    for function in battery.functions:
        assert all(case.timeout <= settings.FUNCTION_BUDGET for case in battery.iter_cases(function)), function


def test_nbgrader_cell_timeout_is_the_derived_one():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.Execute.timeout == settings.EXECUTE_TIMEOUT and isinstance(config.Execute.timeout, int)


def test_the_assignments_agree_everywhere():
    course = course_config.assignments(ROOT)  # nbgrader's source folders, through nbgrader_config.py
    assert course and course == ASSIGNMENTS == tuple(assignments_in(ROOT))
    release = course_config.load(ROOT).directory("release")
    for assignment in course:
        assert (release / assignment / f"{assignment}.ipynb").is_file()
        source = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
        named = {m for cell in source.cells for m in HIDDEN_CALL.findall(cell.source)}
        assert named == {assignment}, f"the hidden-test calls of {assignment} name {named}"
    readme = (ROOT / "README.md").read_text()
    assert all(f"`{assignment}`" in readme for assignment in course)


def test_a_course_with_another_source_directory(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()  # noqa: F821\n'
                                                 'c.CourseDirectory.source_directory = "src"\n')
    for name, notebook in (("ex01_differentiation", "ex01_differentiation"), ("notes", "other")):
        (tmp_path / "src" / name).mkdir(parents=True)
        (tmp_path / "src" / name / f"{notebook}.ipynb").write_text("{}")
    assert course_config.assignments(tmp_path) == ("ex01_differentiation",)


BARE_TIME = re.compile(r"(timeout=|timeout\s*=\s*|sleep\()\s*\d|killpg\([^)]*,\s*9\)")


def test_no_bare_time_outs_in_the_grading_modules():
    """The grading modules name their time-outs (settings.py, or a constant beside its only use) and
    kill with signal.SIGKILL; a hidden battery may give one case a time-out of its own (checked above)."""
    offenders = []
    for path in sorted((ROOT / "autograder").rglob("*.py")):
        if path.name == "settings.py" or "batteries" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if BARE_TIME.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_job_course_names_every_folder(tmp_path):
    overrides = protocol.job_config_overrides(tmp_path)
    for kind in protocol.JOB_FOLDERS:
        assert f"c.CourseDirectory.{kind}_directory = {kind!r}" in overrides
    assert protocol.job_db_url(tmp_path) in overrides and str(tmp_path / protocol.RECORDINGS) in overrides
    protocol.write_grades(tmp_path, [{"student": "s", "assignment": "a"}])
    assert protocol.read_grades(tmp_path) == [{"student": "s", "assignment": "a"}]


def test_judge_batch_lines_round_trip():
    lines = [protocol.result_line("s/a", {"f": {"passed": True}}, {"0": []}), "noise\n",
             protocol.result_line("t/a", error="boom")]
    results = protocol.read_results("".join(lines).splitlines())
    assert results == {"s/a": {"key": "s/a", "verdicts": {"f": {"passed": True}}, "outputs": {"0": []}},
                       "t/a": {"key": "t/a", "error": "boom"}}


def test_a_reply_is_read_with_a_deadline():
    read_end, write_end = os.pipe()
    try:
        wire.write_message(write_end, {"ok": True})
        assert wire.read_message(read_end, time.monotonic() + 5) == {"ok": True}
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            wire.read_message(read_end, time.monotonic() + 0.2)
        assert time.monotonic() - start < 2
        os.write(write_end, wire.HEADER.pack(wire.MAX_MESSAGE_BYTES + 1))
        with pytest.raises(wire.MessageTooLarge):
            wire.read_message(read_end, time.monotonic() + 5)
    finally:
        os.close(read_end)
        os.close(write_end)
