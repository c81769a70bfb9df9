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


def define(name, args, body):
    """Source of `def name(args):` with body (lines) indented."""
    return f"def {name}({args}):\n" + "".join(f"    {line}\n" for line in body.splitlines())


def mutation_tests(assignment, mutants, correct):
    """The four tests every mutation module runs, for tables {function: [cell source, ...]}:
    every graded function is covered, each mutant is rejected, each correct variant is accepted,
    and the solution passes its whole battery in under 10 s."""
    import time

    import pytest

    from autograder.instructor.batteries import load_battery
    from autograder.instructor.judge import judge_notebook

    def params(table):
        return [pytest.param(name, src, id=f"{name}-{i}") for name, sources in table.items()
                for i, src in enumerate(sources)]

    def test_every_graded_function_has_mutants_and_a_correct_variant():
        assert set(load_battery(assignment).functions) == set(mutants) == set(correct)
        assert all(len(v) >= 3 for v in mutants.values())

    @pytest.mark.parametrize("name, source", params(mutants))
    def test_mutant_is_rejected(name, source):
        verdict = verdict_with(assignment, name, source)
        assert not verdict.passed, f"mutant accepted:\n{source}"
        assert name in verdict.message

    @pytest.mark.parametrize("name, source", params(correct))
    def test_correct_variant_is_accepted(name, source):
        verdict = verdict_with(assignment, name, source)
        assert verdict.passed, verdict.message

    def test_solution_passes_whole_battery_quickly():
        start = time.perf_counter()
        verdicts = judge_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb", assignment)
        elapsed = time.perf_counter() - start
        assert all(v.passed for v in verdicts.values()), {k: v.message for k, v in verdicts.items() if not v.passed}
        assert elapsed < 10, f"battery took {elapsed:.1f} s"

    return (test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
            test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly)


def diagnosis_test(assignment, table):
    """A test that each mutant's verdict says what is wrong: table rows are (function, cell source,
    words the message must hold, words it must not hold). The message is the judge's, as a student reads it."""
    import pytest

    @pytest.mark.parametrize("name, source, present, absent",
                             [pytest.param(*row, id=f"{row[0]}-{i}") for i, row in enumerate(table)])
    def test_diagnosis_names_the_mistake(name, source, present, absent):
        verdict = verdict_with(assignment, name, source)
        assert not verdict.passed, f"mutant accepted:\n{source}"
        for words in present:
            assert words in verdict.message, f"{words!r} missing from:\n{verdict.message}"
        for words in absent:
            assert words not in verdict.message, f"{words!r} should not be in:\n{verdict.message}"

    return test_diagnosis_names_the_mistake
