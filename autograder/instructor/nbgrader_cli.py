"""Running the real nbgrader command line in a course directory."""

import os
import subprocess
import sys
from pathlib import Path

BIN_DIR = Path(sys.executable).parent


def nbgrader_env(extra=None):
    """The environment for nbgrader: this interpreter's bin first on PATH (nbgrader
    shells out to `alembic` and starts kernels with `python`)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("MPLBACKEND", "Agg")
    env.update(extra or {})
    return env


def put_bin_on_path():
    """nbgrader's in-process Gradebook also shells out to `alembic`: make this interpreter's bin findable."""
    if str(BIN_DIR) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}"


def run_nbgrader(args, course_dir, *, timeout=None, env=None, check=True):
    """Run `nbgrader ARGS` with course_dir as working directory (its nbgrader_config.py applies)."""
    proc = subprocess.run([str(BIN_DIR / "nbgrader"), *map(str, args)], cwd=course_dir,
                          env=nbgrader_env(env), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc
