"""The numeric gradient checker: central differences and every diagnosis it makes."""

import numpy as np
import pytest

from autograder.gradcheck import (check_backward, check_gradient, compare, numerical_gradient,
                                  numerical_jacobian, numerical_vjp, relative_error)

RNG = np.random.default_rng(1234)


def affine(X, W, b):
    return X @ W + b


@pytest.fixture
def affine_inputs():
    rng = np.random.default_rng(7)
    return rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)


# ------------------------------------------------------------- central differences

@pytest.mark.parametrize("shape", [(), (1,), (6,), (3, 4), (2, 3, 2, 2)])
def test_numerical_gradient_matches_known_gradient_for_any_rank(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    grad = numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    assert grad.shape == np.shape(x)
    np.testing.assert_allclose(grad, np.cos(x) * x + np.sin(x), rtol=1e-8, atol=1e-10)


def test_numerical_gradient_of_python_scalar():
    assert np.isclose(numerical_gradient(lambda t: t ** 3, 2.0), 12.0, rtol=1e-9)


def test_numerical_gradient_leaves_x_unchanged_and_supports_closures():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    # f ignores its argument and reads x by reference (CS231n style)
    grad = numerical_gradient(lambda _: np.sum(x ** 2), x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-8)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f(v):
        if v[0] != 1.0:
            raise RuntimeError("boom")
        return v.sum()

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_rejects_vector_valued_f():
    with pytest.raises(ValueError, match="numerical_jacobian"):
        numerical_gradient(lambda v: v * 2, np.ones(3))


def test_numerical_gradient_integer_input_is_not_truncated():
    grad = numerical_gradient(lambda v: np.sum(v ** 2), np.array([1, 2, 3]))
    np.testing.assert_allclose(grad, [2, 4, 6], rtol=1e-8)


def test_numerical_jacobian_shape_and_values():
    W = np.random.default_rng(3).standard_normal((2, 3))
    x = np.array([0.3, -0.1, 0.7])
    jac = numerical_jacobian(lambda v: np.tanh(W @ v), x)
    assert jac.shape == (2, 3)
    np.testing.assert_allclose(jac, (1 - np.tanh(W @ x) ** 2)[:, None] * W, rtol=1e-8)


def test_numerical_jacobian_matrix_input_is_flattened_row_major():
    A = np.arange(6.0).reshape(2, 3)
    jac = numerical_jacobian(lambda M: M.T, A)
    assert jac.shape == (6, 6)
    np.testing.assert_allclose(jac @ A.ravel(), A.T.ravel(), atol=1e-8)


def test_numerical_vjp_equals_transposed_jacobian_times_upstream():
    rng = np.random.default_rng(5)
    W, x, up = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(4)
    f = lambda v: np.sin(W @ v)  # noqa: E731
    np.testing.assert_allclose(numerical_vjp(f, x, up), numerical_jacobian(f, x).T @ up, rtol=1e-7)


def test_relative_error_definition():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0
    assert np.isclose(relative_error(np.array([1.0]), np.array([3.0])), 0.5)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0


# ------------------------------------------------------------- diagnoses: caught and passed

def test_correct_gradient_passes_with_small_relative_error():
    x = RNG.standard_normal((5, 4))
    result = check_gradient(lambda v: np.sum(np.tanh(v)), x, 1 - np.tanh(x) ** 2)
    assert result.ok and bool(result)
    assert result.max_rel_error < 1e-7
    assert "OK" in result.message


def test_shape_mismatch_with_transpose_hint(affine_inputs):
    X, W, b = affine_inputs
    result = check_backward(affine, lambda dZ: (dZ @ W.T, dZ.T @ X, dZ.sum(0)), (X, W, b),
                            names=["dX", "dW", "db"])
    assert not result.ok and result.diagnosis == "shape"
    assert "dW" in result.message and "(5, 3)" in result.message and "transpose" in result.message


def test_shape_mismatch_wrong_sum_axis_names_batch_axis(affine_inputs):
    X, W, b = affine_inputs
    result = check_backward(affine, lambda dZ: (dZ @ W.T, X.T @ dZ, dZ.sum(1)), (X, W, b),
                            names=["dX", "dW", "db"])
    assert not result.ok and result.diagnosis == "shape"
    assert "db" in result.message and "axis 0" in result.message


def test_shape_mismatch_same_size_suggests_reshape():
    x = np.ones((2, 6))
    result = check_gradient(lambda v: np.sum(v), x, np.ones((3, 4)))
    assert result.diagnosis == "shape" and "reshape" in result.message


def test_sign_flip_is_named():
    x = RNG.standard_normal(6)
    result = check_gradient(lambda v: np.sum(v ** 2), x, -2 * x)
    assert not result.ok and result.diagnosis == "sign"
    assert "sign" in result.message


@pytest.mark.parametrize("factor, words", [(2.0, "factor 2"), (0.5, "factor 2 missing")])
def test_factor_two(factor, words):
    x = RNG.standard_normal((3, 3))
    result = check_gradient(lambda v: np.sum(v ** 2), x, factor * 2 * x)
    assert not result.ok and result.diagnosis == "factor"
    assert words in result.message


def test_missing_one_over_n_names_the_batch_size():
    rng = np.random.default_rng(11)
    Z, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    loss = lambda A: np.mean(np.sum((A - Y) ** 2, axis=1))  # noqa: E731
    result = check_gradient(loss, Z, 2 * (Z - Y), batch_size=8)
    assert result.diagnosis == "factor" and "1/N" in result.message and "N = 8" in result.message


def test_extra_one_over_n_is_named():
    rng = np.random.default_rng(12)
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    result = check_backward(affine, lambda dZ: (dZ @ W.T, X.T @ dZ / 4, dZ.sum(0)), (X, W, b),
                            names=["dX", "dW", "db"])
    assert result.diagnosis == "factor" and "1/4" in result.message and "dW" in result.message


def test_single_wrong_entry_names_index_and_both_values():
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    analytic = 2 * x
    analytic[1, 2] += 0.25
    result = check_gradient(lambda v: np.sum(v ** 2), x, analytic)
    assert result.diagnosis == "entries" and "exactly one entry" in result.message
    assert result.worst_index == (1, 2) and "[1, 2]" in result.message
    assert f"{analytic[1, 2]:.6g}" in result.message and f"{2 * x[1, 2]:.6g}" in result.message


def test_nan_and_inf_are_reported_with_index():
    x = RNG.standard_normal(5)
    for bad in (np.nan, np.inf):
        analytic = 2 * x
        analytic[3] = bad
        result = check_gradient(lambda v: np.sum(v ** 2), x, analytic)
        assert result.diagnosis == "nan" and "[3]" in result.message


def test_transposed_values_in_square_matrix():
    A = np.random.default_rng(2).standard_normal((3, 3))
    x = np.ones((3, 3))
    result = check_gradient(lambda M: np.sum(A * M.T), x, A)
    assert result.diagnosis == "transpose"


def test_all_zero_gradient_is_called_out():
    x = RNG.standard_normal(4) + 3
    result = check_gradient(lambda v: np.sum(v ** 2), x, np.zeros(4))
    assert result.diagnosis == "zero"


def test_non_numeric_analytic():
    result = compare("not an array", np.ones(3))
    assert not result.ok and result.diagnosis in {"type", "shape"}


def test_large_tensor_is_sampled_with_a_seed():
    calls = []
    x = np.random.default_rng(4).standard_normal((20, 3, 8, 8))  # 3840 entries

    def f(v):
        calls.append(1)
        return np.sum(v ** 2)

    result = check_gradient(f, x, 2 * x, max_entries=100)
    assert result.ok and len(calls) == 200  # two evaluations per sampled entry
    bad = 2 * x
    bad[0, 0, 0, 0] *= -1
    bad.reshape(-1)[::7] *= 3  # spread errors so the sample must see them
    assert not check_gradient(lambda v: np.sum(v ** 2), x, bad, max_entries=100).ok


def test_check_backward_with_single_input_and_default_upstream():
    Z = np.random.default_rng(9).standard_normal((3, 4))
    s = 1 / (1 + np.exp(-Z))
    assert check_backward(lambda z: 1 / (1 + np.exp(-z)), lambda dA: dA * s * (1 - s), Z).ok
    wrong = check_backward(lambda z: 1 / (1 + np.exp(-z)), lambda dA: dA * Z * (1 - Z), Z)
    assert not wrong.ok


def test_check_backward_wrong_number_of_gradients(affine_inputs):
    X, W, b = affine_inputs
    result = check_backward(affine, lambda dZ: (dZ @ W.T, X.T @ dZ), (X, W, b))
    assert not result.ok and "2 gradient(s)" in result.message


def test_assert_ok_raises_with_message():
    x = np.ones(2)
    with pytest.raises(AssertionError, match="sign"):
        check_gradient(lambda v: np.sum(v ** 2), x, -2 * x).assert_ok()


def test_single_numbers_show_both_values_and_only_simple_factors():
    odd = compare(0.456, 0.721, name="J", expected_name="worked")
    assert not odd.ok and "0.456" in odd.message and "0.721" in odd.message and "factor" not in odd.message
    mean_missing = compare(6.0, 2.0, name="J", expected_name="worked", batch_size=3)
    assert mean_missing.diagnosis == "factor" and "1/N" in mean_missing.message and "yours 6" in mean_missing.message
