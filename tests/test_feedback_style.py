"""Feedback pages (autograder/instructor/feedback_style.py) read offline and on a phone.

A real course run: the course's nbgrader_config.py and solutions/ex01_differentiation in a
temporary course, `nbgrader generate_assignment`, a submission with two planted bugs,
`nbgrader autograde`, the hidden-test verdict lines that `grade` adds under the test cells, and
`nbgrader generate_feedback`. The feedback page is then opened in headless Chromium with every
network request refused: the math must be typeset (no raw TeX left in the text), nothing may
scroll sideways at 400 px, the verdict lines wrap, and the table of contents names the functions.
Screenshots are saved in the fixture's temporary directory.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.instructor import feedback_style
from autograder.instructor.feedback_style import (EXPORTER, OfflineMathRenderer, latex_output, render_math,
                                                  tex_to_mathtext)
from autograder.instructor.nbgrader_cli import run_nbgrader
from autograder.instructor.recorded_outputs import verdict_output
from autograder import notebook_code

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ex01_differentiation"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
BUGS = {"central_difference": ("/ (2 * h)", "/ h"), "d_tanh": ("1.0 - np.tanh(x) ** 2", "1.0 + np.tanh(x) ** 2")}
# a verdict as the judge writes it, with the long unbroken tokens that used to push the page sideways
VERDICT = ("d_tanh: failed 3 of 7 hidden test cases.\n"
           "  - case x = np.linspace(-1000.0, 1000.0, 2001) of shape (2001,): result: 1994 of 2001 entries are wrong; "
           "worst at index [1000]: yours 2. Usual cause: the derivative of tanh is 1 - tanh(x)**2, not 1 + tanh(x)**2.\n"
           "  - case x_with_a_very_long_name_that_does_not_break_anywhere_at_all_0123456789abcdefghijklmnopqrstuvwxyz"
           ": result has the wrong sign everywhere")


def markdown(source):
    from nbconvert.filters.markdown_mistune import MarkdownWithMath
    return MarkdownWithMath(renderer=OfflineMathRenderer(escape=False)).render(source)


# ------------------------------------------------------------------ TeX to mathtext

@pytest.mark.parametrize("tex, expected", [
    (r"\frac1N", r"\frac{1}{N}"),
    (r"-\dfrac2N\,x", r"-\dfrac{2}{N}\,x"),
    (r"\tfrac12 (y - \hat y)^2", r"\frac{1}{2} (y - \hat{y})^2"),
    (r"\mathbf x^\top W\mathbf b", r"\mathbf{x}^\top W\mathbf{b}"),
    (r"\hat{\mathbf y}_i", r"\hat{\mathbf{y}}_i"),
    (r"\boldsymbol\delta", r"\boldsymbol{\delta}"),
    (r"\mathbb R^{N\times K}", r"\mathbb{R}^{N\times K}"),
    (r"a \le b \ne c", r"a \leq b \neq c"),
    (r"\Big(x\Big) \big[y\bigr]", r"(x) [y]"),
    (r"\textstyle\sum_n x", r"\sum_n x"),
    (r"\text{(a float, \$)}", r"\text{(a float, \$)}"),
    (r"\sqrt[3]{x}", r"\sqrt[3]{x}"),
    (r"\boxed{x = 1}", r"{x = 1}"),
    (r"x \implies y", r"x \Rightarrow y"),
])
def test_tex_is_rewritten_for_mathtext(tex, expected):
    assert tex_to_mathtext(tex) == expected


def test_display_math_sets_outer_fractions_in_display_style():
    assert tex_to_mathtext(r"\frac1N \sum_i \frac{a}{\frac{b}{c}}", display=True) \
        == r"\dfrac{1}{N} \sum_i \dfrac{a}{\frac{b}{c}}"
    assert tex_to_mathtext(r"\frac1N", display=False) == r"\frac{1}{N}"


def test_markdown_math_becomes_images_and_code_is_left_alone():
    out = markdown(r"Slope $\dfrac{\Delta y}{\Delta x}$, cost \$5, code `$x$` and $$J = \frac1N\sum_i x_i$$")
    assert out.count('class="tex-math') == 2
    assert "<code>$x$</code>" in out  # a code span is not math
    assert "$5" in out and "\\$" not in out.replace("\\$5", "")
    assert 'class="tex-display"' in out and "data:image/svg+xml;base64," in out
    assert "\\frac" not in re.sub(r'alt="[^"]*"', "", out)  # the TeX survives only as alt text


def test_environments_matrices_and_lines():
    matrix = render_math(r"J = \begin{pmatrix} a & b \\ c & \frac1N \end{pmatrix}", display=True)
    assert matrix.count("<td>") == 4 and 'class="tex-matrix"' in matrix and "tex-source" not in matrix
    cases = render_math(r"f(x) = \begin{cases} x & x > 0 \\ 0 & \text{otherwise} \end{cases}", display=True)
    assert 'class="tex-cases"' in cases and "tex-source" not in cases
    lines = render_math(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", display=True)
    assert lines.count('class="tex-line"') == 2 and lines.count("<td>") == 4 and "tex-source" not in lines
    gathered = render_math(r"\begin{gather} a = b \\ c = d \end{gather}", display=True)
    assert gathered.count('class="tex-line"') == 2 and "<td>" not in gathered


def test_what_cannot_be_typeset_is_shown_as_escaped_tex(caplog):
    out = render_math(r"\unknowncommand{<b>x</b>}")
    assert 'class="tex-source"' in out and "&lt;b&gt;" in out and "<b>" not in out
    assert "could not typeset" in caplog.text


def test_alt_text_is_escaped():
    out = render_math(r'\text{a"b} < c')
    assert "tex-source" not in out and 'alt="\\text{a&quot;b} &lt; c"' in out


def test_latex_outputs_are_typeset():
    assert "<img" in latex_output(r"$$\frac12$$") and "tex-source" not in latex_output(r"$$\frac12$$")
    assert 'class="tex-matrix"' in latex_output(r"\begin{pmatrix}1 & 2\end{pmatrix}")


def test_all_math_of_every_assignment_is_typeset(caplog):
    """Every formula the feedback of any assignment can show is typeset (none falls back to TeX)."""
    count = 0
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                count += markdown(cell.source).count('class="tex-math')
    assert count > 300
    assert "could not typeset" not in caplog.text


def test_course_config_uses_the_exporter():
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.GenerateFeedback.exporter_class == EXPORTER
    c = type(config)()
    assert feedback_style.feedback_config(c).GenerateFeedback.exporter_class == EXPORTER
    assert "HTMLExporter" not in config  # the formgrader's exporter keeps nbgrader's settings


# ------------------------------------------------------------------ a real nbgrader run

def submission_with_bugs(release, source):
    """The release notebook with the solutions' code typed in, and the planted bugs."""
    solutions = {notebook_code.grade_id(c): c.source for c in source.cells if notebook_code.is_answer_cell(c)}
    for cell in release.cells:
        grade_id = notebook_code.grade_id(cell)
        if notebook_code.is_answer_cell(cell) and grade_id in solutions:
            code = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", "", solutions[grade_id], flags=re.M)
            if grade_id in BUGS:
                assert BUGS[grade_id][0] in code
                code = code.replace(*BUGS[grade_id])
            cell.source = code
    return release


