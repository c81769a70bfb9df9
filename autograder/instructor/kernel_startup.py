"""IPython startup file for grading kernels (copied into IPYTHONDIR by the pipeline).

Runs before the student's first cell. It caps the memory of the kernel (a
MemoryError instead of the machine swapping), caps how much the notebook may
print, and installs an audit hook (which cannot be removed) refusing to start
processes, signal processes, load C libraries through ctypes, import or read
the instructor side of the autograder, and write outside the submission's own
folder and scratch directories. Scores do not depend on this kernel (the judge decides
them); this keeps a hostile notebook from harming the course or the machine.
"""


def _guard():
    import os
    import resource
    import sys

    writable_dirs = [os.getcwd(), *os.environ["AUTOGRADER_WRITABLE"].split(os.pathsep)]
    allowed = [os.path.realpath(p) + os.sep for p in writable_dirs]
    blocked = [os.path.realpath(p) for p in os.environ["AUTOGRADER_BLOCKED"].split(os.pathsep) if p]
    output_limit = int(os.environ.get("AUTOGRADER_OUTPUT_LIMIT", 2_000_000))
    memory = int(os.environ.get("AUTOGRADER_MEMORY_LIMIT", 3 * 1024 ** 3))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    forbidden = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                 "os.forkpty", "os.kill", "os.killpg", "signal.pthread_kill", "ctypes.dlopen",
                 "ctypes.dlsym", "pty.spawn", "os.chroot"}
    path_events = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.truncate",
                   "os.symlink", "os.link", "shutil.rmtree", "shutil.move", "os.utime"}

    def writable(path):
        real = os.path.realpath(path)
        return real == "/dev/null" or any((real + os.sep).startswith(a) for a in allowed)

    def is_blocked(path):
        real = os.path.realpath(path)
        return any(real == b or real.startswith(b + os.sep) for b in blocked)

    def hook(event, args):
        if event in forbidden:
            raise PermissionError(f"grading kernel: `{event}` is not allowed")
        if event == "import" and args and str(args[0]).startswith("autograder.instructor"):
            raise PermissionError("grading kernel: the instructor side of the autograder cannot be imported")
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            if is_blocked(path):
                raise PermissionError(f"grading kernel: reading {path} is not allowed")
            if (any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)) \
                    and not writable(path):
                raise PermissionError(f"grading kernel: writing {path} is not allowed")
        if event in path_events and args and isinstance(args[0], (str, bytes, os.PathLike)):
            if not writable(os.fsdecode(args[0])):
                raise PermissionError(f"grading kernel: `{event}` outside the submission is not allowed")

    class CappedStream:
        """Forwards writes until `output_limit` characters, then drops them with one notice."""

        def __init__(self, stream):
            self._stream, self._written, self._noticed = stream, 0, False

        def write(self, text):
            self._written += len(text)
            if self._written <= output_limit:
                return self._stream.write(text)
            if not self._noticed:
                self._noticed = True
                self._stream.write(f"\n[grading: output beyond {output_limit} characters was dropped]\n")
            return len(text)

        def __getattr__(self, name):
            return getattr(self._stream, name)

    sys.stdout = CappedStream(sys.stdout)
    sys.stderr = CappedStream(sys.stderr)
    sys.addaudithook(hook)


_guard()
del _guard
