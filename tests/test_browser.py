"""JupyterLab in a real (headless) browser: a student runs an exercise notebook and
sees the NotImplementedError of a graded cell; an instructor opens nbgrader's
formgrader and sees the course's assignments.

JupyterLab runs from the project's environment on 127.0.0.1 (a port the server picks,
a known token, private settings: tests/browser_settings/overrides.json renders every
notebook cell, so what is in the DOM is also on screen once scrolled to). Debian's
Chromium is driven by Playwright. Every step waits on an observable state (the kernel
idle in the page and on the server, every code cell numbered, the output in view) with
a bounded timeout. Screenshots are saved in the test's temporary directory, and on any
failure `failure-<phase>.png` (with the page's HTML and console) is saved there and its
path printed (tests/browser_support.py).
"""

import json
import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import expect

from autograder.instructor.nbgrader_cli import run_nbgrader
from autograder.instructor.synthetic_class import scratch_course

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import PAGE_LOAD, LabServer, new_page, wait_until  # noqa: E402

pytest_plugins = ["tests.browser_support"]  # its screenshot-on-failure hook

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ex01_differentiation"
NOTEBOOK = f"exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
# Upper bounds (seconds), a few times what a 2-core machine busy with other work takes
# (busy: nbgrader db add ~55 s, server start ~30 s, page + kernel ~10 s, Run All ~10 s);
# each wait ends as soon as its condition holds.
NBGRADER = 300
SERVER_START = 180
KERNEL_READY = 180
RUN_ALL = 300
IDLE = "idle"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("lab-course"), [ASSIGNMENT], release="committed")
    run_nbgrader(["db", "assignment", "add", ASSIGNMENT], course, timeout=NBGRADER)
    server = LabServer(course, tmp_path_factory.mktemp("lab-state"), secrets.token_hex(16)).start(SERVER_START)
    yield server
    server.stop()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh browser context per test; on failure the hook in browser_support saves
    failure-<phase>.png/.html/-console.txt into tmp_path before this closes it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = new_page(context)
    yield page
    context.close()


def wait_for_idle_kernel(lab, panel, timeout):
    """The kernel is idle both in the page (the notebook toolbar's execution indicator,
    which shows the kernel connection's status) and on the server (its session record)."""
    expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", IDLE, timeout=timeout * 1000)
    wait_until(lambda: lab.kernel_state(NOTEBOOK) == IDLE, timeout, f"the kernel of {NOTEBOOK} to be idle on the server")


def test_student_runs_exercise_and_sees_not_implemented(lab, page, tmp_path):
    tracker = lab.api("/lab/api/settings/@jupyterlab/notebook-extension:tracker")
    assert tracker["schema"]["properties"]["windowingMode"]["default"] == "none", \
        "tests/browser_settings/overrides.json was not applied: cells out of view would not be rendered"
    cells = json.loads((lab.root / NOTEBOOK).read_text())["cells"]
    code_cells = sum(cell["cell_type"] == "code" for cell in cells)

    page.goto(lab.url(f"/lab/tree/{NOTEBOOK}"))
    panel = page.locator(".jp-NotebookPanel")
    prompts = panel.locator(".jp-CodeCell .jp-InputPrompt")
    expect(prompts).to_have_count(code_cells, timeout=PAGE_LOAD * 1000)  # every cell attached
    expect(panel.locator(".jp-KernelName")).to_have_text("Python 3 (ipykernel)", timeout=KERNEL_READY * 1000)
    wait_for_idle_kernel(lab, panel, KERNEL_READY)

    page.locator(".lm-MenuBar-itemLabel").get_by_text("Run", exact=True).click()
    run_all = page.locator(".lm-Menu-item").filter(
        has=page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True))
    expect(run_all).not_to_have_class(re.compile(r"\blm-mod-disabled\b"))  # the notebook is the current widget
    run_all.click()
    # Run All goes on past the test cells' errors (they are tagged raises-exception): it is
    # over when every code cell shows an execution count and the kernel is idle again.
    expect(prompts.filter(has_text=re.compile(r"^\[\d+\]:$"))).to_have_count(code_cells, timeout=RUN_ALL * 1000)
    wait_for_idle_kernel(lab, panel, RUN_ALL)

    test_cell = panel.locator(".jp-CodeCell").filter(has_text="# Public tests for average_rate_of_change")
    error = test_cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    expect(error).to_contain_text("NotImplementedError")  # in the DOM (textContent)
    test_cell.evaluate("cell => cell.scrollIntoView({block: 'start'})")  # the cell from its prompt down
    expect(test_cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"^\[\d+\]:$"))
    expect(test_cell.locator(".jp-InputPrompt")).to_be_in_viewport()
    expect(error).to_be_in_viewport(ratio=1)
    expect(error).to_contain_text("raise NotImplementedError()", use_inner_text=True)  # rendered, as seen
    page.screenshot(path=str(tmp_path / "exercise.png"))
    print(f"screenshot: {tmp_path / 'exercise.png'}")


def test_instructor_sees_assignments_in_formgrader(lab, page, tmp_path):
    page.goto(lab.url("/formgrader"))
    expect(page).to_have_url(re.compile(r"/formgrader/manage_assignments"), timeout=PAGE_LOAD * 1000)
    link = page.get_by_role("link", name=ASSIGNMENT, exact=True)
    expect(link).to_be_visible(timeout=PAGE_LOAD * 1000)  # the table is filled from the formgrader's API
    page.screenshot(path=str(tmp_path / "formgrader.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'formgrader.png'}")
    api = page.request.get(lab.url("/formgrader/api/assignments"))
    assert api.ok and ASSIGNMENT in {a["name"] for a in api.json()}
