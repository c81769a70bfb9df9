"""A worked example of the gradient checker on the affine layer Z = X W + b.

One correct backward passes; three classic bugs are rejected, each with the
diagnosis a student would read.   python -m autograder gradcheck-demo
"""

import numpy as np

from autograder.gradcheck import check_backward


def affine_forward(X, W, b):
    """X: (N, l_in), W: (l_in, l_out), b: (l_out,) -> Z: (N, l_out)."""
    return X @ W + b


def mse_loss(Z, Y):
    """Mean over the N samples of the squared error: (1/N) sum (Z - Y)^2."""
    return np.sum((Z - Y) ** 2) / Z.shape[0]


def main():
    rng = np.random.default_rng(0)
    N, l_in, l_out = 4, 3, 2
    X, W, b = rng.standard_normal((N, l_in)), rng.standard_normal((l_in, l_out)), rng.standard_normal(l_out)
    Y = rng.standard_normal((N, l_out))
    names = ["dX", "dW", "db"]

    def loss(X, W, b):
        return mse_loss(affine_forward(X, W, b), Y)

    def backward(dZ_of, dW_of, db_of):
        """Loss gradients w.r.t. (X, W, b) from a given dZ and dW/db rules (the upstream is 1)."""
        def run(_upstream):
            dZ = dZ_of(affine_forward(X, W, b))
            return dZ @ W.T, dW_of(dZ), db_of(dZ)
        return run

    correct_dZ = lambda Z: 2 * (Z - Y) / N  # noqa: E731
    cases = [
        ("correct backward", backward(correct_dZ, lambda dZ: X.T @ dZ, lambda dZ: dZ.sum(axis=0))),
        ("bug 1: missing transpose, dW = dZ.T @ X", backward(correct_dZ, lambda dZ: dZ.T @ X, lambda dZ: dZ.sum(0))),
        ("bug 2: missing 1/N in the loss gradient", backward(lambda Z: 2 * (Z - Y), lambda dZ: X.T @ dZ,
                                                             lambda dZ: dZ.sum(0))),
        ("bug 3: db summed over the wrong axis", backward(correct_dZ, lambda dZ: X.T @ dZ, lambda dZ: dZ.sum(1))),
    ]
    print("Gradient checker on the affine layer Z = X W + b with an MSE loss "
          f"(X {X.shape}, W {W.shape}, b {b.shape})\n")
    for title, backward_fn in cases:
        result = check_backward(loss, backward_fn, (X, W, b), upstream=np.array(1.0), names=names)
        print(f"{title}\n  {'PASS' if result.ok else 'REJECTED'}: {result.message}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
