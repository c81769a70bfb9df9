"""The sandbox process: runs a student's notebook code and probes it (untrusted side).

Started by the judge as `python -I -m autograder.sandbox CMD_FD REPLY_FD BLOCKED...`
with stdout/stderr sent to /dev/null, a scratch working directory and resource
limits. Before any student code runs it installs the audit hook of
autograder.audit (which cannot be removed), refusing: starting or signalling
processes, ctypes, network connections, importing or reading the instructor side
of the autograder (or any BLOCKED path), and writing files outside the scratch
directory.

Commands arrive as wire messages on CMD_FD; each gets one reply on REPLY_FD:
    {"op": "exec", "index": i, "source": "..."}   -> {"ok": bool, "error": str}
    {"op": "probe", "probe": name, "args": [...]} -> {"ok": bool, "result"| "error", "fp_warnings": [...]}
fp_warnings lists numpy's floating-point warnings ("overflow encountered in exp") raised
during the call, as a student would see them printed in the notebook.
"""

import os
import resource
import sys
import traceback
import warnings

import numpy as np

from autograder.sandbox import probes, wire
from autograder.sandbox.audit import PROCESS_EVENTS, install_audit_hook

MEMORY_LIMIT_BYTES = 3 * 1024 ** 3
FILE_SIZE_LIMIT_BYTES = 16 * 1024 ** 2
NUMPY_ERRSTATE = {"over": "warn", "invalid": "warn", "divide": "warn", "under": "ignore"}

FORBIDDEN_EVENTS = PROCESS_EVENTS | {
    "ctypes.cdata", "socket.connect", "socket.bind", "socket.sendto", "os.startfile",
    "sys._current_frames", "sys.setprofile", "sys.settrace", "os.setuid",
}


class Forbidden(PermissionError):
    """Raised by the audit hook; grading reports it as the student's error."""


def _limit_resources():
    for limit, value in ((resource.RLIMIT_AS, MEMORY_LIMIT_BYTES),
                         (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT_BYTES),
                         (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


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


def serve(cmd_fd, reply_fd, scratch, blocked):
    os.chdir(scratch)
    _limit_resources()
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    install_audit_hook("grading sandbox", [scratch], blocked, FORBIDDEN_EVENTS, Forbidden)
    while True:
        try:
            command = wire.read_message(cmd_fd)
        except EOFError:
            return
        if command.get("op") == "exec":
            reply = {"ok": True, "error": ""}
            try:
                code = compile(_strip_magics(command["source"]), f"<cell {command['index']}>", "exec")
                exec(code, namespace)
            except BaseException as exc:  # noqa: BLE001 - student code may raise anything, even SystemExit
                reply = {"ok": False, "error": _describe(exc)}
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
    serve(int(sys.argv[1]), int(sys.argv[2]), os.getcwd(), sys.argv[3:])
