"""The course's nbgrader configuration, read the way the `nbgrader` command reads it.

Every instructor tool asks this module where the gradebook is (`db_url`), what the course is
called (`course_id`) and which assignments it has (`assignments`) instead of guessing
`<course>/gradebook.db` or `solutions/`, so a course whose `nbgrader_config.py` points
`c.CourseDirectory.db_url` at PostgreSQL is graded in PostgreSQL. The assignments are nbgrader's:
the folders `<source_directory>/<assignment>/` holding `<assignment>.ipynb` (the notebook named like
its assignment, as the judge and the release expect); there is no other list to keep up to date.
(The budgets, the same for every course, are autograder.instructor.settings.)

The files and their order are nbgrader's (`NbGrader.initialize` run in the course directory):
`jupyter_config` then `nbgrader_config` (.py/.json) from the Jupyter config path (user and
system), the course directory's own `nbgrader_config.py` (highest priority), and finally the one
in `CourseDirectory.root` if that is another directory. Outdated option names (`NbGrader.db_url`,
...) are migrated by nbgrader's own code. The course directory plays the part of nbgrader's
working directory (the grading pipeline runs nbgrader there), so a relative `CourseDirectory.root`
and a relative sqlite path such as `sqlite:///gradebook.db` are resolved against it, exactly
where `nbgrader` run in the course would open them; nothing depends on this process's cwd, and
no state is kept (safe from threads, and a changed config is seen at the next call).

Without a `db_url` nbgrader's default applies: the embedded sqlite file `<root>/gradebook.db`.

    >>> db_url(course)          # 'sqlite:////abs/course/gradebook.db' or 'postgresql://...'
    >>> course_id(course)       # 'backprop-jacobians'
    >>> assignments(course)     # ('ex01_differentiation', ...), sorted
    >>> sqlite_path(course)     # Path('/abs/course/gradebook.db'), None for a database server
    >>> load(course).root       # everything at once (a CourseConfig)

A file that does not parse (or raises, or sets an option to a value of the wrong type) raises
CourseConfigError with a one-line message naming the file and the line; nbgrader itself would
log a traceback and carry on with its defaults, i.e. silently grade into a fresh sqlite file.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "nbgrader_config.py"

__all__ = ["CONFIG_FILE", "CourseConfig", "CourseConfigError", "NotACourse", "assignments", "course_id", "db_url",
           "display_url", "load", "sqlite_path"]


class CourseConfigError(ValueError):
    """The course's nbgrader configuration cannot be used (the message is one line)."""


class NotACourse(CourseConfigError, FileNotFoundError):
    """The directory has no nbgrader_config.py."""


@dataclass(frozen=True)
class CourseConfig:
    """What nbgrader would use for this course (paths absolute)."""

    course: Path                 # the directory holding nbgrader_config.py
    root: Path                   # CourseDirectory.root
    course_id: str               # CourseDirectory.course_id ("" if not set, as in nbgrader)
    db_url: str                  # CourseDirectory.db_url, a relative sqlite path made absolute
    source_directory: str
    release_directory: str
    submitted_directory: str
    autograded_directory: str
    feedback_directory: str
    files: tuple                 # the configuration files that were loaded, lowest priority first

    @property
    def sqlite_path(self) -> Path | None:
        """The gradebook's sqlite file, or None if the gradebook is a database server (or in memory)."""
        return _sqlite_file(self.db_url)

    @property
    def is_sqlite(self) -> bool:
        return _backend(self.db_url) == "sqlite"

    def directory(self, step: str) -> Path:
        """<root>/<the configured directory> for "source", "release", "submitted", "autograded", "feedback"."""
        return self.root / getattr(self, f"{step}_directory")

    @property
    def assignments(self) -> tuple:
        """The course's assignments, sorted: the source folders holding a notebook named like the folder."""
        source = self.directory("source")
        if not source.is_dir():
            return ()
        return tuple(sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file()))


