"""`grade --scheduler` on a real Dask cluster: `dask scheduler` and two `dask worker` processes on
127.0.0.1, one of them killed (SIGKILL, its whole process group) while it grades; the gradebook
must hold exactly what grading the same class on this machine gives, no row lost or doubled.

The class is small (perfect, untouched, one planted bug; ex01 and ex02) and is graded twice from
identical copies: locally (threads) and on the cluster.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from distributed import Client

from autograder.instructor import cluster
from autograder.instructor.cluster import ClusterUnavailable, run_on_cluster
from autograder.instructor.grading import STATE_FILE, BatchTask, grade_course
from nbgrader.api import Gradebook
from autograder.instructor.synthetic_class import released, solved, submit
from tests.course_fixtures import EX1, EX2, WRONG_D_POWER

BIN = Path(sys.executable).parent
READY_TIMEOUT = 120  # seconds for the scheduler to listen and the workers to join (a loaded machine)
GRADE_TIMEOUT = 600  # seconds for one grading of the small class


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskCluster:
    """A scheduler and `workers` single-threaded workers, each its own process group (killed whole)."""

    def __init__(self, root, workers=2, path=None):
        self.root = Path(root)
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.procs, self.client = {}, None
        self.env = dict(os.environ, PATH=path or f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", MPLBACKEND="Agg")
        try:
            self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
                                      "--no-dashboard"])
            self.client = Client(self.address, timeout=READY_TIMEOUT, set_as_default=False)  # retries until it listens
            for i in range(workers):
                self._start(f"worker-{i}", ["worker", self.address, "--nthreads", "1", "--nworkers", "1",
                                            "--no-dashboard", "--host", "127.0.0.1"])
            self.client.wait_for_workers(workers, timeout=READY_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def _start(self, name, args):
        folder = self.root / name
        (folder / "tmp").mkdir(parents=True)  # the worker's TMPDIR: its job directories land here
        self.procs[name] = subprocess.Popen(
            [str(BIN / "dask"), *args], cwd=folder, env=dict(self.env, TMPDIR=str(folder / "tmp")),
            stdin=subprocess.DEVNULL, stdout=open(folder / "log", "wb"), stderr=subprocess.STDOUT,
            start_new_session=True)

    def logs(self):
        return "\n".join(f"--- {name}\n" + (self.root / name / "log").read_text(errors="replace")[-3000:]
                         for name in self.procs)

    def wait_for_executing(self, prefix, timeout):
        """(key, worker address) of the first task named prefix... that a worker is executing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = self.client.run(lambda dask_worker: [str(ts.key) for ts in dask_worker.state.executing],
                                      on_error="return")
            for address, keys in sorted(running.items()):
                for key in keys if isinstance(keys, list) else []:
                    if key.startswith(prefix):
                        return key, address
            time.sleep(0.05)  # polling an observable state, bounded by the deadline
        raise AssertionError(f"no {prefix}* task started within {timeout} s\n{self.logs()}")

    def wait_for_child(self, address, command, timeout):
        """Wait until the worker at `address` runs a process whose command line holds `command`."""
        worker = psutil.Process(self.client.run(os.getpid, workers=[address])[address])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for child in worker.children(recursive=True):
                try:
                    if command in " ".join(child.cmdline()):
                        return
                except psutil.Error:  # gone meanwhile
                    pass
            time.sleep(0.05)  # polling an observable state, bounded by the deadline
        raise AssertionError(f"the worker at {address} started no {command} within {timeout} s\n{self.logs()}")

    def kill_worker(self, address):
        """SIGKILL the process group (nanny, worker, the job's judge and its sandbox) of the worker at `address`."""
        pid = self.client.run(os.getpid, workers=[address])[address]
        name = next(n for n, p in self.procs.items() if p.pid == os.getpgid(pid))
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(timeout=30)
        return name

    def stop(self):
        if self.client is not None:
            self.client.close(timeout=10)
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    started = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def two_copies(new_course, tmp_path_factory):
    """The same small class in two identical courses (local, cluster), not yet graded."""
    local = new_course("local-course", [EX1, EX2])
    for assignment in (EX1, EX2):
        submit(local, "perfect", assignment, solved(local, assignment))
        submit(local, "untouched", assignment, released(local, assignment))
    submit(local, "planted_bug", EX1, solved(local, EX1, d_power=WRONG_D_POWER))
    submit(local, "planted_bug", EX2, solved(local, EX2))
    on_cluster = tmp_path_factory.mktemp("cluster-course") / "course"
    shutil.copytree(local, on_cluster, symlinks=True)
    return local, on_cluster


def gradebook_rows(course):
    """Every submission's grade rows: {(student, assignment): {grade cell: (auto, manual, max)}},
    with how many submission rows each (student, assignment) has."""
    rows, counts = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                key = (submission.student.id, assignment.name)
                counts[key] = counts.get(key, 0) + 1
                rows[key] = {(nb.name, g.name): (g.auto_score, g.manual_score, g.max_score)
                             for nb in submission.notebooks for g in nb.grades}
                assert len(rows[key]) == sum(len(nb.grades) for nb in submission.notebooks), key
    return rows, counts


