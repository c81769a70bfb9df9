"""Finding, importing and validating submissions in a course's submitted/ folder."""

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

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


def import_lms(source, submitted_dir, assignments):
    """Copy loose `<student>_<assignment>.ipynb` files (a folder or a .zip) into
    submitted/<student>/<assignment>/<assignment>.ipynb; of several versions
    (`..._<assignment>-2.ipynb`, `... (2).ipynb`) the highest number wins.
    Returns (imported, problems)."""
    source = Path(source)
    if not source.exists():
        return [], [Problem("", "", f"nothing to import: {source} does not exist")]
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            files = [(Path(info.filename).name, archive.read(info)) for info in archive.infolist()
                     if not info.is_dir() and info.filename.endswith(".ipynb") and "__MACOSX" not in info.filename]
    elif source.is_dir():
        files = [(p.name, p.read_bytes()) for p in sorted(source.glob("*.ipynb"))]
    else:
        return [], [Problem("", "", f"cannot import {source}: not a folder or a zip archive")]
    latest, versions, problems = {}, {}, []
    for name, data in files:
        parsed = _parse_lms_name(name, assignments)
        if not parsed:
            problems.append(Problem("", "", f"cannot tell student and assignment from the file name {name!r} "
                                            "(expected <student>_<assignment>.ipynb)"))
            continue
        student, assignment, version = parsed
        versions[student, assignment] = versions.get((student, assignment), 0) + 1
        if (student, assignment) not in latest or version > latest[student, assignment][0]:
            latest[student, assignment] = (version, name, data)
    for (student, assignment), (version, name, data) in sorted(latest.items()):
        if versions[student, assignment] > 1:
            problems.append(Problem(student, assignment, f"several versions uploaded: graded the latest, {name!r}"))
        dest = Path(submitted_dir) / student / assignment / f"{assignment}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.read_bytes() != data:
            dest.write_bytes(data)
    return sorted(latest), problems


def _grade_ids(nb_json):
    return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb_json.get("cells", [])} - {None}


def validate_notebook(path, assignment, template_ids):
    """None if the file can be graded as `assignment`, else why not.
    template_ids: {assignment: set of grade ids of its released notebook}."""
    data = path.read_bytes()
    if not data.strip():
        return "the notebook file is empty"
    try:
        nb_json = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return "the file is not a notebook (not valid JSON); re-download it from JupyterLab (File > Download)"
    if not isinstance(nb_json, dict) or not isinstance(nb_json.get("cells"), list):
        return "the file is JSON but not a Jupyter notebook (no cells)"
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
        known = set(assignments)
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
