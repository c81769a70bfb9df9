"""Formgrader, the instructor's view in JupyterLab, in a real (headless) browser: on a graded
scratch course (one assignment, one student), the instructor opens *Nbgrader → Formgrader*
in JupyterLab, sees the assignment and its submission count, walks the gradebook down to the
student's submission (formgrader's grading page, showing the autograded scores), gives a
manual score and a comment there, regrades with `python -m autograder grade --force` (the
manual score and comment are kept, the totals count the manual score), and opens the
student's feedback HTML: the manual score, the comment and the battery's verdicts are on
screen, and no traceback is.

Set-up as in tests/test_browser.py (tests/browser_support.py: a private JupyterLab on
127.0.0.1, Debian's Chromium through Playwright; every wait on an observable condition with
a bounded timeout). Requests to any host but 127.0.0.1 (MathJax's CDN, which formgrader's
grading page and nbgrader's feedback load) are refused at once, so no page waits on the
network. Screenshots go to the test's temporary directory; on failure `failure-call.png`
(with the page's HTML and console) is saved there too.
"""

import re
import secrets
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from autograder.instructor.synthetic_class import full_marks, grade_cell_points, scratch_course, solved, submit
from tests.course_fixtures import EX1, comment_text, grade_row, submission_score

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import ACTION, PAGE_LOAD, LabServer, new_page, wait_until  # noqa: E402

pytest_plugins = ["tests.browser_support"]  # its screenshot-on-failure hook

STUDENT = "alice"
CELL, ANSWER = "test_d_power", "d_power"  # the test cell given a manual score, the answer cell commented
MANUAL = 0.5
COMMENT = "Correct; now say why x**(c-1) needs x > 0 for a non-integer c."
# Upper bounds (seconds), several times what a busy 2-core machine takes; each wait ends as
# soon as its condition holds.
GRADE = 600
SERVER_START = 180
SAVE = 60


def run_grade(course, *args):
    """`python -m autograder grade` on the course, as an instructor runs it (its stdout)."""
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--course", str(course), "--jobs", "2",
                           "--timeout", "20", *args], capture_output=True, text=True, timeout=GRADE)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """One assignment (ex01), one student with every answer right, graded by the CLI."""
    course = scratch_course(tmp_path_factory.mktemp("formgrader") / "course", [EX1])
    submit(course, STUDENT, EX1, solved(course, EX1))
    run_grade(course)
    assert submission_score(course, STUDENT, EX1) == full_marks(course, EX1)
    return course


@pytest.fixture(scope="module")
def lab(course, tmp_path_factory):
    server = LabServer(course, tmp_path_factory.mktemp("formgrader-lab"), secrets.token_hex(16)).start(SERVER_START)
    yield server
    server.stop()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh browser context; only 127.0.0.1 and file:// are reachable (a CDN request fails
    at once instead of holding a page's load event). On failure the hook in browser_support
    saves failure-<phase>.png/.html/-console.txt into tmp_path before this closes it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    page = new_page(context)
    expect.set_options(timeout=ACTION * 1000)  # for this test only (Playwright's default is 5 s)
    try:
        yield page
    finally:
        expect.set_options(timeout=None)  # back to Playwright's default
        context.close()


def shoot(page, tmp_path, name, **options):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), **options)
    print(f"screenshot: {path}")
    return path


def formgrader_frame(page, path_part, timeout=PAGE_LOAD):
    """The Frame of formgrader's iframe once its document is at a URL containing path_part.
    (Between polls the page waits, so Playwright takes in the frames' navigation events.)"""
    return wait_until(lambda: next((f for f in page.frames if path_part in f.url), None), timeout,
                      f"formgrader's iframe at a URL containing {path_part!r}", pause=browser_pause(page))


def browser_pause(page):
    """A pause for wait_until that lets Playwright process the page's events meanwhile."""
    return lambda seconds: page.wait_for_timeout(seconds * 1000)


def loaded_table(frame):
    """formgrader's main table once its rows came from the formgrader API (not 'Loading...')."""
    table = frame.locator("#main-table")
    expect(table).not_to_contain_text("Loading, please wait", timeout=PAGE_LOAD * 1000)
    return table


