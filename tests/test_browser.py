"""JupyterLab in a real (headless) browser: a student runs an exercise notebook and
sees the NotImplementedError of a graded cell; an instructor opens nbgrader's
formgrader and sees the course's assignments.

JupyterLab runs from the project's environment on 127.0.0.1 (random free port,
known token); Debian's Chromium is driven by Playwright. Screenshots are saved
in the test's temporary directory.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from autograder.instructor.nbgrader_cli import nbgrader_env, run_nbgrader

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ASSIGNMENT = "ex01_differentiation"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    course = tmp_path_factory.mktemp("lab-course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copytree(ROOT / "exercises" / ASSIGNMENT, course / "exercises" / ASSIGNMENT)
    run_nbgrader(["db", "assignment", "add", ASSIGNMENT], course)
    port, token = free_port(), secrets.token_hex(16)
    log = open(course / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
         "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=course, env=nbgrader_env({"JUPYTER_PLATFORM_DIRS": "1"}), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("JupyterLab did not start:\n" + (course / "jupyterlab.log").read_text()[-3000:])
            time.sleep(0.5)
    yield base, token, course
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_student_runs_exercise_and_sees_not_implemented(lab, browser, tmp_path):
    base, token, _ = lab
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base}/lab/tree/exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.get_by_text("| Idle").first.wait_for(timeout=90_000)  # status bar: the kernel is ready
    executed = page.locator(".jp-InputPrompt", has_text="[1]")
    for _ in range(3):  # restart-and-run-all is immune to a kernel that was still settling; retry if lost
        page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel and Run All Cells").first.click()
        page.locator(".jp-Dialog-button.jp-mod-accept").first.click(timeout=30_000)
        try:
            executed.first.wait_for(timeout=45_000)
            break
        except Exception:
            page.keyboard.press("Escape")
    error = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                         has_text="NotImplementedError").first
    try:
        error.wait_for(timeout=120_000)
    except Exception:
        page.screenshot(path=str(tmp_path / "exercise-timeout.png"), full_page=True)
        log = (lab[2] / "jupyterlab.log").read_text()[-3000:]
        pytest.fail(f"no NotImplementedError output; screenshot in {tmp_path}; server log:\n{log}")
    error.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "exercise.png"), full_page=False)
    assert "NotImplementedError" in error.inner_text()
    page.close()


def test_instructor_sees_assignments_in_formgrader(lab, browser, tmp_path):
    base, token, _ = lab
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base}/formgrader?token={token}")
    page.wait_for_url("**/formgrader/manage_assignments**", timeout=60_000)
    page.get_by_role("link", name=ASSIGNMENT).wait_for(timeout=60_000)
    page.screenshot(path=str(tmp_path / "formgrader.png"), full_page=True)
    api = page.request.get(f"{base}/formgrader/api/assignments?token={token}")
    assert api.ok and ASSIGNMENT in {a["name"] for a in api.json()}
    page.close()
