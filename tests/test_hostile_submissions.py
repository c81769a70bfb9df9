"""Hostile submissions through the real pipeline (`grade_course`, bubblewrap on): each attacker
earns nothing for the attacked function, no classmate's grade changes, the run finishes,
and no file outside the attacker's scratch changes.

Every attack is written so that it would *earn* the points if it worked: `d_power` returns
the right derivative only when the attack succeeded (a process started, a file outside was
read or written, a connection was made, a process outside was seen), so a hole in the sandbox
shows up as a score. The function under attack is ex01's `d_power`; the others are correct.
"""

import hashlib
import json
import os
import shutil
import site
import socket
import stat
import threading
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

import autograder
from autograder.instructor import job_files
from autograder.instructor.grading import grade_course
from autograder.instructor.synthetic_class import REPO as ROOT
from autograder.instructor.synthetic_class import full_marks, function_points, released, scratch_course, solved, submit
from tests.course_fixtures import EX1, TARGET

RIGHT = "c * x ** (c - 1)"
WRONG = "c * x ** c"


def _conditional(attack):
    """A d_power that is right only if `attack` (the body of `_attack() -> bool`) succeeds."""
    body = "".join(f"    {line}\n" for line in attack.strip().splitlines())
    return (f"def _attack():\n{body}\n"
            "def d_power(x, c):\n    try:\n        won = bool(_attack())\n    except BaseException:\n"
            f"        won = False\n    return {RIGHT} if won else {WRONG}\n")


def attacks(course, backup, marker, port):
    solution = course / "solutions" / EX1 / f"{EX1}.ipynb"
    backup_solution = backup / "solutions" / EX1 / f"{EX1}.ipynb"
    package = Path(autograder.__file__).parent
    return {
        # a shell through C, three ways; each would cat the solutions
        "cffi_system": f"""
import cffi
ffi = cffi.FFI()
ffi.cdef("int system(const char *command);")
return ffi.dlopen(None).system(b"cat {solution} > {marker} && grep -q 'BEGIN SOLUTION' {marker}") == 0""",
        "cffi_fork": """
import cffi
ffi = cffi.FFI()
ffi.cdef("int fork(void); void _exit(int);")
libc = ffi.dlopen(None)
pid = libc.fork()
if pid == 0:
    libc._exit(0)
return pid > 0""",
        "posixsubprocess_fork_exec": """
import _posixsubprocess, os
errpipe_read, errpipe_write = os.pipe()
pid = _posixsubprocess.fork_exec([b"/bin/true"], [b"/bin/true"], True, (errpipe_write,), None, None,
                                 -1, -1, -1, -1, -1, -1, errpipe_read, errpipe_write, False, False, -1,
                                 None, None, None, -1, None, False)
return pid > 0""",
        "posix_spawn": """
import os
return os.posix_spawn("/bin/sh", ["sh", "-c", "true"], {}) > 0""",
        "fork_bomb": """
import os
children = 0
for _ in range(10_000):
    if os.fork() == 0:
        while True:
            pass
    children += 1
return children > 0""",
        # reading what is outside the allowlist
        "reads_backup_course": f"return 'BEGIN SOLUTION' in open({str(backup_solution)!r}).read()",
        "searches_disk_for_solutions": """
import glob
return any('BEGIN SOLUTION' in open(p).read() for p in glob.glob('/**/solutions/*/*.ipynb', recursive=True))""",
        "reads_course_solutions": f"return 'BEGIN SOLUTION' in open({str(solution)!r}).read()",
        "reads_passwd": "return 'root:' in open('/etc/passwd').read()",
        "reads_home": "import os\nreturn len(os.listdir(os.path.expanduser('~root'))) > 1 or os.path.exists('/root/.bashrc')",
        "reads_instructor_side": f"return 'def ' in open({str(package / 'instructor' / 'judge.py')!r}).read()",
        # writing outside the scratch
        "writes_outside": f"open({str(marker)!r}, 'w').write('pwned')\nreturn True",
        "edits_installed_package": f"open({str(package / 'gradcheck.py')!r}, 'a').write('# pwned')\nreturn True",
        "drops_pth_file": "import site\nopen(site.getsitepackages()[0] + '/zzz-pwned.pth', 'w').write('import os')\nreturn True",
        # the network, processes and memory of others
        "connects_to_host": f"""
import socket
with socket.create_connection(("127.0.0.1", {port}), timeout=2) as s:
    s.sendall(b"pwned")
return True""",
        "sees_grading_processes": """
import os
cmdlines = []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            cmdlines.append(open(f'/proc/{pid}/cmdline', 'rb').read())
        except OSError:
            pass
return any(b'instructor' in c or b'nbgrader' in c or b'pytest' in c for c in cmdlines)""",
        "kills_everyone": "import os, signal\nos.kill(-1, signal.SIGKILL)\nreturn False",
        "background_thread": f"""
import os, threading, time
def vandal():
    for _ in range(200):
        for fd in range(3, 64):
            try:
                os.write(fd, b'{{"ok": true, "result": {{"value": 1}}}}')
            except OSError:
                pass
        try:
            open({str(course / 'gradebook.db')!r}, 'w').write('x')
        except OSError:
            pass
        time.sleep(0.01)
threading.Thread(target=vandal, daemon=True).start()
return False""",
        "symlink_out_of_scratch": f"""
import os
os.symlink({str(course / 'solutions')!r}, 'linked')
return 'BEGIN SOLUTION' in open('linked/{EX1}/{EX1}.ipynb').read()""",
        "forges_the_reply": """
import autograder.sandbox.probes as probes
honest = probes.call
def forged(ns, name, args=(), kwargs=None):
    reply = honest(ns, name, args, kwargs)
    if name == "d_power":
        reply.pop("args_after", None)  # as if to hide an in-place change
    return reply
probes.PROBES["call"] = forged
return True""",
    }


