"""Regrading never loses a manual score or comment.

Manual grades are written as formgrader writes them: through nbgrader's Gradebook API
(`find_grade` / `find_comment`, then `manual_score` / `manual_comment`, committed;
tests/course_fixtures.py). A class of two (alice, bob; ex01) is graded once (module fixture);
each test grades its own copy of that course again:
  (a) `grade --force` on unchanged submissions keeps the manual score and comment, does not
      flag them, and grades.csv holds the manual score;
  (b) a changed submission keeps them but flags the cell for re-review (needs_manual_grade,
      Report.manual_flagged, "flagged for re-review" in the output of the real CLI);
  (c) `--student bob` regrades bob only: alice's manual grade, flags, files and state are untouched;
  (d) the feedback of a submission with a manual comment shows the comment and the manual score;
and formgrader's extra credit is kept and counted too; a flag for re-review outlives a forced
regrade. Last, the same on a course whose gradebook
is PostgreSQL (tests/postgres_server.py), where a grading job does not start from a copy of the
course's gradebook, so only what grade passes to the job can reach the feedback.
"""

import csv
import json
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup

from autograder.instructor.synthetic_class import full_marks, scratch_course, solved, submit
from tests.course_fixtures import (EX1, WRONG_D_POWER, comment_text, copy_course, formgrade_comment, formgrade_score,
                                   grade, grade_row, gradebook, submission_score)
from autograder.instructor import course_config
from tests.postgres_server import postgres_server  # noqa: F401 - the session fixture

CELL, ANSWER = "test_d_power", "d_power"  # the test cell given a manual score, the answer cell commented
MANUAL = 0.5
COMMENT = "Right, but say why x**(c-1) needs x > 0 for a non-integer c. **Well argued** otherwise."
BOB_COMMENT = "Bob: please vectorise the loop."
OTHER_D_POWER = "def d_power(x, c):\n    return c * x ** c / x  # rewritten\n"  # also right, other code


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("manual-course"), [EX1])
    submit(course, "alice", EX1, solved(course, EX1))
    submit(course, "bob", EX1, solved(course, EX1))
    report = grade(course)
    assert report.problems == [] and len(report.outcomes) == 2
    return course


@pytest.fixture
def course(graded_once, tmp_path):
    """A copy of the graded class in which alice has a manual score and comment from formgrader."""
    course = copy_course(graded_once, tmp_path / "course")
    formgrade_score(course, "alice", EX1, CELL, MANUAL)
    formgrade_comment(course, "alice", EX1, ANSWER, COMMENT)
    return course


def csv_scores(course):
    with open(course / "grades.csv", newline="") as file:
        return {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(file)}


def state(course):
    return json.loads((course / ".autograder-state.json").read_text())


def alice_row(course):
    return grade_row(course, "alice", EX1, CELL)


def run_cli(course, *args):
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--course", str(course), "--jobs", "2",
                           "--timeout", "20", *args], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_manual_grade_as_formgrader_wrote_it(course):
    assert alice_row(course) == (1.0, MANUAL, None, False, MANUAL)
    assert comment_text(course, "alice", EX1, ANSWER) == COMMENT
    assert submission_score(course, "alice", EX1) == full_marks(course, EX1) - 1 + MANUAL


def test_a_force_regrade_of_an_unchanged_submission_keeps_the_manual_grade_unflagged(course):
    full = full_marks(course, EX1)
    report = grade(course)  # not forced: nothing changed, nothing regraded
    assert report.outcomes == [] and sorted(report.skipped) == [("alice", EX1), ("bob", EX1)]
    assert alice_row(course) == (1.0, MANUAL, None, False, MANUAL)

    report = grade(course, force=True)
    assert sorted(o.student for o in report.outcomes) == ["alice", "bob"] and report.problems == []
    assert report.manual_kept == 1 and report.manual_flagged == []
    auto, manual, _, needs_manual, score = alice_row(course)
    assert (auto, manual, needs_manual, score) == (1.0, MANUAL, False, MANUAL)
    assert comment_text(course, "alice", EX1, ANSWER) == COMMENT
    with gradebook(course) as gb:
        assert not gb.find_submission(EX1, "alice").needs_manual_grade
    alice = next(o for o in report.outcomes if o.student == "alice")
    assert alice.scores[CELL] == (MANUAL, 1.0)
    assert csv_scores(course) == {("alice", EX1): full - 1 + MANUAL, ("bob", EX1): full}
    assert submission_score(course, "alice", EX1) == full - 1 + MANUAL


