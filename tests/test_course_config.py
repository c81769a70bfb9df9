"""autograder.instructor.course_config reads nbgrader_config.py as nbgrader does: the same
files, the same priorities, relative paths resolved where `nbgrader` run in the course opens them
(checked against the real nbgrader command line), and a one-line error for a broken file."""

import os
import shutil
import threading
from pathlib import Path

import pytest

from autograder.instructor import course_config
from autograder.instructor.course_config import CourseConfigError, NotACourse
from autograder.instructor.nbgrader_cli import run_nbgrader

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    """Only the configuration a test writes: an empty Jupyter user config directory."""
    user = tmp_path / "jupyter-user-config"
    user.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(user))
    return user


def make_course(path, body):
    path.mkdir(parents=True, exist_ok=True)
    (path / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + body)
    return path


def test_the_course_itself_uses_its_sqlite_file():
    config = course_config.load(ROOT)
    assert config.course == config.root == ROOT
    assert course_config.db_url(ROOT) == f"sqlite:///{ROOT / 'gradebook.db'}"
    assert course_config.course_id(ROOT) == "backprop-jacobians"
    assert course_config.sqlite_path(ROOT) == ROOT / "gradebook.db"
    assert config.is_sqlite and config.directory("source") == ROOT / "solutions"
    assert config.directory("release") == ROOT / "exercises"
    assert config.files == (ROOT / "nbgrader_config.py",)


def test_independent_of_the_working_directory(tmp_path, monkeypatch):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert course_config.db_url(course) == f"sqlite:///{course / 'gradebook.db'}"
    assert course_config.load("../course").root == course
    assert course_config.load(course).directory("submitted") == course / "submitted"


def test_relative_sqlite_path_is_where_nbgrader_opens_it(tmp_path, monkeypatch):
    course = make_course(tmp_path / "course", 'c.CourseDirectory.db_url = "sqlite:///books/grades.db"\n')
    (course / "books").mkdir()
    monkeypatch.chdir(tmp_path)
    expected = course / "books" / "grades.db"
    assert course_config.db_url(course) == f"sqlite:///{expected}"
    assert course_config.sqlite_path(course) == expected
    run_nbgrader(["db", "student", "add", "alice"], course)  # the real nbgrader, run in the course
    assert expected.exists() and not (course / "gradebook.db").exists()


def test_default_gradebook_is_in_the_configured_root(tmp_path):
    course = make_course(tmp_path / "course", 'c.CourseDirectory.root = "term1"\n'
                                              'c.CourseDirectory.course_id = "bp"\n')
    (course / "term1").mkdir()
    config = course_config.load(course)
    assert config.root == course / "term1" and config.course_id == "bp"
    assert config.db_url == f"sqlite:///{course / 'term1' / 'gradebook.db'}"
    run_nbgrader(["db", "student", "add", "alice"], course)
    assert (course / "term1" / "gradebook.db").exists() and not (course / "gradebook.db").exists()


def test_the_roots_own_config_is_read_too(tmp_path):
    """nbgrader also loads <root>/nbgrader_config.py when the root is another directory."""
    course = make_course(tmp_path / "course", f'c.CourseDirectory.root = {str(tmp_path / "term1")!r}\n')
    make_course(tmp_path / "term1", 'c.CourseDirectory.course_id = "from-root"\n')
    config = course_config.load(course)
    assert config.course_id == "from-root"
    assert config.files == (course / "nbgrader_config.py", tmp_path / "term1" / "nbgrader_config.py")


def test_server_urls_are_returned_as_configured(tmp_path):
    url = "postgresql://nbgrader:s3cr%40t@db.example.org:5433/backprop?sslmode=require"
    course = make_course(tmp_path / "course", f"c.CourseDirectory.db_url = {url!r}\n")
    config = course_config.load(course)
    assert config.db_url == url
    assert config.sqlite_path is None and not config.is_sqlite
    assert course_config.display_url(url) == "postgresql://nbgrader:***@db.example.org:5433/backprop?sslmode=require"


@pytest.mark.parametrize("url, path", [("sqlite://", None), ("sqlite:///:memory:", None),
                                        ("sqlite:////abs/grades.db", Path("/abs/grades.db")),
                                        ("sqlite+pysqlite:////abs/g.db", Path("/abs/g.db"))])
def test_other_sqlite_forms_are_kept(tmp_path, url, path):
    course = make_course(tmp_path / "course", f"c.CourseDirectory.db_url = {url!r}\n")
    assert course_config.db_url(course) == url
    assert course_config.sqlite_path(course) == path


def test_outdated_option_names_are_migrated_like_nbgrader(tmp_path):
    course = make_course(tmp_path / "course", 'c.NbGrader.db_url = "postgresql://u@h/old"\n'
                                              'c.NbGrader.course_id = "old-style"\n')
    assert course_config.db_url(course) == "postgresql://u@h/old"
    assert course_config.course_id(course) == "old-style"


def test_user_config_applies_and_the_course_wins(tmp_path, no_user_config):
    (no_user_config / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "user"\n'
        'c.CourseDirectory.db_url = "postgresql://u@h/user"\n')
    course = make_course(tmp_path / "course", 'c.CourseDirectory.db_url = "postgresql://u@h/course"\n')
    config = course_config.load(course)
    assert config.course_id == "user" and config.db_url == "postgresql://u@h/course"
    assert config.files == (no_user_config / "nbgrader_config.py", course / "nbgrader_config.py")


def test_json_config_is_read_too(tmp_path):
    course = make_course(tmp_path / "course", "")
    (course / "nbgrader_config.json").write_text('{"CourseDirectory": {"course_id": "json"}}')
    assert course_config.course_id(course) == "json"


@pytest.mark.parametrize("body, expected", [
    ('c.CourseDirectory.db_url = (\n', "SyntaxError: '(' was never closed (line 2)"),
    ('x = 1\nc.CourseDirectory.db_url = undefined_name\n', "NameError: name 'undefined_name' is not defined (line 3)"),
    ('c.CourseDirectory.db_url = 5\n', "invalid nbgrader configuration"),
    ('c.CourseDirectory.db_url = "not a url"\n', "CourseDirectory.db_url 'not a url' is not a database URL"),
])
def test_a_broken_config_is_one_clear_line(tmp_path, body, expected):
    course = make_course(tmp_path / "course", body)
    with pytest.raises(CourseConfigError) as error:
        course_config.db_url(course)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{course / 'nbgrader_config.py'}: ")
    assert expected in message


def test_a_broken_user_config_names_its_file(tmp_path, no_user_config):
    (no_user_config / "nbgrader_config.py").write_text("c = get_config(\n")
    course = make_course(tmp_path / "course", "")
    with pytest.raises(CourseConfigError, match=str(no_user_config / "nbgrader_config.py")):
        course_config.load(course)


def test_not_a_course(tmp_path):
    with pytest.raises(NotACourse, match="not a course directory") as error:
        course_config.db_url(tmp_path)
    assert isinstance(error.value, FileNotFoundError) and isinstance(error.value, CourseConfigError)


def test_changes_are_seen_and_threads_agree(tmp_path):
    course = make_course(tmp_path / "course", 'c.CourseDirectory.course_id = "one"\n')
    assert course_config.course_id(course) == "one"
    make_course(course, 'c.CourseDirectory.course_id = "two"\n')
    results = []
    threads = [threading.Thread(target=lambda: results.append(course_config.load(course))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and {r.course_id for r in results} == {"two"}
    assert {r.db_url for r in results} == {f"sqlite:///{course / 'gradebook.db'}"}
    assert os.getcwd()  # nothing changed the working directory
