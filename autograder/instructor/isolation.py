"""The operating-system boundary around student code: bubblewrap, seccomp and resource limits.

Every process that runs student code during grading is started through
`sandboxed_command(...)`:

  * new user, PID, IPC, UTS, cgroup and network namespaces (`--unshare-all`: the
    network is a private loopback), uid/gid 65534 inside, no capabilities, no
    further user namespaces, `--die-with-parent`, `--new-session`;
  * an allowlist filesystem: read-only system directories (/usr and its /bin,
    /lib links, /etc/ld.so.cache), the Python installation and the virtualenv,
    and of `autograder` only the student-facing modules and the sandbox side
    (`autograder.instructor` is covered by an empty read-only directory);
    size-limited private tmpfs for the working directory, /tmp and /dev/shm;
    a fresh /proc that shows only the sandbox's own processes. Nothing else:
    not the course, not the home directory, not other jobs, not the host's /tmp;
  * a seccomp filter refusing new processes (fork, vfork, clone without
    CLONE_THREAD, clone3), ptrace and cross-process memory access, namespaces,
    mounts, keyrings, bpf, perf events, userfaultfd and io_uring;
  * resource limits set before bwrap starts: address space, CPU seconds, file
    size, open files, core dumps (the values: autograder.instructor.settings).

`require_isolation()` stops grading with one line saying how to fix it when
bubblewrap is missing or user namespaces are disabled; `unsafe=True` (the CLI's
--unsafe-no-sandbox) runs the command bare, with only the audit hook.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import autograder
from autograder.instructor.settings import (CPU_LIMIT_SECONDS, FILE_SIZE_LIMIT_BYTES, MEMORY_LIMIT_BYTES,
                                            OPEN_FILES_LIMIT, SANDBOX_CHECK_TIMEOUT, TMPFS_BYTES)

PACKAGE_DIR = Path(autograder.__file__).resolve().parent
# what of the autograder package student code may see: the student-facing modules and the sandbox side
MOUNTED_MODULES = ("__init__.py", "gradcheck.py", "notebook_code.py", "selfcheck.py", "sandbox")
SANDBOX_UID = 65534
WORKDIR = "/sandbox"

INSTALL_HINT = ("install bubblewrap (`apt-get install bubblewrap`) and allow unprivileged user namespaces "
                "(`sysctl kernel.unprivileged_userns_clone=1`, and on Ubuntu 24.04+ "
                "`sysctl kernel.apparmor_restrict_unprivileged_userns=0`), or pass --unsafe-no-sandbox")


class IsolationUnavailable(RuntimeError):
    """bubblewrap cannot start a sandbox on this machine."""


# --------------------------------------------------------------------------- seccomp

SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_KILL_PROCESS = 0x80000000
EPERM, ENOSYS = 1, 38
CLONE_THREAD = 0x00010000
X32_SYSCALL_BIT = 0x40000000

# architecture: (AUDIT_ARCH, {syscall: number}) for the refused calls; clone is checked for CLONE_THREAD
SYSCALLS = {
    "x86_64": (0xC000003E, {
        "fork": 57, "vfork": 58, "clone": 56, "clone3": 435, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
        "pivot_root": 155, "chroot": 161, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321,
        "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "kexec_load": 246, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432}),
    "aarch64": (0xC00000B7, {
        "clone": 220, "clone3": 435, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
        "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
        "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241,
        "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "kexec_load": 104, "init_module": 105, "finit_module": 273, "delete_module": 106,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432}),
}


def _bpf(code, k, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k)


def seccomp_program(machine=None):
    """The compiled classic-BPF filter (bytes of struct sock_filter[]) for bwrap's --seccomp."""
    machine = machine or platform.machine()
    if machine not in SYSCALLS:
        raise IsolationUnavailable(f"no seccomp filter for the {machine} architecture; pass --unsafe-no-sandbox")
    arch, numbers = SYSCALLS[machine]
    ld_abs, jeq, jset, jge, ret = 0x20, 0x15, 0x45, 0x35, 0x06
    refused = {name: nr for name, nr in numbers.items() if name != "clone"}
    prog = [_bpf(ld_abs, 4), _bpf(jeq, arch, jt=1), _bpf(ret, SECCOMP_RET_KILL_PROCESS), _bpf(ld_abs, 0)]
    if machine == "x86_64":  # the x32 ABI would give the same calls other numbers
        prog += [_bpf(jge, X32_SYSCALL_BIT, jf=1), _bpf(ret, 0x00050000 | EPERM)]
    for name, nr in refused.items():
        errno = ENOSYS if name == "clone3" else EPERM  # ENOSYS makes libc fall back to clone
        prog += [_bpf(jeq, nr, jf=1), _bpf(ret, 0x00050000 | errno)]
    # clone: threads (CLONE_THREAD) are allowed, new processes are not
    prog += [_bpf(jeq, numbers["clone"], jf=3), _bpf(ld_abs, 16), _bpf(jset, CLONE_THREAD, jt=1),
             _bpf(ret, 0x00050000 | EPERM), _bpf(ret, SECCOMP_RET_ALLOW)]
    return b"".join(prog)