def test_instructor_grades_by_hand_in_formgrader_and_a_regrade_keeps_it(course, lab, page, tmp_path):
    started = time.monotonic()
    points = grade_cell_points(course, EX1)
    full = full_marks(course, EX1)
    assert points[CELL] == 1.0

    # 1. JupyterLab → Nbgrader → Formgrader: Manage Assignments lists ex01 with 1 submission.
    page.goto(lab.url("/lab"))
    page.locator(".lm-MenuBar-itemLabel").get_by_text("Nbgrader", exact=True).click(timeout=PAGE_LOAD * 1000)
    page.locator(".lm-Menu-item").filter(
        has=page.locator(".lm-Menu-itemLabel").get_by_text("Formgrader", exact=True)).click()
    frame = formgrader_frame(page, "/formgrader/manage_assignments")
    row = frame.locator("tr").filter(has=frame.get_by_role("link", name=EX1, exact=True))
    expect(row).to_have_count(1, timeout=PAGE_LOAD * 1000)  # filled from /formgrader/api/assignments
    expect(row.locator(".num-submissions")).to_have_text("1")
    expect(row.locator(".num-submissions").get_by_role("link", name="1")).to_be_visible()
    expect(frame.get_by_role("heading", name="Manage Assignments")).to_be_visible()
    shoot(page, tmp_path, "1-manage-assignments")
    api = page.request.get(lab.url("/formgrader/api/assignments")).json()
    assert [(a["name"], a["num_submissions"], a["max_score"]) for a in api] == [(EX1, 1, full)]

    # 2. Manual Grading → ex01 → the notebook → the submission: formgrader's grading page.
    frame.get_by_role("link", name="Manual Grading", exact=True).click()
    frame = formgrader_frame(page, "/formgrader/gradebook")
    row = loaded_table(frame).locator("tr").filter(has=frame.get_by_role("link", name=EX1, exact=True))
    expect(row.locator(".num-submissions")).to_have_text("1")
    expect(row.locator(".score")).to_have_text(f"{full:g} / {full:g}")
    row.get_by_role("link", name=EX1, exact=True).click()
    frame = formgrader_frame(page, f"/formgrader/gradebook/{EX1}")
    loaded_table(frame).get_by_role("link", name=EX1, exact=True).click()
    frame = formgrader_frame(page, f"/formgrader/gradebook/{EX1}/{EX1}")
    row = loaded_table(frame).locator("tr").filter(has_text="Submission #1")
    expect(row.locator(".score")).to_have_text(f"{full:g} / {full:g}")  # the autograded total
    expect(row.locator(".needs-manual-grade")).not_to_contain_text("needs manual grade")
    row.get_by_role("link", name="Submission #1").click()
    frame = formgrader_frame(page, "/formgrader/submissions/")
    submission_id = frame.url.split("/formgrader/submissions/")[1].split("?")[0].strip("/")
    expect(frame.locator(".panel-title")).to_contain_text("Submission 1 / 1")
    score_box = frame.locator(f"input.score#{CELL}")
    # every grade cell's box shows its autograded score (the placeholder, set from
    # /formgrader/api/grades) and is empty: no manual score yet
    for cell, max_points in points.items():
        box = frame.locator(f"input.score#{cell}")
        expect(box).to_have_attribute("placeholder", f"{max_points:g}", timeout=PAGE_LOAD * 1000)
        expect(box).to_have_value("")
    heading = frame.locator(".nbgrader_cell .panel-heading").filter(has=score_box)
    expect(heading).to_contain_text(f"/ {points[CELL]:g}")
    score_box.scroll_into_view_if_needed()
    expect(score_box).to_be_in_viewport()
    shoot(page, tmp_path, "2-grading-page")

    # 3. A manual score in the test cell's box and a comment under the answer, as an
    #    instructor types them; formgrader saves each on change (blur).
    score_box.fill(str(MANUAL))
    score_box.blur()
    comment_box = frame.locator(f"textarea.comment#{ANSWER}-comment")
    comment_box.fill(COMMENT)
    comment_box.blur()

    def saved_grade():
        grades = page.request.get(lab.url(f"/formgrader/api/grades?submission_id={submission_id}")).json()
        return next(g for g in grades if g["name"] == CELL)["manual_score"] == MANUAL

    wait_until(saved_grade, SAVE, "formgrader to save the manual score (/formgrader/api/grades)",
               pause=browser_pause(page))
    wait_until(lambda: comment_text(course, STUDENT, EX1, ANSWER) == COMMENT, SAVE,
               "formgrader to save the comment in the gradebook", pause=browser_pause(page))
    assert grade_row(course, STUDENT, EX1, CELL) == (1.0, MANUAL, None, False, MANUAL)
    assert submission_score(course, STUDENT, EX1) == full - 1 + MANUAL
    shoot(page, tmp_path, "3-manual-grade")

    # 4. A forced regrade keeps the manual score and comment, unflagged; the page, reloaded,
    #    still shows them, and the gradebook's total counts the manual score.
    out = run_grade(course, "--force")
    assert "kept 1 manual score(s); 0 flagged for re-review" in out, out
    assert grade_row(course, STUDENT, EX1, CELL) == (1.0, MANUAL, None, False, MANUAL)
    assert comment_text(course, STUDENT, EX1, ANSWER) == COMMENT
    frame.goto(frame.url)  # reload formgrader's grading page inside JupyterLab
    frame = formgrader_frame(page, f"/formgrader/submissions/{submission_id}")
    score_box = frame.locator(f"input.score#{CELL}")
    expect(score_box).to_have_value(f"{MANUAL:g}", timeout=PAGE_LOAD * 1000)
    expect(score_box).to_have_attribute("placeholder", "1")  # the autograded score beside it
    expect(frame.locator(f"textarea.comment#{ANSWER}-comment")).to_have_value(COMMENT)
    expect(score_box).not_to_have_class(re.compile(r"\bneeds_manual_grade\b"))  # kept, not flagged
    score_box.scroll_into_view_if_needed()
    shoot(page, tmp_path, "4-after-regrade-grading-page")
    frame.locator(".breadcrumb").get_by_role("link", name=EX1, exact=True).last.click()  # the notebook
    frame = formgrader_frame(page, f"/formgrader/gradebook/{EX1}/{EX1}")
    row = loaded_table(frame).locator("tr").filter(has_text="Submission #1")
    expect(row.locator(".score")).to_have_text(f"{full - 1 + MANUAL:g} / {full:g}")
    shoot(page, tmp_path, "4-after-regrade-gradebook")
    notebooks = page.request.get(lab.url(f"/formgrader/api/submitted_notebooks/{EX1}/{EX1}")).json()
    assert [(n["student"], n["score"], n["needs_manual_grade"]) for n in notebooks] == \
        [(STUDENT, full - 1 + MANUAL, False)]

    # 5. The student's feedback: total, the manual score and comment, the verdicts; no traceback.
    feedback = sorted((course / "feedback" / STUDENT / EX1).glob("*.html"))
    assert [p.name for p in feedback] == [f"{EX1}.html"]
    page.goto(feedback[0].as_uri())
    expect(page.locator("h4").first).to_contain_text(f"(Score: {full - 1 + MANUAL} / {full})")
    graded = page.locator("div.code_cell").filter(has=page.locator(f"a[name='{CELL}']"))
    expect(graded.locator(".panel-heading").first).to_contain_text(f"Score: {MANUAL} / {points[CELL]}")
    answer = page.locator("div.code_cell").filter(has=page.locator(f"a[name='comment-{ANSWER}']"))
    expect(answer).to_contain_text(COMMENT)
    verdict = graded.get_by_text(re.compile(r"Hidden tests PASSED: d_power: passed all \d+ hidden test cases"))
    expect(verdict).to_have_count(1)
    answer.scroll_into_view_if_needed()
    expect(answer.get_by_text(COMMENT)).to_be_in_viewport()
    expect(verdict).to_be_visible()
    text = page.locator("body").inner_text()
    assert len(re.findall(r"Hidden tests PASSED", text)) == len(points), text[-2000:]
    for bad in ("PermissionError", "Hidden tests FAILED", "needs manual grade"):
        assert bad not in text, f"{bad!r} in the feedback page"
    assert "Traceback" not in text, "a traceback in a correct student's feedback"
    shoot(page, tmp_path, "5-feedback")
    print(f"formgrader browser test: {time.monotonic() - started:.1f} s after the set-up")


def test_feedback_of_a_correct_submission_shows_no_traceback(course, page, tmp_path):
    page.goto((course / "feedback" / STUDENT / EX1 / f"{EX1}.html").as_uri())
    expect(page.locator("h4").first).to_contain_text(f"{EX1} (Score: ")
    tracebacks = page.locator("div.code_cell").filter(has_text="Traceback (most recent call last)")
    if tracebacks.count():
        tracebacks.first.scroll_into_view_if_needed()
        shoot(page, tmp_path, "feedback-traceback")
    names = tracebacks.locator(".panel-heading code, .panel-heading").all_inner_texts()
    assert tracebacks.count() == 0, f"tracebacks in the feedback of a correct submission: {names}"
