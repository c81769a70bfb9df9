"""Accuracy of the numeric gradient checker on correct analytic gradients.

For each layer/loss and several shapes, prints the median and max relative
error (autograder.gradcheck.relative_error) between the analytic gradient and
central differences (h = 1e-5), beside the float64 central-difference floor
eps^(2/3). Target: max <= 1e-7 in every case.

    python benchmarks/gradcheck_accuracy.py
"""

import time

import numpy as np

from autograder.gradcheck import numerical_gradient, numerical_vjp, relative_error

EPS = np.finfo(float).eps
SHAPES = [(1, 3), (4, 5), (16, 10), (32, 8)]


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def softmax(L):
    E = np.exp(L - L.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def case_tanh(rng, shape):
    Z, up = rng.standard_normal(shape), rng.standard_normal(shape)
    return numerical_vjp(np.tanh, Z, up), up * (1 - np.tanh(Z) ** 2)


def case_sigmoid(rng, shape):
    Z, up = rng.standard_normal(shape), rng.standard_normal(shape)
    return numerical_vjp(sigmoid, Z, up), up * sigmoid(Z) * (1 - sigmoid(Z))


def case_softmax_cce(rng, shape):
    N, K = shape
    L = rng.standard_normal(shape)
    Y = np.eye(K)[rng.integers(0, K, N)]
    loss = lambda A: -np.sum(Y * np.log(softmax(A))) / N  # noqa: E731
    return numerical_gradient(loss, L), (softmax(L) - Y) / N


def case_affine(rng, shape):
    N, l_in = shape
    X, W, b = rng.standard_normal(shape), rng.standard_normal((l_in, 4)), rng.standard_normal(4)
    dZ = rng.standard_normal((N, 4))
    numeric = np.concatenate([numerical_vjp(lambda W_: X @ W_ + b, W, dZ).ravel(),
                              numerical_vjp(lambda X_: X_ @ W + b, X, dZ).ravel(),
                              numerical_vjp(lambda b_: X @ W + b_, b, dZ).ravel()])
    analytic = np.concatenate([(X.T @ dZ).ravel(), (dZ @ W.T).ravel(), dZ.sum(axis=0)])
    return numeric, analytic


def case_mlp(rng, shape):
    N, l_in = shape
    H, K = 6, 3
    X = rng.standard_normal(shape)
    W1, b1 = rng.standard_normal((l_in, H)) / np.sqrt(l_in), np.zeros(H)
    W2, b2 = rng.standard_normal((H, K)) / np.sqrt(H), np.zeros(K)
    Y = np.eye(K)[rng.integers(0, K, N)]

    def loss(W1_):
        A1 = np.tanh(X @ W1_ + b1)
        return -np.sum(Y * np.log(softmax(A1 @ W2 + b2))) / N

    A1 = np.tanh(X @ W1 + b1)
    dL = (softmax(A1 @ W2 + b2) - Y) / N
    dW1 = X.T @ ((dL @ W2.T) * (1 - A1 ** 2))
    return numerical_gradient(loss, W1), dW1


CASES = {"tanh": case_tanh, "sigmoid": case_sigmoid, "softmax+CCE": case_softmax_cce,
         "affine": case_affine, "2-layer MLP (dW1)": case_mlp}


# --------------------------------------------------------------------------
# numerical_vjp beside an entry-wise reference (CS231n's eval_numerical_gradient_array)
# --------------------------------------------------------------------------

def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """CS231n style: perturb one entry of x, difference f entry by entry, then weight by df."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f(x).copy()
        x[ix] = old - h
        neg = f(x).copy()
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def _vjp_cases(rng):
    """(name, f, x, analytic gradient of sum(f(x) * up) as a function of up): ten vector-output functions,
    some with large outputs around small changes (where summing before subtracting loses digits)."""
    X, W, b = rng.standard_normal((16, 10)), rng.standard_normal((10, 8)), rng.standard_normal(8)
    Z, L = rng.standard_normal((16, 8)), rng.standard_normal((16, 8))
    big = 1e4 * rng.standard_normal((16, 8))

    def softmax_backward(up, L_):
        Y = softmax(L_)
        return Y * (up - np.sum(up * Y, axis=1, keepdims=True))

    return [
        ("tanh", np.tanh, Z, lambda up: up * (1 - np.tanh(Z) ** 2)),
        ("sigmoid", sigmoid, Z, lambda up: up * sigmoid(Z) * (1 - sigmoid(Z))),
        ("relu (Z away from 0)", lambda A: np.maximum(A, 0), Z + np.sign(Z),
         lambda up: up * (Z + np.sign(Z) > 0)),
        ("softmax", softmax, L, lambda up: softmax_backward(up, L)),
        ("exp", np.exp, Z, lambda up: up * np.exp(Z)),
        ("cube", lambda A: A ** 3, Z, lambda up: 3 * up * Z ** 2),
        ("affine dX", lambda A: A @ W + b, X, lambda up: up @ W.T),
        ("affine dW", lambda A: X @ A + b, W, lambda up: X.T @ up),
        ("large offset + tanh", lambda A: big + np.tanh(A), Z, lambda up: up * (1 - np.tanh(Z) ** 2)),
        ("large scale sigmoid", lambda A: 1e3 * sigmoid(1e-3 * A + 5.0), 1e2 * Z,
         lambda up: up * sigmoid(1e-3 * 1e2 * Z + 5.0) * (1 - sigmoid(1e-3 * 1e2 * Z + 5.0))),
    ]


def _best_time(fn, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def vjp_side_by_side():
    """Accuracy (max relative error against the analytic gradient) and time of numerical_vjp and of the
    entry-wise reference, on the same inputs and upstream."""
    rng = np.random.default_rng(2027)
    print("\nnumerical_vjp beside an entry-wise reference (CS231n eval_numerical_gradient_array), h = 1e-5")
    print(f"{'function':22s} {'checker err':>12s} {'reference err':>14s} {'ratio':>7s} "
          f"{'checker ms':>11s} {'reference ms':>13s} {'time ratio':>10s}")
    worst_ratio, slowest = 0.0, 0.0
    for name, f, x, grad_of in _vjp_cases(rng):
        up = rng.standard_normal(np.shape(f(x)))
        analytic = grad_of(up)
        ours = numerical_vjp(f, x.copy(), up)
        ref = eval_numerical_gradient_array(f, x.copy(), up)
        e_ours, e_ref = relative_error(ours, analytic), relative_error(ref, analytic)
        t_ours = _best_time(lambda: numerical_vjp(f, x.copy(), up))
        t_ref = _best_time(lambda: eval_numerical_gradient_array(f, x.copy(), up))
        ratio = e_ours / max(e_ref, 1e-300)
        worst_ratio, slowest = max(worst_ratio, ratio), max(slowest, t_ours / t_ref)
        print(f"{name:22s} {e_ours:12.2e} {e_ref:14.2e} {ratio:7.2f} {1e3 * t_ours:11.2f} {1e3 * t_ref:13.2f} "
              f"{t_ours / t_ref:10.2f}")
    print(f"\nworst error ratio checker/reference {worst_ratio:.2f}; worst time ratio {slowest:.2f}")
    return worst_ratio, slowest


def main():
    rng = np.random.default_rng(2026)
    floor = EPS ** (2 / 3)
    print(f"central differences, h = 1e-5; float64 floor eps^(2/3) = {floor:.1e}\n")
    print(f"{'case':20s} {'shape':>9s} {'median rel err':>15s} {'max rel err':>12s}  <= 1e-7")
    worst = 0.0
    for name, case in CASES.items():
        for shape in SHAPES:
            numeric, analytic = case(rng, shape)
            per_entry = np.abs(numeric - analytic) / np.maximum(np.abs(numeric) + np.abs(analytic), 1e-12)
            err = relative_error(numeric, analytic)
            worst = max(worst, err)
            print(f"{name:20s} {str(shape):>9s} {np.median(per_entry):15.2e} {err:12.2e}  {'yes' if err <= 1e-7 else 'NO'}")
    print(f"\nworst case: {worst:.2e} ({'within' if worst <= 1e-7 else 'ABOVE'} the 1e-7 target)")
    error_ratio, _ = vjp_side_by_side()
    return 0 if worst <= 1e-7 and error_ratio <= 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
