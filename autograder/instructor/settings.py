"""Every time and size budget of grading, named once; each outer timeout derived from the inner ones.

What a course says about itself (its assignments, its gradebook URL, its directories) lives in its
nbgrader_config.py and is read by autograder.instructor.course_config; what is here is the
autograder's own, the same for every course. This module imports nothing, so that nbgrader_config.py
itself can take nbgrader's cell timeout from it (course_config loads that file: the two cannot be
one module).

The nesting of the time budgets, inner to outer (seconds):

    CASE_TIMEOUT, CELL_TIMEOUT   one hidden-test case, one notebook cell in the sandbox
      <= FUNCTION_BUDGET         all the cases of one graded function
      <= NOTEBOOK_BUDGET         one notebook in the judge: its recorded run and its whole battery
    judge_timeout(n)             the judge process for n notebooks: n x (NOTEBOOK_BUDGET + JUDGE_SLACK)
                                 + the bubblewrap check + JUDGE_SLACK (a guard for a stuck judge only)
    EXECUTE_TIMEOUT              a cell under plain `nbgrader autograde`: its public tests, then the
                                 hidden-test call waiting for judge_timeout(1) (autograder.hidden)

The judge enforces the inner ones itself (a verdict says which ran out); an outer one firing means a
process is stuck, not that student code was slow. tests/test_settings.py checks the nesting.
"""

MiB = 1024 ** 2
GiB = 1024 ** 3

# --------------------------------------------------------------------------- student code (the judge)
CASE_TIMEOUT = 10  # one hidden-test case: one call of the student's function (battery.call_case's default)
CELL_TIMEOUT = 30  # one notebook cell run in the sandbox (`grade --timeout`'s default)
FUNCTION_BUDGET = 60  # all the cases of one graded function, sandbox restarts included
NOTEBOOK_BUDGET = 300  # one notebook: every cell's recorded run and every case of its battery
JUDGE_SLACK = 60  # a judge's own time outside the budgets: start-up, a sandbox's start and kill per notebook

# --------------------------------------------------------------------------- the sandbox process (isolation)
MEMORY_LIMIT_BYTES = 3 * GiB  # address space of a sandbox process (RLIMIT_AS)
CPU_LIMIT_SECONDS = 2 * NOTEBOOK_BUDGET  # CPU time of a sandbox process: it lives one notebook at most
FILE_SIZE_LIMIT_BYTES = 16 * MiB  # one file the sandbox writes (RLIMIT_FSIZE)
OPEN_FILES_LIMIT = 256  # open file descriptors of a sandbox process
TMPFS_BYTES = 64 * MiB  # each of the sandbox's private /tmp, /dev/shm and working directory
SANDBOX_CHECK_TIMEOUT = 60  # bubblewrap starting `python -c pass` (isolation.require_isolation, once a process)


def judge_timeout(notebooks):
    """Seconds the judge process for `notebooks` notebooks may take before it is deemed stuck."""
    return notebooks * (NOTEBOOK_BUDGET + JUDGE_SLACK) + SANDBOX_CHECK_TIMEOUT + JUDGE_SLACK


EXECUTE_TIMEOUT = CELL_TIMEOUT + judge_timeout(1)  # c.Execute.timeout in nbgrader_config.py

# --------------------------------------------------------------------------- nbgrader (no student code runs there)
NBGRADER_JOB_START = 240  # a job's nbgrader process: start-up, gradebook migrations, the feedback exporter
NBGRADER_PER_NOTEBOOK = 10  # autograde and generate_feedback of one notebook with recorded outputs
GENERATE_TIMEOUT = 600  # one `nbgrader generate_assignment` of the release


def nbgrader_steps_timeout(notebooks):
    """Seconds a job's nbgrader process (job_steps: autograde, points, feedback) may take for `notebooks`."""
    return NBGRADER_JOB_START + NBGRADER_PER_NOTEBOOK * notebooks


# --------------------------------------------------------------------------- the Dask cluster
CONNECT_TIMEOUT = 20  # reaching the scheduler
CLOSE_TIMEOUT = 10  # closing the connection to it

# --------------------------------------------------------------------------- files (bytes)
NOTEBOOK_BYTES = 20 * MiB  # a submitted notebook, and each notebook of an LMS import
ARCHIVE_BYTES = 2 * GiB  # everything one LMS import may unpack
JOB_FILE_BYTES = 32 * MiB  # one file coming back from a grading job (autograded notebook, feedback page)
JOB_FOLDER_BYTES = 64 * MiB  # all the files coming back for one submission
EXTRA_FILE_BYTES = 4096  # nbgrader's timestamp.txt / submission_secret.txt beside a submission
