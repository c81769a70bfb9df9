"""Finding, importing and validating submissions in a course's submitted/ folder."""

import hashlib
import json
import re
import stat
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

from autograder.instructor.batteries import ASSIGNMENTS
from autograder.instructor.settings import ARCHIVE_BYTES, MiB, NOTEBOOK_BYTES
from autograder.notebook_code import grade_id

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path

    def digest(self):
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Problem:
    student: str
    assignment: str
    message: str

    def __str__(self):
        who = "/".join(p for p in (self.student, self.assignment) if p)
        return f"{who}: {self.message}" if who else self.message


RESUBMISSION = re.compile(r"(?:-(\d+)| \((\d+)\))$")  # LMS/browser suffixes: "-1", " (2)"


def _parse_lms_name(name, assignments):
    """(student, assignment, version) from `<student>_<assignment>[-N| (N)].ipynb`, or None."""
    stem = name[: -len(".ipynb")]
    match = RESUBMISSION.search(stem)
    version = int(match.group(1) or match.group(2)) if match else 0
    stem = stem[: match.start()] if match else stem
    assignment = next((a for a in sorted(assignments, key=len, reverse=True) if stem.endswith("_" + a)), None)
    student = stem[: -len(assignment) - 1] if assignment else ""
    return (student, assignment, version) if assignment and STUDENT_ID.fullmatch(student) else None


class _TooLarge(Exception):
    pass


def _read_limited(stream, limit):
    """At most `limit` bytes of a stream, read in chunks (a zip entry's declared size can lie)."""
    chunks, total = [], 0
    while chunk := stream.read(1 << 20):
        total += len(chunk)
        if total > limit:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _zip_entries(source):
    """(folder, file name, bytes or why not) for the notebooks of a zip archive, read as a stream."""
    entries, unpacked = [], 0
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            path = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or path.suffix != ".ipynb" or "__MACOSX" in path.parts:
                continue
            folder = "/".join(path.parts[:-1])
            if stat.S_ISLNK(info.external_attr >> 16):
                entries.append((folder, path.name, "it is a symbolic link"))
                continue
            try:
                with archive.open(info) as stream:
                    data = _read_limited(stream, min(NOTEBOOK_BYTES, ARCHIVE_BYTES - unpacked))
            except _TooLarge:
                entries.append((folder, path.name, f"it unpacks to more than {NOTEBOOK_BYTES // MiB} MiB"
                                if unpacked < ARCHIVE_BYTES - NOTEBOOK_BYTES else "the archive unpacks to too much"))
                continue
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError) as exc:
                entries.append((folder, path.name, f"it cannot be unpacked ({exc})"))
                continue
            unpacked += len(data)
            entries.append((folder, path.name, data))
    return entries


def _folder_entries(source):
    entries = []
    for path in sorted(source.rglob("*.ipynb")):
        folder = path.parent.relative_to(source).as_posix().strip(".")
        if path.is_symlink() or any(p.is_symlink() for p in path.parents if source in p.parents):
            entries.append((folder, path.name, "it is a symbolic link"))
        elif not path.is_file():
            entries.append((folder, path.name, "it is not a regular file"))
        elif path.stat().st_size > NOTEBOOK_BYTES:
            entries.append((folder, path.name, f"it is larger than {NOTEBOOK_BYTES // MiB} MiB"))
        else:
            entries.append((folder, path.name, path.read_bytes()))
    return entries


def import_lms(source, submitted_dir, assignments):
    """Copy `<student>_<assignment>.ipynb` files (a folder or a .zip, at any depth) into
    submitted/<student>/<assignment>/<assignment>.ipynb. Returns (imported, problems).

    The rule: the student and assignment come from the file name alone; of several versions
    (`..._<assignment>-2.ipynb`, `... (2).ipynb`) in one folder the highest number wins. Files
    named for the same student and assignment in *different* folders (an upload in one student's
    folder named after another student) are not imported at all: each is reported, and that
    student's existing submission stays as it was. Symbolic links, entries over NOTEBOOK_BYTES and
    archives that unpack to more than ARCHIVE_BYTES are refused with a line in the report."""
    source = Path(source)
    if not source.exists():
        return [], [Problem("", "", f"nothing to import: {source} does not exist")]
    try:
        if source.is_file() and zipfile.is_zipfile(source):
            entries = _zip_entries(source)
        elif source.is_dir():
            entries = _folder_entries(source)
        else:
            return [], [Problem("", "", f"cannot import {source}: not a folder or a zip archive")]
    except (zipfile.BadZipFile, OSError) as exc:
        return [], [Problem("", "", f"cannot import {source}: {exc}")]
    candidates, problems = {}, []
    for folder, name, data in entries:
        shown = f"{folder}/{name}" if folder else name
        if isinstance(data, str):
            problems.append(Problem("", "", f"{shown!r} was not imported: {data}"))
            continue
        parsed = _parse_lms_name(name, assignments)
        if not parsed:
            problems.append(Problem("", "", f"cannot tell student and assignment from the file name {shown!r} "
                                            "(expected <student>_<assignment>.ipynb)"))
            continue
        student, assignment, version = parsed
        candidates.setdefault((student, assignment), []).append((folder, version, shown, data))
    imported = []
    for (student, assignment), versions in sorted(candidates.items()):
        folders = {folder for folder, *_ in versions}
        if len(folders) > 1:
            where = ", ".join(sorted(repr(shown) for _, _, shown, _ in versions))
            problems.append(Problem(student, assignment, f"files named for this student are in {len(folders)} "
                                                         f"different folders ({where}): none was imported"))
            continue
        _, _, shown, data = max(versions, key=lambda v: v[1])
        if len(versions) > 1:
            problems.append(Problem(student, assignment, f"several versions uploaded: graded the latest, {shown!r}"))
        dest = Path(submitted_dir) / student / assignment / f"{assignment}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink():
            dest.unlink()
        if not dest.exists() or dest.read_bytes() != data:
            dest.write_bytes(data)
        imported.append((student, assignment))
    return imported, problems


