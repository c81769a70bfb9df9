"""The numeric gradient checker: central differences and every diagnosis it makes."""

import numpy as np
import pytest

from autograder.gradcheck import (check_backward, check_gradient, compare, no_inplace, no_overflow,
                                  numerical_gradient, numerical_jacobian, numerical_vjp, relative_error)

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
    assert result.ok and len(calls) == 1 + 200  # one in-place probe, two evaluations per sampled entry
    bad = 2 * x
    bad[0, 0, 0, 0] *= -1
    bad.reshape(-1)[::7] *= 3  # spread errors so the sample must see them
    assert not check_gradient(lambda v: np.sum(v ** 2), x, bad, max_entries=100).ok



@pytest.mark.parametrize("check", ["gradient", "backward"])
def test_max_entries_none_checks_every_entry(check):
    """max_entries=None: every entry of a tensor larger than the default sample is differentiated
    (two forward calls each), so one wrong entry the sample would likely miss is caught."""
    x = np.random.default_rng(5).standard_normal((50, 50))  # 2500 entries > DEFAULT_MAX_ENTRIES
    calls = []

    def f(v):
        calls.append(1)
        return np.sum(v ** 2)

    right = 2 * x
    wrong = right.copy()
    wrong[17, 31] += 1.0
    if check == "gradient":
        run = lambda grad: check_gradient(f, x, grad, max_entries=None)  # noqa: E731
    else:
        run = lambda grad: check_backward(f, lambda d: d * grad, x, upstream=1.0, max_entries=None)  # noqa: E731
    assert run(right).ok
    assert len(calls) == 1 + 2 * x.size  # one forward (or in-place probe), two calls per entry
    assert not run(wrong).ok


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


# ------------------------------------------------------------- in-place changes

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_check_backward_names_an_upstream_modified_in_place():
    """dA *= ... used to read as "12 of 12 entries are wrong": the numeric side saw the mutated upstream."""
    rng = np.random.default_rng(7)
    Z, dA = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    before = dA.copy()

    def sigmoid_backward(dA, A):
        dA *= A * (1 - A)
        return dA

    result = check_backward(sigmoid, lambda d: sigmoid_backward(d, sigmoid(Z)), (Z,), dA, names=["dZ"])
    assert not result.ok and result.diagnosis == "inplace"
    assert "your backward changed its upstream argument `dA` in place" in result.message
    assert "entries are wrong" not in result.message
    np.testing.assert_array_equal(dA, before)  # backward got a copy: the caller's upstream is intact
    assert check_backward(sigmoid, lambda d: d * sigmoid(Z) * (1 - sigmoid(Z)), (Z,), dA, names=["dZ"]).ok


def test_check_backward_names_an_input_or_a_read_array_modified_in_place():
    rng = np.random.default_rng(8)
    Z, dA = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    def relu_backward(dA, Z):
        Z[Z < 0] = 0  # changes the caller's Z, which is also the input
        return dA * (Z > 0)

    result = check_backward(lambda z: np.maximum(z, 0), lambda d: relu_backward(d, Z), (Z,), dA, names=["dZ"])
    assert result.diagnosis == "inplace" and "your backward changed its argument `Z` in place" in result.message

    L = rng.standard_normal((3, 4))
    Y_hat = np.exp(L) / np.exp(L).sum(axis=1, keepdims=True)

    def softmax_backward(dY_hat, Y_hat):
        Y_hat *= dY_hat - np.sum(dY_hat * Y_hat, axis=1, keepdims=True)  # Y_hat is no input of the check
        return Y_hat

    softmax = lambda A: np.exp(A) / np.exp(A).sum(axis=1, keepdims=True)  # noqa: E731
    result = check_backward(softmax, lambda d: softmax_backward(d, Y_hat), (L,), dA, names=["dL"])
    assert result.diagnosis == "inplace" and "changed its argument `Y_hat` in place" in result.message


def test_check_backward_names_an_input_the_forward_modifies():
    L = np.random.default_rng(9).standard_normal((2, 3))

    def softmax(L):
        L -= L.max(axis=1, keepdims=True)
        return np.exp(L) / np.exp(L).sum(axis=1, keepdims=True)

    result = check_backward(softmax, lambda d: d, (L,), names=["dL"])
    assert result.diagnosis == "inplace" and "forward modified L in place" in result.message


