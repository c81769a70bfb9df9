"""Regenerating the student release with nbgrader, and the student bundle (zip).

    python -m autograder release    ->  exercises/ regenerated from solutions/,
                                        dist/student-release.zip built
The bundle holds lectures/, exercises/, the student-facing modules of
`autograder` (STUDENT_MODULES), a student README, pyproject.toml and
environment.yml. Nothing from solutions/ or autograder/instructor/ goes in.
"""

import zipfile
from pathlib import Path

import nbformat

from autograder.instructor.batteries import ASSIGNMENTS
from autograder.instructor.nbgrader_cli import run_nbgrader
from autograder.notebook_code import is_test_cell

PACKAGE_DIR = Path(__file__).resolve().parents[1]
STUDENT_FILES = Path(__file__).resolve().parent / "student_files"
STUDENT_MODULES = ("__init__.py", "__main__.py", "cli.py", "gradcheck.py", "gradcheck_demo.py", "selfcheck.py")
KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info")


def assignments_in(course):
    return [a for a in ASSIGNMENTS if (Path(course) / "solutions" / a / f"{a}.ipynb").exists()]


def tidy_release_notebook(path):
    """Test cells raise NotImplementedError in the release: tag them so that
    nbval --nbval-lax accepts the error; keep only stable notebook metadata."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if is_test_cell(cell):
            tags = cell.metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")
    nbformat.write(nb, path)


def generate_release(course, release_dir=None):
    """nbgrader generate_assignment for every assignment of the course, into release_dir
    (default: the course's exercises/). Returns the release directory."""
    course = Path(course).resolve()
    release_dir = Path(release_dir or course / "exercises").resolve()
    for assignment in assignments_in(course):
        run_nbgrader(["generate_assignment", assignment, "--force",
                      f"--CourseDirectory.release_directory={release_dir}"], course, timeout=600)
        tidy_release_notebook(release_dir / assignment / f"{assignment}.ipynb")
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
