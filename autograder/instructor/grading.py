"""`python -m autograder grade`: parallel, hostile-code-proof grading on stock nbgrader.

For every submission (student x assignment):
  1. the notebook is rebuilt on the released template (deleted, duplicated or
     re-typed cells repaired, see normalize.py);
  2. the judge runs the hidden battery in a sandbox (student code) and a clean
     process (comparison): these verdicts decide the points of every test cell;
  3. stock `nbgrader autograde` runs the notebook in a hardened kernel inside a
     private scratch copy of the course (its hidden cells print the verdicts),
     the verdicts are written into that gradebook and `nbgrader generate_feedback`
     renders the feedback;
  4. back in the main process, grades, autograded notebook and feedback are
     merged into the course (one writer: no lost or doubled gradebook rows).
Steps 1-3 run in parallel (--jobs); a submission that makes nbgrader fail or
exceed its time budget is re-run with its code shown but not executed.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from autograder.instructor.batteries import ASSIGNMENTS
from autograder.instructor.nbgrader_cli import BIN_DIR, nbgrader_env, put_bin_on_path, run_nbgrader
from autograder.instructor.normalize import normalize_submission
from autograder.instructor.submissions import Problem, discover, import_lms
from autograder.notebook_code import is_test_cell

INSTRUCTOR_DIR = Path(__file__).resolve().parent
STATE_FILE = ".autograder-state.json"


@dataclass
class Outcome:
    """What grading one submission produced (returned by a job to the main process)."""

    student: str
    assignment: str
    digest: str
    scores: dict = field(default_factory=dict)  # test cell grade_id -> (score, max)
    notes: list = field(default_factory=list)
    autograded: Path | None = None
    feedback: Path | None = None
    error: str = ""


@dataclass
class Report:
    course: Path
    outcomes: list
    problems: list
    skipped: list
    seconds: float

    def table(self):
        students = sorted({o.student for o in self.outcomes} | {s for s, _ in self.skipped})
        assignments = sorted({o.assignment for o in self.outcomes} | {a for _, a in self.skipped})
        cells = {(o.student, o.assignment): f"{_total(o)[0]:g}/{_total(o)[1]:g}" for o in self.outcomes}
        cells.update({key: "unchanged" for key in self.skipped})
        width = max([len(s) for s in students] + [7])
        lines = ["student".ljust(width) + " | " + " | ".join(a.ljust(9)[:24] for a in assignments)]
        lines.append("-" * len(lines[0]))
        for s in students:
            lines.append(s.ljust(width) + " | " + " | ".join(cells.get((s, a), "-").ljust(max(9, len(a[:24])))
                                                            for a in assignments))
        return "\n".join(lines)


def _total(outcome):
    return (sum(s for s, _ in outcome.scores.values()), sum(m for _, m in outcome.scores.values()))


# --------------------------------------------------------------------------- course set-up

def _release_templates(course, assignments, scratch):
    """The released notebook of each assignment (regenerated into scratch if the course has none),
    and make sure the gradebook knows every assignment (nbgrader needs the source cells)."""
    templates = {}
    release_dir = Path(scratch) / "release"
    for assignment in assignments:
        with Gradebook(_db_url(course)) as gb:
            try:
                gb.find_assignment(assignment)
                known = True
            except MissingEntry:
                known = False
        committed = course / "exercises" / assignment / f"{assignment}.ipynb"
        if not known or not committed.exists():
            run_nbgrader(["generate_assignment", assignment, "--force",
                          f"--CourseDirectory.release_directory={release_dir}"], course)
        path = committed if committed.exists() else release_dir / assignment / f"{assignment}.ipynb"
        templates[assignment] = nbformat.read(path, as_version=4)
    return templates


def _db_url(course):
    return f"sqlite:///{Path(course) / 'gradebook.db'}"


def _template_ids(templates):
    return {a: {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
            for a, nb in templates.items()}


# --------------------------------------------------------------------------- one job

class Job:
    """A private scratch course in which nbgrader grades a batch of one assignment."""

    def __init__(self, course, root, assignment, gradebook_snapshot, timeout):
        self.course, self.root, self.assignment, self.timeout = course, Path(root), assignment, timeout
        self.root.mkdir(parents=True)
        shutil.copy(course / "nbgrader_config.py", self.root)
        shutil.copytree(course / "solutions" / assignment, self.root / "solutions" / assignment)
        shutil.copy(gradebook_snapshot, self.root / "gradebook.db")
        self.verdict_dir = self.root / "verdicts"
        self.verdict_dir.mkdir()
        self.ipython_dir = self.root / "ipython"
        (self.ipython_dir / "profile_default" / "startup").mkdir(parents=True)
        shutil.copy(INSTRUCTOR_DIR / "kernel_startup.py", self.ipython_dir / "profile_default" / "startup" / "00-guard.py")
        self.blocked = [str(INSTRUCTOR_DIR), str(course / "solutions"), str(course / "submitted"),
                        str(course / "autograded"), str(course / "feedback"), str(course / "gradebook.db"),
                        str(self.verdict_dir), str(self.root / "gradebook.db"), str(self.root / "solutions"),
                        str(self.root / "submitted")]

    def env(self):
        tmp = self.root / "tmp"
        tmp.mkdir(exist_ok=True)
        return {"AUTOGRADER_VERDICTS_DIR": str(self.verdict_dir), "IPYTHONDIR": str(self.ipython_dir),
                "AUTOGRADER_WRITABLE": os.pathsep.join([str(tmp), str(self.ipython_dir)]),
                "AUTOGRADER_BLOCKED": os.pathsep.join(b for b in self.blocked if b != str(self.verdict_dir)),
                "TMPDIR": str(tmp), "MPLCONFIGDIR": str(tmp), "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}

    def submit(self, student, notebook):
        dest = self.root / "submitted" / student / self.assignment / f"{self.assignment}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, dest)
        return dest

    def judge(self, student, notebook_path):
        """Run the hidden battery in a fresh judge process; returns {function: verdict dict}."""
        proc = subprocess.run(
            [sys.executable, "-m", "autograder.instructor.judge", str(notebook_path), "--assignment",
             self.assignment, *[f"--blocked={b}" for b in self.blocked]],
            capture_output=True, text=True, env=nbgrader_env({"OPENBLAS_NUM_THREADS": "1"}))
        if proc.returncode != 0:
            raise RuntimeError(f"judge failed for {student}/{self.assignment}: {proc.stderr[-2000:]}")
        verdicts = json.loads(proc.stdout)
        (self.verdict_dir / f"{student}__{self.assignment}.json").write_text(json.dumps(verdicts))
        return verdicts

    def autograde(self, students, budget):
        """Stock nbgrader autograde of these students; False if it failed or ran out of time."""
        args = [str(BIN_DIR / "nbgrader"), "autograde", self.assignment, "--force",
                f"--Execute.timeout={self.timeout}"]
        if len(students) == 1:
            args.append(f"--student={students[0]}")
        proc = subprocess.Popen(args, cwd=self.root, env=nbgrader_env(self.env()), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            return proc.wait(timeout=budget) == 0
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            return False

    def graded(self, student):
        return (self.root / "autograded" / student / self.assignment / f"{self.assignment}.ipynb").exists()

    def apply_verdicts(self, student, verdicts):
        """Test cell points come from the judge's verdicts, never from the kernel."""
        scores = {}
        with Gradebook(_db_url(self.root)) as gb:
            submission = gb.find_submission_notebook(self.assignment, self.assignment, student)
            for grade in submission.grades:
                function = grade.name[len("test_"):] if grade.name.startswith("test_") else None
                passed = function in verdicts and verdicts[function]["passed"]
                grade.auto_score = grade.max_score if passed else 0.0
                grade.manual_score = None
                grade.needs_manual_grade = False
                scores[grade.name] = (grade.auto_score, grade.max_score)
            gb.db.commit()
        return scores

    def annotate(self, student, verdicts, notes):
        """Put each function's hidden-test verdict under its test cell, and the grading notes on top,
        so the feedback explains every score without showing the tests."""
        path = self.root / "autograded" / student / self.assignment / f"{self.assignment}.ipynb"
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            function = grade_id[len("test_"):]
            if is_test_cell(cell):
                for output in cell.outputs:
                    if output.output_type == "error":
                        output.traceback = _without_hidden_lines(output.traceback)
            shown = "".join(str(o.get("text", "")) + str(o.get("evalue", "")) for o in cell.get("outputs", []))
            if is_test_cell(cell) and function in verdicts and verdicts[function]["message"] not in shown:
                verdict = verdicts[function]
                head = "PASSED" if verdict["passed"] else "FAILED"
                cell.outputs.append(nbformat.v4.new_output(
                    "stream", name="stdout", text=f"\nHidden tests {head}: {verdict['message']}\n"))
        if notes:
            text = "**Grading notes**\n\n" + "\n".join(f"- {note}" for note in notes)
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(text))
        nbformat.write(nb, path)

    def feedback(self):
        run_nbgrader(["generate_feedback", self.assignment, "--force"], self.root, timeout=600)