def test_check_gradient_catches_a_function_that_modifies_its_argument():
    x = np.array([1.0, -2.0, 3.0])

    def loss(v):
        v -= 1.0
        return np.sum(v ** 2)

    result = check_gradient(loss, x, 2 * (x - 1))
    assert result.diagnosis == "inplace" and "loss modified its argument in place" in result.message
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])


def _jacobian_softmax_in_place(l):
    l -= l.max()
    y = np.exp(l) / np.exp(l).sum()
    return np.diag(y) - np.outer(y, y)


def _chain_reversing(jacobians):
    jacobians.reverse()
    out = jacobians[0]
    for J in jacobians[1:]:
        out = out @ J
    return out


def _sgd_in_place(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]
    return params


def _minibatches_shuffling(X, Y, batch_size, rng):
    order = rng.permutation(len(X))
    X[:] = X[order]  # shuffles the caller's X while yielding
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], Y[order[start:start + batch_size]]


@pytest.mark.parametrize("function, args, words", [
    (_jacobian_softmax_in_place, (np.array([0.5, -1.0, 2.0]),), ["its argument l in place", "was 0.5, now -1.5"]),
    (_chain_reversing, ([np.ones((3, 2)), np.arange(12.0).reshape(4, 3)],), ["its argument jacobians", "reversed"]),
    (_sgd_in_place, ({"W1": np.ones((2, 2))}, {"W1": np.ones((2, 2))}, 0.5), ["its argument params", "['W1']"]),
])
def test_no_inplace_names_the_parameter_and_the_change(function, args, words):
    with pytest.raises(AssertionError) as error:
        no_inplace(function)(*args)
    for word in words:
        assert word in str(error.value)
    assert function.__name__ in str(error.value)


def test_no_inplace_checks_generators_while_they_yield_and_passes_correct_code_through():
    X, Y = np.arange(10.0).reshape(5, 2), np.arange(5.0).reshape(5, 1)
    with pytest.raises(AssertionError, match="its argument X in place"):
        list(no_inplace(_minibatches_shuffling)(X.copy(), Y, 2, np.random.default_rng(0)))
    assert no_inplace(lambda a, b: a @ b)(np.eye(2), np.ones(2)).tolist() == [1.0, 1.0]
    assert no_inplace(sorted)([3, 1, 2]) == [1, 2, 3]  # a new list: fine; rng, functions are not compared
    assert no_inplace(lambda f, rng: f(rng.random()))(float, np.random.default_rng(0)) > 0


def test_no_overflow_explains_a_floating_point_error():
    L = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]])

    def global_max_softmax(L):
        E = np.exp(L - L.max())  # row 1 underflows to all zeros: 0 / 0
        return E / E.sum(axis=1, keepdims=True)

    with pytest.raises(AssertionError) as error:
        with no_overflow("softmax of logits +-1000", "Subtract the max of each row (axis=1, keepdims=True)."):
            global_max_softmax(L)
    message = str(error.value)
    assert "softmax of logits +-1000" in message and "0/0" in message and "axis=1, keepdims=True" in message
    with no_overflow("a stable softmax"):
        E = np.exp(L - L.max(axis=1, keepdims=True))
        assert np.allclose((E / E.sum(axis=1, keepdims=True)).sum(axis=1), 1)


# ------------------------------------------------------------- batch size, means over N and N*K

def test_bias_via_mean_names_the_batch_size_of_the_upstream():
    """N is the batch (the upstream's leading axis: 4), not b's 3 entries."""
    result = check_backward(lambda b: np.zeros((4, 3)) + b, lambda d: np.mean(d, axis=0), (np.zeros(3),),
                            names=["db"])
    assert result.diagnosis == "factor" and "1/4" in result.message
    assert "N = 4" in result.message and "a mean where the sum is needed" in result.message


@pytest.mark.parametrize("N, K", [(4, 2), (3, 5), (1, 2)])
def test_np_mean_of_a_squared_error_names_n_times_k_first(N, K):
    rng = np.random.default_rng(N * 10 + K)
    Y, P = rng.standard_normal((N, K)), rng.standard_normal((N, K))
    result = check_gradient(lambda Q: np.sum((Y - Q) ** 2) / N, P, -2 * (Y - P) / Y.size, name="dY_hat",
                            batch_size=N)
    assert result.diagnosis == "factor" and f"N*K = {N * K}" in result.message
    if K == 2:  # a factor 1/2 could also be the 2 of the square: the K hypothesis comes first
        assert result.message.index("N*K") < result.message.index("brings down a 2")


