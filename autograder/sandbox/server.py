"""The sandbox process: executes a student's notebook cells and probes its functions (untrusted side).

Started by the judge, inside bubblewrap (autograder.instructor.isolation), as
`python -s -P -m autograder.sandbox.server CMD_FD REPLY_FD SCRATCH [BLOCKED...]` with
stdout/stderr sent to /dev/null (SCRATCH: the writable working directory; BLOCKED: paths
the audit hook refuses, which matters only under --unsafe-no-sandbox). Before any student code runs it installs
the audit hook of autograder.sandbox.audit, a second layer that turns what the OS
boundary refuses anyway into clear messages.

Commands arrive as wire messages on CMD_FD; each gets one reply on REPLY_FD:
    {"op": "exec", "index": i, "source": "...", "record": bool}
        -> {"ok": bool, "error": str, "outputs": [...]}
    {"op": "probe", "probe": name, "args": [...]}
        -> {"ok": bool, "result"| "error", "error_type", "fp_warnings": [...]}
With "record", the cell's outputs come back as nbformat-v4 output dicts, as a
kernel would show them: stdout/stderr streams, the value of a last expression
(text/plain), matplotlib figures (image/png) and the error with its traceback.
fp_warnings lists numpy's floating-point warnings ("overflow encountered in exp")
raised during a probe, as a student would see them printed in the notebook.
"""

import ast
import base64
import io
import linecache
import os
import sys
import tempfile
import traceback
import warnings

import numpy as np

from autograder.sandbox import probes, wire
from autograder.sandbox.audit import PROCESS_EVENTS, install_audit_hook

NUMPY_ERRSTATE = {"over": "warn", "invalid": "warn", "divide": "warn", "under": "ignore"}
OUTPUT_TEXT_LIMIT = 100_000  # characters of text a cell may print (the rest is dropped with a notice)
FIGURES_PER_CELL = 5

FORBIDDEN_EVENTS = PROCESS_EVENTS | {
    "ctypes.cdata", "socket.connect", "socket.bind", "socket.sendto", "os.startfile",
    "sys._current_frames", "sys.setprofile", "sys.settrace", "os.setuid",
}


class Forbidden(PermissionError):
    """Raised by the audit hook; grading reports it as the student's error."""


def _strip_magics(source):
    """IPython magics and shell escapes (%, !) are not Python: replace them by `pass`."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        lines.append(indent + "pass" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def _floating_point_warnings(caught, limit=3):
    """The distinct messages of numpy's floating-point RuntimeWarnings among `caught`."""
    messages = []
    for record in caught:
        text = str(record.message)
        if issubclass(record.category, RuntimeWarning) and "encountered" in text and text not in messages:
            messages.append(text)
    return messages[:limit]


def _describe(exc):
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]


class CellOutputs:
    """Collects one cell's outputs as a kernel would send them (streams merged, text capped)."""

    def __init__(self):
        self.outputs, self.chars = [], 0

    def stream(self, name):
        outputs = self

        class Stream(io.TextIOBase):
            def write(self, text):
                outputs.add_text(name, str(text))
                return len(text)
        return Stream()

    def add_text(self, name, text):
        room = OUTPUT_TEXT_LIMIT - self.chars
        if room <= 0:
            return
        if len(text) > room:
            text = text[:room] + f"\n[grading: output beyond {OUTPUT_TEXT_LIMIT} characters was dropped]\n"
        self.chars += len(text)
        last = self.outputs[-1] if self.outputs else None
        if last and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def result(self, value, count):
        self.outputs.append({"output_type": "execute_result", "execution_count": count, "metadata": {},
                             "data": {"text/plain": repr(value)[:10_000]}})

    def figures(self):
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return
        for number in pyplot.get_fignums()[:FIGURES_PER_CELL]:
            figure = pyplot.figure(number)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", bbox_inches="tight")
            self.outputs.append({"output_type": "display_data", "metadata": {},
                                 "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                                          "text/plain": repr(figure)}})
        pyplot.close("all")

    def error(self, exc):
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_HERE)]
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
        lines += traceback.format_exception_only(type(exc), exc)
        self.outputs.append({"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc)[:2000],
                             "traceback": ["".join(lines)[:10_000]]})


_HERE = os.path.dirname(os.path.abspath(__file__))


def execute_cell(source, index, namespace, count, record):
    """Run one cell in the namespace; returns (ok, error, outputs) (outputs only if record)."""
    filename = f"<cell {index + 1}>"
    code = _strip_magics(source)
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    captured = CellOutputs()
    saved = sys.stdout, sys.stderr
    if record:
        sys.stdout, sys.stderr = captured.stream("stdout"), captured.stream("stderr")
    ok, error = True, ""
    try:
        tree = ast.parse(code, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
            if value is not None and record and not code.rstrip().endswith(";"):
                captured.result(value, count)
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything, even SystemExit
        ok, error = False, _describe(exc)
        if record:
            captured.error(exc)
    finally:
        sys.stdout, sys.stderr = saved
    if record:
        try:
            captured.figures()
        except Exception as exc:  # noqa: BLE001 - a figure that cannot be drawn is the cell's error
            captured.error(exc)
    return ok, error, captured.outputs


def serve(cmd_fd, reply_fd, scratch, blocked=()):
    os.chdir(scratch)
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    install_audit_hook("grading sandbox", [scratch, tempfile.gettempdir()], blocked, FORBIDDEN_EVENTS, Forbidden)
    warnings.filterwarnings("ignore", message=".*non-interactive.*")  # plt.show() under Agg
    count = 0
    while True:
        try:
            command = wire.read_message(cmd_fd)
        except EOFError:
            return
        if command.get("op") == "exec":
            count += 1
            ok, error, outputs = execute_cell(command["source"], command["index"], namespace, count,
                                              bool(command.get("record")))
            reply = {"ok": ok, "error": error, "outputs": outputs}
        else:
            # numpy's default error state for every call (a global np.seterr in the notebook does not hide
            # warnings, just as the public tests' np.errstate overrides it); the function's own errstate wins
            with warnings.catch_warnings(record=True) as caught, np.errstate(**NUMPY_ERRSTATE):
                warnings.simplefilter("always")
                try:
                    result = probes.PROBES[command["probe"]](namespace, *command["args"])
                    wire.encode(result)  # fail here, not in write_message, if it cannot cross
                    reply = {"ok": True, "result": result}
                except BaseException as exc:  # noqa: BLE001
                    reply = {"ok": False, "error": _describe(exc), "error_type": type(exc).__name__}
            reply["fp_warnings"] = _floating_point_warnings(caught)
        try:
            wire.write_message(reply_fd, reply)
        except wire.WireError as exc:
            wire.write_message(reply_fd, {"ok": False, "error": str(exc), "error_type": "WireError"})


if __name__ == "__main__":
    np.seterr(**NUMPY_ERRSTATE)
    serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:])
