"""What students and instructors see after `grade`: the feedback pages and the autograded
notebooks show exactly the hidden-test verdicts, nothing of the grading machinery, and a
student's output only ever as text.

One small class (ex01 + ex04) is graded once with `grade_course` (module fixture):
  - perfect: the solutions;
  - untouched: the release as handed out;
  - planted_bug: ex01 d_power without the lowered exponent, ex04 affine_backward whose dW
    misses a transpose (dZ.T @ X instead of X.T @ dZ);
  - markup: functions that print HTML and JavaScript (`<script>alert(1)</script>`,
    `<img src=x onerror=...>`, `<svg onload=...>`, an event-handler attribute) to stdout and
    stderr, raise exceptions whose message (and even class name) is such markup, and a cell
    whose value is such markup; everything else solved.
The feedback HTML is parsed (BeautifulSoup, html.parser) and opened in headless Chromium
with every network request refused, listening for dialogs, console messages and page
errors; screenshots are saved in the fixture's temporary directory (its path is printed).
"""

import html
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from bs4 import BeautifulSoup

from autograder.instructor.batteries import load_battery
from autograder.instructor.job_steps import points_earned
from autograder.instructor.recorded_outputs import verdict_output
from autograder.notebook_code import grade_id as grade_id_of
from autograder.notebook_code import is_test_cell
from autograder.notebook_code import tested_function as function_of  # (a test_* name would be collected)
from autograder.instructor.synthetic_class import grade_cell_points, released, scratch_course, solved, submit
from tests.course_fixtures import EX1, EX4, WRONG_D_POWER, grade

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

MISSING_TRANSPOSE = ("def affine_backward(dZ, X, W):\n    dX = dZ @ W.T\n"
                     "    dW = dZ.T @ X  # the transpose is missing: X.T @ dZ\n"
                     "    db = np.sum(dZ, axis=0)\n    return dX, dW, db\n")

# student-controlled markup: every payload that ran would raise a dialog, log XSS-EXECUTED or set window.__xss
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
SVG = '<svg onload="window.__xss=3">'
LOGS = '<script>console.log("XSS-EXECUTED")</script>'
HOVER = '<b onmouseover="window.__xss=4" style="display:block;width:100%;height:100%">hover</b>'
RAISED = '<img src=x onerror="window.__xss=5;alert(5)"><script>alert(6)</script>'
CLASS_NAME = "<iframe src=javascript:alert(7)>"
VALUE = '<a href="javascript:alert(8)">click</a><script>alert(9)</script>'
STDERR = "<script>alert(10)</script>"
PAYLOADS = [SCRIPT, IMG, SVG, LOGS, HOVER, RAISED, CLASS_NAME, VALUE, STDERR]

MARKUP_EX1 = {
    # prints markup from the function that the public test calls first, then raises markup
    "d_power": (f"def d_power(x, c):\n    print({SCRIPT!r}, {IMG!r})\n    print({SVG!r} + {LOGS!r})\n"
                f"    raise ValueError({RAISED!r})\n"),
    # prints markup but is right: its test cell passes
    "d_tanh": f"def d_tanh(x):\n    print({HOVER!r})\n    return 1.0 - np.tanh(x) ** 2\n",
    # an exception class whose name is markup
    "d_exp_log": (f"def d_exp_log(x):\n    raise type({CLASS_NAME!r}, (ArithmeticError,), {{}})"
                  "('no <b>derivative</b> today')\n"),
}
MARKUP_EXTRA_CELL = f"import sys\nprint({STDERR!r}, file=sys.stderr)\n{VALUE!r}\n"

# what must never reach a student (or an instructor's autograded notebook output): grading internals
INTERNALS = ["autograder/instructor", "autograder.instructor", "autograder/sandbox", "autograder.sandbox",
             "judge.py", "/tmp/autograder-grade", "autograder-grade-", "autograder-sandbox-", "run_hidden_tests",
             "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "autograder.hidden", "recorded_outputs", "RecordedOutputs",
             "GradingError", "Forbidden", "bwrap", "seccomp", "grading sandbox"]
AUDIT_HOOK = re.compile(r"PermissionError|is not allowed|cannot be imported")
STUDENTS = ["perfect", "untouched", "planted_bug", "markup"]


