"""Support for tests/test_browser.py: a private JupyterLab server, waits on observable
conditions (never a bare sleep), and a screenshot whenever a test that drives a page fails.

It is loaded as a pytest plugin by the browser tests (``pytest_plugins``) for its ``browser`` fixture and its
``pytest_runtest_makereport`` hook; the hook only acts on tests that use a ``page`` fixture.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.instructor.nbgrader_cli import nbgrader_env

# overrides.json for the test server: every notebook cell is attached and rendered
# (windowingMode "none"; JupyterLab 4's default skips rendering cells out of view, so
# their inner text is empty), and no news/update toast covers the page.
SETTINGS_DIR = Path(__file__).with_name("browser_settings")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE_LOAD = 180  # upper bounds (seconds) for a page load and for one action on a busy 2-core machine
ACTION = 60


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, through Playwright (one per test module)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                     timeout=PAGE_LOAD * 1000)
        yield chromium
        chromium.close()


def new_page(context):
    """A page of `context` (default timeouts set here) that records its console and page errors
    in page.console_log, for the failure evidence."""
    context.set_default_timeout(ACTION * 1000)
    context.set_default_navigation_timeout(PAGE_LOAD * 1000)
    page = context.new_page()
    page.console_log = []
    page.on("console", lambda message: page.console_log.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: page.console_log.append(f"pageerror: {error}"))
    return page


def wait_until(condition, timeout, what, pause=None):
    """Return condition()'s first truthy value; poll it at most every 0.25 s and fail
    with TimeoutError after `timeout` seconds. `pause(seconds)` waits between polls
    (default time.sleep; a process's wait ends the pause early when it exits)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        (pause or time.sleep)(min(0.25, left))


class LabServer:
    """`jupyter lab` on 127.0.0.1 with a port chosen by the server itself (read back from its
    runtime file, so no other process can take it between choosing and binding), a known
    token, and private config, runtime, settings and workspace directories.

    `home`: a user of their own (a student): HOME is that directory and the Jupyter config
    directory its ~/.jupyter (where a student's nbgrader_config.py lives). `args`: more
    command-line options for `jupyter lab`."""

    def __init__(self, root, state_dir, token, home=None, args=()):
        self.root, self.state, self.token = Path(root), Path(state_dir), token
        self.home, self.args = (Path(home) if home else None), list(args)
        self.log_path = self.state / "jupyterlab.log"
        self.base = None
        self.process = None

    def start(self, timeout):
        dirs = {name: self.state / name for name in ("config", "runtime", "user-settings", "workspaces", "ipython")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        command = [
            str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", "--ServerApp.open_browser=False",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.app_settings_dir={SETTINGS_DIR}", f"--LabApp.user_settings_dir={dirs['user-settings']}",
            f"--LabApp.workspaces_dir={dirs['workspaces']}",
            *(["--allow-root"] if os.geteuid() == 0 else []), *self.args,
        ]
        config_dir = dirs["config"]
        if self.home:
            config_dir = self.home / ".jupyter"
            config_dir.mkdir(parents=True, exist_ok=True)
        env = nbgrader_env({"JUPYTER_PLATFORM_DIRS": "1", "JUPYTER_CONFIG_DIR": str(config_dir),
                            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]), "IPYTHONDIR": str(dirs["ipython"]),
                            **({"HOME": str(self.home)} if self.home else {})})
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            info = wait_until(lambda: self._alive() and self._server_info(dirs["runtime"]), timeout,
                              "JupyterLab's runtime file", pause=self._pause)
            self.base = f"http://127.0.0.1:{info['port']}"
            wait_until(lambda: self._alive() and self._answers("/api/status"), timeout,
                       "JupyterLab to answer /api/status", pause=self._pause)
            wait_until(lambda: self._alive() and "python3" in self.api("/api/kernelspecs")["kernelspecs"],
                       timeout, "the python3 kernel spec", pause=self._pause)
        except Exception as error:
            self.stop()
            pytest.fail(f"JupyterLab did not start: {error}\n{self.log_tail()}", pytrace=False)
        return self

    def _alive(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {self.process.returncode}")
        return True

    def _pause(self, seconds):
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass

    def _server_info(self, runtime_dir):
        for path in runtime_dir.glob("jpserver-*.json"):
            try:
                info = json.loads(path.read_text())
            except (OSError, ValueError):  # being written
                continue
            if info.get("pid") == self.process.pid and info.get("port"):
                return info
        return None

    def _answers(self, path):
        try:
            self.api(path)
            return True
        except (OSError, ValueError):
            return False

    def api(self, path):
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def kernel_state(self, notebook_path):
        """The server's view of the notebook's kernel ('idle', 'busy', 'starting', ...), or None."""
        for session in self.api("/api/sessions"):
            if session.get("path") == notebook_path and session.get("kernel"):
                return session["kernel"].get("execution_state")
        return None

    def url(self, path):
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"

    def log_tail(self, chars=3000):
        try:
            return "jupyterlab.log (end):\n" + self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no jupyterlab.log)"

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)  # it shuts its kernels down first
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        if getattr(self, "_log", None):
            self._log.close()


def save_failure_evidence(page, directory, when):
    """Screenshot, HTML and browser console of a page whose test failed; returns the screenshot's path."""
    directory = Path(directory)
    screenshot = directory / f"failure-{when}.png"
    try:
        page.screenshot(path=str(screenshot), full_page=True, timeout=15_000)
    except Exception as error:  # a crashed or closed page: say so rather than hide the test's own failure
        return f"(no screenshot: {error.__class__.__name__}: {error})"
    try:
        (directory / f"failure-{when}.html").write_text(page.content())
        (directory / f"failure-{when}-console.txt").write_text("\n".join(getattr(page, "console_log", [])))
    except Exception:
        pass
    return str(screenshot)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.failed and report.when in ("setup", "call") and page is not None and not page.is_closed():
        where = item.funcargs.get("tmp_path") or Path(tempfile.mkdtemp(prefix="browser-failure-"))
        shot = save_failure_evidence(page, where, report.when)
        report.sections.append(("browser screenshot", f"screenshot of the page when the test failed: {shot}"))
        lab = item.funcargs.get("lab")
        if isinstance(lab, LabServer):
            report.sections.append(("jupyterlab log", lab.log_tail()))
        terminal = item.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal.write_line(f"\n{item.nodeid}: screenshot of the failed page: {shot}")
    return report
