"""Accuracy of the numeric gradient checker on correct analytic gradients.

For each layer/loss and several shapes, prints the median and max relative
error (autograder.gradcheck.relative_error) between the analytic gradient and
central differences (h = 1e-5), beside the float64 central-difference floor
eps^(2/3). Target: max <= 1e-7 in every case.

    python benchmarks/gradcheck_accuracy.py
"""

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
    return 0 if worst <= 1e-7 else 1


if __name__ == "__main__":
    raise SystemExit(main())
