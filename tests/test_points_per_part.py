"""Points per part: a function returning several parts (affine_backward's dX, dW, db) earns an equal share
of its test cell's points for each part that is right in every hidden case, and the feedback says which.

The judge is exercised in this process (PlantedSandbox); the last tests grade a course through the real
pipeline (`grade_course`: sandbox, nbgrader autograde, gradebook, feedback)."""

import csv
from pathlib import Path

import numpy as np
import pytest

from autograder.instructor import judge
from autograder.instructor.batteries import ASSIGNMENTS, load_battery
from autograder.instructor.battery import graded_parts
from autograder.instructor.synthetic_class import grade_cell_points, scratch_course, solved, submit
from tests.course_fixtures import EX4, grade, grade_row
from tests.test_class_report import PlantedSandbox

ROOT = Path(__file__).resolve().parents[1]
WRONG_DB = ("def affine_backward(dZ, X, W):\n    dX = dZ @ W.T\n    dW = X.T @ dZ\n"
            "    db = np.mean(dZ, axis=0)  # the sum over the batch is right\n    return dX, dW, db\n")


def affine_backward_wrong_db(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, np.mean(dZ, axis=0)


def affine_backward_wrong_dx_and_db(dZ, X, W):
    return dZ @ W, X.T @ dZ, np.mean(dZ, axis=0)


def verdict_of(implementation):
    return judge.judge_function(PlantedSandbox({"affine_backward": implementation}),
                                load_battery(EX4), "affine_backward")


def test_a_wrong_part_fails_alone_and_the_message_says_which_parts_are_right():
    verdict = verdict_of(affine_backward_wrong_db)
    assert not verdict.passed and verdict.parts == {"dX": True, "dW": True, "db": False}
    header, *cases = verdict.message.splitlines()
    assert header.endswith("; right in every case: dX, dW (2 of 3 parts); wrong: db."), header
    assert cases and all(": db is off by a constant factor" in line for line in cases), cases


def test_every_wrong_part_is_explained():
    verdict = verdict_of(affine_backward_wrong_dx_and_db)
    assert verdict.parts == {"dX": False, "dW": False, "db": False}  # dX @ W raises on non-square W: all wrong
    assert "dX equals dZ @ W" in verdict.message and "db is off by a constant factor" in verdict.message


def test_a_right_answer_has_every_part_right_and_a_function_graded_as_a_whole_no_parts():
    right = verdict_of(lambda dZ, X, W: (dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)))
    assert right.passed and right.parts == {"dX": True, "dW": True, "db": True}
    verdict = judge.judge_function(PlantedSandbox({"bias_backward": lambda dC: dC.mean(axis=0)}), load_battery(EX4),
                                   "bias_backward")
    assert verdict.parts == {}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_part_is_worth_whole_points(assignment):
    points = grade_cell_points(ROOT, assignment)
    battery = load_battery(assignment)
    uneven = {}
    for function in battery.functions:
        parts = graded_parts(battery.iter_cases(function))
        if parts and points.get(f"test_{function}", 0) % len(parts):
            uneven[function] = (points[f"test_{function}"], parts)
    assert uneven == {}, f"test cell points not a multiple of the parts: {uneven}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """ex04 graded through the pipeline: `wrong_db` (affine_backward's db a mean) and `perfect`."""
    course = scratch_course(tmp_path_factory.mktemp("parts-course"), [EX4])
    submit(course, "perfect", EX4, solved(course, EX4))
    submit(course, "wrong_db", EX4, solved(course, EX4, affine_backward=WRONG_DB))
    return course, grade(course)


def test_the_pipeline_gives_the_right_parts_their_share(graded):
    course, report = graded
    assert report.problems == []
    points = grade_cell_points(course, EX4)
    assert points["test_affine_backward"] == 3  # dX, dW, db: 1 point each
    auto_score, _, _, _, score = grade_row(course, "wrong_db", EX4, "test_affine_backward")
    assert auto_score == score == 2.0  # the shares of dX and dW
    full = sum(points.values())
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(course / "grades.csv"))
            if r["assignment"] == EX4}
    assert rows == {"perfect": full, "wrong_db": full - 1}


def test_the_feedback_shows_the_partial_score_and_what_is_wrong(graded):
    course, _ = graded
    page = (course / "feedback" / "wrong_db" / EX4 / f"{EX4}.html").read_text()
    assert "Score: 2.0 / 3.0" in page
    assert "right in every case: dX, dW (2 of 3 parts); wrong: db" in page
    assert "db is off by a constant factor" in page
