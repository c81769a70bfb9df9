"""Regenerating the student release with nbgrader, and the student bundle (zip).

    python -m autograder release    ->  exercises/ regenerated from solutions/,
                                        dist/student-release.zip built
The release is stock `nbgrader generate_assignment` for every assignment, nothing
after it: what the course needs (test cells tagged `raises-exception`, stable
notebook metadata) is done by the preprocessors nbgrader_config.py configures
(autograder/instructor/nbgrader_plugins.py), so formgrader's Generate button
makes the same release.
The bundle holds lectures/, exercises/, the student-facing modules of
`autograder` (STUDENT_MODULES), a student README, pyproject.toml and
environment.yml. Nothing from solutions/ or autograder/instructor/ goes in.
"""

import zipfile
from pathlib import Path

from autograder.instructor import course_config
from autograder.instructor.batteries import ASSIGNMENTS
from autograder.instructor.nbgrader_cli import run_nbgrader
from autograder.instructor.settings import GENERATE_TIMEOUT

PACKAGE_DIR = Path(__file__).resolve().parents[1]
STUDENT_FILES = Path(__file__).resolve().parent / "student_files"
STUDENT_MODULES = ("__init__.py", "__main__.py", "cli.py", "gradcheck.py", "gradcheck_demo.py", "notebook_code.py",
                   "selfcheck.py")


def assignments_in(course):
    """The assignments of the course (its nbgrader source folders) that have a hidden battery: what
    is released and graded."""
    return [a for a in course_config.assignments(course) if a in ASSIGNMENTS]


def generate_release(course, release_dir=None):
    """Stock nbgrader generate_assignment for every assignment of the course, into release_dir
    (default: the course's release directory, exercises/). Returns the release directory."""
    course = Path(course).resolve()
    release_dir = Path(release_dir or course_config.load(course).directory("release")).resolve()
    for assignment in assignments_in(course):
        run_nbgrader(["generate_assignment", assignment, "--force",
                      f"--CourseDirectory.release_directory={release_dir}"], course, timeout=GENERATE_TIMEOUT)
    return release_dir


def build_bundle(course, zip_path):
    """Zip the student bundle from the course's lectures/ and exercises/."""
    course = Path(course).resolve()
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for folder in ("lectures", "exercises"):
            for path in sorted((course / folder).rglob("*")):
                if path.is_file() and ".ipynb_checkpoints" not in path.parts and path.suffix in {".ipynb", ".cfg"}:
                    bundle.write(path, path.relative_to(course).as_posix())
        for name in STUDENT_MODULES:
            bundle.write(PACKAGE_DIR / name, f"autograder/{name}")
        for path in sorted(STUDENT_FILES.iterdir()):
            bundle.write(path, path.name)
    return zip_path


def build_release(course, zip_path):
    generate_release(course)
    return build_bundle(course, Path(course) / zip_path if not Path(zip_path).is_absolute() else zip_path)
