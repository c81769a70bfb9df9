"""Fixtures every test module may use, and the order check.

new_course: a fresh scratch course (autograder.instructor.synthetic_class.scratch_course) in a new
temporary directory, for fixtures of any scope: new_course(name, assignments, db_url=None,
release="generate") -> <tmp>/<name>N/course. Helpers on a graded course (grading with the tests'
settings, copying it, the gradebook as formgrader writes it) are in tests/course_fixtures.py.

PYTEST_REVERSE=1 runs the collected tests in reverse order: no test may depend on another having
run before it (module- and session-scoped fixtures are then built by the last test to need them).
"""

import os

import pytest

from autograder.instructor.synthetic_class import scratch_course


@pytest.fixture(scope="session")
def new_course(tmp_path_factory):
    def make(name, assignments, **options):
        return scratch_course(tmp_path_factory.mktemp(name) / "course", assignments, **options)
    return make


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PYTEST_REVERSE") == "1":
        items.reverse()