def test_a_loss_value_gets_no_derivative_hint():
    J = np.mean((np.array([[1.0, 0.0]]) - np.array([[0.0, 2.0]])) ** 2)  # np.mean: 5 / 2
    result = compare(J, 5.0, name="mse_loss", expected_name="worked", kind="value", batch_size=1, per_sample=2)
    assert not result.ok and "derivative" not in result.message and "square" not in result.message
    assert "N*K = 2" in result.message and "N = 1" in result.message
    assert "derivative" not in compare(2.0, 4.0, name="J", kind="value").message
    assert "derivative" in compare(2.0, 4.0, name="dJ").message
    with pytest.raises(ValueError):
        compare(1.0, 1.0, kind="loss")


# ------------------------------------------------------------- square shapes: transposes and swapped factors

@pytest.mark.parametrize("N, l", [(4, 3), (2, 2), (6, 5), (1, 4)])
def test_dx_without_the_transpose_of_a_square_w_is_named(N, l):
    rng = np.random.default_rng(N + 10 * l)
    X, W, b, dZ = (rng.standard_normal((N, l)), rng.standard_normal((l, l)), rng.standard_normal(l),
                   rng.standard_normal((N, l)))
    result = check_backward(lambda X, W, b: X @ W + b, lambda d: (d @ W, X.T @ d, d.sum(0)), (X, W, b), dZ,
                            names=["dX", "dW", "db"])
    assert result.diagnosis == "operands", result.message
    assert "dX equals dZ @ W," in result.message and "dZ @ W.T" in result.message
    assert "transpose" in result.message


def test_swapped_factors_are_named():
    rng = np.random.default_rng(3)
    A, B, dC = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    result = check_backward(lambda A, B: A @ B, lambda d: (B.T @ d, A.T @ d), (A, B), dC, names=["dA", "dB"])
    assert result.diagnosis == "operands" and "B.T @ dC" in result.message and "dC @ B.T" in result.message
    assert "wrong order" in result.message
    # the hidden tests' wording: the student's product, never the right one
    hidden = compare(B.T @ dC, dC @ B.T, name="dA", expected_name="expected", reveal_expected=False,
                     operands={"dC": dC, "A": A, "B": B})
    assert hidden.diagnosis == "operands" and "B.T @ dC" in hidden.message and "dC @ B.T" not in hidden.message


def test_a_product_that_is_not_the_gradient_claims_no_right_product():
    """tanh(X W): dZ @ W.T misses the tanh' term; no product of dZ and W is right, so none is named as right."""
    rng = np.random.default_rng(4)
    X, W, dZ = rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal((4, 3))
    result = check_backward(lambda X: np.tanh(X @ W), lambda d: d @ W.T, (X,), dZ, names=["dX"])
    assert result.diagnosis == "operands" and "dX equals dZ @ W.T" in result.message
    assert "missing term" in result.message and "numerical one is" not in result.message
    other = check_backward(lambda X: np.tanh(X @ W), lambda d: d * 2.0 + 1.0, (X,), dZ, names=["dX"])
    assert other.diagnosis == "entries"  # no product at all


CACHE = []


def test_a_backward_may_consume_its_own_cache():
    """Only arrays a backward reads are watched: a list or dict of its own may change."""
    X = np.random.default_rng(5).standard_normal((3, 2))

    def forward(X):
        CACHE.append(np.tanh(X))
        return CACHE[-1]

    def backward(d):
        A = CACHE.pop()
        return d * (1 - A ** 2)

    assert check_backward(forward, backward, (X,), names=["dX"]).ok


def test_a_factor_the_backward_reads_counts_as_an_operand():
    """W is no input of the check (only X is), but the backward reads it: dZ @ W is still named."""
    rng = np.random.default_rng(6)
    X, W, dZ = rng.standard_normal((5, 4)), rng.standard_normal((4, 4)), rng.standard_normal((5, 4))
    result = check_backward(lambda X: X @ W, lambda d: d @ W, (X,), dZ, names=["dX"])
    assert result.diagnosis == "operands" and "dX equals dZ @ W," in result.message and "dZ @ W.T" in result.message