def load(course) -> CourseConfig:
    """Read the course's nbgrader configuration (see the module docstring)."""
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.coursedir import CourseDirectory
    from traitlets import TraitError

    course = Path(course).expanduser().resolve()
    if not (course / CONFIG_FILE).is_file():
        raise NotACourse(f"{course} is not a course directory (no {CONFIG_FILE})")
    app = NbGrader(log_level="ERROR")  # outdated-option warnings would go to stderr; errors are raised below
    app.raise_config_file_errors = True
    files = []
    try:
        app.coursedir = CourseDirectory(parent=app, root=str(course))
        for base, paths in (("jupyter_config", app.config_file_paths), ("nbgrader_config", app.config_file_paths),
                            ("nbgrader_config", [str(course)])):
            _load_into(app, course, base, paths, files)
        root = Path(app.coursedir.root)
        if root != course and (root / CONFIG_FILE).is_file():  # nbgrader also reads <root>/nbgrader_config.py
            _load_into(app, course, "nbgrader_config", [str(root)], files)
        coursedir = app.coursedir
        return CourseConfig(
            course=course, root=Path(coursedir.root), course_id=coursedir.course_id,
            db_url=_absolute_sqlite(coursedir.db_url, course, files),
            source_directory=coursedir.source_directory, release_directory=coursedir.release_directory,
            submitted_directory=coursedir.submitted_directory, autograded_directory=coursedir.autograded_directory,
            feedback_directory=coursedir.feedback_directory, files=tuple(files))
    except TraitError as exc:
        where = files[-1] if files else course / CONFIG_FILE
        raise CourseConfigError(f"{where}: invalid nbgrader configuration: {_one_line(exc)}") from None


def db_url(course) -> str:
    """The gradebook URL nbgrader uses for this course (a relative sqlite path made absolute)."""
    return load(course).db_url


def assignments(course) -> tuple:
    """The course's assignments (CourseConfig.assignments)."""
    return load(course).assignments


def course_id(course) -> str:
    """CourseDirectory.course_id of this course ("" if the configuration does not set one)."""
    return load(course).course_id


def sqlite_path(course) -> Path | None:
    """The course's sqlite gradebook file, or None when the gradebook lives in a database server."""
    return load(course).sqlite_path


def display_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never let a message fail
        return "<database URL>"


# --------------------------------------------------------------------------- internals

def _load_into(app, course, basename, paths, files):
    """Load <basename>.py/.json from paths (descending priority) into app, as Application.load_config_file
    does, but raising a CourseConfigError for a file that fails."""
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound
    loaders = [app.python_config_loader_class, app.json_config_loader_class]
    for current in reversed(paths):
        for loader_class in loaders:
            loader = loader_class(f"{basename}.{'py' if loader_class is loaders[0] else 'json'}", path=current,
                                  log=app.log)
            try:
                config = loader.load_config()
            except ConfigFileNotFound:
                continue
            except Exception as exc:  # noqa: BLE001 - reported as one line
                filename = loader.full_filename or os.path.join(current, f"{basename}.py")
                raise CourseConfigError(f"{filename}: the nbgrader configuration does not load: "
                                        f"{_describe(exc, filename)}") from None
            if not config:
                continue
            files.append(Path(loader.full_filename))
            _resolve_roots(config, course)
            merged = Config()
            merged.merge(config)
            app.update_config(merged)


def _resolve_roots(config, course):
    """A relative CourseDirectory.root (or the outdated NbGrader.course_directory) is relative to
    nbgrader's working directory, which for this course is the course directory."""
    for section, key in (("CourseDirectory", "root"), ("NbGrader", "course_directory")):
        if section in config and key in config[section]:
            value = config[section][key]
            if isinstance(value, str) and not os.path.isabs(value):
                config[section][key] = os.path.normpath(os.path.join(course, os.path.expanduser(value)))


def _backend(url):
    from sqlalchemy.engine import make_url
    return make_url(url).get_backend_name()


def _sqlite_file(url):
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):  # sqlite URI filename (?uri=true)
        path = parsed.database[len("file:"):].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None
    return Path(parsed.database)


def _absolute_sqlite(url, course, files):
    """A sqlite URL whose relative file is made absolute against the course directory; other URLs unchanged."""
    from sqlalchemy.engine import make_url
    try:
        parsed = make_url(url)
        parsed.get_backend_name()
    except Exception as exc:  # noqa: BLE001
        where = files[-1] if files else course / CONFIG_FILE
        raise CourseConfigError(f"{where}: CourseDirectory.db_url {url!r} is not a database URL: "
                                f"{_one_line(exc)}") from None
    if (parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:"
            or parsed.database.startswith("file:") or os.path.isabs(parsed.database)):
        return url
    absolute = os.path.normpath(os.path.join(course, parsed.database))
    return parsed.set(database=absolute).render_as_string(hide_password=False)


def _describe(exc, filename):
    """'SyntaxError: '(' was never closed (line 3)' and the like."""
    if isinstance(exc, SyntaxError):
        line = f" (line {exc.lineno})" if exc.lineno else ""
        return f"{type(exc).__name__}: {exc.msg}{line}"
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__)
             if os.path.abspath(frame.filename) == os.path.abspath(filename)]
    return f"{type(exc).__name__}: {_one_line(exc)}" + (f" (line {lines[-1]})" if lines else "")


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__
