"""Hidden battery for ex04_expanded_jacobians.

Every backward rule is compared with the reference AND with the numeric vector-Jacobian product
(`numerical_vjp`) of the reference forward, on random shapes that include N = 1, l_in != l_out,
K = 2 and K = 10 (and square shapes, where a missing transpose keeps the shape but not the values).
Edge values: softmax of logits of +-1000 (no NaN, rows sum to 1), predictions within 1e-12 of 0 or 1
where the formula allows it (losses and their gradients finite and correct), saturated sigmoid/tanh.
Numeric checks are only made where they are well conditioned (probabilities in [0.05, 0.95],
activations away from the ReLU kink).
"""

import numpy as np

from autograder.gradcheck import numerical_vjp
from autograder.instructor.battery import (NUMERIC_ATOL, NUMERIC_RTOL, Battery, all_of, call_case, expect_array,
                                           expect_scalar, expect_tuple, with_hint)
from autograder.instructor.reference import ex04_expanded_jacobians as ref

battery = Battery("ex04_expanded_jacobians")

OUTPUT_SHAPES = ((1, 2), (4, 10), (7, 3), (1, 10), (5, 2))          # (N, K) for softmax / CCE
REGRESSION_SHAPES = ((1, 1), (6, 1), (4, 2), (1, 10), (3, 10))      # (N, K) for the MSE
# (N, l_in, l_out); a square layer first, so a missing transpose is diagnosed before it turns into a shape error
LAYER_SHAPES = ((6, 5, 5), (1, 3, 2), (4, 2, 10), (3, 10, 1), (1, 4, 7), (5, 5, 5))
EPS = 1e-12


def _grad(expected, numeric, name, N, operands=None):
    """The reference value, then the numeric vector-Jacobian product of the reference forward.
    operands ({name: array}): the factors of a matrix product, to name a product of the wrong ones."""
    return all_of(expect_array(expected, name=name, batch_size=N, operands=operands),
                  expect_array(numeric, name=f"{name} (compared with the numeric gradient of the forward)",
                               rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL, batch_size=N, operands=operands))


def _loss_grad(loss, Y, Y_hat):
    """d loss(Y, Y_hat) / d Y_hat numerically: the VJP of the scalar loss with upstream 1."""
    return numerical_vjp(lambda P: loss(Y, P), Y_hat.copy(), 1.0)


def _nk(N, K):
    """Case description for targets/predictions of shape (N, K) (the checks name 1/N and 1/K factors)."""
    return f"Y, Y_hat of shape ({N}, {K})"


def _loss(expected, N, K, hint=None):
    """A loss value: the mean over the N samples of a sum over their K entries."""
    check = expect_scalar(expected, name="J", kind="value", batch_size=N, per_sample=K)
    return with_hint(check, hint) if hint else check


NO_CLIPPING = "The loss and its gradient stay finite and exact at 1e-12: no clipping, no added epsilon."


def _one_hot(rng, N, K):
    return np.eye(K)[rng.integers(0, K, N)]


def _binary(rng, N):
    Y = (rng.random((N, 1)) > 0.5).astype(float)
    Y[0, 0] = 1.0 - Y[-1, 0] if N > 1 else Y[0, 0]  # both labels present when N > 1
    return Y, rng.uniform(0.05, 0.95, (N, 1))


def _rows_sum_to_one(result):
    value = np.asarray(result["value"], dtype=float)
    sums = value.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-9):
        return f"the rows of Y_hat must sum to 1, but row sums range from {sums.min():.6g} to {sums.max():.6g}"
    return None


# ---------------------------------------------------------------- losses

@battery.cases("mse_loss")
def _(rng):
    yield call_case("Y = [[1], [2]], Y_hat = [[0], [4]]", "mse_loss",
                    (np.array([[1.0], [2.0]]), np.array([[0.0], [4.0]])), _loss(2.5, 2, 1))
    for N, K in REGRESSION_SHAPES:
        Y, Y_hat = rng.standard_normal((N, K)), rng.standard_normal((N, K))
        yield call_case(_nk(N, K), "mse_loss", (Y, Y_hat), _loss(ref.mse_loss(Y, Y_hat), N, K))


@battery.cases("mse_backward")
def _(rng):
    for N, K in REGRESSION_SHAPES:
        Y, Y_hat = rng.standard_normal((N, K)), rng.standard_normal((N, K))
        yield call_case(_nk(N, K), "mse_backward", (Y, Y_hat),
                        _grad(ref.mse_backward(Y, Y_hat), _loss_grad(ref.mse_loss, Y, Y_hat), "dY_hat", N))


