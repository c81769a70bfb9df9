"""`grade --scheduler tcp://HOST:PORT`: the grading jobs on a Dask cluster (`distributed`).

A job is plain data in and out (grading.BatchTask -> [grading.Outcome]), so a
worker needs the project installed (the `cluster` extra) and bubblewrap, and
nothing of the course: no shared filesystem. Each worker runs
`grade_batch(task, tempfile.mkdtemp())` and removes its directory; the main
process stays the single writer and merges each task's result once, keyed by
the task's index.

  * What every task shares (configuration, solutions, the gradebook template,
    the release templates) goes to the cluster once, as a task of its own
    rather than a scatter: the scheduler keeps it, so it is recomputed if the
    worker holding it dies, and each worker fetches it once.
  * Tasks are submitted with `pure=False` and `retries`; a worker that dies
    mid-run has its tasks rerun elsewhere by the scheduler (up to its
    `distributed.scheduler.allowed-failures`). A task that still fails, or is
    lost with the scheduler, becomes a Problem per submission; the rest of the
    class is graded.
  * At most about two tasks per worker thread are on the cluster at a time
    (more as workers join): the scheduler never holds the whole class's
    notebooks, and results are fetched and released as they finish.
  * A scheduler that cannot be reached, or workers without the project or
    bubblewrap, stop grading with ClusterUnavailable (one line).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import shutil
import sys
import tempfile
import uuid
from dataclasses import fields

from autograder.instructor.settings import CLOSE_TIMEOUT, CONNECT_TIMEOUT
from autograder.instructor.submissions import Problem

RETRIES = 2  # reruns of a task that raised (a worker's death is counted by the scheduler itself)
MIN_IN_FLIGHT = 8  # tasks on the cluster at least (also while no worker has joined yet)
IN_FLIGHT_PER_THREAD = 2
PER_TASK = ("index", "submissions")  # the BatchTask fields that differ between tasks
LOST = "not graded: the connection to the Dask scheduler was lost (grade again: what was merged is kept)"
INSTALL = "pip install -c requirements/constraints.txt '.[cluster]'"


class ClusterUnavailable(RuntimeError):
    """The Dask scheduler cannot be reached, or its workers cannot grade (one line: what and how to fix)."""


# --------------------------------------------------------------------------- on a worker

def grade_on_worker(shared, index, submissions):
    """One job on a worker: grade_batch in a temporary directory of its own, removed afterwards."""
    from autograder.instructor import grading, isolation
    from autograder.instructor.nbgrader_cli import put_bin_on_path

    put_bin_on_path()  # nbgrader's Gradebook shells out to `alembic`
    task = grading.BatchTask(index=index, submissions=submissions, **shared)
    if not task.unsafe:
        isolation.require_isolation()  # once per worker process (cached)
    workdir = tempfile.mkdtemp(prefix="autograder-worker-")
    try:
        return grading.grade_batch(task, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def worker_ready(unsafe):
    """Run on each worker before grading: the project imports (this function is found by reference)
    and, unless unsafe, bubblewrap can start a sandbox there. Raises IsolationUnavailable if not."""
    from autograder.instructor import isolation
    if not unsafe:
        isolation.require_isolation()
    return sys.executable


def _share(shared):
    return shared


# --------------------------------------------------------------------------- in the main process

def _one_line(text):
    return " ".join(str(text).split())


def _connect(scheduler):
    try:
        from distributed import Client
    except ImportError as exc:
        raise ClusterUnavailable(f"--scheduler needs the `distributed` package ({INSTALL}): {exc}") from None
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:  # refused, timed out, no such host, bad address
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {scheduler}: "
                                 f"{_one_line(exc) or type(exc).__name__}") from None


def _check_workers(client, unsafe):
    """ClusterUnavailable naming the first worker that cannot grade (those joining later check themselves)."""
    answers = client.run(worker_ready, unsafe, on_error="return")
    for address, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            hint = (f"the workers need the project installed ({INSTALL})"
                    if isinstance(answer, ImportError) else "")
            raise ClusterUnavailable(f"Dask worker {address} cannot grade: {type(answer).__name__}: "
                                     f"{_one_line(answer)}" + (f"; {hint}" if hint else ""))


def _failure(exc):
    """Why a task could not be graded on the cluster, in one line."""
    name = type(exc).__name__
    if name == "KilledWorker":
        return ("grading failed: every Dask worker that ran it died "
                "(distributed.scheduler.allowed-failures); see the workers' logs")
    if getattr(exc, "reason", "") == "scheduler-connection-lost":
        return LOST
    if isinstance(exc, (asyncio.CancelledError, concurrent.futures.CancelledError)):
        return f"grading failed: the Dask scheduler cancelled the job ({getattr(exc, 'reason', 'unknown')})"
    return f"grading failed on the cluster: {name}: {_one_line(exc)}"


def _in_flight(client):
    try:
        threads = sum(client.nthreads().values())
    except Exception:  # noqa: BLE001 - the scheduler is gone: the futures will say so
        threads = 0
    return max(MIN_IN_FLIGHT, IN_FLIGHT_PER_THREAD * threads)


def run_on_cluster(tasks, scheduler, problems, progress=None):
    """Yield (task, [Outcome]) as the jobs finish on the Dask cluster at `scheduler` (each task once);
    a task that cannot be graded adds a Problem per submission to `problems` instead. `tasks` may be
    any iterable (a generator is read only as the cluster takes tasks); none: the cluster is not asked."""
    pending = iter(tasks)
    first = next(pending, None)
    if first is None:
        return
    pending = itertools.chain([first], pending)
    from distributed import as_completed

    client = _connect(scheduler)
    try:
        _check_workers(client, first.unsafe)
        if progress is not None:
            workers = client.nthreads()
            progress(f"  cluster {scheduler}: {len(workers)} worker(s), {sum(workers.values())} thread(s)"
                     + ("; the jobs wait for workers to join" if not workers else ""))
        run = uuid.uuid4().hex[:12]
        shared_fields = [f.name for f in fields(first) if f.name not in PER_TASK]
        shared = {}  # identity of the shared values -> their future (one for the tasks grade_course builds)

        def submit(task):
            values = {name: getattr(task, name) for name in shared_fields}
            ident = tuple(id(v) for v in values.values())
            if ident not in shared:
                shared[ident] = client.submit(_share, values, key=f"grade-shared-{run}-{len(shared)}", pure=False)
            return client.submit(grade_on_worker, shared[ident], task.index, task.submissions,
                                 key=f"grade-batch-{run}-{task.index}", pure=False, retries=RETRIES)

        by_key, done = {}, set()
        stream = as_completed(loop=client.loop)

        def top_up():  # keep the cluster busy, without handing it the whole class at once
            if client.status != "running":  # the scheduler is gone: the tasks in flight come back cancelled
                problems.extend(Problem(s["student"], s["assignment"], LOST) for t in pending for s in t.submissions)
                return
            limit = _in_flight(client)
            for next_task in pending:
                future = submit(next_task)
                by_key[future.key] = next_task
                stream.add(future)
                if len(by_key) >= limit:
                    break

        top_up()
        for future in stream:
            task = by_key.pop(future.key)
            try:
                outcomes = future.result()
            except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - one job must not stop the class
                outcomes, message = None, _failure(exc)
            finally:
                future.release()  # the worker may drop the result now
            top_up()  # before the merge: the cluster goes on meanwhile
            if task.index in done:  # merged once, whatever the cluster did
                continue
            done.add(task.index)
            if outcomes is None:
                problems.extend(Problem(s["student"], s["assignment"], message) for s in task.submissions)
            else:
                yield task, outcomes
    finally:
        client.close(timeout=CLOSE_TIMEOUT)
