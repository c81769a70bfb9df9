"""Hidden battery for ex04_expanded_jacobians: every backward rule against the reference and
against the numeric vector-Jacobian product of its forward (random shapes, N = 1, l_in != l_out,
K = 2 and K = 10), softmax at logits of +-1000, predictions within 1e-12 of 0 or 1."""

import numpy as np

from autograder.gradcheck import numerical_gradient, numerical_vjp
from autograder.instructor.battery import Battery, call_case, expect_array, expect_scalar, expect_tuple
from autograder.instructor.reference import ex04_expanded_jacobians as ref

battery = Battery("ex04_expanded_jacobians")
BATCHES = (1, 4, 9)
LAYERS = ((3, 2), (1, 5), (6, 6), (4, 1))


def _both(*checks):
    return lambda result: next((p for p in (c(result) for c in checks) if p), None)


def _grad(expected, numeric, name, N):
    return _both(expect_array(expected, name=name, batch_size=N),
                 expect_array(numeric, name=f"{name} vs numeric", rtol=1e-5, atol=1e-7, batch_size=N))


def _one_hot(rng, N, K):
    return np.eye(K)[rng.integers(0, K, N)]


def _probabilities(rng, N, K):
    return ref.softmax(rng.standard_normal((N, K)) * 1.5)


def _binary(rng, N):
    return (rng.random((N, 1)) > 0.5).astype(float), rng.uniform(0.05, 0.95, (N, 1))


# ---------------------------------------------------------------- losses

@battery.cases("mse_loss")
def _(rng):
    for N, K in ((1, 1), (5, 1), (4, 3)):
        Y, Y_hat = rng.standard_normal((N, K)), rng.standard_normal((N, K))
        yield call_case(f"Y, Y_hat ({N}, {K})", "mse_loss", (Y, Y_hat), expect_scalar(ref.mse_loss(Y, Y_hat)))


@battery.cases("mse_backward")
def _(rng):
    for N, K in ((1, 1), (6, 1), (5, 3)):
        Y, Y_hat = rng.standard_normal((N, K)), rng.standard_normal((N, K))
        numeric = numerical_gradient(lambda P: ref.mse_loss(Y, P), Y_hat.copy())
        yield call_case(f"Y, Y_hat ({N}, {K})", "mse_backward", (Y, Y_hat),
                        _grad(ref.mse_backward(Y, Y_hat), numeric, "dY_hat", N))


@battery.cases("bce_loss")
def _(rng):
    for N in BATCHES:
        Y, Y_hat = _binary(rng, N)
        yield call_case(f"Y, Y_hat ({N}, 1)", "bce_loss", (Y, Y_hat), expect_scalar(ref.bce_loss(Y, Y_hat)))
    Y, Y_hat = np.array([[1.0], [0.0], [1.0]]), np.array([[1 - 1e-12], [1e-12], [0.3]])
    yield call_case("Y_hat within 1e-12 of the labels", "bce_loss", (Y, Y_hat), expect_scalar(ref.bce_loss(Y, Y_hat)))


@battery.cases("bce_backward")
def _(rng):
    for N in BATCHES:
        Y, Y_hat = _binary(rng, N)
        numeric = numerical_gradient(lambda P: ref.bce_loss(Y, P), Y_hat.copy(), h=1e-7)
        yield call_case(f"Y, Y_hat ({N}, 1)", "bce_backward", (Y, Y_hat),
                        _both(expect_array(ref.bce_backward(Y, Y_hat), name="dY_hat", batch_size=N),
                              expect_array(numeric, name="dY_hat vs numeric", rtol=1e-4, atol=1e-6, batch_size=N)))
    Y, Y_hat = np.array([[1.0], [0.0]]), np.array([[1 - 1e-12], [1e-12]])
    yield call_case("Y_hat within 1e-12 of the labels", "bce_backward", (Y, Y_hat),
                    expect_array(ref.bce_backward(Y, Y_hat), rtol=1e-3))


@battery.cases("cce_loss")
def _(rng):
    for N, K in ((1, 2), (4, 3), (7, 10)):
        Y, Y_hat = _one_hot(rng, N, K), _probabilities(rng, N, K)
        yield call_case(f"Y, Y_hat ({N}, {K})", "cce_loss", (Y, Y_hat), expect_scalar(ref.cce_loss(Y, Y_hat)))
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y_hat = np.array([[1 - 1e-12, 1e-12], [0.4, 0.6]])
    yield call_case("a prediction within 1e-12 of 0 where the label is 0", "cce_loss", (Y, Y_hat),
                    expect_scalar(ref.cce_loss(Y, Y_hat)))


@battery.cases("cce_backward")
def _(rng):
    for N, K in ((1, 2), (4, 3), (6, 10)):
        Y, Y_hat = _one_hot(rng, N, K), rng.uniform(0.05, 0.95, (N, K))
        numeric = numerical_gradient(lambda P: ref.cce_loss(Y, P), Y_hat.copy(), h=1e-7)
        yield call_case(f"Y, Y_hat ({N}, {K})", "cce_backward", (Y, Y_hat),
                        _both(expect_array(ref.cce_backward(Y, Y_hat), name="dY_hat", batch_size=N),
                              expect_array(numeric, name="dY_hat vs numeric", rtol=1e-4, atol=1e-6, batch_size=N)))


# ---------------------------------------------------------------- softmax

@battery.cases("softmax")
def _(rng):
    for N, K in ((1, 2), (5, 3), (4, 10)):
        L = rng.standard_normal((N, K)) * 3
        yield call_case(f"L ({N}, {K})", "softmax", (L,), expect_array(ref.softmax(L), name="Y_hat"))
    L = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0], [1000.0, 1000.0, 1000.0]])
    yield call_case("logits of +-1000 (no NaN, no overflow)", "softmax", (L,),
                    expect_array(ref.softmax(L), name="Y_hat", atol=1e-12))