EDGE_Y = np.array([[1.0], [0.0], [1.0], [0.0]])
EDGE_Y_HAT = np.array([[1 - EPS], [EPS], [EPS], [1 - EPS]])  # right / right / wrong / wrong by 1e-12


@battery.cases("bce_loss")
def _(rng):
    yield call_case("Y = [[1], [0]], Y_hat = [[0.5], [0.5]]", "bce_loss",
                    (np.array([[1.0], [0.0]]), np.array([[0.5], [0.5]])), _loss(np.log(2.0), 2, 1))
    for N in (1, 4, 9):
        Y, Y_hat = _binary(rng, N)
        yield call_case(f"Y, Y_hat of shape ({N}, 1)", "bce_loss", (Y, Y_hat), _loss(ref.bce_loss(Y, Y_hat), N, 1))
    yield call_case("Y_hat within 1e-12 of 0 or 1", "bce_loss", (EDGE_Y, EDGE_Y_HAT),
                    _loss(ref.bce_loss(EDGE_Y, EDGE_Y_HAT), 4, 1, NO_CLIPPING))
    right = np.array([[1 - EPS], [EPS]])
    yield call_case("Y_hat within 1e-12 of the right labels", "bce_loss", (np.array([[1.0], [0.0]]), right),
                    with_hint(expect_scalar(ref.bce_loss(np.array([[1.0], [0.0]]), right), name="J", rtol=1e-3,
                                            atol=1e-14, kind="value", batch_size=2),
                              "J is about 1e-12 here: clipping or an added epsilon makes it far larger."))


@battery.cases("bce_backward")
def _(rng):
    for N in (1, 4, 9):
        Y, Y_hat = _binary(rng, N)
        yield call_case(f"Y, Y_hat of shape ({N}, 1)", "bce_backward", (Y, Y_hat),
                        _grad(ref.bce_backward(Y, Y_hat), _loss_grad(ref.bce_loss, Y, Y_hat), "dY_hat", N))
    yield call_case("Y_hat within 1e-12 of 0 or 1", "bce_backward", (EDGE_Y, EDGE_Y_HAT),
                    with_hint(expect_array(ref.bce_backward(EDGE_Y, EDGE_Y_HAT), name="dY_hat", batch_size=4),
                              NO_CLIPPING))


CCE_EDGE_Y = np.eye(3)[[0, 0, 1, 2]]
CCE_EDGE_Y_HAT = np.array([[EPS, 0.5, 0.5 - EPS],          # the true class predicted 1e-12
                           [1 - 2 * EPS, EPS, EPS],        # almost certain and right
                           [0.3, 0.7 - EPS, EPS],
                           [0.25, 0.25, 0.5]])


@battery.cases("cce_loss")
def _(rng):
    yield call_case("Y = [[1, 0], [0, 1]], Y_hat = [[0.5, 0.5], [0.25, 0.75]]", "cce_loss",
                    (np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.5, 0.5], [0.25, 0.75]])),
                    _loss(-(np.log(0.5) + np.log(0.75)) / 2, 2, 2))
    for N, K in OUTPUT_SHAPES:
        Y, Y_hat = _one_hot(rng, N, K), ref.softmax(rng.standard_normal((N, K)) * 1.5)
        yield call_case(_nk(N, K), "cce_loss", (Y, Y_hat), _loss(ref.cce_loss(Y, Y_hat), N, K))
    yield call_case("some Y_hat within 1e-12 of 0 or 1", "cce_loss", (CCE_EDGE_Y, CCE_EDGE_Y_HAT),
                    _loss(ref.cce_loss(CCE_EDGE_Y, CCE_EDGE_Y_HAT), 4, 3, NO_CLIPPING))


@battery.cases("cce_backward")
def _(rng):
    for N, K in OUTPUT_SHAPES:
        Y, Y_hat = _one_hot(rng, N, K), rng.uniform(0.05, 0.95, (N, K))
        yield call_case(_nk(N, K), "cce_backward", (Y, Y_hat),
                        _grad(ref.cce_backward(Y, Y_hat), _loss_grad(ref.cce_loss, Y, Y_hat), "dY_hat", N))
    yield call_case("some Y_hat within 1e-12 of 0 or 1", "cce_backward", (CCE_EDGE_Y, CCE_EDGE_Y_HAT),
                    with_hint(expect_array(ref.cce_backward(CCE_EDGE_Y, CCE_EDGE_Y_HAT), name="dY_hat", batch_size=4),
                              NO_CLIPPING))


# ---------------------------------------------------------------- softmax

LARGE_LOGITS = np.array([[1000.0, -1000.0, 0.0],
                         [-1000.0, -1000.0, -999.0],
                         [1000.0, 1000.0, 1000.0],
                         [-1000.0, 1000.0, 999.0]])


