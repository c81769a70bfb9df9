"""Hidden test batteries, one module per assignment (named like the assignment)."""

import importlib

ASSIGNMENTS = (
    "ex01_differentiation",
    "ex02_total_derivatives",
    "ex03_jacobians",
    "ex04_expanded_jacobians",
    "ex05_backprop",
)


def load_battery(assignment):
    """The Battery of an assignment; ValueError for an unknown name."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"{__name__}.{assignment}").battery