def test_a_changed_submission_keeps_the_manual_grade_and_flags_it(course):
    submit(course, "alice", EX1, solved(course, EX1, d_power=WRONG_D_POWER))  # resubmitted, now wrong
    report = grade(course)
    assert [o.student for o in report.outcomes] == ["alice"] and report.skipped == [("bob", EX1)]
    assert report.manual_kept == 1
    assert report.manual_flagged == [f"alice/{EX1}/{CELL}"]
    auto, manual, _, needs_manual, score = alice_row(course)
    assert (auto, manual, needs_manual, score) == (0.0, MANUAL, True, MANUAL)  # the new code fails; manual stands
    assert comment_text(course, "alice", EX1, ANSWER) == COMMENT
    with gradebook(course) as gb:
        assert gb.find_submission(EX1, "alice").needs_manual_grade  # formgrader lists it as needing grading
        assert not gb.find_submission(EX1, "bob").needs_manual_grade
        others = [g for g in gb.find_submission_notebook(EX1, EX1, "alice").grades if g.name != CELL]
        assert not any(g.needs_manual_grade for g in others)
    assert csv_scores(course)[("alice", EX1)] == full_marks(course, EX1) - 1 + MANUAL


def test_the_cli_says_which_manual_grades_to_review_again(course):
    submit(course, "alice", EX1, solved(course, EX1, d_power=OTHER_D_POWER))  # other code, still right
    out = run_cli(course)
    assert "kept 1 manual score(s); 1 flagged for re-review" in out, out
    assert f"  - alice/{EX1}/{CELL}" in out, out
    auto, manual, _, needs_manual, _ = alice_row(course)
    assert (auto, manual, needs_manual) == (1.0, MANUAL, True)
    assert comment_text(course, "alice", EX1, ANSWER) == COMMENT

    out = run_cli(course, "--force")  # once more, nobody has reviewed it: still flagged
    assert "kept 1 manual score(s); 1 flagged for re-review" in out, out
    formgrade_score(course, "alice", EX1, CELL, MANUAL)  # reviewed in formgrader
    out = run_cli(course, "--force")  # unchanged since the review: kept, no longer flagged
    assert "kept 1 manual score(s); 0 flagged for re-review" in out, out
    assert alice_row(course)[1:4:2] == (MANUAL, False)
    assert comment_text(course, "alice", EX1, ANSWER) == COMMENT


def test_regrading_one_student_leaves_the_others_manual_grades_alone(course):
    formgrade_score(course, "bob", EX1, CELL, 0.25)
    formgrade_comment(course, "bob", EX1, ANSWER, BOB_COMMENT)
    alice_files = {p: p.stat().st_mtime_ns for kind in ("autograded", "feedback")
                   for p in (course / kind / "alice").rglob("*") if p.is_file()}
    alice_state = state(course)[f"alice/{EX1}"]
    with gradebook(course) as gb:
        before = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                  for g in gb.find_submission_notebook(EX1, EX1, "alice").grades}
    # both resubmit: a regrade of alice would flag her manual grade
    submit(course, "alice", EX1, solved(course, EX1, d_power=WRONG_D_POWER))
    submit(course, "bob", EX1, solved(course, EX1, d_power=OTHER_D_POWER))
    report = grade(course, students=["bob"])
    assert [o.student for o in report.outcomes] == ["bob"] and report.problems == []
    assert report.manual_kept == 1 and report.manual_flagged == [f"bob/{EX1}/{CELL}"]
    with gradebook(course) as gb:
        after = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                 for g in gb.find_submission_notebook(EX1, EX1, "alice").grades}
        assert not gb.find_submission(EX1, "alice").needs_manual_grade
    assert after == before
    assert comment_text(course, "alice", EX1, ANSWER) == COMMENT
    assert comment_text(course, "bob", EX1, ANSWER) == BOB_COMMENT
    assert grade_row(course, "bob", EX1, CELL)[1:4] == (0.25, None, True)
    assert {p: p.stat().st_mtime_ns for p in alice_files} == alice_files
    assert state(course)[f"alice/{EX1}"] == alice_state
    full = full_marks(course, EX1)
    assert csv_scores(course) == {("alice", EX1): full - 1 + MANUAL, ("bob", EX1): full - 1 + 0.25}


def test_the_feedback_shows_the_manual_comment_and_score(course):
    grade(course, force=True)  # the comment was written after the last feedback
    soup = BeautifulSoup((course / "feedback" / "alice" / EX1 / f"{EX1}.html").read_text(encoding="utf-8"),
                         "html.parser")
    answer = soup.find("a", attrs={"name": f"comment-{ANSWER}"}).find_parent("div", class_="code_cell")
    shown = " ".join(answer.get_text().split())
    assert "Right, but say why x**(c-1) needs x > 0 for a non-integer c." in shown, shown[-600:]
    assert answer.find("strong", string="Well argued") is not None  # the comment is Markdown, rendered
    heading = soup.find("a", attrs={"name": CELL}).find_parent("div", class_="code_cell").find(
        "div", class_="panel-heading")
    assert f"Score: {MANUAL} / 1.0" in heading.get_text()
    full = full_marks(course, EX1)
    assert f"(Score: {full - 1 + MANUAL} / {full})" in soup.find("h4").get_text()
    bob = (course / "feedback" / "bob" / EX1 / f"{EX1}.html").read_text(encoding="utf-8")
    assert "Well argued" not in bob and "x &gt; 0 for a non-integer" not in bob


