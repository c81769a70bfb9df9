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
from autograder.instructor.judge import NOTEBOOK_BUDGET
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
    """A private scratch course in which nbgrader grades one group of submissions."""

    def __init__(self, course, root, assignments, gradebook_snapshot, timeout):
        self.course, self.root, self.timeout = course, Path(root), timeout
        self.root.mkdir(parents=True)
        shutil.copy(course / "nbgrader_config.py", self.root)
        for assignment in assignments:
            shutil.copytree(course / "solutions" / assignment, self.root / "solutions" / assignment)
        shutil.copy(gradebook_snapshot, self.root / "gradebook.db")
        self.verdict_dir = self.root / "verdicts"
        self.verdict_dir.mkdir()
        self.ipython_dir = self.root / "ipython"
        (self.ipython_dir / "profile_default" / "startup").mkdir(parents=True)
        shutil.copy(INSTRUCTOR_DIR / "kernel_startup.py", self.ipython_dir / "profile_default" / "startup" / "00-guard.py")
        # the grading scratch root holds every job (other students' notebooks) and the gradebook snapshot;
        # student code may read only its own directories in it (writable ones win over blocked ones)
        self.blocked = [str(INSTRUCTOR_DIR), str(course / "solutions"), str(course / "submitted"),
                        str(course / "autograded"), str(course / "feedback"), str(course / "gradebook.db"),
                        str(course / "grades.csv"), str(course / STATE_FILE), str(self.root.parent)]

    def env(self):
        tmp = self.root / "tmp"
        tmp.mkdir(exist_ok=True)
        return {"AUTOGRADER_VERDICTS_DIR": str(self.verdict_dir), "IPYTHONDIR": str(self.ipython_dir),
                "AUTOGRADER_WRITABLE": os.pathsep.join([str(tmp), str(self.ipython_dir)]),
                "AUTOGRADER_BLOCKED": os.pathsep.join(self.blocked),
                "TMPDIR": str(tmp), "MPLCONFIGDIR": str(tmp), "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}

    def notebook_path(self, kind, student, assignment):
        return self.root / kind / student / assignment / f"{assignment}.ipynb"

    def submit(self, student, assignment, notebook):
        dest = self.notebook_path("submitted", student, assignment)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, dest)
        return dest

    def verdict_file(self, student, assignment):
        return self.verdict_dir / f"{student}__{assignment}.json"

    def judge(self, keys):
        """Run the hidden batteries of these (student, assignment) submissions in one judge process
        (each notebook in its own sandbox); returns {key: verdicts}."""
        batch = self.root / "judge-batch.json"
        batch.write_text(json.dumps([{"notebook": str(self.notebook_path("submitted", s, a)), "assignment": a,
                                      "output": str(self.verdict_file(s, a))} for s, a in keys]))
        try:  # the judge bounds each notebook's time itself; this only guards against a stuck judge
            subprocess.run([sys.executable, "-m", "autograder.instructor.judge", "--batch", str(batch),
                            *[f"--blocked={b}" for b in (*self.blocked, self.verdict_dir)]], capture_output=True,
                           text=True, env=nbgrader_env({"OPENBLAS_NUM_THREADS": "1"}),
                           timeout=(NOTEBOOK_BUDGET + 60) * len(keys) + 60)
        except subprocess.TimeoutExpired:
            pass
        verdicts = {}
        for key in keys:
            path = self.verdict_file(*key)
            verdicts[key] = (json.loads(path.read_text()) if path.exists()
                             else {"__error__": "the judge crashed or did not finish"})
        return verdicts

    def autograde(self, budget, assignment="*", student=None):
        """Stock `nbgrader autograde`; False if it failed or ran out of time."""
        args = [str(BIN_DIR / "nbgrader"), "autograde", assignment, "--force", f"--Execute.timeout={self.timeout}"]
        if student:
            args.append(f"--student={student}")
        proc = subprocess.Popen(args, cwd=self.root, env=nbgrader_env(self.env()), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            return proc.wait(timeout=budget) == 0
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            return False

    def graded(self, student, assignment):
        return self.notebook_path("autograded", student, assignment).exists()

    def apply_verdicts(self, gb, student, assignment, verdicts):
        """Test cell points come from the judge's verdicts, never from the kernel."""
        scores = {}
        for grade in gb.find_submission_notebook(assignment, assignment, student).grades:
            function = grade.name[len("test_"):] if grade.name.startswith("test_") else None
            passed = function in verdicts and verdicts[function]["passed"]
            grade.auto_score = grade.max_score if passed else 0.0
            grade.manual_score = None
            grade.needs_manual_grade = False
            scores[grade.name] = (grade.auto_score, grade.max_score)
        gb.db.commit()
        return scores

    def annotate(self, student, assignment, verdicts, notes):
        """Put each function's hidden-test verdict under its test cell, and the grading notes on top,
        so the feedback explains every score without showing the tests."""
        path = self.notebook_path("autograded", student, assignment)
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
        run_nbgrader(["generate_feedback", "*", "--force"], self.root, timeout=1800, check=False)


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


def grade_batch(course, scratch, index, batch, templates, snapshot, timeout, progress=print):
    """Grade a group of submissions in one private scratch course; returns Outcomes (an Outcome
    with `error` set could not be graded; the others in the group still are)."""
    job = Job(course, Path(scratch) / f"job-{index}", sorted({s.assignment for s in batch}), snapshot, timeout)
    outcomes, normalized = {}, {}
    for sub in batch:
        key = (sub.student, sub.assignment)
        outcome = outcomes[key] = Outcome(sub.student, sub.assignment, sub.digest())
        try:
            normalized[key], outcome.notes = normalize_submission(nbformat.read(sub.path, as_version=4),
                                                                  templates[sub.assignment])
            job.submit(sub.student, sub.assignment, normalized[key])
        except Exception as exc:  # noqa: BLE001 - reported for this submission only
            outcome.error = f"could not be graded: {type(exc).__name__}: {exc}"
    verdicts = job.judge([k for k, o in outcomes.items() if not o.error])
    for key, result in verdicts.items():
        if "__error__" in result:
            outcomes[key].error = f"the hidden tests could not run: {result['__error__']}"
    progress(f"  job {index}: hidden tests done for {len(verdicts)} notebook(s); running nbgrader autograde")

    def budget(assignment):
        return timeout * sum(c.cell_type == "code" for c in templates[assignment].cells) + 60
    gradable = [k for k, o in outcomes.items() if not o.error]
    job.autograde(sum(budget(a) for _, a in gradable))
    for student, assignment in gradable:
        if not job.graded(student, assignment):  # on its own (the group run may have been cut short)
            job.autograde(budget(assignment), assignment, student)
        if not job.graded(student, assignment):
            reason = "this notebook stopped or stalled the grading kernel"
            job.submit(student, assignment, _not_executed(normalized[student, assignment], reason))
            job.autograde(budget(assignment), assignment, student)
            outcomes[student, assignment].notes.append(reason + "; its code was graded function by function")
    with Gradebook(_db_url(job.root)) as gb:
        for key in gradable:
            if job.graded(*key):
                outcomes[key].scores = job.apply_verdicts(gb, *key, verdicts[key])
                job.annotate(*key, verdicts[key], outcomes[key].notes)
            else:
                outcomes[key].error = "nbgrader could not grade this notebook"
    if any(not o.error for o in outcomes.values()):
        job.feedback()
    for (student, assignment), outcome in outcomes.items():
        outcome.autograded = job.root / "autograded" / student / assignment
        outcome.feedback = job.root / "feedback" / student / assignment
    return list(outcomes.values())


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
    """`jobs` groups of about the same size, mixing assignments; each group is graded by one
    nbgrader run (its start-up of a few seconds is paid once per group, not per notebook)."""
    groups = [[] for _ in range(max(1, jobs))]
    for i, sub in enumerate(sorted(submissions, key=lambda s: (s.assignment, s.student))):
        groups[i % len(groups)].append(sub)
    return [g for g in groups if g]


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
            futures = {pool.submit(grade_batch, course, scratch, i, batch, templates, snapshot, timeout, progress): batch
                       for i, batch in enumerate(_batches(todo, jobs))}
            for future in as_completed(futures):
                try:
                    results = future.result()
                except Exception as exc:  # one broken group must not stop the class
                    problems += [Problem(s.student, s.assignment, f"grading failed: {exc}") for s in futures[future]]
                    continue
                for outcome in results:
                    if outcome.error:
                        problems.append(Problem(outcome.student, outcome.assignment, outcome.error))
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
