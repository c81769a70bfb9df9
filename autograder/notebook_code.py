"""nbgrader's cell conventions, in one place: which cells are tests, answers, and the student's code.

Shipped in the student bundle too (selfcheck reads test cells with it)."""

from pathlib import Path

import nbformat

HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"
TEST_PREFIX = "test_"  # a test cell's grade_id is test_<function>


def is_test_cell(cell):
    """An nbgrader grade cell that is not a solution: the instructor's (public and hidden) tests."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def grade_id(cell):
    """The nbgrader grade_id of a cell (NotebookNode or plain JSON dict), or None."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_answer_cell(cell):
    """An nbgrader solution cell (where the student writes)."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def tested_function(cell_or_grade_id):
    """The function a test cell tests (from its grade_id test_<function>), or None."""
    gid = cell_or_grade_id if isinstance(cell_or_grade_id, str) else grade_id(cell_or_grade_id)
    return (gid[len(TEST_PREFIX):] or None) if gid and gid.startswith(TEST_PREFIX) else None


def public_tests(cell):
    """A test cell's source without its hidden-test region: what a student's copy runs."""
    return cell.source.split(HIDDEN_MARKER)[0]


def points(cell):
    """The points nbgrader gives a grade cell (0 when it has none)."""
    return float(cell.get("metadata", {}).get("nbgrader", {}).get("points", 0))


def student_code_cells(notebook):
    """Sources of the code cells to load before probing functions, in order.

    notebook: a path or a NotebookNode. Test cells (nbgrader grade cells that are
    not solutions) and anything holding hidden tests are left out: the judge,
    not the notebook, decides what is tested.
    """
    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, Path)) else notebook
    return [cell.source for cell in nb.cells
            if cell.cell_type == "code" and not is_test_cell(cell) and HIDDEN_MARKER not in cell.source]


def notebook_code_cells(notebook):
    """[(source, is_test_cell)] for every code cell, in order, with hidden-test code cut out:
    what the grading sandbox executes (the index in this list is the code cell's ordinal)."""
    return [(public_tests(cell) if is_test_cell(cell) else cell.source, is_test_cell(cell))
            for cell in notebook.cells if cell.cell_type == "code"]