def _with_extra_cell(nb, after, source):
    index = next(i for i, c in enumerate(nb.cells) if grade_id_of(c) == after)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("feedback-course"), [EX1, EX4])
    for assignment in (EX1, EX4):
        submit(course, "perfect", assignment, solved(course, assignment))
        submit(course, "untouched", assignment, released(course, assignment))
    submit(course, "planted_bug", EX1, solved(course, EX1, d_power=WRONG_D_POWER))
    submit(course, "planted_bug", EX4, solved(course, EX4, affine_backward=MISSING_TRANSPOSE))
    submit(course, "markup", EX1, _with_extra_cell(solved(course, EX1, **MARKUP_EX1), "d_power", MARKUP_EXTRA_CELL))
    submit(course, "markup", EX4, _with_extra_cell(solved(course, EX4), "affine_backward", MARKUP_EXTRA_CELL))
    report = grade(course)
    outcomes = {(o.student, o.assignment): o for o in report.outcomes}
    return course, report, outcomes


# ---------------------------------------------------------------- reading what was produced

def feedback_path(course, student, assignment):
    return course / "feedback" / student / assignment / f"{assignment}.html"


def autograded(course, student, assignment):
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


def soup_of(course, student, assignment):
    return BeautifulSoup(feedback_path(course, student, assignment).read_text(encoding="utf-8"), "html.parser")


def _text(element):
    return html.unescape(element.get_text()).strip()


def feedback_cells(soup):
    """{grade_id of a test cell: {"score": heading text, "outputs": [(kind, text)]}} of a feedback page;
    kind is "error", "stdout", "stderr" or "result"."""
    cells = {}
    for cell in soup.select("div.code_cell"):
        anchor = cell.select_one("a[name^='test_']")
        if anchor is None:
            continue
        outputs = []
        for area in cell.select("div.output_subarea"):
            classes = area.get("class", [])
            kind = ("error" if "output_error" in classes else "stdout" if "output_stdout" in classes
                    else "stderr" if "output_stderr" in classes else "result")
            outputs.append((kind, _text(area)))
        heading = cell.select_one("div.panel-heading")
        assert anchor["name"] not in cells, f"two cells are anchored {anchor['name']}"
        cells[anchor["name"]] = {"score": _text(heading) if heading else "", "outputs": outputs}
    return cells


def output_text(output):
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join([output.ename, output.evalue, *output.traceback])
    return "\n".join(str(v) for v in output.get("data", {}).values())


