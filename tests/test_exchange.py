"""The stock nbgrader workflow through a real exchange directory, in two set-ups.

JupyterHub-like (`hub`), set up as the README's "Larger courses on JupyterHub" says (its
commands and config are taken from the README): a shared exchange (mode 1777, made by "the
admin") named in the course's nbgrader_config.py; the instructor's Jupyter server on the
course (formgrader); a student with their own HOME, working directory and
~/.jupyter/nbgrader_config.py (exchange root and course_id), whose Jupyter server runs in a
students' environment where the README's commands disabled and locked the instructor
extensions:

  formgrader Generate -> instructor `nbgrader release_assignment` -> the student's
  Assignment List shows the course -> student `nbgrader fetch_assignment`, one function
  filled in, `nbgrader submit` -> instructor `nbgrader collect`, `python -m autograder
  grade` -> formgrader Release Feedback and `nbgrader release_feedback` -> student
  `nbgrader fetch_feedback`: the feedback HTML shows the student's score.

One machine (`lab`, what `make lab` runs): the course's nbgrader_config.py as committed
(course-local exchange): formgrader's Generate, Release and Release Feedback work and the
Assignment List of the same server shows the course.

Every nbgrader log (commands and servers) is checked for configuration warnings.
"""

import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Configurable

from autograder.instructor.nbgrader_cli import BIN_DIR, nbgrader_env
from autograder.instructor.synthetic_class import scratch_course
from autograder.notebook_code import grade_id
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ex01_differentiation"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
FILLED = "average_rate_of_change"  # the one function the student answers
COURSE_ID = "backprop-jacobians"
# traitlets' "Config option `x` not recognized by `Y`", nbgrader's "root '.' is not absolute",
# "Use GenerateFeedback in config, not Feedback. Outdated config", ...
CONFIG_WARNING = re.compile(r"not recognized|Did you mean|is not absolute|Outdated config|in config, not", re.I)
SCORE = re.compile(r"<h4>\s*" + ASSIGNMENT + r" \(Score: ([\d.]+) / ([\d.]+)\)")
SHARED_EXCHANGE = "/srv/nbgrader/exchange"  # the README's example path
INSTRUCTOR_LAB_PLUGINS = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list"}
STUDENT_LAB_PLUGINS = {"@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"}


def readme_section(title):
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def readme_blocks(title, language):
    return re.findall(rf"```{language}\n(.*?)```", readme_section(title), re.S)


HUB = "Larger courses on JupyterHub"


# --------------------------------------------------------------------------- helpers

def clean_env(home, extra=None):
    """This interpreter's bin first on PATH, HOME as given, no Jupyter/IPython location inherited."""
    env = {k: v for k, v in nbgrader_env().items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    env.update(extra or {})
    return env


class Steps:
    """Steps run in order, with their logs and times. After a failed step the later ones are not
    run (unless the failure is forgiven) and the tests that need them fail with its log."""

    def __init__(self):
        self.logs, self.seconds, self.errors, self.failed = {}, {}, set(), None

    def _record(self, name, start, log, ok):
        self.seconds[name], self.logs[name] = time.monotonic() - start, log
        if not ok:
            self.errors.add(name)
            self.failed = name

    def run(self, name, argv, cwd, env, timeout=600):
        """A command; it fails if it exits non-zero."""
        if self.failed:
            return None
        start = time.monotonic()
        proc = subprocess.run(list(map(str, argv)), cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
        self._record(name, start, proc.stdout + proc.stderr, proc.returncode == 0)
        return proc

    def do(self, name, function):
        """A function call; it fails if it raises. Returns its result (None after a failure)."""
        if self.failed:
            return None
        start = time.monotonic()
        try:
            result = function()
        except Exception as exc:  # noqa: BLE001 - reported by the tests that need this step
            self._record(name, start, f"{type(exc).__name__}: {exc}", False)
            return None
        self._record(name, start, json.dumps(result, default=str)[-4000:], True)
        return result

    def forgive(self):
        """Go on after the failed step (its tests still fail)."""
        self.failed = None

    def need(self, *names):
        for name in names:
            if name in self.errors:
                pytest.fail(f"step {name!r} failed:\n{self.logs[name][-4000:]}")
            if name not in self.logs:
                pytest.fail(f"step {name!r} did not run: step {self.failed!r} failed:\n"
                            f"{self.logs.get(self.failed, '')[-4000:]}")


def copy_course(dest, *, exercises=True):
    """The repository's course in dest (new), its release as committed or none."""
    dest.mkdir(parents=True)
    return scratch_course(dest, release="committed" if exercises else None)


def fill_one_function(notebook):
    """The student answers FILLED: the solution's code (markers dropped) in the release's answer cell."""
    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    answer = next(c.source for c in solution.cells if grade_id(c) == FILLED)
    answer = "\n".join(line for line in answer.splitlines() if "### BEGIN SOLUTION" not in line
                       and "### END SOLUTION" not in line)
    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if grade_id(c) == FILLED)
    assert "raise NotImplementedError()" in cell.source
    cell.source = answer
    nbformat.write(nb, notebook)
    return answer


def gradebook_score(course, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return submission.score, submission.max_score


def feedback_score(html_path):
    match = SCORE.search(html_path.read_text())
    assert match, f"no score heading in {html_path}"
    return float(match.group(1)), float(match.group(2))


def config_warnings(logs):
    return {name: [line for line in log.splitlines() if CONFIG_WARNING.search(line)] for name, log in logs.items()
            if any(CONFIG_WARNING.search(line) for line in log.splitlines())}


def student_name():
    return pwd.getpwuid(os.getuid()).pw_name  # nbgrader's student id: the unix user who submits


def grade_and_feedback(steps, course, env):
    """`python -m autograder grade` (the CLI), then `nbgrader generate_feedback` only if grade wrote none."""
    steps.run("grade", [sys.executable, "-m", "autograder", "grade", "--course", course, "--assignment",
                        ASSIGNMENT, "--jobs", "1"], course.parent, env, timeout=1200)
    if not steps.failed and not (course / "feedback" / student_name() / ASSIGNMENT / f"{ASSIGNMENT}.html").exists():
        steps.logs["grade"] += "\n(grade wrote no feedback HTML: nbgrader generate_feedback instead)"
        steps.run("nbgrader generate_feedback", [BIN_DIR / "nbgrader", "generate_feedback", ASSIGNMENT], course, env)
    # a plain generate_feedback run for its log (into a scratch folder: grade's feedback stays as it is)
    steps.run("nbgrader generate_feedback (log check)", [BIN_DIR / "nbgrader", "generate_feedback", ASSIGNMENT,
                                                         "--CourseDirectory.feedback_directory=feedback-logcheck"],
              course, env)


# --------------------------------------------------------------------------- the course config

def _configurable_classes():
    import nbconvert.exporters  # noqa: F401 - every class nbgrader may instantiate with this config
    import nbconvert.preprocessors  # noqa: F401
    import nbgrader.apps  # noqa: F401
    import nbgrader.exchange.default  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401
    import autograder.instructor.nbgrader_plugins  # noqa: F401
    classes, todo = {}, [Configurable]
    while todo:
        cls = todo.pop()
        classes.setdefault(cls.__name__, []).append(cls)
        todo.extend(cls.__subclasses__())
    return classes


def test_course_config_sets_only_options_nbgrader_knows(tmp_path):
    from traitlets.config.loader import PyFileConfigLoader
    scratch_course(tmp_path, (), release=None)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    classes = _configurable_classes()
    unknown = [f"{section}.{key}" for section in config for key in config[section]
               if not any(key in cls.class_trait_names(config=True) for cls in classes.get(section, []))]
    assert config.CourseDirectory.course_id == COURSE_ID
    assert unknown == []


def test_course_config_exchange_is_writable_and_in_the_course(tmp_path):
    """Formgrader's Release / Release Feedback need an existing, writable exchange (nbgrader's
    default /usr/local/share/nbgrader/exchange is neither on a fresh machine)."""
    from traitlets.config.loader import PyFileConfigLoader
    scratch_course(tmp_path, (), release=None)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert Path(config.Exchange.root) == tmp_path / "exchange"
    assert os.access(config.Exchange.root, os.W_OK | os.X_OK)


# --------------------------------------------------------------------------- Jupyter servers

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A Jupyter server (what a user's lab runs server-side), driven over HTTP with its token."""

    def __init__(self, root, env, log_path, command=(BIN_DIR / "jupyter", "server")):
        self.port, self.token, self.log_path = free_port(), secrets.token_hex(16), log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [*command, "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={root}", *(["--allow-root"] if os.geteuid() == 0 else [])],
            cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("/api/status")
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    pytest.fail("the Jupyter server did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.5)

    def request(self, path, data=None, method="GET", raw=False, headers=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}", **(headers or {})})
        with urllib.request.urlopen(req, timeout=600) as response:
            body = response.read()
        return body.decode() if raw else json.loads(body or b"null")

    def status(self, path, data=None, method="GET", headers=None):
        """The HTTP status of a request (errors included)."""
        try:
            self.request(path, data, method, raw=True, headers=headers)
            return 200
        except urllib.error.HTTPError as exc:
            return exc.code

    def page_config(self, path="/lab"):
        html = self.request(path, raw=True)
        match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
        assert match, html[:2000]
        return json.loads(match.group(1))

    def get(self, path, **query):
        return self.request(path + (f"?{urllib.parse.urlencode(query)}" if query else ""))

    def post(self, path, **form):
        return self.request(path, data=urllib.parse.urlencode(form).encode(), method="POST")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.log_path.read_text()


def succeeded(result):
    """A formgrader API answer: {"success": true, "log": ...} or the error."""
    assert result and result.get("success"), json.dumps(result, indent=1)[-4000:]
    return result


def listed(answer):
    """(course, assignment, status) of an Assignment List answer."""
    assert answer and answer.get("success"), answer
    return {(a["course_id"], a["assignment_id"], a["status"]) for a in answer["value"]}


FORMGRADER = "/formgrader/api/assignment/" + ASSIGNMENT


# --------------------------------------------------------------------------- JupyterHub-like

def students_environment(prefix):
    """A Python environment of its own (so `--sys-prefix` means prefix/etc/jupyter, never this .venv)
    with this environment's packages, labextensions and Jupyter config (nbgrader's extensions enabled,
    as installing nbgrader leaves them); then the README's `jupyter ... disable/lock` commands run in it."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", prefix], check=True, timeout=300)
    python = prefix / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "_course_packages.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    shutil.copytree(Path(sys.prefix) / "etc" / "jupyter", prefix / "etc" / "jupyter")
    (prefix / "share" / "jupyter").mkdir(parents=True)
    (prefix / "share" / "jupyter" / "labextensions").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "labextensions")
    env = clean_env(prefix.parent / "admin-home")
    where = subprocess.run([python, "-c", "import jupyter_core.paths as p; print(p.ENV_CONFIG_PATH[0])"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where) == prefix / "etc" / "jupyter", where
    mains = {("jupyter", "labextension"): "jupyterlab.labextensions",
             ("jupyter", "server", "extension"): "jupyter_server.extension.serverextension"}
    logs = {}  # in the assertion messages
    commands = [line for block in readme_blocks(HUB, "bash") for line in block.splitlines()
                if line.startswith("jupyter ")]
    assert commands, f"no `jupyter ...` commands in the README's {HUB!r}"
    for line in commands:
        words = shlex.split(line)
        assert "--sys-prefix" in words or "--level=sys_prefix" in words, f"not for an environment: {line}"
        module, args = next((m, words[len(k):]) for k, m in mains.items() if tuple(words[:len(k)]) == k)
        proc = subprocess.run([python, "-c", f"import sys; from {module} import main; "
                               f"sys.argv = ['jupyter'] + {args!r}; sys.exit(main())"],
                              env=env, capture_output=True, text=True, timeout=300)
        logs[line] = proc.stdout + proc.stderr
        assert proc.returncode == 0 and "failed" not in logs[line].lower(), f"{line}\n{logs[line]}"
    return python


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    base = tmp_path_factory.mktemp("hub")
    readme = readme_section(HUB)
    # the admin: `install -d -m MODE /srv/nbgrader/exchange`
    mode = re.search(r"install -d -m (\d+) " + re.escape(SHARED_EXCHANGE), readme)
    assert mode, f"the README's {HUB!r} does not say how to create {SHARED_EXCHANGE}"
    exchange = base / "srv-nbgrader-exchange"
    exchange.mkdir()
    exchange.chmod(int(mode.group(1), 8))
    # the instructor: `EXCHANGE = "/srv/nbgrader/exchange"` in the course's nbgrader_config.py
    edit = re.search(r"`(EXCHANGE = \"" + re.escape(SHARED_EXCHANGE) + r"\")`", readme)
    assert edit, f"the README's {HUB!r} does not say how to set the course's exchange"
    course = copy_course(base / "course", exercises=False)  # formgrader's Generate makes exercises/
    config = course / "nbgrader_config.py"
    text, n = re.subn(r"^EXCHANGE = .*$", edit.group(1).replace(SHARED_EXCHANGE, str(exchange)),
                      config.read_text(), flags=re.M)
    assert n == 1, "nbgrader_config.py has no `EXCHANGE = ...` line (the README tells instructors to edit it)"
    config.write_text(text)
    instructor = clean_env(base / "instructor-home")
    # a student: the README's config for students, their own HOME and working directory
    student_config = next(b for b in readme_blocks(HUB, "python") if "c.Exchange.root" in b)
    student_home, work = base / "student-home", base / "student-work"
    (student_home / ".jupyter").mkdir(parents=True)
    work.mkdir()
    (student_home / ".jupyter" / "nbgrader_config.py").write_text(student_config.replace(SHARED_EXCHANGE, str(exchange)))
    student = clean_env(student_home)
    nbgrader, steps, seen = BIN_DIR / "nbgrader", Steps(), {}
    students_python = steps.do("students' environment", lambda: students_environment(base / "students-env"))
    if students_python is None:  # test_hub_students_have_no_instructor_extensions reports it
        steps.forgive()
    lab_command = (students_python, "-m", "jupyter_server") if students_python else (BIN_DIR / "jupyter", "server")

    formgrader = Server(course, instructor, base / "instructor-server.log")
    lab = Server(work, student, base / "student-server.log", command=lab_command)
    try:
        steps.do("formgrader: Generate", lambda: succeeded(formgrader.post(FORMGRADER + "/assign")))
        steps.run("instructor: release_assignment", [nbgrader, "release_assignment", ASSIGNMENT], course, instructor)
        seen["courses"] = steps.do("student's Assignment List: courses", lambda: lab.get("/courses"))
        seen["student formgrader"] = steps.do("student's formgrader", lambda: (
            lab.status("/formgrader/api/assignments"), lab.status("/formgrader")))
        seen["student page"] = steps.do("student's lab page", lambda: lab.page_config())
        seen["plugin locks"] = steps.do("student's plugin manager", lambda: lab.get("/lab/api/plugins"))
        seen["re-enable"] = steps.do("student re-enables formgrader", lambda: lab.status(
            "/lab/api/plugins", json.dumps({"cmd": "enable", "plugin_name": "@jupyter/nbgrader:formgrader"}).encode(),
            "POST", {"Content-Type": "application/json"}))
        seen["released"] = steps.do("student's Assignment List: assignments",
                                    lambda: listed(lab.get("/assignments", course_id=COURSE_ID)))
        steps.run("student: list", [nbgrader, "list"], work, student)
        steps.run("student: fetch_assignment", [nbgrader, "fetch_assignment", ASSIGNMENT], work, student)
        seen["fetched"] = steps.do("student: edit", lambda: (
            nbformat.read(work / ASSIGNMENT / NOTEBOOK, as_version=4), fill_one_function(work / ASSIGNMENT / NOTEBOOK)))
        steps.run("student: submit", [nbgrader, "submit", ASSIGNMENT], work, student)
        steps.run("instructor: collect", [nbgrader, "collect", ASSIGNMENT], course, instructor)
        grade_and_feedback(steps, course, instructor)
        steps.do("formgrader: Release Feedback", lambda: succeeded(formgrader.post(FORMGRADER + "/release_feedback")))
        steps.run("instructor: release_feedback", [nbgrader, "release_feedback", ASSIGNMENT], course, instructor)
        steps.run("student: fetch_feedback", [nbgrader, "fetch_feedback", ASSIGNMENT], work, student)
        seen["after"] = steps.do("student's Assignment List: after feedback",
                                 lambda: lab.get("/assignments", course_id=COURSE_ID))
        steps.do("formgrader: assignments", lambda: formgrader.get("/formgrader/api/assignments"))
    finally:
        steps.logs["instructor's server"] = formgrader.stop()
        steps.logs["student's server"] = lab.stop()
    return dict(steps=steps, course=course, work=work, exchange=exchange, seen=seen)


def test_hub_generate_button_makes_the_committed_release(hub):
    hub["steps"].need("formgrader: Generate")
    name = f"{ASSIGNMENT}/{NOTEBOOK}"
    assert (hub["course"] / "exercises" / name).read_bytes() == (ROOT / "exercises" / name).read_bytes()


def test_hub_students_assignment_list_shows_the_course(hub):
    hub["steps"].need("student's Assignment List: assignments")
    assert hub["seen"]["courses"] == {"success": True, "value": [COURSE_ID]}
    assert (COURSE_ID, ASSIGNMENT, "released") in hub["seen"]["released"]


def test_hub_students_have_no_instructor_extensions(hub):
    """The README's commands: no formgrader for students (server side: 404; lab plugins disabled and
    locked, so the Plugin Manager cannot turn them back on); Assignment List and Validate stay."""
    hub["steps"].need("students' environment", "student re-enables formgrader")
    assert hub["seen"]["student formgrader"] == (404, 404)
    page = hub["seen"]["student page"]
    assert INSTRUCTOR_LAB_PLUGINS <= set(page["disabledExtensions"])
    assert not STUDENT_LAB_PLUGINS & set(page["disabledExtensions"])
    assert "@jupyter/nbgrader" in {e["name"] for e in page["federated_extensions"]}
    assert INSTRUCTOR_LAB_PLUGINS <= set(hub["seen"]["plugin locks"]["lockRules"]), hub["seen"]["plugin locks"]
    assert hub["seen"]["re-enable"] == 500


def test_hub_student_fetches_the_release(hub):
    hub["steps"].need("student: list", "student: edit")
    assert f"{COURSE_ID} {ASSIGNMENT}" in hub["steps"].logs["student: list"]
    fetched, _ = hub["seen"]["fetched"]
    assert fetched == nbformat.read(hub["course"] / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4)
    assert stat.S_IMODE(hub["exchange"].stat().st_mode) == 0o1777


def test_hub_instructor_collects_the_students_edit(hub):
    hub["steps"].need("instructor: collect")
    submitted = hub["course"] / "submitted" / student_name() / ASSIGNMENT
    nb = nbformat.read(submitted / NOTEBOOK, as_version=4)
    assert any(c.source == hub["seen"]["fetched"][1] for c in nb.cells)
    assert (submitted / "timestamp.txt").exists() and (submitted / "submission_secret.txt").exists()


def test_hub_grade_scores_the_filled_function(hub):
    hub["steps"].need("grade")
    score, max_score = gradebook_score(hub["course"], student_name())
    assert 0 < score < max_score


def test_hub_feedback_is_released_for_the_submission(hub):
    """release_feedback needs timestamp.txt and submission_secret.txt next to the feedback HTML."""
    hub["steps"].need("formgrader: Release Feedback", "instructor: release_feedback")
    released = list((hub["exchange"] / COURSE_ID / "feedback").glob("*.html"))
    assert len(released) == 1, hub["steps"].logs["instructor: release_feedback"]


def test_hub_student_fetches_feedback_showing_their_score(hub):
    hub["steps"].need("student: fetch_feedback", "student's Assignment List: after feedback")
    found = sorted((hub["work"] / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert found, hub["steps"].logs["student: fetch_feedback"]
    assert feedback_score(found[-1]) == gradebook_score(hub["course"], student_name())
    submitted = [a for a in hub["seen"]["after"]["value"] if a["status"] == "submitted"]
    assert submitted and any(s["has_local_feedback"] for s in submitted[0]["submissions"])


def test_hub_nbgrader_logs_have_no_config_warnings(hub):
    """Commands, formgrader's API calls (each reloads the config) and the Assignment List."""
    steps = hub["steps"]
    steps.need("nbgrader generate_feedback (log check)")
    assert "[GenerateFeedbackApp" in steps.logs["nbgrader generate_feedback (log check)"]
    assert config_warnings(steps.logs) == {}


# --------------------------------------------------------------------------- one machine (make lab)

@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The committed config unchanged, one server: formgrader and the Assignment List side by side."""
    base = tmp_path_factory.mktemp("lab")
    course = copy_course(base / "course", exercises=False)
    steps, seen = Steps(), {}
    server = Server(course, clean_env(base / "home"), base / "server.log")
    try:
        steps.do("formgrader: Generate", lambda: succeeded(server.post(FORMGRADER + "/assign")))
        steps.do("formgrader: Release", lambda: succeeded(server.post(FORMGRADER + "/release")))
        seen["courses"] = steps.do("Assignment List: courses", lambda: server.get("/courses"))
        seen["released"] = steps.do("Assignment List: assignments",
                                    lambda: listed(server.get("/assignments", course_id=COURSE_ID)))
        seen["feedback"] = steps.do("formgrader: Release Feedback",
                                    lambda: succeeded(server.post(FORMGRADER + "/release_feedback")))
    finally:
        steps.logs["server"] = server.stop()
    return dict(steps=steps, course=course, seen=seen)


def test_lab_exchange_is_the_courses_and_release_feedback_works(lab):
    """nbgrader's default exchange (/usr/local/share/nbgrader/exchange) need not exist or be writable."""
    lab["steps"].need("formgrader: Release Feedback")
    assert (lab["course"] / "exchange" / COURSE_ID / "outbound" / ASSIGNMENT / NOTEBOOK).exists()
    assert (lab["course"] / "exchange" / COURSE_ID / "feedback").is_dir()


def test_lab_assignment_list_shows_the_course(lab):
    lab["steps"].need("Assignment List: assignments")
    assert lab["seen"]["courses"] == {"success": True, "value": [COURSE_ID]}
    assert (COURSE_ID, ASSIGNMENT, "released") in lab["seen"]["released"]


def test_lab_server_log_has_no_config_warnings(lab):
    lab["steps"].need("formgrader: Release Feedback")
    assert "formgrader" in lab["steps"].logs["server"]
    assert config_warnings(lab["steps"].logs) == {}
