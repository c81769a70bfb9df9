"""Hidden test batteries, one module per assignment, named like the assignment.

An assignment has hidden tests when this package has its module: ASSIGNMENTS is read from the
modules, not written down. The course's own list is its nbgrader source folders
(course_config.CourseConfig.assignments); tests/test_settings.py checks that the two agree for this
course, so adding an assignment is adding its source notebook and its battery module, no list.
"""

import importlib
import pkgutil

ASSIGNMENTS = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


def load_battery(assignment):
    """The Battery of an assignment; ValueError for an unknown name."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"{__name__}.{assignment}").battery
