"""The battery building blocks: messages name parameters, hints sit with the checks they explain."""

import re

import numpy as np
import pytest

from autograder.instructor.batteries import ASSIGNMENTS, load_battery
from autograder.instructor.battery import (Inputs, call_case, expect_array, expect_scalar, unchanged_problem,
                                           with_hint)


def test_an_argument_changed_in_place_is_named_by_its_parameter():
    dA, A = np.array([[1.0, -2.0]]), np.array([[0.5, 0.9]])
    after = [np.array([[0.25, -2.0]]), A.copy()]
    problem = unchanged_problem(Inputs([dA, A], ["dA", "A"]), after)
    assert problem.startswith("argument dA was modified in place")
    assert "1 of 2 entries changed" in problem and "was 1, now 0.25" in problem
    assert unchanged_problem([dA, A], after, names=["dA", "A"]).startswith("argument dA was")
    assert unchanged_problem([dA, A], after).startswith("argument 1 was modified in place")  # no names known
    assert unchanged_problem(Inputs([dA, A], ["dA", "A"]), [dA.copy(), A.copy()]) is None


def test_a_reversed_list_is_called_reversed():
    J1, J2 = np.ones((3, 2)), np.zeros((4, 3))
    problem = unchanged_problem(Inputs([[J1, J2]], ["jacobians"]), [[J2, J1]])
    assert "argument jacobians was modified in place" in problem and "reversed" in problem


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_case_knows_the_names_of_its_inputs(assignment):
    battery = load_battery(assignment)
    for function in battery.functions:
        for case in battery.iter_cases(function):
            if case.inputs is None:
                continue
            assert isinstance(case.inputs, Inputs) and case.inputs.names, (function, case.description)
            assert len(case.inputs.names) >= len(case.inputs), (function, case.description, case.inputs.names)
            assert not any(re.fullmatch(r"\d+", n) for n in case.inputs.names)


def test_names_come_from_the_reference_signature():
    names = {f: load_battery("ex04_expanded_jacobians").iter_cases(f)[0].inputs.names
             for f in ("sigmoid_backward", "affine_backward", "bias_backward")}
    assert names == {"sigmoid_backward": ["dA", "A"], "affine_backward": ["dZ", "X", "W"], "bias_backward": ["dC"]}
    module = load_battery("ex01_differentiation").iter_cases("Exp")[0].inputs.names
    assert module == ["u of forward", "upstream of backward"]


# Prescriptive phrases are hints: they belong in the message of the check they explain, since a case's
# description is printed with every failure of the case (an in-place change, a wrong shape...) too.
HINT_WORDS = re.compile(r"sum over|divide by|do not clip|no clipping|use the|pair them|must stay|stays finite|"
                        r"would overflow|stable|no NaN|no overflow", re.IGNORECASE)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_case_descriptions_describe_inputs_and_carry_no_hints(assignment):
    battery = load_battery(assignment)
    for function in battery.functions:
        for case in battery.iter_cases(function):
            assert not HINT_WORDS.search(case.description), (function, case.description)
            assert "args (" not in case.description, (function, case.description)  # parameters by name


def test_with_hint_adds_the_hint_to_a_failure_only():
    check = with_hint(expect_array(np.ones(3), name="Y_hat"), "Subtract each row's max.")
    assert check({"value": np.ones(3)}) is None
    assert check({"value": np.full(3, 2.0)}).endswith("Subtract each row's max.")


def test_loss_values_name_n_times_k_and_no_derivative():
    Y, Y_hat = np.zeros((4, 3)), np.ones((4, 3))
    check = expect_scalar(np.sum((Y - Y_hat) ** 2) / 4, name="J", kind="value", batch_size=4, per_sample=3)
    problem = check({"value": float(np.mean((Y - Y_hat) ** 2))})
    assert "N*K = 12" in problem and "derivative" not in problem


def test_a_hidden_test_names_the_product_not_the_answer():
    rng = np.random.default_rng(0)
    dZ, X, W = rng.standard_normal((6, 5)), rng.standard_normal((6, 5)), rng.standard_normal((5, 5))
    problem = expect_array(dZ @ W.T, name="dX", operands={"dZ": dZ, "X": X, "W": W})({"value": dZ @ W})
    assert "dX equals dZ @ W" in problem and "transpose" in problem and "dZ @ W.T" not in problem


def test_call_case_keeps_its_description():
    case = call_case("Y, Y_hat of shape (4, 10)", "mse_loss", (np.zeros((4, 10)), np.zeros((4, 10))), lambda r: None)
    assert case.description == "Y, Y_hat of shape (4, 10)"
