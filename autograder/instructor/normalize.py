"""Repair a submitted notebook's structure against the released template.

nbgrader sends some submissions to manual grading or rejects them: grade cells
deleted, answer cells duplicated (the same grade_id twice), a test cell turned
into Markdown. Here every submission is rebuilt on the template's cell list:
template cells keep their place and nbgrader metadata, each answer cell takes
the student's code (the last copy of its grade_id, as nbgrader would), and
cells the student added are kept after the template cell they followed. An
answer cell the student deleted comes back empty, not as the stub: a function
rewritten in a new cell of the student's still counts. Cells the student added
are kept only if they are code (their Markdown never reaches the feedback), and a
Markdown answer is made inert (no live HTML).
"""

import copy
import html
import re

import nbformat

from autograder.notebook_code import grade_id, is_answer_cell, is_test_cell

DELETED_ANSWER = "# (this answer cell had been deleted; the code in the other cells was graded)\n"


def inert_markdown(text):
    """A student's Markdown answer with no live HTML: tags shown as text, script URLs defused."""
    return SCRIPT_URL.sub(lambda m: m.group(0).replace(":", "&#58;"), html.escape(str(text), quote=False))


SCRIPT_URL = re.compile(r"(?i)\b(?:java|vb)\s*script\s*:|\bdata\s*:")


def normalize_submission(submitted, template):
    """Returns (notebook, repairs): the rebuilt notebook and a list of what was repaired."""
    repairs = []
    template_ids = {grade_id(c): c for c in template.cells if grade_id(c)}
    template_sources = {c.source for c in template.cells}

    answers, seen, extras, anchor = {}, {}, {}, None
    for cell in submitted.cells:
        gid = grade_id(cell)
        if gid in template_ids:
            seen[gid] = seen.get(gid, 0) + 1
            if is_answer_cell(template_ids[gid]):
                answers[gid] = cell.source  # the last copy wins
            elif cell.cell_type != template_ids[gid].cell_type:
                repairs.append(f"cell {gid} had been turned into {cell.cell_type}: restored as {template_ids[gid].cell_type}")
            anchor = gid
        elif cell.cell_type == "code" and cell.source.strip() and cell.source not in template_sources:
            extras.setdefault(anchor, []).append(cell.source)

    for gid, count in seen.items():
        if count > 1:
            repairs.append(f"cell {gid} appeared {count} times: the last copy was graded")
    for gid, cell in template_ids.items():
        if gid not in seen:
            if is_answer_cell(cell):
                answers[gid] = DELETED_ANSWER
                repairs.append(f"answer cell {gid} had been deleted: restored empty (code in your other cells "
                               "still counts)")
            else:
                repairs.append(f"{'test' if is_test_cell(cell) else 'read-only'} cell {gid} had been deleted: restored")

    out = copy.deepcopy(template)
    out.cells = [nbformat.v4.new_code_cell(src) for src in extras.get(None, [])]
    for cell in copy.deepcopy(template.cells):
        gid = grade_id(cell)
        if gid in answers:
            cell.source = answers[gid] if cell.cell_type == "code" else inert_markdown(answers[gid])
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        out.cells.append(cell)
        if gid:
            out.cells.extend(nbformat.v4.new_code_cell(src) for src in extras.get(gid, []))
    return out, repairs