HIDDEN_TRACE_MARKERS = ("HIDDEN TESTS", "run_hidden_tests", "autograder/hidden.py", "autograder.hidden")


def _without_hidden_lines(traceback):
    """A traceback with the hidden-test frames and source lines taken out."""
    kept = []
    for entry in traceback:
        if "autograder/hidden.py" in entry:
            continue
        kept.append("\n".join(line for line in entry.splitlines()
                               if not any(marker in line for marker in HIDDEN_TRACE_MARKERS)))
    return kept


def _not_executed(notebook, reason):
    """A copy whose student code is shown as comments instead of being run."""
    nb = copy.deepcopy(notebook)
    for cell in nb.cells:
        if cell.cell_type == "code" and not is_test_cell(cell):
            code = "\n".join("# " + line for line in cell.source.splitlines())
            cell.source = f"# NOT EXECUTED: {reason}\n# Each function was graded on its own in a sandbox.\n{code}"
    return nb


def grade_batch(course, scratch, index, assignment, batch, templates, snapshot, timeout):
    """Grade submissions of one assignment in a private scratch course; returns Outcomes
    (an Outcome with `error` set could not be graded; the others in the batch still are)."""
    job = Job(course, Path(scratch) / f"job-{index}", assignment, snapshot, timeout)
    outcomes, normalized, verdicts = [], {}, {}
    for sub in batch:
        outcome = Outcome(sub.student, assignment, sub.digest())
        outcomes.append(outcome)
        try:
            notebook, outcome.notes = normalize_submission(nbformat.read(sub.path, as_version=4),
                                                           templates[assignment])
            verdicts[sub.student] = job.judge(sub.student, job.submit(sub.student, notebook))
            normalized[sub.student] = notebook
        except Exception as exc:  # noqa: BLE001 - reported for this student only
            outcome.error = f"could not be graded: {type(exc).__name__}: {exc}"
    gradable = [o for o in outcomes if not o.error]
    code_cells = sum(c.cell_type == "code" for c in templates[assignment].cells)
    per_notebook = timeout * code_cells + 120
    if gradable:
        job.autograde([o.student for o in gradable], per_notebook * len(gradable))
    for outcome in gradable:
        if not job.graded(outcome.student):
            reason = "this notebook stopped or stalled the grading kernel"
            job.submit(outcome.student, _not_executed(normalized[outcome.student], reason))
            job.autograde([outcome.student], per_notebook)
            outcome.notes.append(reason + "; its code was graded function by function")
        if job.graded(outcome.student):
            outcome.scores = job.apply_verdicts(outcome.student, verdicts[outcome.student])
            job.annotate(outcome.student, verdicts[outcome.student], outcome.notes)
        else:
            outcome.error = "nbgrader could not grade this notebook"
    if any(not o.error for o in outcomes):
        job.feedback()
    for outcome in outcomes:
        outcome.autograded = job.root / "autograded" / outcome.student / assignment
        outcome.feedback = job.root / "feedback" / outcome.student / assignment
    return outcomes


