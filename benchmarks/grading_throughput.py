"""Grading throughput: `python -m autograder grade --jobs 2` vs sequential `nbgrader autograde`.

Builds a synthetic class of N students (default 8; cycling perfect / untouched /
one planted bug) for every available exercise, in identical course copies, and
grades them in one run with
  * plain `nbgrader autograde <assignment>` per assignment (sequential, stock nbgrader),
  * `grade --jobs J` (bubblewrap sandbox), and the same with --unsafe-no-sandbox
    (the cost of isolation per notebook),
then prints the wall times, the speed-up, whether every score is identical, and
where the time of `grade` goes per notebook (sandbox execution and hidden tests,
nbgrader's autograde bookkeeping, feedback rendering, merging into the course).

    python benchmarks/grading_throughput.py [--students 8] [--jobs 2]
"""

import argparse
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from nbgrader.api import Gradebook

from autograder.instructor import grading
from autograder.instructor.nbgrader_cli import run_nbgrader
from autograder.instructor.release import assignments_in
from autograder.instructor.synthetic_class import (filled, function_points, scratch_course, solution_answers, submit,
                                                   with_planted_bug)

STUDENT_KINDS = ("perfect", "untouched", "bug")


def build_course(root, students):
    """A scratch course of every assignment in root, with `students` students s<i>_<kind> per
    assignment cycling through STUDENT_KINDS (the planted bug in function i mod the functions);
    returns the assignments."""
    assignments = assignments_in(scratch_course(root))
    for assignment in assignments:
        answers, functions = solution_answers(root, assignment), list(function_points(root, assignment))
        for i in range(students):
            kind = STUDENT_KINDS[i % len(STUDENT_KINDS)]
            chosen = {"perfect": answers, "untouched": {},
                      "bug": with_planted_bug(answers, functions[i % len(functions)])}[kind]
            submit(root, f"s{i:02d}_{kind}", assignment, filled(root, assignment, chosen))
    return assignments


def scores(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {(s.student.id, s.assignment.name): s.score for a in gb.assignments
                for s in gb.assignment_submissions(a.name)}


class StepClock:
    """Seconds spent in each step of `grade`, summed over its jobs (wall time inside each job)."""

    def __init__(self):
        self.seconds = defaultdict(float)

    def wrap(self, owner, name, label):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                step = label(*args) if callable(label) else label
                self.seconds[step] += time.perf_counter() - start
        setattr(owner, name, timed)
        return original


def timed_grade(course, jobs, unsafe, clock=None):
    """Wall time of grade_course on the course; with a clock, the per-step split too."""
    originals = []
    if clock:
        originals = [(grading.Job, "judge", clock.wrap(grading.Job, "judge", "sandbox: execute + hidden tests")),
                     (grading.Job, "run_nbgrader_steps",
                      clock.wrap(grading.Job, "run_nbgrader_steps", "nbgrader: autograde + feedback")),
                     (grading, "merge", clock.wrap(grading, "merge", "merge into the course"))]
    start = time.perf_counter()
    try:
        grading.grade_course(course, jobs=jobs, unsafe=unsafe, progress=lambda *_: None)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        courses = {name: Path(tmp) / name for name in ("sequential", "sandboxed", "unsandboxed")}
        courses["sequential"].mkdir()
        assignments = build_course(courses["sequential"], args.students)
        for name in ("sandboxed", "unsandboxed"):
            shutil.copytree(courses["sequential"], courses[name])
        n = args.students * len(assignments)
        print(f"{args.students} students x {len(assignments)} assignments = {n} notebooks")

        start = time.perf_counter()
        for assignment in assignments:
            run_nbgrader(["autograde", assignment, "--force"], courses["sequential"])
        t_seq = time.perf_counter() - start
        print(f"sequential nbgrader autograde      : {t_seq:7.1f} s  ({t_seq / n:.2f} s/notebook)")

        clock = StepClock()
        t_par = timed_grade(courses["sandboxed"], args.jobs, unsafe=False, clock=clock)
        print(f"grade --jobs {args.jobs}                     : {t_par:7.1f} s  ({t_par / n:.2f} s/notebook, "
              "including feedback, export and the class report)")
        t_bare = timed_grade(courses["unsandboxed"], args.jobs, unsafe=True)
        print(f"grade --jobs {args.jobs} --unsafe-no-sandbox : {t_bare:7.1f} s  ({t_bare / n:.2f} s/notebook)")

        same = scores(courses["sequential"]) == scores(courses["sandboxed"]) == scores(courses["unsandboxed"])
        print(f"speed-up over sequential nbgrader: {t_seq / t_par:.2f}x; identical scores for all {n} notebooks: "
              f"{same}")
        print(f"isolation overhead: {100 * (t_par - t_bare) / t_bare:+.1f} % "
              f"({(t_par - t_bare) / n:+.3f} s/notebook)")
        print("where grade's time goes (summed over jobs, per notebook):")
        for step, seconds in sorted(clock.seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {step:34s} {seconds / n:6.2f} s")
        return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
