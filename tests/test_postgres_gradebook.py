"""A course whose gradebook is a real PostgreSQL database (c.CourseDirectory.db_url in its
nbgrader_config.py; the server comes from tests/postgres_server.py).

1. Stock nbgrader on it: generate_assignment, db student add, autograde of a small class,
   generate_feedback, export; the grades are rows in PostgreSQL and no sqlite file appears.
2. Formgrader's gradebook API (jupyter server with nbgrader's server extension) shows them.
3. `python -m autograder grade` on it: the scores land in PostgreSQL, no sqlite gradebook, and two
   grade runs at once on different assignments neither lose nor double a row.
"""

import csv
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy
from nbgrader.api import Gradebook

from autograder.instructor import course_config
from autograder.instructor.nbgrader_cli import nbgrader_env, run_nbgrader
from autograder.instructor.synthetic_class import (full_marks, grade_cell_points, released, scratch_course, solved,
                                                    submit)
from tests.postgres_server import free_port, postgres_server  # noqa: F401 - the session fixture

EX1, EX2 = "ex01_differentiation", "ex02_total_derivatives"
WRONG_D_POWER = "def d_power(x, c):\n    return c * x ** c\n"

# --------------------------------------------------------------------------- helpers


def sqlite_files(course):
    return sorted(str(p) for p in course.rglob("*") if p.suffix in {".db", ".sqlite", ".sqlite3"})


GRADE_ROWS = sqlalchemy.text("""
    SELECT a.name AS assignment, sa.student_id AS student, count(g.id) AS rows,
           count(DISTINCT (g.cell_id, g.notebook_id)) AS distinct_cells,
           sum(coalesce(g.manual_score, g.auto_score, 0)) AS score
    FROM grade g
    JOIN submitted_notebook sn ON g.notebook_id = sn.id
    JOIN submitted_assignment sa ON sn.assignment_id = sa.id
    JOIN assignment a ON sa.assignment_id = a.id
    GROUP BY a.name, sa.student_id""")