# --------------------------------------------------------------------------- the bwrap command

def _system_mounts():
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    if Path("/etc/ld.so.cache").exists():
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _python_mounts():
    """The interpreter's installation and the virtualenv (with their real paths, which sys.path uses)."""
    roots = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    roots.add(Path(os.path.realpath(sys.executable)).parent.parent)
    args = []
    for root in sorted(roots):
        args += ["--ro-bind", str(root), str(root)]
    return args


def _package_mounts():
    """The autograder package as an empty read-only directory holding only MOUNTED_MODULES."""
    args = ["--tmpfs", str(PACKAGE_DIR)]
    for name in MOUNTED_MODULES:
        args += ["--ro-bind", str(PACKAGE_DIR / name), str(PACKAGE_DIR / name)]
    return args + ["--remount-ro", str(PACKAGE_DIR)]


def sandbox_environment():
    """The whole environment of a sandboxed process (nothing is inherited)."""
    return {"PATH": "/usr/bin:/bin", "HOME": WORKDIR, "TMPDIR": "/tmp", "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp",
            "PYTHONPATH": str(PACKAGE_DIR.parent)}  # the mounted package, however autograder is installed


def sandboxed_command(argv, seccomp_fd):
    """bwrap ... argv: argv runs in WORKDIR inside the sandbox (seccomp_fd: a readable fd of seccomp_program())."""
    args = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]
    for key, value in sandbox_environment().items():
        args += ["--setenv", key, value]
    args += _system_mounts() + _python_mounts()
    args += ["--proc", "/proc", "--dev", "/dev"]
    for tmpfs in ("/tmp", "/dev/shm", WORKDIR):
        args += ["--size", str(TMPFS_BYTES), "--tmpfs", tmpfs]
    args += _package_mounts()
    args += ["--chdir", WORKDIR, "--seccomp", str(seccomp_fd), "--"]
    return args + list(argv)


def limit_resources():
    """Resource limits for the sandboxed process (a Popen preexec_fn; inherited through bwrap)."""
    for limit, value in ((resource.RLIMIT_AS, MEMORY_LIMIT_BYTES), (resource.RLIMIT_CPU, CPU_LIMIT_SECONDS),
                         (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT_BYTES), (resource.RLIMIT_NOFILE, OPEN_FILES_LIMIT),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))


def seccomp_fd():
    """A pipe's read end holding the seccomp program (bwrap reads it once)."""
    program = seccomp_program()
    read_end, write_end = os.pipe()
    os.write(write_end, program)  # a few hundred bytes: fits the pipe buffer
    os.close(write_end)
    return read_end


_checked = False


def require_isolation():
    """Raise IsolationUnavailable (one line: how to fix it) unless bwrap can start a sandbox here."""
    global _checked
    if _checked:
        return
    if shutil.which("bwrap") is None:
        raise IsolationUnavailable(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    fd = seccomp_fd()
    try:
        proc = subprocess.run(sandboxed_command([sys.executable, "-I", "-c", "pass"], fd), pass_fds=(fd,),
                              capture_output=True, text=True, timeout=SANDBOX_CHECK_TIMEOUT)
    finally:
        os.close(fd)
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise IsolationUnavailable(f"bubblewrap cannot start a sandbox ({reason}): {INSTALL_HINT}")
    _checked = True