ROW_MAX = ("Subtract each row's own max, L.max(axis=1, keepdims=True), before np.exp (not the global L.max(): "
           "a row far below it underflows to 0 / 0).")


@battery.cases("softmax")
def _(rng):
    yield call_case("L = [[0, 0], [ln 3, 0]]", "softmax", (np.array([[0.0, 0.0], [np.log(3.0), 0.0]]),),
                    expect_array(np.array([[0.5, 0.5], [0.75, 0.25]]), name="Y_hat", kind="value"))
    for N, K in OUTPUT_SHAPES:
        L = rng.standard_normal((N, K)) * 3
        yield call_case(f"L of shape ({N}, {K})", "softmax", (L,),
                        all_of(expect_array(ref.softmax(L), name="Y_hat", kind="value"), _rows_sum_to_one))
    yield call_case("logits of +-1000, rows on very different scales", "softmax", (LARGE_LOGITS,),
                    with_hint(all_of(expect_array(ref.softmax(LARGE_LOGITS), name="Y_hat", atol=1e-12, kind="value"),
                                     _rows_sum_to_one), ROW_MAX),
                    no_fp_warnings=ROW_MAX)
    L = rng.standard_normal((3, 10)) + 800.0
    yield call_case("logits near +800, shape (3, 10)", "softmax", (L,),
                    with_hint(all_of(expect_array(ref.softmax(L), name="Y_hat", kind="value"), _rows_sum_to_one),
                              ROW_MAX),
                    no_fp_warnings=ROW_MAX)


@battery.cases("softmax_backward")
def _(rng):
    for N, K in OUTPUT_SHAPES:
        L, dY = rng.standard_normal((N, K)) * 2, rng.standard_normal((N, K))
        Y_hat = ref.softmax(L)
        yield call_case(f"dY_hat, Y_hat of shape ({N}, {K})", "softmax_backward", (dY, Y_hat),
                        _grad(ref.softmax_backward(dY, Y_hat), numerical_vjp(ref.softmax, L.copy(), dY), "dL", N))
    Y_hat, dY = ref.softmax(LARGE_LOGITS), rng.standard_normal(LARGE_LOGITS.shape)
    yield call_case("Y_hat = softmax of logits of +-1000 (saturated rows)", "softmax_backward", (dY, Y_hat),
                    expect_array(ref.softmax_backward(dY, Y_hat), name="dL", batch_size=len(dY)))


@battery.cases("softmax_cce_backward")
def _(rng):
    for N, K in OUTPUT_SHAPES:
        L, Y = rng.standard_normal((N, K)), _one_hot(rng, N, K)
        Y_hat = ref.softmax(L)
        numeric = numerical_vjp(lambda A: ref.cce_loss(Y, ref.softmax(A)), L.copy(), 1.0)
        yield call_case(_nk(N, K), "softmax_cce_backward", (Y, Y_hat),
                        _grad(ref.softmax_cce_backward(Y, Y_hat), numeric, "dL", N))
    Y, Y_hat = np.eye(3)[[1, 0, 2, 1]], ref.softmax(LARGE_LOGITS)  # the true class has probability 0 in row 0
    yield call_case("Y_hat = softmax of logits of +-1000, a true class with probability 0", "softmax_cce_backward",
                    (Y, Y_hat),
                    with_hint(expect_array(ref.softmax_cce_backward(Y, Y_hat), name="dL", batch_size=4),
                              "Use the simplified formula -(1/N) (Y - Y_hat): it stays finite where Y / Y_hat does not."))


# ---------------------------------------------------------------- layers

@battery.cases("matmul_backward")
def _(rng):
    for N, P, M in LAYER_SHAPES:
        A, B, dC = rng.standard_normal((N, P)), rng.standard_normal((P, M)), rng.standard_normal((N, M))
        dA, dB = ref.matmul_backward(dC, A, B)
        nA = numerical_vjp(lambda A_: A_ @ B, A.copy(), dC)
        nB = numerical_vjp(lambda B_: A @ B_, B.copy(), dC)
        factors = {"dC": dC, "A": A, "B": B}
        yield call_case(f"A of shape ({N}, {P}), B of shape ({P}, {M})", "matmul_backward", (dC, A, B),
                        expect_tuple(_grad(dA, nA, "dA", N, factors), _grad(dB, nB, "dB", N, factors)))


