"""Files that come back from a grading job, as data, and how they go into the course.

A job's autograded notebook and feedback folder are read without following
symlinks, regular files only, with per-file and per-submission size limits (settings.py); in
the course they replace the submission's folder, written only under it (no
path may leave it).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path, PurePosixPath

from autograder.instructor.settings import EXTRA_FILE_BYTES, JOB_FILE_BYTES, JOB_FOLDER_BYTES


def collect(folder):
    """({relative path: bytes}, [why a file was left out]) for the regular files under folder."""
    files, skipped, total = {}, [], 0
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return files, skipped
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in sorted(filenames):
            path = Path(dirpath) / name
            relative = path.relative_to(folder).as_posix()
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                skipped.append(f"{relative} was left out (not a regular file)")
            elif info.st_size > JOB_FILE_BYTES or total + info.st_size > JOB_FOLDER_BYTES:
                skipped.append(f"{relative} was left out ({info.st_size} bytes is over the size limit)")
            else:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                with os.fdopen(fd, "rb") as file:
                    files[relative] = file.read(JOB_FILE_BYTES + 1)[:JOB_FILE_BYTES]
                total += info.st_size
    return files, skipped


SUBMISSION_EXTRAS = ("timestamp.txt", "submission_secret.txt")  # what nbgrader collect puts beside a notebook


def submission_extras(folder):
    """{name: bytes} of nbgrader's small files beside a submitted notebook (regular files only):
    autograde reads the timestamp (late penalties), release_feedback needs both."""
    extras = {}
    for name in SUBMISSION_EXTRAS:
        path = Path(folder) / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= EXTRA_FILE_BYTES:
            extras[name] = path.read_bytes()
    return extras


def replace_folder(dest, files):
    """Make dest hold exactly `files` ({relative path: bytes}); a path that would leave dest is refused."""
    dest = Path(dest)
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for relative, data in files.items():
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise ValueError(f"refusing to write {relative!r} outside {dest}")
        path = dest.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
