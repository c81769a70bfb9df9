"""Hidden battery for ex02_total_derivatives."""

import numpy as np

from autograder.gradcheck import numerical_gradient
from autograder.instructor.battery import (Battery, all_of, call_case, expect_array, expect_scalar, expect_tuple,
                                           with_hint)
from autograder.instructor.reference import ex02_total_derivatives as ref

battery = Battery("ex02_total_derivatives")
SHAPES = [(), (1,), (6,), (3, 2)]


def _finite(check, hint):
    """First: no NaN/inf in the returned value (with a hint naming the check's value), then `check`."""
    def finite_check(result):
        try:
            finite = np.isfinite(np.asarray(result["value"], dtype=float)).all()
        except (TypeError, ValueError):
            return None  # not numbers: `check` says what it is
        return None if finite else f"{check.name} contains NaN/inf: {hint}"
    return all_of(finite_check, check)


@battery.cases("total_derivative")
def _(rng):
    for n in (1, 2, 5):
        dz_dy, dy_dx = rng.standard_normal(n), rng.standard_normal(n)
        yield call_case(f"dz_dy ({n},), dy_dx ({n},)", "total_derivative", (dz_dy, dy_dx),
                        expect_scalar(ref.total_derivative(dz_dy, dy_dx)))
    for m, n in ((1, 3), (4, 2), (2, 1), (3, 3)):
        dz_dy, dy_dx = rng.standard_normal((m, n)), rng.standard_normal(n)
        yield call_case(f"dz_dy ({m}, {n}), dy_dx ({n},)", "total_derivative", (dz_dy, dy_dx),
                        expect_array(ref.total_derivative(dz_dy, dy_dx), name="dz/dx"))


def _elementwise(rng, name, reference, primitive, high):
    for shape in SHAPES:
        x = rng.uniform(-high, high, size=shape)
        numeric = numerical_gradient(lambda v: np.sum(primitive(v)), np.array(x, dtype=float))
        yield call_case(f"x of shape {np.shape(x)}", name, (x,),
                        all_of(expect_array(reference(x), name=f"{name}(x)"),
                              expect_array(numeric, name=f"{name}(x) vs the numeric derivative", rtol=1e-5, atol=1e-6)))


@battery.cases("d_cosh_total")
def _(rng):
    yield from _elementwise(rng, "d_cosh_total", ref.d_cosh_total, np.cosh, 4)


@battery.cases("d_sinh_total")
def _(rng):
    yield from _elementwise(rng, "d_sinh_total", ref.d_sinh_total, np.sinh, 4)


@battery.cases("d_tanh_total")
def _(rng):
    yield from _elementwise(rng, "d_tanh_total", ref.d_tanh_total, np.tanh, 4)
    big = np.array([-20.0, -8.0, 8.0, 20.0])
    yield call_case("large |x|", "d_tanh_total", (big,), expect_array(1 - np.tanh(big) ** 2, atol=1e-12))
    huge = np.array([-1000.0, -400.0, 0.0, 400.0, 1000.0])
    yield call_case(f"x = {huge.tolist()}", "d_tanh_total", (huge,),
                    _finite(expect_array(1 - np.tanh(huge) ** 2, name="d_tanh_total(x)", atol=1e-12),
                            "e^1000 overflows to inf and inf * 0 or inf / inf is NaN: simplify (u v = 1) "
                            "or clip x (tanh'(x) < 1e-300 for |x| > 350)"))


def _labels_and_predictions(rng, shape):
    y = (rng.random(shape) > 0.5).astype(float)
    y_hat = rng.uniform(0.02, 0.98, size=shape)
    return y, y_hat


@battery.cases("bce")
def _(rng):
    for shape in [(1,), (7,), (3, 2)]:
        y, y_hat = _labels_and_predictions(rng, shape)
        yield call_case(f"y, y_hat of shape {shape}", "bce", (y, y_hat), expect_array(ref.bce(y, y_hat), name="loss",
                                                                                     kind="value"))
    y, y_hat = np.array([1.0, 0.0, 1.0, 0.0]), np.array([1 - 1e-12, 1e-12, 0.5, 0.5])
    yield call_case("y_hat within 1e-12 of the right label", "bce", (y, y_hat),
                    expect_array(ref.bce(y, y_hat), name="loss", kind="value"))
    y, y_hat = np.array([1.0, 0.0]), np.array([1e-12, 1 - 1e-12])
    yield call_case("y_hat within 1e-12 of the wrong label", "bce", (y, y_hat),
                    with_hint(expect_array(ref.bce(y, y_hat), name="loss", kind="value"),
                              "The loss is large but finite (-ln 1e-12 = 27.6): no clipping, no epsilon."))
    yield call_case("y = 1.0, y_hat = 0.25 (floats)", "bce", (1.0, 0.25), expect_scalar(np.log(4.0), name="loss",
                                                                                          kind="value"))
    y, y_hat = np.array([0.3, 0.8]), np.array([0.4, 0.6])
    yield call_case("soft labels", "bce", (y, y_hat), expect_array(ref.bce(y, y_hat), name="loss", kind="value"))