# --------------------------------------------------------------------------- merge (main process only)

def merge(course, outcome):
    """Write one graded submission into the course: gradebook rows, autograded notebook, feedback."""
    with Gradebook(_db_url(course)) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush noise when creating a submission
        gb.update_or_create_student(outcome.student)
        submission = gb.update_or_create_submission(outcome.assignment, outcome.student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                score, _ = outcome.scores.get(grade.name, (0.0, grade.max_score))
                grade.auto_score, grade.manual_score, grade.needs_manual_grade = score, None, False
        gb.db.commit()
    for kind, src in (("autograded", outcome.autograded), ("feedback", outcome.feedback)):
        dest = course / kind / outcome.student / outcome.assignment
        if dest.exists():
            shutil.rmtree(dest)
        if src and src.exists():
            shutil.copytree(src, dest)


def _load_state(course):
    path = course / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def _save_state(course, state):
    (course / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True))


def _batches(submissions, jobs):
    """Split per assignment into about `jobs` batches each, so every worker stays busy."""
    batches = []
    for assignment in sorted({s.assignment for s in submissions}):
        subs = [s for s in submissions if s.assignment == assignment]
        size = max(1, -(-len(subs) // jobs))
        batches += [(assignment, subs[i:i + size]) for i in range(0, len(subs), size)]
    return batches


def grade_course(course, *, assignments=None, students=None, import_from=None, jobs=None, timeout=30,
                 force=False, progress=print):
    """Grade a course directory; returns a Report (see module docstring)."""
    start = time.perf_counter()
    put_bin_on_path()
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise FileNotFoundError(f"{course} is not a course directory (no nbgrader_config.py)")
    assignments = list(assignments or [a for a in ASSIGNMENTS if (course / "solutions" / a).is_dir()])
    jobs = jobs or os.cpu_count() or 1
    problems = []
    with tempfile.TemporaryDirectory(prefix="autograder-grade-") as scratch:
        templates = _release_templates(course, assignments, scratch)
        if import_from:
            _, import_problems = import_lms(import_from, course / "submitted", assignments)
            problems += import_problems
        found, found_problems = discover(course / "submitted", assignments, _template_ids(templates),
                                         students, _roster(course))
        problems += found_problems
        state = _load_state(course)
        todo, skipped = [], []
        for sub in found:
            key = f"{sub.student}/{sub.assignment}"
            if not force and state.get(key) == sub.digest() and (course / "autograded" / sub.student / sub.assignment).exists():
                skipped.append((sub.student, sub.assignment))
            else:
                todo.append(sub)
        snapshot = Path(scratch) / "gradebook-snapshot.db"
        shutil.copy(course / "gradebook.db", snapshot)
        outcomes = []
        progress(f"grading {len(todo)} submission(s) with {jobs} job(s); {len(skipped)} unchanged, "
                 f"{len(problems)} problem(s)")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(grade_batch, course, scratch, i, a, batch, templates, snapshot, timeout): (a, batch)
                       for i, (a, batch) in enumerate(_batches(todo, jobs))}
            for future in as_completed(futures):
                assignment, batch = futures[future]
                try:
                    results = future.result()
                except Exception as exc:  # one broken batch must not stop the class
                    problems += [Problem(s.student, assignment, f"grading failed: {exc}") for s in batch]
                    continue
                for outcome in results:
                    if outcome.error:
                        problems.append(Problem(outcome.student, assignment, outcome.error))
                        continue
                    merge(course, outcome)
                    state[f"{outcome.student}/{outcome.assignment}"] = outcome.digest
                    _save_state(course, state)
                    score, maximum = _total(outcome)
                    outcomes.append(outcome)
                    progress(f"  [{len(outcomes)}/{len(todo)}] {outcome.student}/{outcome.assignment}: "
                             f"{score:g}/{maximum:g}")
    run_nbgrader(["export", "--to", "grades.csv"], course)
    return Report(course, sorted(outcomes, key=lambda o: (o.student, o.assignment)), problems, skipped,
                  time.perf_counter() - start)


def _roster(course):
    """Student ids listed in the course's students.txt (one per line); empty if there is none,
    and then every well-formed folder in submitted/ is a student."""
    path = course / "students.txt"
    return {line.strip() for line in path.read_text().splitlines() if line.strip()} if path.exists() else set()
