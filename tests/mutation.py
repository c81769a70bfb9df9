"""Helpers for mutation tests: judge a solution notebook with one function replaced."""

import re
from functools import lru_cache
from pathlib import Path

from autograder.instructor.judge import judge_cells
from autograder.notebook_code import student_code_cells

ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def solution_cells(assignment):
    """The student-code cells of the solution notebook (solution regions included)."""
    return tuple(student_code_cells(ROOT / "solutions" / assignment / f"{assignment}.ipynb"))


def replace_definition(cells, name, new_source):
    """cells with the cell that defines `name` (def or class) replaced by new_source."""
    pattern = re.compile(rf"^(def|class)\s+{re.escape(name)}\b", re.MULTILINE)
    matches = [i for i, src in enumerate(cells) if pattern.search(src)]
    assert len(matches) == 1, f"expected exactly one cell defining {name}, found {len(matches)}"
    out = list(cells)
    out[matches[0]] = new_source
    return out


def verdict_with(assignment, name, new_source, function=None):
    """The judge's verdict for `function` (default: name) when `name` is replaced by new_source."""
    cells = replace_definition(solution_cells(assignment), name, new_source)
    return judge_cells(assignment, cells, [function or name])[function or name]