@battery.cases("d_bce")
def _(rng):
    for shape in [(1,), (7,), (3, 2)]:
        y, y_hat = _labels_and_predictions(rng, shape)
        numeric = numerical_gradient(lambda p: np.sum(ref.bce(y, p)), y_hat.copy(), h=1e-7)
        yield call_case(f"y, y_hat of shape {shape}", "d_bce", (y, y_hat),
                        all_of(expect_array(ref.d_bce(y, y_hat), name="dL/dy_hat"),
                              expect_array(numeric, name="dL/dy_hat vs numeric", rtol=1e-4, atol=1e-6)))
    y, y_hat = np.array([1.0, 0.0]), np.array([1 - 1e-12, 1e-12])
    yield call_case("y_hat within 1e-12 of the right label", "d_bce", (y, y_hat),
                    expect_array(ref.d_bce(y, y_hat), rtol=1e-3))


def _with_numeric(expect, expected, numeric, name, **options):
    """`expect` (expect_array or expect_scalar) of the reference value `expected`, then of the numeric
    derivative (central differences) `numeric`, for the part `name` of a returned pair."""
    return all_of(expect(expected, name=name, **options),
                  expect(numeric, name=f"{name} vs numeric", rtol=1e-5, atol=1e-7, **options))


def _regression_data(rng, N, d):
    X = rng.standard_normal((N, d))
    return X, X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(N), rng.standard_normal(d), float(rng.normal())


@battery.cases("linear_regression_grads")
def _(rng):
    for N in (1, 2, 9, 50):
        x, y, w, b = rng.standard_normal(N), rng.standard_normal(N), float(rng.normal()), float(rng.normal())
        dw, db = ref.linear_regression_grads(x, y, w, b)
        loss = lambda p: np.mean((y - (p[0] * x + p[1])) ** 2)  # noqa: E731
        num = numerical_gradient(loss, np.array([w, b]))
        yield call_case(f"N={N}", "linear_regression_grads", (x, y, w, b),
                        expect_tuple(_with_numeric(expect_scalar, dw, num[0], "dJ_dw"),
                                     _with_numeric(expect_scalar, db, num[1], "dJ_db")))


def _vector_cases(rng, name, reference, loss_of):
    for N, d in ((1, 3), (1, 1), (8, 1), (10, 4), (50, 3)):
        X, y, w, b = _regression_data(rng, N, d)
        if name.startswith("logistic"):
            y = (rng.random(N) > 0.5).astype(float)
        dw, db = reference(X, y, w, b)
        num_w = numerical_gradient(lambda v: loss_of(X, y, v, b), w.copy())
        num_b = numerical_gradient(lambda c: loss_of(X, y, w, float(c)), b)
        yield call_case(f"X ({N}, {d})", name, (X, y, w, b),
                        expect_tuple(_with_numeric(expect_array, dw, num_w, "dw", batch_size=N),
                                     _with_numeric(expect_scalar, db, float(num_b), "db")))


@battery.cases("linear_regression_grads_vec")
def _(rng):
    yield from _vector_cases(rng, "linear_regression_grads_vec", ref.linear_regression_grads_vec,
                             lambda X, y, w, b: np.mean((y - (X @ w + b)) ** 2))


SATURATED = ("with y_hat = 0 or 1 exactly, (y_hat - y) / (y_hat (1 - y_hat)) is 0 / 0; the sigmoid's derivative "
             "cancels the BCE's denominator, so use y_hat - y directly")


@battery.cases("logistic_regression_grads")
def _(rng):
    def loss(X, y, w, b):
        p = 0.5 * (1 + np.tanh(0.5 * (X @ w + b)))
        return np.mean(ref.bce(y, p))
    yield from _vector_cases(rng, "logistic_regression_grads", ref.logistic_regression_grads, loss)
    X = np.array([[1000.0, -1.0], [-1000.0, 2.0], [1000.0, 0.5], [-1000.0, 0.0]])
    y = np.array([1.0, 0.0, 0.0, 1.0])  # two confident right and two confident wrong predictions
    w, b = np.array([1.0, 0.5]), 0.0
    dw, db = ref.logistic_regression_grads(X, y, w, b)
    yield call_case("saturated logits (|Xw + b| about 1000)", "logistic_regression_grads", (X, y, w, b),
                    expect_tuple(_finite(expect_array(dw, name="dw"), SATURATED),
                                 _finite(expect_scalar(db, name="db"), SATURATED)))