def grade_rows(url):
    """{(student, assignment): (grade rows, distinct (cell, notebook) pairs, score)}, straight from SQL,
    and the number of submission and student rows."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = {(r.student, r.assignment): (r.rows, r.distinct_cells, float(r.score))
                    for r in conn.execute(GRADE_ROWS)}
            submissions = conn.execute(sqlalchemy.text(
                "SELECT a.name, count(*), count(DISTINCT sa.student_id) FROM submitted_assignment sa "
                "JOIN assignment a ON sa.assignment_id = a.id GROUP BY a.name")).fetchall()
            students = conn.execute(sqlalchemy.text("SELECT count(*), count(DISTINCT id) FROM student")).one()
    finally:
        engine.dispose()
    return rows, {name: (n, distinct) for name, n, distinct in submissions}, tuple(students)


def score(url, student, assignment):
    with Gradebook(url) as gb:
        return gb.find_submission(assignment, student).score


def run_grade(course, *args):
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", "--course", str(course), *args],
                            cwd=course, env=nbgrader_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finish(proc, timeout=1200):
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"grade did not finish in {timeout} s:\n{out[-3000:]}")
    assert proc.returncode == 0, out[-4000:]
    return out


# --------------------------------------------------------------------------- 1. stock nbgrader

@pytest.fixture(scope="module")
def course(postgres_server, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """ex01 released, students added and a small class autograded by plain nbgrader, feedback and
    grades.csv written, all against PostgreSQL."""
    url = postgres_server.create_database("nbgrader_cli")
    path = scratch_course(tmp_path_factory.mktemp("pg") / "course", [EX1], db_url=url)
    run_nbgrader(["db", "student", "add", "alice", "--first-name=Alice", "--last-name=Liddell"], path)
    run_nbgrader(["db", "student", "add", "bob", "--first-name=Bob", "--last-name=Builder"], path)
    submit(path, "alice", EX1, solved(path, EX1))
    submit(path, "bob", EX1, released(path, EX1))
    submit(path, "carol", EX1, solved(path, EX1, d_power=WRONG_D_POWER))  # not added: autograde creates the student
    run_nbgrader(["autograde", EX1, "--force"], path, timeout=1200)
    run_nbgrader(["generate_feedback", EX1, "--force"], path, timeout=600)
    run_nbgrader(["export", "--to", "grades.csv"], path, timeout=300)
    return path, url


def test_config_points_at_postgres(course):
    path, url = course
    assert course_config.db_url(path) == url and course_config.sqlite_path(path) is None
    assert url.startswith("postgresql://nbgrader:") and "@127.0.0.1:" in url


def test_nbgrader_grades_land_in_postgres(course):
    path, url = course
    assert sqlite_files(path) == []
    d_power = grade_cell_points(path, EX1)["test_d_power"]
    assert score(url, "alice", EX1) == full_marks(path, EX1)
    assert score(url, "bob", EX1) == 0
    assert score(url, "carol", EX1) == full_marks(path, EX1) - d_power
    rows, submissions, students = grade_rows(url)
    cells = len(grade_cell_points(path, EX1))
    assert {key: value[:2] for key, value in rows.items()} == {(s, EX1): (cells, cells) for s in ("alice", "bob", "carol")}
    assert submissions == {EX1: (3, 3)} and students == (3, 3)
    with Gradebook(url) as gb:
        assert gb.find_student("alice").first_name == "Alice"
        assert {c.name for c in gb.find_notebook(EX1, EX1).grade_cells} == set(grade_cell_points(path, EX1))


def test_feedback_and_export(course):
    path, _ = course
    for student in ("alice", "bob", "carol"):
        assert (path / "feedback" / student / EX1 / f"{EX1}.html").stat().st_size > 1000
    with open(path / "grades.csv", newline="") as f:
        exported = {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == EX1}
    assert set(exported) == {"alice", "bob", "carol"}
    assert float(exported["alice"]["score"]) == full_marks(path, EX1)
    assert float(exported["bob"]["score"]) == 0
    assert float(exported["alice"]["max_score"]) == full_marks(path, EX1)
    assert exported["alice"]["last_name"] == "Liddell"


# --------------------------------------------------------------------------- 2. formgrader

@pytest.fixture(scope="module")
def formgrader(course):
    path, _ = course
    port, token = free_port(), secrets.token_hex(16)
    log = open(path.parent / "jupyter-server.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "server", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={path}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=path, env=nbgrader_env({"JUPYTER_PLATFORM_DIRS": "1"}), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def get(route):
        request = urllib.request.Request(base + route, headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                get("/api/status")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("jupyter server did not start:\n"
                                + (path.parent / "jupyter-server.log").read_text()[-3000:])
                time.sleep(0.3)  # between polls only
        yield get
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_formgrader_api_shows_the_postgres_grades(course, formgrader):
    path, _ = course
    try:
        assignments = {a["name"]: a for a in formgrader("/formgrader/api/assignments")}
        submissions = {s["student"]: s for s in formgrader(f"/formgrader/api/submissions/{EX1}")}
        alice = formgrader(f"/formgrader/api/submission/{EX1}/alice")
        students = {s["id"]: s for s in formgrader("/formgrader/api/students")}
    except urllib.error.HTTPError as error:
        pytest.fail(f"{error}: {error.read()[:2000]!r}\n" + (path.parent / "jupyter-server.log").read_text()[-3000:])
    maximum = full_marks(path, EX1)
    assert assignments[EX1]["num_submissions"] == 3
    assert assignments[EX1]["max_score"] == maximum
    assert set(submissions) == {"alice", "bob", "carol"}
    assert submissions["alice"]["score"] == maximum and submissions["bob"]["score"] == 0
    assert submissions["carol"]["score"] == maximum - grade_cell_points(path, EX1)["test_d_power"]
    assert all(s["autograded"] for s in submissions.values())
    assert alice["score"] == maximum and alice["last_name"] == "Liddell"
    assert students["alice"]["score"] == maximum and students["bob"]["score"] == 0


# --------------------------------------------------------------------------- 3. python -m autograder grade

def test_grade_writes_its_scores_to_postgres(course):
    """grade regrades the class plain nbgrader graded: the same rows get its points, nothing doubles."""
    path, url = course
    before, _, _ = grade_rows(url)
    out = finish(run_grade(path, "--jobs", "2", "--timeout", "30"))
    assert "graded 3 submission(s)" in out, out[-3000:]
    assert sqlite_files(path) == [], out[-3000:]
    assert score(url, "alice", EX1) == full_marks(path, EX1)
    assert score(url, "bob", EX1) == 0
    assert score(url, "carol", EX1) == full_marks(path, EX1) - grade_cell_points(path, EX1)["test_d_power"]
    after, submissions, students = grade_rows(url)
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    assert submissions == {EX1: (3, 3)} and students == (3, 3)
    with open(path / "grades.csv", newline="") as f:
        assert {row["student_id"] for row in csv.DictReader(f)} == {"alice", "bob", "carol"}


def test_two_grade_runs_at_once_lose_and_double_nothing(postgres_server, tmp_path):  # noqa: F811
    url = postgres_server.create_database("two_graders")
    path = scratch_course(tmp_path / "course", [EX1, EX2], db_url=url)
    run_nbgrader(["db", "student", "add", "alice"], path)  # on the roster; bob and carol are not
    class_ = ("alice", "bob", "carol")
    for assignment in (EX1, EX2):
        submit(path, "alice", assignment, solved(path, assignment))
        submit(path, "bob", assignment, released(path, assignment))
    submit(path, "carol", EX1, solved(path, EX1, d_power=WRONG_D_POWER))
    submit(path, "carol", EX2, solved(path, EX2))
    first = run_grade(path, "--assignment", EX1, "--jobs", "1", "--timeout", "30")
    second = run_grade(path, "--assignment", EX2, "--jobs", "1", "--timeout", "30")
    outputs = [finish(first), finish(second)]
    assert all("graded 3 submission(s)" in out for out in outputs), "\n".join(o[-2000:] for o in outputs)
    assert sqlite_files(path) == []
    rows, submissions, students = grade_rows(url)
    expected = {}
    for assignment in (EX1, EX2):
        cells = len(grade_cell_points(path, assignment))
        expected.update({(s, assignment): (cells, cells) for s in class_})
    assert {k: v[:2] for k, v in rows.items()} == expected
    assert submissions == {EX1: (3, 3), EX2: (3, 3)} and students == (3, 3)
    assert rows["alice", EX1][2] == full_marks(path, EX1) and rows["alice", EX2][2] == full_marks(path, EX2)
    assert rows["bob", EX1][2] == 0 and rows["bob", EX2][2] == 0
    assert rows["carol", EX1][2] == full_marks(path, EX1) - grade_cell_points(path, EX1)["test_d_power"]
    assert rows["carol", EX2][2] == full_marks(path, EX2)