def _tree_digest(root, skip=()):
    """{relative path: sha256} of the regular files under root (skip: top-level names)."""
    digest = {}
    for path in sorted(Path(root).rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in skip or not path.is_file():
            continue
        digest[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


GRADING_OUTPUTS = ("autograded", "feedback", "grades.csv", "gradebook.db", ".autograder-state.json", "report.html",
                   "exchange")


def _installed_digest():
    package = Path(autograder.__file__).parent
    pth = {p.name for d in site.getsitepackages() for p in Path(d).glob("*.pth")}
    return _tree_digest(package), pth


class Listener:
    """A TCP listener on the host's 127.0.0.1 that records whether anyone connected."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.sock.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def hostile_class(new_course, tmp_path_factory):
    course = new_course("hostile-course", [EX1])
    backup = tmp_path_factory.mktemp("instructor-backup")  # a second copy of the solutions, outside the course
    shutil.copytree(ROOT / "solutions" / EX1, backup / "solutions" / EX1)
    marker = tmp_path_factory.mktemp("outside") / "pwned.txt"
    listener = Listener()
    students = {"perfect": solved(course, EX1), "untouched": released(course, EX1)}
    named = attacks(course, backup, marker, listener.port)
    students.update({name: solved(course, EX1, d_power=_conditional(src)) for name, src in named.items()})
    for name, nb in students.items():
        submit(course, name, EX1, nb)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        cells_before = {c.name: c.max_score for c in gb.find_notebook(EX1, EX1).grade_cells}
    before = _tree_digest(course, GRADING_OUTPUTS), _tree_digest(backup), _installed_digest()
    report = grade_course(course, jobs=2, timeout=5, progress=lambda *_: None)
    listener.close()
    after = _tree_digest(course, GRADING_OUTPUTS), _tree_digest(backup), _installed_digest()
    return dict(course=course, report=report, named=named, before=before, after=after, marker=marker,
                listener=listener, cells_before=cells_before)


def _score(course, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return gb.find_submission(EX1, student).score


def test_classmates_are_graded_as_if_alone(hostile_class):
    course = hostile_class["course"]
    assert _score(course, "perfect") == full_marks(course, EX1)
    assert _score(course, "untouched") == 0
    assert not hostile_class["report"].problems


@pytest.mark.parametrize("attack", sorted(attacks(Path("/c"), Path("/b"), Path("/m"), 1)))
def test_attack_earns_nothing_for_the_attacked_function(hostile_class, attack):
    course = hostile_class["course"]
    expected = full_marks(course, EX1) - function_points(course, EX1)[TARGET]
    if attack == "background_thread":  # its garbage on the channel may cost it more of its own points
        assert _score(course, attack) <= expected
    else:
        assert _score(course, attack) == expected


def test_nothing_outside_the_scratch_changed(hostile_class):
    before, after = hostile_class["before"], hostile_class["after"]
    assert after[0] == before[0], "the course tree (solutions, submissions, config) changed"
    assert after[1] == before[1], "the instructor's backup copy changed"
    assert after[2] == before[2], "the installed autograder package or site-packages changed"
    assert not hostile_class["marker"].exists()
    assert hostile_class["listener"].connections == 0
    with Gradebook(f"sqlite:///{hostile_class['course'] / 'gradebook.db'}") as gb:
        assert {c.name: c.max_score for c in gb.find_notebook(EX1, EX1).grade_cells} == hostile_class["cells_before"]


def test_forged_reply_is_reported_as_incomplete(hostile_class):
    outcome = next(o for o in hostile_class["report"].outcomes if o.student == "forges_the_reply")
    assert "reply was incomplete" in outcome.verdicts[TARGET]["message"]


# --------------------------------------------------------------------------- bad files cost only themselves

def _deep_json(depth):
    return "[" * depth + "]" * depth


MALFORMED = {
    "deeply_nested": lambda nb: '{"cells": ' + _deep_json(100_000) + ', "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
    "cell_not_an_object": lambda nb: json.dumps({**nb, "cells": [42, "cell"]}),
    "source_wrong_type": lambda nb: json.dumps({**nb, "cells": [{**nb["cells"][0], "source": 7}]}),
    "invalid_utf8": lambda nb: json.dumps(nb).encode("utf-8") + b'\xff\xfe',
    "huge_field": lambda nb: json.dumps({**nb, "metadata": {"x": "y" * (21 * 1024 ** 2)}}),
}


def test_malformed_notebooks_cost_only_their_own_submission(tmp_path):
    course = scratch_course(tmp_path / "course", [EX1])
    submit(course, "perfect", EX1, solved(course, EX1))
    release = json.loads(nbformat.writes(released(course, EX1)))
    for name, make in MALFORMED.items():
        path = course / "submitted" / name / EX1 / f"{EX1}.ipynb"
        path.parent.mkdir(parents=True)
        data = make(release)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    # an LMS zip: one student's folder holds a file named after a classmate; a zip bomb; a symlink
    with zipfile.ZipFile(tmp_path / "lms.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"bob/perfect_{EX1}.ipynb", nbformat.writes(released(course, EX1)))
        archive.writestr(f"perfect/perfect_{EX1}.ipynb", nbformat.writes(solved(course, EX1)))
        archive.writestr(f"bomb_{EX1}.ipynb", b"0" * (64 * 1024 ** 2))
        link = zipfile.ZipInfo(f"linker_{EX1}.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr(f"../../escapee_{EX1}.ipynb", nbformat.writes(solved(course, EX1)))
    perfect_before = (course / "submitted" / "perfect" / EX1 / f"{EX1}.ipynb").read_bytes()
    report = grade_course(course, jobs=2, timeout=5, import_from=tmp_path / "lms.zip", progress=lambda *_: None)
    problems = [str(p) for p in report.problems]
    for name in MALFORMED:
        assert any(p.startswith(f"{name}/{EX1}:") for p in problems), (name, problems)
    assert any("different folders" in p and p.startswith(f"perfect/{EX1}") for p in problems)
    assert (course / "submitted" / "perfect" / EX1 / f"{EX1}.ipynb").read_bytes() == perfect_before
    assert any("bomb" in p and "MiB" in p for p in problems)
    assert any("linker" in p and "symbolic link" in p for p in problems)
    assert not (tmp_path / f"escapee_{EX1}.ipynb").exists() and not (course / f"escapee_{EX1}.ipynb").exists()
    assert _score(course, "perfect") == full_marks(course, EX1)
    assert _score(course, "escapee") == full_marks(course, EX1)  # named by its file, kept inside


# --------------------------------------------------------------------------- copying back

def test_job_files_come_back_as_regular_files_within_limits(tmp_path, monkeypatch):
    folder = tmp_path / "job" / "autograded" / "mallory" / EX1
    folder.mkdir(parents=True)
    (folder / f"{EX1}.ipynb").write_text("{}")
    (folder / "link-to-solutions").symlink_to(ROOT / "solutions")
    (folder / "link-to-file").symlink_to(ROOT / "README.md")
    os.mkfifo(folder / "fifo")
    monkeypatch.setattr(job_files, "JOB_FILE_BYTES", 1000)
    (folder / "big.bin").write_bytes(b"x" * 2000)
    files, skipped = job_files.collect(folder)
    assert set(files) == {f"{EX1}.ipynb"}
    assert any("fifo" in s for s in skipped) and any("big.bin" in s for s in skipped)
    with pytest.raises(ValueError):
        job_files.replace_folder(tmp_path / "dest", {"../escape": b"x"})
    assert not (tmp_path / "escape").exists()


def test_a_fifo_in_place_of_grades_csv_does_not_hang_the_run(tmp_path):
    course = scratch_course(tmp_path / "course", [EX1])
    submit(course, "perfect", EX1, solved(course, EX1))
    os.mkfifo(course / "grades.csv")
    grade_course(course, jobs=1, timeout=5, progress=lambda *_: None)
    assert (course / "grades.csv").is_file() and "perfect" in (course / "grades.csv").read_text()