def test_a_killed_worker_loses_and_doubles_nothing(dask_cluster, two_copies):
    local, on_cluster = two_copies
    local_report = grade_course(local, jobs=2, timeout=20, progress=lambda *_: None)
    assert not local_report.problems and len(local_report.outcomes) == 6

    done, lines = {}, []

    def grade_on_cluster():
        try:  # one submission per task: six tasks for two workers
            done["report"] = grade_course(on_cluster, jobs=6, timeout=20, scheduler=dask_cluster.address,
                                          progress=lines.append)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            done["error"] = exc

    thread = threading.Thread(target=grade_on_cluster, daemon=True)
    thread.start()
    key, address = dask_cluster.wait_for_executing("grade-batch-", timeout=GRADE_TIMEOUT)
    dask_cluster.wait_for_child(address, "autograder.instructor.judge", timeout=GRADE_TIMEOUT)  # mid-sandbox
    killed = dask_cluster.kill_worker(address)
    thread.join(timeout=GRADE_TIMEOUT)
    assert not thread.is_alive(), f"grading on the cluster did not finish\n{dask_cluster.logs()}"
    if "error" in done:
        raise done["error"]
    report = done["report"]

    # the killed worker's task ran again on the other worker
    starts = [t for t in dask_cluster.client.story(key) if t[:2] == ("scheduler", key) and t[3] == "processing"]
    assert len(starts) >= 2, f"{key} (on {killed}) was not rerun: {dask_cluster.client.story(key)}"

    assert not report.problems, [str(p) for p in report.problems]
    assert sorted((o.student, o.assignment) for o in report.outcomes) == sorted(
        (o.student, o.assignment) for o in local_report.outcomes)
    assert len([line for line in lines if line.startswith("  [")]) == 6  # progress: once per merged outcome

    local_rows, local_counts = gradebook_rows(local)
    cluster_rows, cluster_counts = gradebook_rows(on_cluster)
    assert set(cluster_counts.values()) == {1} and cluster_counts == local_counts
    assert cluster_rows == local_rows
    scores = {(o.student, o.assignment): o.scores for o in report.outcomes}
    assert scores == {(o.student, o.assignment): o.scores for o in local_report.outcomes}
    assert 0 < sum(s for s, _ in scores["planted_bug", EX1].values()) < sum(m for _, m in scores["planted_bug", EX1].values())
    for kind in ("autograded", "feedback"):
        assert sorted(p.relative_to(on_cluster / kind) for p in (on_cluster / kind).rglob("*.*")) == sorted(
            p.relative_to(local / kind) for p in (local / kind).rglob("*.*"))
    assert (on_cluster / STATE_FILE).read_text() == (local / STATE_FILE).read_text()
    assert (on_cluster / "grades.csv").read_text() == (local / "grades.csv").read_text()


def test_a_job_that_raises_is_retried_then_a_problem_per_submission(dask_cluster):
    broken = BatchTask(index=0, config="", solutions={}, gradebook=b"", templates={}, timeout=5,
                       submissions=[{"student": "s1", "assignment": EX1}, {"student": "s2", "assignment": EX2}])
    problems = []
    assert list(run_on_cluster([broken], dask_cluster.address, problems)) == []
    assert [(p.student, p.assignment) for p in problems] == [("s1", EX1), ("s2", EX2)]
    assert all("grading failed on the cluster: KeyError: 'digest'" == p.message for p in problems), problems


def test_a_worker_without_bubblewrap_is_one_clear_line(tmp_path):
    """Checked on the workers before anything is submitted (grade checked only the main machine)."""
    task = BatchTask(index=0, config="", solutions={}, gradebook=b"", templates={}, timeout=5,
                     submissions=[{"student": "s1", "assignment": EX1}])
    no_bwrap = DaskCluster(tmp_path, workers=1, path=str(BIN))  # the virtualenv's bin only: no bwrap there
    try:
        with pytest.raises(ClusterUnavailable) as caught:
            list(run_on_cluster([task], no_bwrap.address, []))
    finally:
        no_bwrap.stop()
    message = str(caught.value)
    assert message.startswith("Dask worker tcp://127.0.0.1:") and "\n" not in message
    assert "cannot grade: IsolationUnavailable: bubblewrap (bwrap) is not installed" in message


def test_an_unreachable_scheduler_is_one_clear_line(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 3)
    task = BatchTask(index=0, config="", solutions={}, gradebook=b"", templates={}, timeout=5,
                     submissions=[{"student": "s1", "assignment": EX1}])
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    for scheduler in (address, "not a scheduler address"):
        start = time.monotonic()
        with pytest.raises(ClusterUnavailable) as caught:
            list(run_on_cluster([task], scheduler, []))
        message = str(caught.value)
        assert message.startswith(f"cannot reach the Dask scheduler at {scheduler}: ") and "\n" not in message
        assert time.monotonic() - start < 30
    assert list(run_on_cluster([], address, [])) == []  # nothing to grade: the cluster is not asked
