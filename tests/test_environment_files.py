"""environment.yml (conda) and pyproject.toml (pip) must install the same packages."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pip_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==([\w.]+)", d).groups() for d in deps)


def conda_pins():
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.fullmatch(r"\s*-\s+([A-Za-z0-9_.-]+)\s*(==|=)\s*([\w.]+)\s*", line)
        if m and m.group(1) != "python":
            pins[m.group(1)] = m.group(3)
    return pins


def test_every_dependency_is_pinned_exactly():
    for dep in pip_pins():
        assert dep, "unpinned dependency in pyproject.toml"


def test_conda_and_pip_pin_the_same_packages_and_versions():
    assert pip_pins() == conda_pins()


def test_constraints_agree_with_pins():
    constraints = dict(line.split("==") for line in (ROOT / "requirements/constraints.txt").read_text().split()
                       if "==" in line)
    lowered = {k.lower().replace("_", "-"): v for k, v in constraints.items()}
    for name, version in pip_pins().items():
        assert lowered.get(name.lower()) == version, f"{name}: constraints.txt has {lowered.get(name.lower())}"


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "3.11" in project["requires-python"]
    assert "python=3.11" in (ROOT / "environment.yml").read_text()
