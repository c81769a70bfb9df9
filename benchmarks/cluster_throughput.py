"""Grading on a Dask cluster: seconds per notebook per worker, and what the task size costs.

Builds the synthetic class of grading_throughput.py (N students cycling perfect /
untouched / one planted bug, for every exercise), starts `dask scheduler` and W
single-threaded `dask worker`s on 127.0.0.1 (tests/test_cluster.DaskCluster), and
grades the class with `grade --scheduler` once per task size (notebooks per task:
--jobs = ceil(notebooks / size)), --force each time; then once locally with
--jobs W for comparison. Prints the wall time, seconds per notebook, seconds per
notebook per worker (wall x W / notebooks) and what that means for 5,000 students
x 5 notebooks.

    python benchmarks/cluster_throughput.py [--students 4] [--workers 1] [--sizes 1 5 20]
"""

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.test_cluster: the cluster the tests start

from grading_throughput import build_course, scores  # noqa: E402 - benchmarks/ is this script's folder

from autograder.instructor import grading  # noqa: E402
from tests.test_cluster import DaskCluster  # noqa: E402


def timed(course, **options):
    start = time.perf_counter()
    report = grading.grade_course(course, force=True, timeout=30, progress=lambda *_: None, **options)
    assert not report.problems, [str(p) for p in report.problems]
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 20], help="notebooks per task")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        course.mkdir()
        assignments = build_course(course, args.students)
        n = args.students * len(assignments)
        print(f"{args.students} students x {len(assignments)} assignments = {n} notebooks; "
              f"{args.workers} worker(s) x 1 thread")
        reference = None
        dask = DaskCluster(Path(tmp) / "dask", workers=args.workers)
        try:
            per_worker = {}
            for size in args.sizes:
                jobs = math.ceil(n / size)
                wall = timed(course, jobs=jobs, scheduler=dask.address)
                reference = reference or scores(course)
                assert scores(course) == reference
                per_worker[size] = wall * args.workers / n
                print(f"grade --scheduler, {size:3d} notebook(s)/task ({jobs:3d} tasks): {wall:7.1f} s  "
                      f"{wall / n:5.2f} s/notebook  {per_worker[size]:5.2f} s/notebook/worker")
        finally:
            dask.stop()
        wall = timed(course, jobs=args.workers)
        assert scores(course) == reference
        print(f"grade --jobs {args.workers} (this machine, {args.workers} batch(es))     : {wall:7.1f} s  "
              f"{wall / n:5.2f} s/notebook  {wall * args.workers / n:5.2f} s/notebook/thread")
        best = min(per_worker.values())
        print(f"5,000 students x 5 notebooks = 25,000 notebooks at {best:.2f} s/notebook/worker: "
              + ", ".join(f"{w} workers {25_000 * best / w / 3600:.1f} h" for w in (10, 50, 100, 200)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