def all_outputs_text(nb):
    return "\n".join(output_text(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def expected_verdict_line(verdict):
    return f"Hidden tests {'PASSED' if verdict['passed'] else 'FAILED'}: {verdict['message']}"


def all_keys():
    return [(s, a) for s in STUDENTS for a in (EX1, EX4)]


# ---------------------------------------------------------------- the verdicts, exactly

def test_every_submission_is_graded(graded):
    course, report, outcomes = graded
    assert report.problems == []
    assert sorted(outcomes) == sorted(all_keys())
    for student, assignment in all_keys():
        assert feedback_path(course, student, assignment).is_file()


@pytest.mark.parametrize("assignment", [EX1, EX4])
def test_perfect_feedback_has_no_error_and_every_test_cell_passed(graded, assignment):
    course, _, _ = graded
    soup = soup_of(course, "perfect", assignment)
    assert soup.select(".output_error") == [] and soup.select(".output_stderr") == []
    cells = feedback_cells(soup)
    assert set(cells) == set(grade_cell_points(course, assignment))
    for grade_id, cell in cells.items():
        verdicts = [text for _, text in cell["outputs"] if "Hidden tests" in text]
        assert len(verdicts) == 1, (grade_id, cell["outputs"])
        assert verdicts[0].startswith(f"Hidden tests PASSED: {function_of(grade_id)}: passed all "), verdicts
        points = grade_cell_points(course, assignment)[grade_id]
        assert f"Score: {points} / {points}" in cell["score"], cell["score"]
    assert "Hidden tests FAILED" not in soup.get_text()
    nb = autograded(course, "perfect", assignment)
    assert [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"] == []


@pytest.mark.parametrize("student, assignment", all_keys())
def test_each_test_cell_shows_its_own_verdict_and_score(graded, student, assignment):
    """Feedback: under every test cell exactly one verdict, the judge's own message for that cell's
    function, as its last output, and the cell's score is the verdict's (full, a share per right part, or
    nothing), in the cell's heading and in the table of contents. Autograded notebook: the same verdict output."""
    course, _, outcomes = graded
    verdicts = outcomes[student, assignment].verdicts
    points = grade_cell_points(course, assignment)
    soup = soup_of(course, student, assignment)
    cells = feedback_cells(soup)
    assert set(cells) == set(points)
    toc = {a["href"][1:]: _text(a.parent) for a in soup.select("#toc li.toc-test a")}
    for grade_id, cell in cells.items():
        verdict = verdicts[function_of(grade_id)]
        shown = [text for _, text in cell["outputs"] if text.startswith("Hidden tests")]
        assert shown == [expected_verdict_line(verdict)], grade_id
        assert cell["outputs"][-1] == ("stdout" if verdict["passed"] else "error", expected_verdict_line(verdict))
        score = points_earned(verdict, points[grade_id])
        assert f"Score: {score} / {points[grade_id]}" in cell["score"], (grade_id, cell["score"])
        assert toc[grade_id].endswith(f"(Score: {score} / {points[grade_id]})"), toc[grade_id]
    for cell in autograded(course, student, assignment).cells:
        if is_test_cell(cell):
            assert cell.outputs[-1] == verdict_output(verdicts[function_of(cell)])
            assert sum("Hidden tests" in output_text(o) for o in cell.outputs) == 1


def test_untouched_notebook_fails_every_test_cell_as_not_implemented(graded):
    course, _, _ = graded
    for assignment in (EX1, EX4):
        for grade_id, cell in feedback_cells(soup_of(course, "untouched", assignment)).items():
            assert cell["outputs"][-1] == (
                "error", f"Hidden tests FAILED: {function_of(grade_id)}: not implemented yet (raises "
                         "NotImplementedError)."), grade_id


@pytest.mark.parametrize("assignment, function, diagnosis", [
    (EX4, "affine_backward", ["dW equals the TRANSPOSE", "missing transpose"]),
    (EX1, "d_power", [", c = 3", "yours"]),
])
def test_planted_bug_is_diagnosed_under_its_own_test_cell(graded, assignment, function, diagnosis):
    course, _, _ = graded
    cells = feedback_cells(soup_of(course, "planted_bug", assignment))
    verdict = cells[f"test_{function}"]["outputs"][-1]
    assert verdict[0] == "error" and verdict[1].startswith(f"Hidden tests FAILED: {function}: failed ")
    for words in diagnosis:
        assert words in verdict[1], verdict[1]
    for grade_id, cell in cells.items():  # every other function passed, and no other cell mentions the bug
        if function_of(grade_id) != function:
            assert cell["outputs"][-1][1].startswith("Hidden tests PASSED"), grade_id
            assert not any("transpose" in text.lower() for _, text in cell["outputs"]), grade_id


# ---------------------------------------------------------------- nothing of the machinery

@pytest.mark.parametrize("student, assignment", all_keys())
def test_no_grading_internals_reach_feedback_or_autograded_outputs(graded, student, assignment):
    """The feedback page as a whole, and every output of the autograded notebook (its sources hold
    the hidden tests for the instructor, as stock nbgrader's do; its outputs come from the sandbox)."""
    course, _, _ = graded
    page = html.unescape(feedback_path(course, student, assignment).read_text(encoding="utf-8"))
    outputs = all_outputs_text(autograded(course, student, assignment))
    for name, text in (("feedback", page), ("autograded outputs", outputs)):
        for word in INTERNALS:
            assert word not in text, f"{name} of {student}/{assignment} contains {word!r}"
        assert not AUDIT_HOOK.search(text), f"{name} of {student}/{assignment}: {AUDIT_HOOK.search(text)}"


def test_no_reference_value_reaches_the_feedback(graded):
    """planted_bug's d_power fails every hidden case; its verdict shows the inputs and the student's
    values, never the reference's (every entry of every case of up to 6 entries, at the precisions a
    message uses; round numbers such as 1 or 12 are left out, they turn up anywhere)."""
    course, _, _ = graded
    battery = load_battery(EX1)
    reference = battery.reference()
    shown = " ".join(text for _, text in feedback_cells(soup_of(course, "planted_bug", EX1))["test_d_power"]["outputs"])
    shown += " ".join(all_outputs_text(nbformat.v4.new_notebook(cells=[c])) for c in
                      autograded(course, "planted_bug", EX1).cells if grade_id_of(c) == "test_d_power")
    assert "yours" in shown and "c = 3" in shown  # the student's values and the inputs are shown
    checked = 0
    for case in battery.iter_cases("d_power"):
        _, args, kwargs = case.args
        expected = np.asarray(reference.d_power(*args, **kwargs), dtype=float).ravel()
        if expected.size > 6:
            continue
        for value in expected:
            for digits in (6, 5, 4):
                text = f"{value:.{digits}g}"
                if len(text.lstrip("-0.").replace(".", "")) >= 4:
                    assert not re.search(rf"(?<![\d.]){re.escape(text)}(?!\d)", shown), \
                        f"reference value {text} of case {case.description}"
                    checked += 1
    assert checked >= 30


# ---------------------------------------------------------------- student markup is text

def test_autograded_outputs_are_plain_text_or_png(graded):
    course, _, _ = graded
    for student, assignment in all_keys():
        for cell in autograded(course, student, assignment).cells:
            for output in cell.get("outputs", []):
                assert set(output.get("data", {})) <= {"text/plain", "image/png"}, (student, output)


@pytest.mark.parametrize("assignment", [EX1, EX4])
def test_student_markup_is_escaped_text_in_the_feedback(graded, assignment):
    course, _, _ = graded
    raw = feedback_path(course, "markup", assignment).read_text(encoding="utf-8")
    soup = BeautifulSoup(raw, "html.parser")
    # no live markup of the student's: no script, frame, svg or handler attribute, no image but the typeset math
    assert soup.find_all(["script", "iframe", "frame", "object", "embed", "svg", "base", "form", "link"]) == []
    for tag in soup.find_all(True):
        handlers = [a for a in tag.attrs if a.lower().startswith("on")]
        assert not handlers, f"<{tag.name} {handlers}>"
        for attr in ("href", "src", "action", "formaction"):
            assert not str(tag.get(attr, "")).strip().lower().startswith("javascript:"), tag
    for img in soup.find_all("img"):
        assert img["src"].startswith("data:image/svg+xml;base64,") and "tex-math" in img["class"], img
    for payload in PAYLOADS:
        assert payload not in raw
    # ... and the student sees it, as text, under the cell that printed it
    text = soup.get_text()
    cells = feedback_cells(soup)
    if assignment == EX1:
        power = cells["test_d_power"]["outputs"]
        assert ("stdout", f"{SCRIPT} {IMG}\n{SVG}{LOGS}".strip()) in power
        assert any(kind == "error" and f"ValueError: {RAISED}" in out for kind, out in power)
        assert power[-1][1].startswith("Hidden tests FAILED: d_power:") and RAISED in power[-1][1]
        tanh = cells["test_d_tanh"]["outputs"]
        assert tanh[-1][1].startswith("Hidden tests PASSED: d_tanh:") and HOVER in tanh[0][1]
        exp_log = cells["test_d_exp_log"]["outputs"]
        assert exp_log[-1][1].startswith("Hidden tests FAILED: d_exp_log:") and CLASS_NAME in exp_log[-1][1]
        assert "no <b>derivative</b> today" in exp_log[-1][1]
    for payload in (STDERR, VALUE):  # the extra cell: stderr and its value
        assert payload in text, payload


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (bash scripts/install_chromium.sh)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("student, assignment", all_keys())
def test_no_student_script_runs_in_chromium(graded, browser, student, assignment):
    """The feedback page in Chromium, offline: no dialog, no console message, no page error, no
    handler fired, no request but to the file itself and data: URIs; the markup is visible as text."""
    course, _, _ = graded
    path = feedback_path(course, student, assignment)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    requests, dialogs, console, errors = [], [], [], []

    def refuse(route):
        requests.append(route.request.url)
        route.continue_() if route.request.url.startswith(("file:", "data:")) else route.abort()

    context.route("**/*", refuse)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(path.as_uri(), wait_until="load")  # "load": every image has loaded or failed (onerror)
        page.mouse.move(600, 450)  # over whatever the page shows first
        live = page.evaluate("""() => {
            const all = [...document.querySelectorAll('*')];
            return {scripts: document.scripts.length, frames: document.querySelectorAll('iframe, svg').length,
                    handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                    xss: window.__xss === undefined ? null : String(window.__xss)};
        }""")
        assert live == {"scripts": 0, "frames": 0, "handlers": 0, "xss": None}
        assert dialogs == [] and console == [] and errors == []
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        if student == "markup" and assignment == EX1:
            cell = page.locator("div.code_cell", has=page.locator("a[name='test_d_power']"))
            cell.scroll_into_view_if_needed()
            seen = cell.inner_text()
            for payload in (SCRIPT, IMG, SVG, RAISED):
                assert payload in seen, payload
            page.locator("a[name='test_d_tanh']").scroll_into_view_if_needed()
            page.locator("div.code_cell", has=page.locator("a[name='test_d_tanh']")).hover()
            assert page.evaluate("window.__xss === undefined") and dialogs == []
            shot = path.parent / "markup-test_d_power.png"
            cell.screenshot(path=str(shot))
            print(f"\nscreenshot of the markup student's d_power test cell: {shot}")
        if student == "planted_bug" and assignment == EX4:
            cell = page.locator("div.code_cell", has=page.locator("a[name='test_affine_backward']"))
            assert "dW equals the TRANSPOSE" in cell.inner_text()
            shot = path.parent / "planted_bug-test_affine_backward.png"
            cell.screenshot(path=str(shot))
            print(f"\nscreenshot of the planted bug's affine_backward test cell: {shot}")
    finally:
        context.close()
