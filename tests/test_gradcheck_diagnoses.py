"""The checker's diagnoses of issue 16: in-place upstreams named by their parameter, loss hints for losses,
floating-point errors as sentences, short output for passing checks, a picture of the error, and
numerical_vjp as accurate as an entry-wise difference."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autograder.gradcheck import (CheckResult, check_backward, check_gradient, compare, no_overflow,  # noqa: E402
                                  numerical_vjp)


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


# ------------------------------------------------------------- 1. the upstream changed in place

def sigmoid_backward(dA, cache):
    s = cache
    dA *= s * (1 - s)
    return dA


def relu_backward(upstream, Z):
    Z[Z < 0] = 0
    return upstream * (Z > 0)


def test_an_upstream_changed_in_place_is_named_by_the_backward_parameter():
    rng = np.random.default_rng(16)
    Z, up = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    before = up.copy()
    result = check_backward(sigmoid, lambda d: sigmoid_backward(d, sigmoid(Z)), (Z,), up, names=["dZ"])
    assert result.diagnosis == "inplace"
    assert "your backward changed its upstream argument `dA` in place" in result.message
    assert "sigmoid_backward" in result.message and "entries are wrong" not in result.message
    np.testing.assert_array_equal(up, before)
    # the student's function itself as the backward, and the default upstream
    direct = check_backward(sigmoid, lambda dA: sigmoid_backward(dA, sigmoid(Z)), Z)
    assert "upstream argument `dA`" in direct.message


def test_an_input_changed_in_place_is_named_by_the_backward_parameter():
    rng = np.random.default_rng(17)
    Z_in = rng.standard_normal((3, 4))
    result = check_backward(lambda z: np.maximum(z, 0), lambda d: relu_backward(d, Z_in), (Z_in,), names=["dZ"])
    assert result.diagnosis == "inplace"
    assert "your backward changed its argument `Z` in place" in result.message and "relu_backward" in result.message


# ------------------------------------------------------------- 2. loss hints for losses

def test_a_scalar_np_mean_loss_is_told_to_divide_by_n_not_n_times_k():
    rng = np.random.default_rng(18)
    for K in (2, 3):
        Y, P = rng.standard_normal((4, K)), rng.standard_normal((4, K))
        result = compare(np.mean((Y - P) ** 2), np.sum((Y - P) ** 2) / 4, name="mse_loss", expected_name="worked",
                         kind="value", batch_size=4)
        assert result.diagnosis == "factor", result.message
        assert "divide by N, not by N*K" in result.message and f"N*K = {4 * K}" in result.message
        assert "derivative" not in result.message and "square" not in result.message


def test_a_loss_gradient_check_leads_with_the_n_times_k_hint():
    rng = np.random.default_rng(19)
    Y, P = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    result = check_gradient(lambda Q: np.sum((Y - Q) ** 2) / 4, P, -2 * (Y - P) / P.size, name="dY_hat", batch_size=4)
    assert result.message.index("divide by N, not by N*K") < result.message.find("brings down a 2") or \
        "brings down a 2" not in result.message


# ------------------------------------------------------------- 2d. floating-point errors as sentences

def softmax_without_max(L):
    E = np.exp(L)
    return E / E.sum(axis=1, keepdims=True)


def softmax_global_max(L):
    E = np.exp(L - L.max())
    return E / E.sum(axis=1, keepdims=True)


BIG = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]])


@pytest.mark.parametrize("softmax, words", [
    (softmax_without_max, ["overflow", "np.exp", "L.max(axis=1, keepdims=True)"]),
    (softmax_global_max, ["0/0", "each row", "not the global max"]),
])
def test_a_floating_point_error_in_a_check_becomes_a_sentence(softmax, words):
    with np.errstate(all="raise"):
        result = check_backward(softmax, lambda d: d, (BIG,), names=["dL"])
    assert not result.ok and result.diagnosis == "overflow"
    assert "forward" in result.message
    for word in words:
        assert word in result.message, result.message
    gradient = check_gradient(lambda L: np.sum(softmax(L) * BIG), BIG, np.zeros_like(BIG))
    assert gradient.diagnosis == "overflow"


def test_a_sigmoid_with_np_where_is_told_that_both_branches_are_evaluated():
    def sigmoid_where(x):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))

    x = np.array([-1000.0, 0.5, 1000.0])
    result = check_gradient(lambda v: np.sum(sigmoid_where(v)), x, np.zeros(3), name="d_sigmoid")
    assert result.diagnosis == "overflow"
    assert "np.where evaluates both" in result.message and "np.exp(-np.abs(x)) once" in result.message
    assert "two branches" not in result.message


def test_no_overflow_without_a_hint_gives_the_standard_fix():
    with pytest.raises(AssertionError) as error:
        with no_overflow("softmax(L)"):
            softmax_without_max(BIG)
    assert "subtract" in str(error.value) and "max" in str(error.value)


# ------------------------------------------------------------- 4. passing checks are one short line

def test_a_passing_check_shows_one_short_line():
    rng = np.random.default_rng(20)
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    result = check_backward(lambda X, W, b: X @ W + b, lambda d: (d @ W.T, X.T @ d, d.sum(0)), (X, W, b),
                            names=["dX", "dW", "db"]).assert_ok()
    text = repr(result)
    assert "\n" not in text and len(text) < 200 and "details" not in text and "OK" in text
    failed = check_gradient(lambda v: np.sum(v ** 2), np.ones(3), -2 * np.ones(3))
    assert "sign" in repr(failed) and "details" not in repr(failed)


# ------------------------------------------------------------- 3. a picture of the error

def test_plot_draws_analytic_numeric_and_difference_with_the_wrong_row_marked():
    from matplotlib.figure import Figure
    rng = np.random.default_rng(21)
    X, W, b, dZ = (rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4),
                   rng.standard_normal((5, 4)))

    def backward(d):
        dX = d @ W.T
        dX[2] += 1.0  # a planted wrong row
        return dX, X.T @ d, d.sum(0)

    result = check_backward(lambda X, W, b: X @ W + b, backward, (X, W, b), dZ, names=["dX", "dW", "db"])
    assert not result.ok and result.analytic is not None and result.numeric is not None
    fig = result.plot()
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3
    titles = " ".join(ax.get_title() for ax in panels)
    assert "yours" in titles and "numerical" in titles and "difference" in titles
    difference = panels[2].images[0].get_array()
    assert np.allclose(np.delete(difference, 2, axis=0), 0, atol=1e-6)
    assert np.all(np.abs(difference[2]) > 0.5)
    assert len(fig.axes) == 6  # one colorbar per panel
    (marker,) = panels[2].lines  # the worst entry is circled, in the planted row
    assert marker.get_ydata()[0] == 2 == result.worst_index[0]


def test_plot_of_a_vector_and_of_a_passing_check():
    x = np.linspace(-1, 1, 6)
    fig = check_gradient(lambda v: np.sum(v ** 2), x, 2 * x).plot()
    assert len([ax for ax in fig.axes if ax.images]) == 3
    assert CheckResult(False, "shape", "shape").plot() is None  # nothing to draw


def test_assert_ok_outside_a_notebook_only_raises():
    """No IPython kernel (pytest, a script): assert_ok draws nothing and raises the message."""
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    with pytest.raises(AssertionError, match="wrong sign"):
        check_gradient(lambda M: np.sum(M ** 2), np.ones((3, 3)), -2 * np.ones((3, 3))).assert_ok()
    assert plt.get_fignums() == before


# ------------------------------------------------------------- 5. numerical_vjp differences entry by entry

def test_numerical_vjp_differences_each_output_entry_before_weighting():
    """Large outputs beside small changes: summing f(x +- h) * upstream first loses the digits."""
    rng = np.random.default_rng(22)
    Z, up = rng.standard_normal((6, 5)), rng.standard_normal((2, 6, 5))
    offset = 1e6 * rng.standard_normal((6, 5))  # outputs that do not depend on Z
    numeric = numerical_vjp(lambda A: np.stack([np.tanh(A), offset]), Z, up)
    np.testing.assert_allclose(numeric, up[0] * (1 - np.tanh(Z) ** 2), rtol=1e-8, atol=1e-9)
    scalar = numerical_vjp(lambda A: np.sum(A ** 2), Z, 1.0)  # a scalar output and upstream still work
    np.testing.assert_allclose(scalar, 2 * Z, rtol=1e-8)


def test_assert_ok_in_a_notebook_kernel_shows_the_picture_as_a_png(monkeypatch):
    import IPython
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: type("Kernel", (), {"kernel": object()})())
    monkeypatch.setattr(IPython.display, "display", shown.append)
    with pytest.raises(AssertionError, match="wrong sign"):
        check_gradient(lambda M: np.sum(M ** 2), np.ones((3, 3)), -2 * np.ones((3, 3))).assert_ok()
    assert len(shown) == 1 and shown[0].data[:4] == b"\x89PNG"
    with pytest.raises(AssertionError):  # a vector: the message is enough
        check_gradient(lambda v: np.sum(v ** 2), np.ones(3), -2 * np.ones(3)).assert_ok()
    assert len(shown) == 1


def test_check_backward_works_where_sys_setprofile_is_forbidden(monkeypatch):
    """The grading sandbox's audit hook refuses sys.setprofile: the check runs, only without the parameter's name."""
    import sys

    def forbidden(_):
        raise PermissionError("grading sandbox: `sys.setprofile` is not allowed")

    monkeypatch.setattr(sys, "setprofile", forbidden)
    rng = np.random.default_rng(23)
    Z, up = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert check_backward(sigmoid, lambda d: d * sigmoid(Z) * (1 - sigmoid(Z)), (Z,), up, names=["dZ"]).ok
    result = check_backward(sigmoid, lambda dA: sigmoid_backward(dA, sigmoid(Z)), (Z,), up, names=["dZ"])
    assert result.diagnosis == "inplace" and "your backward changed its upstream argument `dA` in place" in result.message
