"""`python -m autograder grade`: parallel grading on stock nbgrader, student code only in the sandbox.

The invariant: **nothing that decides a point is reachable from student code.**
Student code runs in exactly one place, the judge's sandbox process inside
bubblewrap (autograder.instructor.isolation), which sees none of the files
below and reaches the judge only through a pipe whose replies are validated.
The course gradebook, each job's gradebook, the recordings, the verdicts and the
state file live outside every sandbox; verdicts reach the main process as the
judge's output (never re-read from a place student code could write); merged
points are computed from verdicts and the maxima of the course's own gradebook.

For every submission (student x assignment):
  1. the file is validated (size, JSON, nbformat schema: submissions.py) and
     rebuilt on the released template (normalize.py);
  2. the judge executes the notebook once in the sandbox, recording each cell's
     outputs, and runs the hidden battery against the loaded functions;
  3. in a private scratch course (the job: no student code runs there) stock
     `nbgrader autograde` runs with RecordedOutputs in place of its Execute step
     (recorded_outputs.py), the verdicts and any manual grades are applied to
     the job's gradebook and `nbgrader generate_feedback` renders the feedback, all
     in one nbgrader process (job_steps.py);
  4. the main process, the single writer, merges each result into the course:
     points from the verdicts, manual scores and comments kept (flagged for
     re-review if the submission changed), files copied as data (job_files.py).
A job is plain data in and plain data out (`grade_batch`), so it runs the same
in a local thread or on a cluster worker (cluster.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from autograder.instructor import course_config, isolation, job_files, protocol
from autograder.instructor.class_report import build_class_report
from autograder.instructor.job_steps import score_from_verdicts
from autograder.instructor.nbgrader_cli import nbgrader_env, put_bin_on_path, run_nbgrader
from autograder.instructor.normalize import normalize_submission
from autograder.instructor.release import assignments_in
from autograder.instructor.settings import CELL_TIMEOUT, judge_timeout, nbgrader_steps_timeout
from autograder.instructor.submissions import Problem, discover, import_lms
from autograder.notebook_code import grade_id, notebook_code_cells

STATE_FILE = ".autograder-state.json"
REPORT_FILE = "report.html"
GRADES_FILE = "grades.csv"


@dataclass
class Outcome:
    """What grading one submission produced (a job's result, merged by the main process)."""

    student: str
    assignment: str
    digest: str
    verdicts: dict = field(default_factory=dict)  # function -> {"passed", "message", "cases", "failed", "parts"}
    notes: list = field(default_factory=list)
    files: dict = field(default_factory=dict)  # "autograded" | "feedback" -> {relative path: bytes}
    error: str = ""
    scores: dict = field(default_factory=dict)  # test cell grade_id -> (score, max), set by merge


@dataclass
class Report:
    course: Path
    outcomes: list
    problems: list
    skipped: list
    seconds: float
    manual_kept: int = 0
    manual_flagged: list = field(default_factory=list)  # "student/assignment/cell" to review again
    warnings: list = field(default_factory=list)
    class_report: str = ""

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


# --------------------------------------------------------------------------- one job (plain data in and out)

@dataclass
class BatchTask:
    """Everything a job needs, as data: no access to the course is required."""

    index: int
    config: str  # the course's nbgrader_config.py (the job appends its own overrides)
    solutions: dict  # assignment -> {relative path: bytes} (nbgrader autograde copies its non-notebook files)
    gradebook: bytes  # a sqlite gradebook that knows every assignment (its source and grade cells)
    templates: dict  # assignment -> released notebook (JSON text)
    submissions: list  # [{"student", "assignment", "digest", "notebook": bytes, "manual": {...}, "extra": {...}}]
    timeout: float  # seconds per cell
    unsafe: bool = False


class Job:
    """A private scratch course in which stock nbgrader grades one group of submissions (its layout:
    protocol.py)."""

    def __init__(self, root, task):
        self.root, self.task = Path(root), task
        self.recordings = self.root / protocol.RECORDINGS
        self.recordings.mkdir(parents=True)
        (self.root / course_config.CONFIG_FILE).write_text(task.config + protocol.job_config_overrides(self.root))
        for assignment, files in task.solutions.items():
            for relative, data in files.items():
                path = self.root / "source" / assignment / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        (self.root / protocol.GRADEBOOK).write_bytes(task.gradebook)

    def path(self, kind, student, assignment):
        return self.root / kind / student / assignment / f"{assignment}.ipynb"

    def run_nbgrader_steps(self, submissions):
        """autograde, the points, generate_feedback (job_steps.py) in the job course; False if it
        failed or ran out of time. submissions: [{"student", "assignment", "verdicts", "manual"}]."""
        protocol.write_grades(self.root, submissions)
        proc = subprocess.Popen(protocol.job_steps_command(self.root), cwd=self.root, env=nbgrader_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            return proc.wait(timeout=nbgrader_steps_timeout(len(submissions))) == 0
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False

    def judge(self, notebooks):
        """Execute and judge {key: (assignment, notebook)} in one judge process; {key: result}."""
        request = protocol.judge_request({key: (a, notebook_code_cells(nb)) for key, (a, nb) in notebooks.items()},
                                         self.task.timeout, self.task.unsafe)
        try:  # the judge bounds each notebook's time itself; this only guards against a stuck judge
            proc = subprocess.run(protocol.judge_batch_command(), input=request, capture_output=True, text=True,
                                  env=nbgrader_env(), timeout=judge_timeout(len(notebooks)))
            lines = proc.stdout.splitlines()
        except subprocess.TimeoutExpired as exc:
            lines = (exc.stdout or b"").decode(errors="replace").splitlines()
        return protocol.read_results(lines)

def grade_batch(task, workdir):
    """Grade a group of submissions in a private scratch course under workdir; returns [Outcome]
    (an Outcome with `error` set could not be graded; the others in the group still are)."""
    job = Job(Path(workdir) / f"job-{task.index}", task)
    outcomes, notebooks = {}, {}
    for sub in task.submissions:
        key = f"{sub['student']}/{sub['assignment']}"
        outcome = outcomes[key] = Outcome(sub["student"], sub["assignment"], sub["digest"])
        try:
            template = nbformat.reads(task.templates[sub["assignment"]], as_version=4)
            nb, outcome.notes = normalize_submission(nbformat.reads(sub["notebook"].decode("utf-8"), as_version=4),
                                                     template)
            path = job.path("submitted", sub["student"], sub["assignment"])
            job_files.replace_folder(path.parent, sub.get("extra", {}))
            nbformat.write(nb, path)
            notebooks[key] = (sub["assignment"], nb)
        except Exception as exc:  # noqa: BLE001 - reported for this submission only
            outcome.error = f"could not be graded: {type(exc).__name__}: {exc}"
    results = job.judge(notebooks) if notebooks else {}
    for key in notebooks:
        result, outcome = results.get(key), outcomes[key]
        if result is None or "error" in result:
            outcome.error = f"the hidden tests could not run: {(result or {}).get('error', 'the judge did not finish')}"
            continue
        outcome.verdicts = result["verdicts"]
        recording = {"outputs": result["outputs"], "verdicts": outcome.verdicts, "notes": outcome.notes}
        path = protocol.recording_path(job.recordings, outcome.student, outcome.assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(recording))
    gradable = [o for o in outcomes.values() if not o.error]
    manual = {f"{s['student']}/{s['assignment']}": s.get("manual", {}) for s in task.submissions}
    if gradable:
        job.run_nbgrader_steps([{"student": o.student, "assignment": o.assignment, "verdicts": o.verdicts,
                                 "manual": manual[f"{o.student}/{o.assignment}"]} for o in gradable])
    for outcome in gradable:
        if not job.path("autograded", outcome.student, outcome.assignment).exists():
            outcome.error = "nbgrader could not process this notebook"
    for outcome in outcomes.values():
        if not outcome.error:
            for kind in ("autograded", "feedback"):
                outcome.files[kind], skipped = job_files.collect(job.root / kind / outcome.student / outcome.assignment)
                outcome.notes += skipped
    return list(outcomes.values())


# --------------------------------------------------------------------------- course set-up (main process)

def _release_templates(config, assignments, scratch):
    """The released notebook of each assignment; an assignment the course's gradebook does not know
    yet is generated first (into scratch: the committed release stays as it is) so that it does."""
    with Gradebook(config.db_url) as gb:
        known = {a.name for a in gb.assignments}
    templates = {}
    for assignment in assignments:
        committed = config.directory("release") / assignment / f"{assignment}.ipynb"
        if assignment not in known or not committed.exists():
            run_nbgrader(["generate_assignment", assignment, "--force",
                          f"--CourseDirectory.release_directory={Path(scratch) / 'release'}"], config.course)
        if not committed.exists():
            committed = Path(scratch) / "release" / assignment / f"{assignment}.ipynb"
        templates[assignment] = nbformat.read(committed, as_version=4)
    return templates


def _job_gradebook(config, assignments, scratch):
    """A sqlite gradebook that knows every assignment, for the jobs (bytes): the course's own file
    when it is sqlite and knows them all, else one made by `nbgrader generate_assignment`."""
    sqlite = config.sqlite_path
    if sqlite is not None and sqlite.exists():
        with Gradebook(config.db_url) as gb:
            known = {a.name for a in gb.assignments}
        if set(assignments) <= known:
            return sqlite.read_bytes()
    made = Path(scratch) / "job-template.db"
    for assignment in assignments:
        run_nbgrader(["generate_assignment", assignment, "--force", f"--CourseDirectory.db_url=sqlite:///{made}",
                      f"--CourseDirectory.release_directory={Path(scratch) / 'release-for-jobs'}"], config.course)
    return made.read_bytes()


def _solution_files(config, assignment):
    folder = config.directory("source") / assignment
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink() and ".ipynb_checkpoints" not in p.parts}


def _template_ids(templates):
    return {a: {grade_id(c) for c in nb.cells} - {None} for a, nb in templates.items()}


def _batches(submissions, jobs):
    """`jobs` groups of about the same size, each a contiguous run of the submissions sorted by
    assignment: a group is graded by one nbgrader run (its start-up of a few seconds is paid once
    per group, not per notebook) and typesets the feedback math of as few assignments as possible."""
    ordered = sorted(submissions, key=lambda s: (s.assignment, s.student))
    count = max(1, min(jobs, len(ordered)))
    return [group for i in range(count)
            if (group := ordered[i * len(ordered) // count:(i + 1) * len(ordered) // count])]


# --------------------------------------------------------------------------- merge (main process only)

def _manual_grades(gb, student, assignment):
    """The manual scores, extra credit and comments the course's gradebook holds for a submission."""
    try:
        notebook = gb.find_submission_notebook(assignment, assignment, student)
    except MissingEntry:
        return {}
    return {"scores": {g.name: g.manual_score for g in notebook.grades if g.manual_score is not None},
            "extra_credit": {g.name: g.extra_credit for g in notebook.grades if g.extra_credit},
            "comments": {c.name: c.manual_comment for c in notebook.comments if c.manual_comment}}


def merge(config, outcome, changed, report):
    """Write one graded submission into the course: gradebook rows (points from the verdicts, maxima
    from the course's gradebook, manual grades kept), autograded notebook and feedback."""
    with Gradebook(config.db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush noise when creating a submission
        student = gb.update_or_create_student(outcome.student)
        if student.first_name is None and student.last_name is None:  # formgrader would list "None, None"
            student.first_name, student.last_name = "", outcome.student
        submission = gb.update_or_create_submission(outcome.assignment, outcome.student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                score_from_verdicts(grade, outcome.verdicts)
                if grade.manual_score is None:
                    grade.needs_manual_grade = False
                else:  # kept; flagged while a review is due: still pending, or the student's code changed
                    report.manual_kept += 1
                    grade.needs_manual_grade = bool(grade.needs_manual_grade or changed)
                    if grade.needs_manual_grade:
                        report.manual_flagged.append(f"{outcome.student}/{outcome.assignment}/{grade.name}")
                outcome.scores[grade.name] = (grade.manual_score if grade.manual_score is not None
                                              else grade.auto_score, grade.max_score)
        gb.db.commit()
    for kind in ("autograded", "feedback"):
        job_files.replace_folder(config.directory(kind) / outcome.student / outcome.assignment,
                                 outcome.files.get(kind, {}))


def _load_state(course):
    path = course / STATE_FILE
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}


def _record_graded(course, key, digest):
    """Note in the state file that `key` was graded at `digest` (locked: runs on disjoint
    --assignment sets may finish at the same time, and neither may lose the other's entries).
    The lock is on the course directory itself, so no lock file is left in the course."""
    lock = os.open(course, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = _load_state(course)
        state[key] = digest
        tmp = course / f"{STATE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(tmp, course / STATE_FILE)
    finally:
        os.close(lock)


def _export_grades(course):
    """`nbgrader export` to GRADES_FILE (written beside it, then moved over whatever is there)."""
    tmp = course / f".{GRADES_FILE}.{os.getpid()}.tmp"  # two runs at once (disjoint --assignment) may export
    run_nbgrader(["export", "--to", str(tmp)], course)
    os.replace(tmp, course / GRADES_FILE)


def grade_course(course, *, assignments=None, students=None, import_from=None, jobs=None, timeout=CELL_TIMEOUT,
                 force=False, unsafe=False, scheduler=None, progress=print):
    """Grade a course directory; returns a Report (see module docstring)."""
    start = time.perf_counter()
    put_bin_on_path()
    course = Path(course).resolve()
    config = course_config.load(course)  # one-line error for a missing or broken configuration
    warnings_ = []
    if unsafe:
        warnings_.append("--unsafe-no-sandbox: student code ran without the operating-system sandbox "
                         "(only the audit hook stood between it and this machine)")
    else:
        isolation.require_isolation()
    assignments = list(assignments or assignments_in(course))
    jobs = jobs or os.cpu_count() or 1
    problems = []
    report = Report(course, [], problems, [], 0.0, warnings=warnings_)
    with tempfile.TemporaryDirectory(prefix="autograder-grade-") as scratch:
        templates = _release_templates(config, assignments, scratch)
        if import_from:
            _, import_problems = import_lms(import_from, config.directory("submitted"), assignments)
            problems += import_problems
        found, found_problems = discover(config.directory("submitted"), assignments, _template_ids(templates),
                                         students, _roster(course))
        problems += found_problems
        state = _load_state(course)
        todo = []
        for sub in found:
            key = f"{sub.student}/{sub.assignment}"
            graded = config.directory("autograded") / sub.student / sub.assignment
            if not force and state.get(key) == sub.digest() and graded.exists():
                report.skipped.append((sub.student, sub.assignment))
            else:
                todo.append(sub)
        progress(f"grading {len(todo)} submission(s) with {jobs} job(s); {len(report.skipped)} unchanged, "
                 f"{len(problems)} problem(s)")
        tasks = []
        if todo:
            shared = dict(config=(course / course_config.CONFIG_FILE).read_text(),
                          solutions={a: _solution_files(config, a) for a in assignments},
                          gradebook=_job_gradebook(config, assignments, scratch),
                          templates={a: nbformat.writes(nb) for a, nb in templates.items()},
                          timeout=timeout, unsafe=unsafe)
            with Gradebook(config.db_url) as gb:
                for index, batch in enumerate(_batches(todo, jobs)):
                    subs = [{"student": s.student, "assignment": s.assignment, "digest": s.digest(),
                             "notebook": s.path.read_bytes(), "manual": _manual_grades(gb, s.student, s.assignment),
                             "extra": job_files.submission_extras(s.path.parent)} for s in batch]
                    tasks.append(BatchTask(index=index, submissions=subs, **shared))
        for task, results in _run_tasks(tasks, jobs, scratch, scheduler, problems):
            for outcome in results:
                if outcome.error:
                    problems.append(Problem(outcome.student, outcome.assignment, outcome.error))
                    continue
                key = f"{outcome.student}/{outcome.assignment}"
                merge(config, outcome, key in state and state[key] != outcome.digest, report)
                _record_graded(course, key, outcome.digest)
                report.outcomes.append(outcome)
                score, maximum = _total(outcome)
                progress(f"  [{len(report.outcomes)}/{len(todo)}] {key}: {score:g}/{maximum:g}")
    _export_grades(course)
    report.outcomes.sort(key=lambda o: (o.student, o.assignment))
    report.class_report = build_class_report(
        [{"student": o.student, "assignment": o.assignment, "score": _total(o)[0], "max_score": _total(o)[1],
          "verdicts": o.verdicts} for o in report.outcomes], course / REPORT_FILE)
    report.seconds = time.perf_counter() - start
    return report


def _run_tasks(tasks, jobs, scratch, scheduler, problems):
    """Yield (task, [Outcome]) as jobs finish: local threads, or a Dask cluster with `scheduler`."""
    if scheduler:
        from autograder.instructor.cluster import run_on_cluster
        yield from run_on_cluster(tasks, scheduler, problems)
        return
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_batch, task, scratch): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield task, future.result()
            except Exception as exc:  # noqa: BLE001 - one broken group must not stop the class
                problems += [Problem(s["student"], s["assignment"], f"grading failed: {exc}") for s in task.submissions]


def _roster(course):
    """Student ids listed in the course's students.txt (one per line); empty if there is none,
    and then every well-formed folder in submitted/ is a student."""
    path = course / "students.txt"
    return {line.strip() for line in path.read_text().splitlines() if line.strip()} if path.exists() else set()