def test_extra_credit_given_in_formgrader_is_kept_and_shown(course):
    formgrade_score(course, "alice", EX1, "test_sigmoid", None, extra_credit=1.0)
    full = full_marks(course, EX1)
    report = grade(course, force=True)
    assert report.problems == []
    assert grade_row(course, "alice", EX1, "test_sigmoid") == (2.0, None, 1.0, False, 3.0)
    assert csv_scores(course)[("alice", EX1)] == full - 1 + MANUAL + 1.0
    page = (course / "feedback" / "alice" / EX1 / f"{EX1}.html").read_text(encoding="utf-8")
    assert f"(Score: {full - 1 + MANUAL + 1.0} / {full})" in page  # what the student reads is what was exported
    sigmoid = BeautifulSoup(page, "html.parser").find("a", attrs={"name": "test_sigmoid"}).find_parent(
        "div", class_="code_cell").find("div", class_="panel-heading").get_text()
    assert "Score: 3.0 / 2.0" in sigmoid, sigmoid


@pytest.fixture(scope="module")
def on_postgresql(postgres_server, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """The same on a course whose gradebook is PostgreSQL, where each grading job starts from a
    gradebook of its own (not a copy of the course's): graded; alice given a manual score, a comment
    and extra credit; regraded with --force (what it then holds is recorded); alice resubmits other
    code and the class is graded again."""
    url = postgres_server.create_database("manual_grades")
    course = scratch_course(tmp_path_factory.mktemp("manual-pg") / "course", [EX1], db_url=url)
    assert course_config.sqlite_path(course) is None
    submit(course, "alice", EX1, solved(course, EX1))
    submit(course, "bob", EX1, solved(course, EX1))
    assert grade(course).problems == []
    formgrade_score(course, "alice", EX1, CELL, MANUAL)
    formgrade_score(course, "alice", EX1, "test_sigmoid", None, extra_credit=1.0)
    formgrade_comment(course, "alice", EX1, ANSWER, COMMENT)
    forced = grade(course, force=True)
    after_force = {"report": forced, "row": alice_row(course), "comment": comment_text(course, "alice", EX1, ANSWER),
                   "sigmoid": grade_row(course, "alice", EX1, "test_sigmoid"), "csv": csv_scores(course),
                   "feedback": BeautifulSoup((course / "feedback" / "alice" / EX1 / f"{EX1}.html")
                                             .read_text(encoding="utf-8"), "html.parser")}
    submit(course, "alice", EX1, solved(course, EX1, d_power=OTHER_D_POWER))
    changed = grade(course)
    after_change = {"report": changed, "row": alice_row(course), "comment": comment_text(course, "alice", EX1, ANSWER)}
    return course, after_force, after_change


def test_on_postgresql_manual_grades_are_kept_shown_and_flagged(on_postgresql):
    course, forced, changed = on_postgresql
    full = full_marks(course, EX1)
    assert forced["report"].problems == [] and forced["report"].manual_kept == 1
    assert forced["report"].manual_flagged == []
    assert forced["row"] == (1.0, MANUAL, None, False, MANUAL)
    assert forced["sigmoid"] == (2.0, None, 1.0, False, 3.0)
    assert forced["comment"] == COMMENT
    assert forced["csv"] == {("alice", EX1): full - 1 + MANUAL + 1.0, ("bob", EX1): full}
    soup = forced["feedback"]
    assert "Right, but say why x**(c-1) needs x > 0 for a non-integer c." in " ".join(soup.get_text().split())
    heading = soup.find("a", attrs={"name": CELL}).find_parent("div", class_="code_cell").find(
        "div", class_="panel-heading")
    assert f"Score: {MANUAL} / 1.0" in heading.get_text()
    assert changed["report"].manual_flagged == [f"alice/{EX1}/{CELL}"]
    assert changed["row"][1:4] == (MANUAL, None, True)
    assert changed["comment"] == COMMENT


def test_on_postgresql_the_feedback_total_counts_the_extra_credit(on_postgresql):
    course, forced, _ = on_postgresql
    full = full_marks(course, EX1)
    heading = forced["feedback"].find("h4").get_text()
    assert f"(Score: {full - 1 + MANUAL + 1.0} / {full})" in heading, heading  # what grades.csv says
    sigmoid = forced["feedback"].find("a", attrs={"name": "test_sigmoid"}).find_parent(
        "div", class_="code_cell").find("div", class_="panel-heading").get_text()
    assert "Score: 3.0 / 2.0" in sigmoid, sigmoid


def test_a_forced_regrade_before_the_review_keeps_the_flag(course):
    submit(course, "alice", EX1, solved(course, EX1, d_power=OTHER_D_POWER))
    assert grade(course).manual_flagged == [f"alice/{EX1}/{CELL}"]
    assert alice_row(course)[3] is True
    report = grade(course, force=True)  # e.g. after a fix to a battery; nobody has looked at alice's cell yet
    assert alice_row(course)[1] == MANUAL
    assert alice_row(course)[3] is True, "the flag for re-review was cleared without a review"
    assert report.manual_flagged == [f"alice/{EX1}/{CELL}"]