@battery.cases("bias_backward")
def _(rng):
    for N, l in ((1, 3), (5, 1), (4, 4), (7, 2), (3, 10)):
        dC = rng.standard_normal((N, l))
        numeric = numerical_vjp(lambda b: np.zeros((N, l)) + b, np.zeros(l), dC)
        yield call_case(f"dC of shape ({N}, {l})", "bias_backward", (dC,),
                        _grad(ref.bias_backward(dC), numeric, "db", N))


@battery.cases("affine_forward")
def _(rng):
    yield call_case("X = ones (2, 3), W = ones (3, 4), b = [0, 1, 2, 3]", "affine_forward",
                    (np.ones((2, 3)), np.ones((3, 4)), np.arange(4.0)),
                    expect_array(np.array([[3.0, 4, 5, 6], [3, 4, 5, 6]]), name="Z", kind="value"))
    for N, l_in, l_out in LAYER_SHAPES:
        X, W, b = rng.standard_normal((N, l_in)), rng.standard_normal((l_in, l_out)), rng.standard_normal(l_out)
        yield call_case(f"X of shape ({N}, {l_in}), W of shape ({l_in}, {l_out})", "affine_forward", (X, W, b),
                        expect_array(ref.affine_forward(X, W, b), name="Z", kind="value"))


@battery.cases("affine_backward")
def _(rng):
    for N, l_in, l_out in LAYER_SHAPES:
        X, W, b = rng.standard_normal((N, l_in)), rng.standard_normal((l_in, l_out)), rng.standard_normal(l_out)
        dZ = rng.standard_normal((N, l_out))
        dX, dW, db = ref.affine_backward(dZ, X, W)
        nX = numerical_vjp(lambda X_: ref.affine_forward(X_, W, b), X.copy(), dZ)
        nW = numerical_vjp(lambda W_: ref.affine_forward(X, W_, b), W.copy(), dZ)
        nb = numerical_vjp(lambda b_: ref.affine_forward(X, W, b_), b.copy(), dZ)
        factors = {"dZ": dZ, "X": X, "W": W}
        yield call_case(f"X of shape ({N}, {l_in}), W of shape ({l_in}, {l_out})", "affine_backward", (dZ, X, W),
                        expect_tuple(_grad(dX, nX, "dX", N, factors), _grad(dW, nW, "dW", N, factors),
                                     _grad(db, nb, "db", N)))


# ---------------------------------------------------------------- activations

ACTIVATION_SHAPES = ((1, 3), (4, 2), (6, 10), (5, 5))


def _activation_cases(rng, name, forward, reference, given_output, low, high):
    for N, l in ACTIVATION_SHAPES:
        Z = rng.uniform(low, high, (N, l))
        Z[np.abs(Z) < 0.05] = 0.1  # away from the ReLU kink, for a well-conditioned numeric check
        dA = rng.standard_normal((N, l))
        given = forward(Z) if given_output else Z
        numeric = numerical_vjp(forward, Z.copy(), dA)
        yield call_case(f"dA of shape ({N}, {l})", name, (dA, given), _grad(reference(dA, given), numeric, "dZ", N))


SATURATED_Z = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0], [-3.0, -0.5, 0.25, 2.0, 6.0]])


@battery.cases("sigmoid_backward")
def _(rng):
    yield from _activation_cases(rng, "sigmoid_backward", ref.sigmoid, ref.sigmoid_backward, True, -5, 5)
    A, dA = ref.sigmoid(SATURATED_Z), rng.standard_normal(SATURATED_Z.shape)
    yield call_case("A = sigmoid(Z) for Z up to +-1000 (saturated: A is 0 or 1)", "sigmoid_backward", (dA, A),
                    expect_array(ref.sigmoid_backward(dA, A), name="dZ"))


@battery.cases("relu_backward")
def _(rng):
    yield from _activation_cases(rng, "relu_backward", ref.relu, ref.relu_backward, False, -3, 3)
    Z = np.array([[-2.0, 0.5, -0.1, 3.0], [1.0, -1.0, 2.5, -4.0]])
    dA = np.array([[1.5, -2.0, -3.0, 4.0], [-1.0, 2.0, 0.5, 0.0]])  # signs of dA and Z differ in places
    yield call_case("mixed signs of dA and Z", "relu_backward", (dA, Z),
                    expect_array(ref.relu_backward(dA, Z), name="dZ"))


@battery.cases("tanh_backward")
def _(rng):
    yield from _activation_cases(rng, "tanh_backward", np.tanh, ref.tanh_backward, True, -3, 3)
    A, dA = np.tanh(SATURATED_Z), rng.standard_normal(SATURATED_Z.shape)
    yield call_case("A = tanh(Z) for Z up to +-1000 (saturated: A is -1 or 1)", "tanh_backward", (dA, A),
                    expect_array(ref.tanh_backward(dA, A), name="dZ"))
