"""A real, throw-away PostgreSQL server for the tests (pytest fixtures, session scope).

    from tests.postgres_server import postgres_server, postgres_url  # noqa: F401 (fixtures)

    def test_something(postgres_url):            # a database of its own for the session
        ...  # postgres_url == "postgresql://nbgrader:<password>@127.0.0.1:<port>/gradebook"

    def test_other(postgres_server):             # or a fresh database per test
        url = postgres_server.create_database("course_a")

The cluster is made with Debian's initdb in a temporary directory, listens only on 127.0.0.1
on a free port (its unix socket in that directory, not /var/run/postgresql), requires a password
over TCP (scram-sha-256) and is tuned for tests (no fsync). Start-up is awaited by `pg_ctl -w`,
then pg_isready and a real login, each bounded by a deadline (a port taken meanwhile is retried
with another); at the end of the session (or when start-up fails) the server is stopped (fast, then immediate, then killed) and the directory removed.
As root, initdb and the server run as the `postgres` user (PostgreSQL refuses root), so the
directory is handed to that user. scripts/install_postgres.sh installs the binaries
(`make test` runs it); without them the fixtures fail with that hint, or skip when
AUTOGRADER_SKIP_POSTGRES=1. AUTOGRADER_PG_BIN names another bin directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

START_TIMEOUT = 60  # seconds for the server to accept logins
STOP_TIMEOUT = 30
ROLE, DATABASE = "nbgrader", "gradebook"


TOOLS = ("initdb", "pg_ctl", "pg_isready")


def pg_bin_dir():
    """A directory holding initdb, pg_ctl and pg_isready: $AUTOGRADER_PG_BIN, where initdb on PATH
    really lives, or the newest /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH)."""
    candidates = []
    if os.environ.get("AUTOGRADER_PG_BIN"):
        candidates.append(Path(os.environ["AUTOGRADER_PG_BIN"]))
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: [int(n) for n in re.findall(r"\d+", Path(p).parent.name)] or [0])
    candidates += [Path(p) for p in reversed(debian)]
    return next((c for c in candidates if all((c / tool).exists() for tool in TOOLS)), None)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One private cluster: start(), create_database(name) -> URL, connect(), stop()."""

    def __init__(self, bin_dir, base_dir=None):
        self.bin_dir = Path(bin_dir)
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="autograder-pg-", dir=base_dir))
        self.data, self.socket_dir, self.log = self.dir / "data", self.dir / "socket", self.dir / "server-0.log"
        self.port = None
        self.superuser = "postgres"
        self.password = secrets.token_hex(12)
        self.started = False
        self._databases = set()

    # ---------------------------------------------------------------- processes

    def _command(self, name, *args):
        command = [str(self.bin_dir / name), *map(str, args)]
        return ["runuser", "-u", "postgres", "--", *command] if self.as_root else command

    def _run(self, name, *args, timeout=120, check=True):
        proc = subprocess.run(self._command(name, *args), capture_output=True, text=True, timeout=timeout,
                              cwd=self.dir, env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})
        if check and proc.returncode != 0:
            raise RuntimeError(f"{name} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
                               f"\n{self.log_tail()}")
        return proc

    def log_tail(self, chars=3000):
        try:
            return "server log:\n" + self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def _hand_over(self):
        """As root: the directory belongs to `postgres`, and the way to it must be open to that user."""
        if not self.as_root:
            return
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root, but there is no `postgres` user to run the server "
                               "(Debian's postgresql package creates it: bash scripts/install_postgres.sh)") from None
        for path in (self.dir, self.socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
        os.chmod(self.dir, 0o700)
        probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.dir)],
                               capture_output=True)
        if probe.returncode != 0:
            raise RuntimeError(f"the `postgres` user cannot write {self.dir}: a parent directory is closed "
                               f"to it (set TMPDIR to a directory such as /tmp)")

    def start(self):
        self.socket_dir.mkdir()
        self._hand_over()
        pwfile = self.dir / "superuser-password"
        pwfile.write_text(self.password + "\n")
        if self.as_root:
            shutil.chown(pwfile, "postgres")
        try:
            self._run("initdb", "-D", self.data, "-U", self.superuser, f"--pwfile={pwfile}", "-E", "UTF8",
                      "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-instructions")
        finally:
            pwfile.unlink()
        for attempt in range(3):  # a free port can be taken by someone else before the server binds it
            self.port = free_port()
            self.log = self.dir / f"server-{attempt}.log"
            options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
            # -w: pg_ctl itself waits (bounded by -t) until the server runs or has given up
            started = self._run("pg_ctl", "start", "-D", self.data, "-l", self.log, "-o", options,
                                "-w", "-t", START_TIMEOUT, check=False, timeout=START_TIMEOUT + 30)
            self.started = True
            if started.returncode == 0 and self._wait_until_ready():
                return self
            self._stop_server()
            if "could not bind" not in self.log_tail():
                raise RuntimeError(f"PostgreSQL did not start and accept logins within {START_TIMEOUT} s "
                                   f"(pg_ctl: {started.stdout.strip()} {started.stderr.strip()})\n{self.log_tail()}")
        raise RuntimeError(f"PostgreSQL found no free port in 3 attempts\n{self.log_tail()}")

    def _postmaster_alive(self):
        return self._run("pg_ctl", "status", "-D", self.data, check=False).returncode == 0

    def _wait_until_ready(self):
        """pg_isready, then a real login as the superuser; False if the server died or the deadline passed."""
        deadline = time.monotonic() + START_TIMEOUT
        ready = False
        while time.monotonic() < deadline:
            if not ready:
                probe = self._run("pg_isready", "-h", "127.0.0.1", "-p", self.port, "-t", "2", check=False)
                ready = probe.returncode == 0
            if ready:
                try:
                    with self.connect(timeout=5) as conn:
                        conn.execute("SELECT 1")
                    return True
                except Exception:  # noqa: BLE001 - retried until the deadline
                    pass
            if not self._postmaster_alive():  # pg_ctl -w saw it running: gone now means it died
                return False
            time.sleep(0.2)  # between polls only
        return False

    def _stop_server(self):
        for mode in ("fast", "immediate"):
            proc = self._run("pg_ctl", "stop", "-D", self.data, "-m", mode, "-w", "-t", STOP_TIMEOUT, check=False,
                             timeout=STOP_TIMEOUT + 10)
            if proc.returncode == 0 or not self._postmaster_alive():
                return
        pid_file = self.data / "postmaster.pid"  # the server we started, still there: kill it
        try:
            os.kill(int(pid_file.read_text().split()[0]), 9)
        except (OSError, ValueError, IndexError):
            pass

    def stop(self):
        """Stop the server (if it runs) and remove the cluster's directory."""
        try:
            if self.started and (self.data / "postmaster.pid").exists():
                self._stop_server()
        finally:
            self.started = False
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---------------------------------------------------------------- SQL

    def url(self, database, user=None, password=None):
        user = user or ROLE
        password = self.password if password is None else password
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def connect(self, database="postgres", timeout=10):
        import psycopg
        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.superuser, password=self.password,
                               dbname=database, connect_timeout=timeout, autocommit=True)

    def create_database(self, name):
        """A new empty database owned by the `nbgrader` role (created with the first database);
        returns its postgresql:// URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"database name {name!r}: lower-case letters, digits and _ only")
        from psycopg import sql
        with self.connect() as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(ROLE), sql.Literal(self.password)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(ROLE)))
        self._databases.add(name)
        return self.url(name)


def start_server():
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        message = ("PostgreSQL's server binaries (initdb, pg_ctl, pg_isready) are missing: run bash scripts/install_postgres.sh "
                   "(make test does)")
        if os.environ.get("AUTOGRADER_SKIP_POSTGRES") == "1":
            pytest.skip(message)
        pytest.fail(message)
    server = PostgresServer(bin_dir)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="session")
def postgres_server():
    """A running private PostgreSQL server (PostgresServer), stopped and removed after the session."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server):
    """postgresql://nbgrader:...@127.0.0.1:PORT/gradebook, an empty database for the session."""
    return postgres_server.create_database(DATABASE)