@battery.cases("softmax_backward")
def _(rng):
    for N, K in ((1, 2), (5, 3), (3, 10)):
        L, dY = rng.standard_normal((N, K)) * 2, rng.standard_normal((N, K))
        Y_hat = ref.softmax(L)
        numeric = numerical_vjp(ref.softmax, L.copy(), dY)
        yield call_case(f"dY_hat, Y_hat ({N}, {K})", "softmax_backward", (dY, Y_hat),
                        _grad(ref.softmax_backward(dY, Y_hat), numeric, "dL", N))


@battery.cases("softmax_cce_backward")
def _(rng):
    for N, K in ((1, 2), (6, 3), (5, 10)):
        L, Y = rng.standard_normal((N, K)), _one_hot(rng, N, K)
        numeric = numerical_gradient(lambda A: ref.cce_loss(Y, ref.softmax(A)), L.copy())
        yield call_case(f"Y, Y_hat ({N}, {K})", "softmax_cce_backward", (Y, ref.softmax(L)),
                        _grad(ref.softmax_cce_backward(Y, ref.softmax(L)), numeric, "dL", N))


# ---------------------------------------------------------------- layers

@battery.cases("matmul_backward")
def _(rng):
    for N, (P, M) in zip((1, 4, 9, 3), LAYERS):
        A, B, dC = rng.standard_normal((N, P)), rng.standard_normal((P, M)), rng.standard_normal((N, M))
        dA, dB = ref.matmul_backward(dC, A, B)
        nA = numerical_vjp(lambda A_: A_ @ B, A.copy(), dC)
        nB = numerical_vjp(lambda B_: A @ B_, B.copy(), dC)
        yield call_case(f"A ({N}, {P}), B ({P}, {M})", "matmul_backward", (dC, A, B),
                        expect_tuple(_grad(dA, nA, "dA", N), _grad(dB, nB, "dB", N)))


@battery.cases("bias_backward")
def _(rng):
    for N, l in ((1, 3), (5, 1), (4, 4), (7, 2)):
        dC = rng.standard_normal((N, l))
        numeric = numerical_vjp(lambda b: np.zeros((N, l)) + b, np.zeros(l), dC)
        yield call_case(f"dC ({N}, {l})", "bias_backward", (dC,), _grad(ref.bias_backward(dC), numeric, "db", N))


@battery.cases("affine_forward")
def _(rng):
    for N, (l_in, l_out) in zip(BATCHES + (2,), LAYERS):
        X, W, b = rng.standard_normal((N, l_in)), rng.standard_normal((l_in, l_out)), rng.standard_normal(l_out)
        yield call_case(f"X ({N}, {l_in}), W ({l_in}, {l_out})", "affine_forward", (X, W, b),
                        expect_array(ref.affine_forward(X, W, b), name="Z"))


@battery.cases("affine_backward")
def _(rng):
    for N, (l_in, l_out) in zip((1, 4, 9, 3), LAYERS):
        X, W, b = rng.standard_normal((N, l_in)), rng.standard_normal((l_in, l_out)), rng.standard_normal(l_out)
        dZ = rng.standard_normal((N, l_out))
        dX, dW, db = ref.affine_backward(dZ, X, W)
        nX = numerical_vjp(lambda X_: ref.affine_forward(X_, W, b), X.copy(), dZ)
        nW = numerical_vjp(lambda W_: ref.affine_forward(X, W_, b), W.copy(), dZ)
        nb = numerical_vjp(lambda b_: ref.affine_forward(X, W, b_), b.copy(), dZ)
        yield call_case(f"X ({N}, {l_in}), W ({l_in}, {l_out})", "affine_backward", (dZ, X, W),
                        expect_tuple(_grad(dX, nX, "dX", N), _grad(dW, nW, "dW", N), _grad(db, nb, "db", N)))


def _activation_cases(rng, name, forward, reference, given_output, low=-3.0, high=3.0):
    for N, l in ((1, 3), (4, 2), (6, 5)):
        Z = rng.uniform(low, high, (N, l))
        if name == "relu_backward":
            Z[np.abs(Z) < 1e-2] += 0.05  # keep away from the kink for the numeric check
        dA = rng.standard_normal((N, l))
        given = forward(Z) if given_output else Z
        numeric = numerical_vjp(forward, Z.copy(), dA)
        yield call_case(f"dA ({N}, {l})", name, (dA, given), _grad(reference(dA, given), numeric, "dZ", N))


@battery.cases("sigmoid_backward")
def _(rng):
    yield from _activation_cases(rng, "sigmoid_backward", lambda z: 0.5 * (1 + np.tanh(0.5 * z)),
                                 ref.sigmoid_backward, True, -5, 5)


@battery.cases("relu_backward")
def _(rng):
    yield from _activation_cases(rng, "relu_backward", lambda z: np.maximum(z, 0), ref.relu_backward, False)
    Z = np.array([[-2.0, 0.5, -0.1, 3.0]])
    dA = np.array([[1.5, -2.0, -3.0, 4.0]])  # negative upstream where Z > 0 and positive where Z < 0
    yield call_case("mixed signs of dA and Z", "relu_backward", (dA, Z), expect_array(ref.relu_backward(dA, Z)))


@battery.cases("tanh_backward")
def _(rng):
    yield from _activation_cases(rng, "tanh_backward", np.tanh, ref.tanh_backward, True)
