"""The course's command line: python -m autograder COMMAND (COMMAND --help for its options).

`check` and `gradcheck-demo` are for students; `release`, `grade` and `demo` for instructors:
they exist only where `autograder.instructor` does (not in the student bundle,
whose --help lists the student commands alone) and import it only when they run.
"""

import argparse
import importlib.util
import sys
from pathlib import Path


def _check(args):
    from autograder.selfcheck import main as selfcheck_main
    return selfcheck_main(args.notebook, timeout=args.timeout)


def _release(args):
    from autograder.instructor.release import build_release
    zip_path = build_release(Path(args.course), Path(args.output))
    print(f"release regenerated in {Path(args.course) / 'exercises'}; student bundle: {zip_path}")
    return 0


def _grade(args):
    from autograder.instructor import grading
    from autograder.instructor.course_config import CourseConfigError
    from autograder.instructor.isolation import IsolationUnavailable
    try:
        report = grading.grade_course(args.course, assignments=args.assignment, students=args.student,
                                      import_from=args.import_from, jobs=args.jobs, timeout=args.timeout,
                                      force=args.force, unsafe=args.unsafe_no_sandbox, scheduler=args.scheduler)
    except (IsolationUnavailable, CourseConfigError) as exc:
        sys.exit(f"grade: {exc}")
    print()
    print(report.table())
    print(f"\ngraded {len(report.outcomes)} submission(s) in {report.seconds:.1f} s; "
          f"grades: {report.course / grading.GRADES_FILE}; feedback: {report.course / 'feedback'}; "
          f"class report: {report.course / grading.REPORT_FILE}")
    if report.manual_kept:
        print(f"\nkept {report.manual_kept} manual score(s); {len(report.manual_flagged)} flagged for re-review "
              "(the submission changed since they were given)" + "".join(f"\n  - {c}" for c in report.manual_flagged))
    if report.problems:
        print(f"\n{len(report.problems)} problem(s):")
        for problem in report.problems:
            print(f"  - {problem}")
    for warning in report.warnings:
        print(f"\nWARNING: {warning}")
    if report.class_report:
        print("\n" + report.class_report)
    return 0


def _demo(args):
    from autograder.instructor.demo import main as demo_main
    return demo_main(Path(args.course_dir))


def _gradcheck_demo(args):
    from autograder.gradcheck_demo import main as gradcheck_demo_main
    return gradcheck_demo_main()


def build_parser():
    from autograder.selfcheck import CELL_TIMEOUT as CHECK_CELL_TIMEOUT

    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="self-check a notebook with its public tests (students)")
    p.add_argument("notebook", type=Path)
    p.add_argument("--timeout", type=int, default=CHECK_CELL_TIMEOUT,
                   help=f"seconds per cell (default: {CHECK_CELL_TIMEOUT})")
    p.set_defaults(func=_check)

    p = sub.add_parser("gradcheck-demo", help="the gradient checker on the affine layer")
    p.set_defaults(func=_gradcheck_demo)
    if importlib.util.find_spec("autograder.instructor") is not None:
        _add_instructor_commands(sub)
    return parser


def _add_instructor_commands(sub):
    from autograder.instructor.settings import CELL_TIMEOUT  # imports nothing else

    p = sub.add_parser("release", help="regenerate exercises/ and build dist/student-release.zip")
    p.add_argument("--course", default=".", help="course root (default: .)")
    p.add_argument("--output", default="dist/student-release.zip")
    p.set_defaults(func=_release)

    p = sub.add_parser("grade", help="autograde submitted/ (parallel, sandboxed) and write feedback + grades.csv")
    p.add_argument("--course", default=".", help="course root holding nbgrader_config.py (default: .)")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--import", dest="import_from", help="first import <student>_<assignment>.ipynb files "
                                                        "from this folder or .zip (an LMS download)")
    p.add_argument("--jobs", type=int, default=None, help="parallel jobs (default: number of cores)")
    p.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help=f"seconds per cell (default: {CELL_TIMEOUT})")
    p.add_argument("--force", action="store_true", help="regrade submissions that did not change")
    p.add_argument("--scheduler", help="run the jobs on a Dask cluster (tcp://HOST:PORT of its scheduler)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code without bubblewrap (audit hook only): never for grades that count")
    p.set_defaults(func=_grade)

    p = sub.add_parser("demo", help="the instructor pipeline end to end on a synthetic class")
    p.add_argument("--course-dir", default="demo-course", help="scratch course directory (recreated)")
    p.set_defaults(func=_demo)


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
