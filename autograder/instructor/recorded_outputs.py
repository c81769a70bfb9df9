"""The outputs a notebook produced in the grading sandbox, put back into it for nbgrader.

The sandbox executes each submission once (autograder.instructor.judge, record
mode); nbgrader's `autograde` then runs with its Execute preprocessor replaced by
RecordedOutputs, which fills every code cell with those outputs and puts the
hidden-test verdict under each test cell, so nbgrader's own bookkeeping
(SaveAutoGrades, LimitOutput), the feedback and formgrader work as usual while
no kernel ever runs student code.

What the sandbox reports is untrusted data: `validated_outputs` keeps only
well-formed stream, execute_result, display_data and error outputs, with only
text/plain and PNG data (no HTML, no JavaScript), within size limits.

The recording of a submission, written by the grading job (never by the sandbox), at
protocol.recording_path(RECORDINGS, student, assignment), RECORDINGS/<student>/<assignment>.json:
    {"outputs": {"<code cell ordinal>": [output, ...]}, "verdicts": {function: {...}}, "notes": [str]}
"""

from __future__ import annotations

import base64
import binascii
import html
import json

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from autograder.instructor.protocol import recording_path
from autograder.notebook_code import is_test_cell, tested_function

TEXT_LIMIT = 100_000  # characters of text per output
IMAGE_LIMIT = 2 * 1024 ** 2  # bytes of one PNG
OUTPUTS_PER_CELL = 50
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOT_SHOWN = "[grading: an output of this cell could not be shown]\n"


def _text(value, limit=TEXT_LIMIT):
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = "".join(value)
    return value[:limit] if isinstance(value, str) else None


def _png(value):
    if not isinstance(value, str) or len(value) > IMAGE_LIMIT * 4 // 3 + 4:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return value if raw.startswith(PNG_MAGIC) else None


def _validated(output):
    """An nbformat output built from untrusted data, or None."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        text = _text(output.get("text"))
        if output.get("name") in ("stdout", "stderr") and text is not None:
            return nbformat.v4.new_output("stream", name=output["name"], text=text)
    elif kind in ("execute_result", "display_data"):
        data = output.get("data") if isinstance(output.get("data"), dict) else {}
        clean = {}
        if _text(data.get("text/plain")) is not None:
            clean["text/plain"] = _text(data["text/plain"])
        if _png(data.get("image/png")) is not None:
            clean["image/png"] = data["image/png"]
        if clean:
            extra = {"execution_count": None} if kind == "execute_result" else {}
            return nbformat.v4.new_output(kind, data=clean, **extra)
    elif kind == "error":
        ename, evalue = _text(output.get("ename"), 200), _text(output.get("evalue"), 2000)
        tb = output.get("traceback")
        if ename is not None and evalue is not None and isinstance(tb, list) and all(isinstance(t, str) for t in tb):
            return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                          traceback=[_text("".join(tb), 20_000)])
    return None


def validated_outputs(raw):
    """nbformat outputs from what the sandbox reported for one cell (anything malformed is dropped)."""
    if not isinstance(raw, list):
        return [nbformat.v4.new_output("stream", name="stdout", text=NOT_SHOWN)]
    outputs = [_validated(o) for o in raw[:OUTPUTS_PER_CELL]]
    if any(o is None for o in outputs):
        outputs = [o for o in outputs if o is not None]
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=NOT_SHOWN))
    return outputs


def verdict_output(verdict):
    """The hidden-test verdict under a test cell: a line if it passed, an error (0 points for nbgrader) if not."""
    if verdict is None:
        message = "no hidden-test verdict (the grader could not run this function)"
        return nbformat.v4.new_output("error", ename="HiddenTestsFailed", evalue=message,
                                      traceback=[f"Hidden tests FAILED: {message}"])
    if verdict["passed"]:
        return nbformat.v4.new_output("stream", name="stdout", text=f"Hidden tests PASSED: {verdict['message']}\n")
    return nbformat.v4.new_output("error", ename="HiddenTestsFailed", evalue=verdict["message"],
                                  traceback=[f"Hidden tests FAILED: {verdict['message']}"])


def notes_cell(notes):
    """The grading notes shown on top of the notebook (escaped: they quote the student's file)."""
    text = "**Grading notes**\n\n" + "\n".join(f"- {html.escape(note)}" for note in notes)
    return nbformat.v4.new_markdown_cell(text)


def fill(nb, recording):
    """Put a recording (see module docstring) into the notebook's code cells, in place."""
    outputs = recording.get("outputs", {})
    verdicts = recording.get("verdicts", {})
    count = 0
    for ordinal, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        raw = outputs.get(str(ordinal))
        cell.outputs = (validated_outputs(raw) if raw is not None else
                        [nbformat.v4.new_output("stream", name="stdout",
                                                text="[grading: this cell was not executed (time ran out)]\n")])
        count += 1
        cell.execution_count = count
        if is_test_cell(cell):
            cell.outputs.append(verdict_output(verdicts.get(tested_function(cell))))
    if recording.get("notes"):
        nb.cells.insert(0, notes_cell(recording["notes"]))
    return nb


class RecordedOutputs(NbGraderPreprocessor):
    """nbgrader's Execute, replaced: the outputs come from the grading sandbox's recording."""

    directory = Unicode("", help="the folder of recordings, <student>/<assignment>.json").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with open(recording_path(self.directory, info["student"], info["assignment"]), encoding="utf-8") as file:
            fill(nb, json.load(file))
        return nb, resources
