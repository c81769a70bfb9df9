"""Grading throughput: `python -m autograder grade --jobs 2` vs sequential `nbgrader autograde`.

Builds a synthetic class of N students (default 8; cycling perfect / untouched /
one planted bug) for every available exercise, in two identical course copies;
grades one copy with plain `nbgrader autograde <assignment>` per assignment
(sequential, as nbgrader does it) and the other with the parallel pipeline;
prints both wall times, the speed-up and whether every score is identical.

    python benchmarks/grading_throughput.py [--students 8] [--jobs 2]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbgrader.api import Gradebook

from autograder.instructor.demo import PLANTED_BUG, solution_answers, test_points, write_student
from autograder.instructor.nbgrader_cli import run_nbgrader
from autograder.instructor.release import assignments_in, generate_release

REPO = Path(__file__).resolve().parents[1]


def build_course(root, students):
    shutil.copy(REPO / "nbgrader_config.py", root)
    assignments = assignments_in(REPO)
    for assignment in assignments:
        shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
    generate_release(root)
    for assignment in assignments:
        answers, points = solution_answers(root, assignment), list(test_points(root, assignment))
        for i in range(students):
            kind = ("perfect", "untouched", "bug")[i % 3]
            chosen = {} if kind == "untouched" else dict(answers)
            if kind == "bug":
                target = points[i % len(points)]
                chosen[target] = answers[target] + PLANTED_BUG.format(name=target)
            write_student(root, f"s{i:02d}_{kind}", assignment, chosen)
    return assignments


def scores(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {(s.student.id, s.assignment.name): s.score for a in gb.assignments
                for s in gb.assignment_submissions(a.name)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sequential, parallel = Path(tmp) / "sequential", Path(tmp) / "parallel"
        sequential.mkdir()
        assignments = build_course(sequential, args.students)
        shutil.copytree(sequential, parallel)
        n = args.students * len(assignments)
        print(f"{args.students} students x {len(assignments)} assignments = {n} notebooks")

        start = time.perf_counter()
        for assignment in assignments:
            run_nbgrader(["autograde", assignment, "--force"], sequential)
        t_seq = time.perf_counter() - start
        print(f"sequential nbgrader autograde : {t_seq:7.1f} s  ({t_seq / n:.2f} s/notebook)")

        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autograder", "grade", "--course", str(parallel),
                        "--jobs", str(args.jobs)], check=True, capture_output=True)
        t_par = time.perf_counter() - start
        print(f"autograder grade --jobs {args.jobs}    : {t_par:7.1f} s  ({t_par / n:.2f} s/notebook, "
              "including feedback and export)")

        same = scores(sequential) == scores(parallel)
        print(f"speed-up: {t_seq / t_par:.2f}x; identical scores for all {n} notebooks: {same}")
        return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
