"""IPython startup file for grading kernels (copied into IPYTHONDIR by the pipeline).

Runs before the student's first cell. It caps the memory of the kernel (a
MemoryError instead of the machine swapping), caps how much the notebook may
print, and installs the audit hook of autograder.audit (which cannot be removed) refusing to start
processes, signal processes, load C libraries through ctypes, import or read
the instructor side of the autograder, and write outside the submission's own
folder and scratch directories. Scores do not depend on this kernel (the judge decides
them); this keeps a hostile notebook from harming the course or the machine.
"""


def _guard():
    import os
    import resource
    import sys

    from autograder.sandbox.audit import PROCESS_EVENTS, install_audit_hook

    writable_dirs = [os.getcwd(), *os.environ["AUTOGRADER_WRITABLE"].split(os.pathsep)]
    blocked = [p for p in os.environ["AUTOGRADER_BLOCKED"].split(os.pathsep) if p]
    output_limit = int(os.environ.get("AUTOGRADER_OUTPUT_LIMIT", 2_000_000))
    memory = int(os.environ.get("AUTOGRADER_MEMORY_LIMIT", 3 * 1024 ** 3))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

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
    install_audit_hook("grading kernel", writable_dirs, blocked, PROCESS_EVENTS)


_guard()
del _guard
