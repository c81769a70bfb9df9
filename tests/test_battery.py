"""The battery building blocks: messages name parameters, hints sit with the checks they explain."""

import re

import numpy as np
import pytest

from autograder.instructor.batteries import ASSIGNMENTS, load_battery
from autograder.instructor.battery import (Inputs, PartsCheck, all_of, call_case, expect_array, expect_dict,
                                           expect_scalar, expect_tuple, graded_parts, unchanged_problem, with_hint)


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


def _affine_parts():
    """affine_backward's check: the parts dX, dW, db of a returned tuple, as the ex04 battery names them."""
    return expect_tuple(expect_array(np.ones((2, 3)), name="dX"), expect_array(np.ones((3, 4)), name="dW"),
                        expect_array(np.ones(4), name="db"))


def test_a_tuple_check_says_which_parts_are_wrong_and_what_is_wrong_with_each():
    check = _affine_parts()
    assert check.parts == ("dX", "dW", "db")
    right = (np.ones((2, 3)), np.ones((3, 4)), np.ones(4))
    assert check({"value": right}) is None and set(check.problems({"value": right}).values()) == {None}
    wrong = (np.ones((2, 3)), np.ones((4, 3)), np.full(4, 0.5))  # dW transposed, db half
    problems = check.problems({"value": wrong})
    assert problems["dX"] is None and problems["dW"].startswith("dW") and problems["db"].startswith("db")
    assert check({"value": wrong}) == f"{problems['dW'].rstrip('.')}; {problems['db']}"
    whole = check.problems({"value": right[:2]})  # a problem of the value as a whole is every part's
    assert set(whole) == {"dX", "dW", "db"} and set(whole.values()) == {"should return a tuple of 3 values, "
                                                                         "got a tuple of length 2"}


def test_parts_survive_all_of_and_with_hint():
    numeric = expect_tuple(expect_array(np.ones((2, 3)), name="dX"), expect_array(np.ones((3, 4)), name="dW"),
                           expect_array(np.full(4, 2.0), name="db"))
    check = with_hint(all_of(_affine_parts(), numeric), "Sum over the batch.")
    assert isinstance(check, PartsCheck) and check.parts == ("dX", "dW", "db")
    problems = check.problems({"value": (np.ones((2, 3)), np.ones((3, 4)), np.ones(4))})
    assert problems["dX"] is None and problems["dW"] is None and problems["db"]  # the second check's problem
    assert check({"value": (np.ones((2, 3)), np.ones((3, 4)), np.ones(4))}).endswith("Sum over the batch.")
    with pytest.raises(ValueError):
        all_of(_affine_parts(), expect_tuple(expect_array(1.0, name="y"), expect_array(1.0, name="dy")))
    with pytest.raises(ValueError):  # parts must be named apart
        expect_tuple(expect_array(1.0), expect_array(2.0))


def test_a_dicts_parts_are_its_keys():
    check = expect_dict({"W": np.ones((2, 2)), "b": np.zeros(2)})
    problems = check.problems({"value": {"W": np.ones((2, 2)), "b": np.ones(2)}})
    assert check.parts == ("W", "b") and problems["W"] is None and "['b']" in problems["b"]


def test_a_function_is_graded_by_parts_only_when_every_case_checks_the_same_parts():
    assert graded_parts(load_battery("ex04_expanded_jacobians").iter_cases("affine_backward")) == ("dX", "dW", "db")
    assert graded_parts(load_battery("ex04_expanded_jacobians").iter_cases("mse_backward")) == ()
    cases = [call_case(f"case {i}", "f", (), expect_dict(dict.fromkeys(keys, 0.0))) for i, keys in
             enumerate(["Wb", "WbV"])]
    assert graded_parts(cases) == ()  # e.g. the keys of a network's gradients vary with its depth
