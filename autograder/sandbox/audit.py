"""The audit hook that fences untrusted notebook code in (shared by the judge's sandbox and
the grading kernel).

Once installed it cannot be removed. It refuses the given events (starting or
signalling processes, ctypes, ...), importing the instructor side of the
autograder, reading blocked paths (a writable directory inside a blocked one stays
readable), and writing, deleting or renaming anything
outside the writable directories (both ends of a rename, move or hard link;
the destination of a copy or symlink, whose source is read through `open`), and
SQLite databases (which sqlite opens in C, past `open`) outside them.
"""

import os
import sys
from urllib.parse import urlparse

PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "os.kill", "os.killpg", "signal.pthread_kill", "ctypes.dlopen", "ctypes.dlsym",
                  "pty.spawn", "os.chroot"}
PATH_WRITE_EVENTS = {"os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate", "os.utime",
                     "shutil.rmtree"}
MOVE_EVENTS = {"os.rename", "os.link", "shutil.move"}  # args (src, dst, ...): both ends are written
COPY_EVENTS = {"os.symlink", "shutil.copyfile"}  # args (src, dst, ...): only dst is written


def install_audit_hook(who, writable_dirs, blocked, forbidden_events, error=PermissionError):
    """Refuse, in this process, what untrusted code must not do. `who` names the process in messages."""
    allowed = [os.path.realpath(d) + os.sep for d in writable_dirs]
    blocked = [os.path.realpath(p) for p in blocked]

    def writable(path):
        real = os.path.realpath(path)
        return real == "/dev/null" or any((real + os.sep).startswith(a) for a in allowed)

    def is_blocked(path):
        real = os.path.realpath(path)
        return any(real == b or real.startswith(b + os.sep) for b in blocked) and not writable(real)

    def written_paths(event, args):
        chosen = (args[:1] if event in PATH_WRITE_EVENTS else args[:2] if event in MOVE_EVENTS
                  else args[1:2] if event in COPY_EVENTS else ())
        return [os.fsdecode(a) for a in chosen if isinstance(a, (str, bytes, os.PathLike))]

    def sqlite_path(database):
        """The file a sqlite3.connect opens (plain path or file: URI), or None for an in-memory database."""
        name = os.fsdecode(database) if isinstance(database, (str, bytes, os.PathLike)) else ":memory:"
        if name.startswith("file:"):
            name = urlparse(name).path or name[len("file:"):].split("?")[0]
        return None if name in ("", ":memory:") else name

    def hook(event, args):
        if event in forbidden_events:
            raise error(f"{who}: `{event}` is not allowed")
        if event == "import" and args and str(args[0]).startswith("autograder.instructor"):
            raise error(f"{who}: the instructor side of the autograder cannot be imported")
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            if is_blocked(path):
                raise error(f"{who}: reading {path} is not allowed")
            wants_write = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            if wants_write and not writable(path):
                raise error(f"{who}: writing {path} is not allowed")
        if event == "sqlite3.connect" and args:
            path = sqlite_path(args[0])
            if path is not None and (is_blocked(path) or not writable(path)):
                raise error(f"{who}: opening the database {path} is not allowed")
        for path in written_paths(event, args):
            if not writable(path):
                raise error(f"{who}: `{event}` on {path} is not allowed")

    sys.addaudithook(hook)