def add_verdict_lines(notebook_path):
    """What `grade` puts under each test cell (recorded_outputs.verdict_output): the hidden-test verdict."""
    nb = nbformat.read(notebook_path, as_version=4)
    for cell in nb.cells:
        function = notebook_code.tested_function(cell)
        if cell.cell_type == "code" and function:
            passed = function != "d_tanh"
            message = f"{function}: passed all 6 hidden test cases." if passed else VERDICT
            cell.outputs.append(verdict_output({"passed": passed, "message": message}))
    notebook_path.chmod(0o644)
    nbformat.write(nb, notebook_path)


@pytest.fixture(scope="module")
def feedback(new_course):
    course = new_course("feedback-course", [ASSIGNMENT])
    release = nbformat.read(course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    source = nbformat.read(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    submitted = course / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    submitted.parent.mkdir(parents=True)
    nbformat.write(submission_with_bugs(release, source), submitted)
    run_nbgrader(["autograde", ASSIGNMENT, "--force"], course, timeout=900)
    add_verdict_lines(course / "autograded" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    run_nbgrader(["generate_feedback", ASSIGNMENT, "--force"], course)
    page = course / "feedback" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert page.exists()
    return course, page


def test_feedback_html_needs_no_network(feedback):
    _, page = feedback
    text = page.read_text()
    viewport = re.findall(r"<meta[^>]*name=.viewport.[^>]*>", text)
    assert len(viewport) == 1 and "width=device-width, initial-scale=1" in viewport[0]
    assert "mathjax" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing loaded from elsewhere
    assert text.count('class="tex-math') > 50


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (bash scripts/install_chromium.sh)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_offline(browser, page_path, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    requests = []

    def refuse(route):
        requests.append(route.request.url)
        route.abort() if not route.request.url.startswith(("file:", "data:")) else route.continue_()
    context.route("**/*", refuse)
    page = context.new_page()
    page.goto(page_path.as_uri(), wait_until="load")
    return context, page, requests


def test_feedback_in_chromium_on_a_phone(feedback, browser):
    course, page_path = feedback
    context, page, requests = open_offline(browser, page_path, 400)
    try:
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        # math: typeset images, all loaded; no TeX left in the visible text of the markdown
        images = page.evaluate("[...document.querySelectorAll('img.tex-math')].map(i => i.complete && i.naturalWidth > 0)")
        assert len(images) > 50 and all(images)
        prose = page.evaluate("[...document.querySelectorAll('.text_cell_render')].map(e => e.innerText).join('\\n')")
        assert "Average rate of change" in prose
        for tex in ("$", "\\frac", "\\dfrac", "\\partial", "\\mathbf", "\\sigma", "^{"):
            assert tex not in prose, tex
        # nothing scrolls sideways at 400 px, and the verdict wraps inside its box
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 2")
        verdict = page.evaluate("""(() => {
            const pre = [...document.querySelectorAll('pre')].find(p => p.innerText.includes('Hidden tests FAILED'));
            const style = getComputedStyle(pre);
            return {whiteSpace: style.whiteSpace, overflowWrap: style.overflowWrap,
                    fits: pre.scrollWidth <= pre.clientWidth + 1, lines: pre.getBoundingClientRect().height /
                    parseFloat(style.lineHeight), text: pre.innerText,
                    right: pre.getBoundingClientRect().right};
        })()""")
        assert verdict["whiteSpace"] == "pre-wrap" and verdict["overflowWrap"] == "anywhere"
        assert verdict["fits"] and verdict["right"] <= 400 and verdict["lines"] > 6
        assert "wrong sign everywhere" in verdict["text"]
        # the table of contents names every graded function
        toc = page.evaluate("[...document.querySelectorAll('#toc li.toc-test')].map(li => li.innerText)")
        release = nbformat.read(course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        functions = [notebook_code.tested_function(c) for c in release.cells if notebook_code.is_test_cell(c)]
        assert len(toc) == len(functions) > 10
        for entry, function in zip(toc, functions):
            assert entry.startswith(f"Tests of {function} (Score: "), entry
        assert "Tests of central_difference (Score: 0.0 / 1.0)" in toc
        assert "Tests of d_tanh (Score: 0.0 / 1.0)" in toc
        page.screenshot(path=str(page_path.parent / "feedback-400px-top.png"))
        y = page.evaluate("document.getElementsByName('test_d_tanh')[0].getBoundingClientRect().top + scrollY")
        page.screenshot(path=str(page_path.parent / "feedback-400px-d_tanh.png"), full_page=True,
                        clip={"x": 0, "y": max(0, y - 400), "width": 400, "height": 1400})
    finally:
        context.close()


def test_feedback_in_chromium_on_a_desktop(feedback, browser):
    _, page_path = feedback
    context, page, requests = open_offline(browser, page_path, 1100)
    try:
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 2")
        y = page.evaluate("document.getElementsByName('test_central_difference')[0].getBoundingClientRect().top"
                          " + scrollY")
        page.screenshot(path=str(page_path.parent / "feedback-1100px-central_difference.png"), full_page=True,
                        clip={"x": 0, "y": max(0, y - 300), "width": 1100, "height": 1200})
        # inline math is sized in em of the text and lowered by its depth below the baseline
        first = page.evaluate("""(() => {
            const i = document.querySelector('span.tex-inline img.tex-math');  // \\dfrac{\\Delta y}{\\Delta x}
            return {height: i.getBoundingClientRect().height, align: parseFloat(getComputedStyle(i).verticalAlign)};
        })()""")
        assert 20 < first["height"] < 60 and first["align"] < -3
    finally:
        context.close()