def _grade_ids(nb_json):
    return {grade_id(c) for c in nb_json.get("cells", [])} - {None}


def validate_notebook(path, assignment, template_ids):
    """None if the file can be graded as `assignment`, else why not (before anything else reads it:
    size, UTF-8 JSON, the nbformat v4 schema). template_ids: {assignment: grade ids of its release}."""
    if path.is_symlink() or not path.is_file():
        return "the notebook is not a regular file"
    if path.stat().st_size > NOTEBOOK_BYTES:
        return f"the notebook is larger than {NOTEBOOK_BYTES // MiB} MiB"
    data = path.read_bytes()
    if not data.strip():
        return "the notebook file is empty"
    try:
        nb_json = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "the file is not a notebook (not valid JSON); re-download it from JupyterLab (File > Download)"
    if not isinstance(nb_json, dict) or not isinstance(nb_json.get("cells"), list):
        return "the file is JSON but not a Jupyter notebook (no cells)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. duplicate cell ids, which nbformat repairs
            nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))
    except Exception as exc:  # noqa: BLE001 - any way of being malformed is this file's problem only
        detail = " ".join(str(exc).split())[:160]
        return f"the file is not a valid Jupyter notebook ({type(exc).__name__}: {detail})"
    shared = {i for a, t in template_ids.items() for i in t
              if any(i in u for b, u in template_ids.items() if b != a)}  # e.g. "setup"
    ids = _grade_ids(nb_json) - shared
    if ids and not ids & template_ids[assignment]:
        others = [a for a, t in template_ids.items() if ids & t]
        if others:
            return f"this is the notebook of {others[0]}, not {assignment}"
    return None


def discover(submitted_dir, assignments, template_ids, students=None, roster=()):
    """Every gradable submission under submitted/, and a Problem for everything else."""
    submitted_dir = Path(submitted_dir)
    found, problems = [], []
    if not submitted_dir.is_dir():
        return found, [Problem("", "", f"no submissions: {submitted_dir} does not exist")]
    for student_dir in sorted(submitted_dir.iterdir()):
        student = student_dir.name
        if students and student not in students:
            continue
        if not student_dir.is_dir():
            problems.append(Problem("", "", f"stray file {student_dir.name!r} in submitted/ (expected student folders)"))
            continue
        if student.startswith(".") or student == "__MACOSX":
            continue
        if not STUDENT_ID.fullmatch(student) or (roster and student not in roster):
            problems.append(Problem(student, "", "unknown student folder (not in the course's student list); skipped"))
            continue
        known = set(ASSIGNMENTS) | set(assignments)  # another assignment's folder is not "unknown"
        for extra in sorted(p.name for p in student_dir.iterdir() if p.is_dir() and p.name not in known
                            and not p.name.startswith(".")):
            problems.append(Problem(student, extra, "unknown assignment folder; skipped"))
        for assignment in assignments:
            folder = student_dir / assignment
            notebook = folder / f"{assignment}.ipynb"
            if not folder.is_dir():
                problems.append(Problem(student, assignment, "missing: nothing submitted"))
            elif not notebook.is_file():
                others = sorted(p.name for p in folder.glob("*.ipynb"))
                hint = f" (found {', '.join(others)}: rename it)" if others else ""
                problems.append(Problem(student, assignment, f"no {notebook.name} in the submission{hint}"))
            else:
                why = validate_notebook(notebook, assignment, template_ids)
                if why:
                    problems.append(Problem(student, assignment, why))
                else:
                    found.append(Submission(student, assignment, notebook))
    return found, problems
