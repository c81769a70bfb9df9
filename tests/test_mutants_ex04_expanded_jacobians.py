"""ex04_expanded_jacobians: plausible wrong answers are rejected by the hidden battery, correct variants accepted."""

from tests.mutation import define as d
from tests.mutation import diagnosis_test
from tests.mutation import mutation_tests

A = "ex04_expanded_jacobians"


MUTANTS = {
    "mse_loss": [
        d("mse_loss", "Y, Y_hat", "return float(np.mean((Y - Y_hat) ** 2))"),                # divides by N*K
        d("mse_loss", "Y, Y_hat", "return float(np.sum((Y - Y_hat) ** 2))"),                 # missing 1/N
        d("mse_loss", "Y, Y_hat", "return float(np.sum(np.abs(Y - Y_hat)) / len(Y))"),       # absolute error
        d("mse_loss", "Y, Y_hat", "return float(np.sum(Y - Y_hat) ** 2 / len(Y))"),          # square of the sum
        d("mse_loss", "Y, Y_hat", "return float(np.sqrt(np.sum((Y - Y_hat) ** 2) / len(Y)))"),  # RMSE
        d("mse_loss", "Y, Y_hat", "return np.sum((Y - Y_hat) ** 2, keepdims=True) / len(Y)"),  # a (1, 1) array
    ],
    "mse_backward": [
        d("mse_backward", "Y, Y_hat", "return -2 * (Y - Y_hat)"),                            # missing 1/N
        d("mse_backward", "Y, Y_hat", "return 2 / len(Y) * (Y - Y_hat)"),                    # sign
        d("mse_backward", "Y, Y_hat", "return -(Y - Y_hat) / len(Y)"),                       # missing 2
        d("mse_backward", "Y, Y_hat", "return -2 * (Y - Y_hat) / Y.size"),                   # 1/(N K), as np.mean
        d("mse_backward", "Y, Y_hat", "Y_hat -= Y\nreturn 2 / len(Y) * Y_hat"),              # in place
    ],
    "bce_loss": [
        d("bce_loss", "Y, Y_hat", "return float(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)))"),  # no 1/N
        d("bce_loss", "Y, Y_hat", "return float(np.mean(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)))"),  # sign
        d("bce_loss", "Y, Y_hat", "return float(-np.mean(Y * np.log(Y_hat)))"),                               # y term only
        d("bce_loss", "Y, Y_hat", "P = np.clip(Y_hat, 1e-7, 1 - 1e-7)\n"
                                  "return float(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P)))"),         # clipping
        d("bce_loss", "Y, Y_hat", "return float(-np.mean(Y * np.log(Y_hat + 1e-7) + (1 - Y) * np.log(1 - Y_hat + 1e-7)))"),
    ],
    "bce_backward": [
        d("bce_backward", "Y, Y_hat", "return (Y_hat - Y) / (Y_hat * (1 - Y_hat))"),             # missing 1/N
        d("bce_backward", "Y, Y_hat", "return (Y - Y_hat) / (Y_hat * (1 - Y_hat)) / len(Y)"),    # sign
        d("bce_backward", "Y, Y_hat", "return (Y_hat - Y) / len(Y)"),                            # the sigmoid-merged form
        d("bce_backward", "Y, Y_hat", "return -Y / Y_hat / len(Y)"),                             # CCE form
        d("bce_backward", "Y, Y_hat", "P = np.clip(Y_hat, 1e-7, 1 - 1e-7)\n"
                                      "return (P - Y) / (P * (1 - P)) / len(Y)"),                # clipping
    ],
    "cce_loss": [
        d("cce_loss", "Y, Y_hat", "return float(-np.sum(Y * np.log(Y_hat)))"),                   # missing 1/N
        d("cce_loss", "Y, Y_hat", "return float(-np.mean(Y * np.log(Y_hat)))"),                  # divides by N*K
        d("cce_loss", "Y, Y_hat", "return float(-np.sum(np.log(Y_hat)) / len(Y))"),              # every class
        d("cce_loss", "Y, Y_hat", "return float(-np.sum(Y * np.log(np.clip(Y_hat, 1e-7, 1))) / len(Y))"),  # clipping
        d("cce_loss", "Y, Y_hat", "return float(np.sum(Y * np.log(Y_hat)) / len(Y))"),           # sign
    ],
    "cce_backward": [
        d("cce_backward", "Y, Y_hat", "return -Y / Y_hat"),                                      # missing 1/N
        d("cce_backward", "Y, Y_hat", "return Y / Y_hat / len(Y)"),                              # sign
        d("cce_backward", "Y, Y_hat", "return -(Y - Y_hat) / len(Y)"),                           # softmax+CCE form
        d("cce_backward", "Y, Y_hat", "return -1 / Y_hat / len(Y)"),                             # Y missing
        d("cce_backward", "Y, Y_hat", "return -Y / np.clip(Y_hat, 1e-7, 1) / len(Y)"),           # clipping
    ],
    "softmax": [
        d("softmax", "L", "E = np.exp(L)\nreturn E / E.sum(axis=1, keepdims=True)"),             # no max-subtraction
        d("softmax", "L", "E = np.exp(L - L.max())\nreturn E / E.sum(axis=1, keepdims=True)"),   # global max
        d("softmax", "L", "E = np.exp(L - L.max())\nreturn E / E.sum()"),                        # global normalization
        d("softmax", "L", "E = np.exp(L - L.max(axis=0))\nreturn E / E.sum(axis=0)"),            # columns
        d("softmax", "L", "L -= L.max(axis=1, keepdims=True)\nE = np.exp(L)\n"
                          "return E / E.sum(axis=1, keepdims=True)"),                             # in place
        d("softmax", "L", "E = np.exp(L - L.min(axis=1, keepdims=True))\n"
                          "return E / E.sum(axis=1, keepdims=True)"),                             # min instead of max
    ],
    "softmax_backward": [
        d("softmax_backward", "dY_hat, Y_hat", "return dY_hat * Y_hat * (1 - Y_hat)"),             # diagonal only
        d("softmax_backward", "dY_hat, Y_hat", "return Y_hat * (dY_hat - np.sum(dY_hat * Y_hat))"),  # sum over batch
        d("softmax_backward", "dY_hat, Y_hat", "return Y_hat * (dY_hat - np.sum(dY_hat * Y_hat, axis=0))"),
        d("softmax_backward", "dY_hat, Y_hat", "return Y_hat * (dY_hat - np.sum(dY_hat * Y_hat, axis=1))"),  # no keepdims
        d("softmax_backward", "dY_hat, Y_hat", "return dY_hat - Y_hat"),
        d("softmax_backward", "dY_hat, Y_hat", "return Y_hat * (dY_hat - np.sum(dY_hat, axis=1, keepdims=True))"),
    ],
    "softmax_cce_backward": [
        d("softmax_cce_backward", "Y, Y_hat", "return -(Y - Y_hat)"),                             # missing 1/N
        d("softmax_cce_backward", "Y, Y_hat", "return (Y - Y_hat) / len(Y)"),                     # sign
        d("softmax_cce_backward", "Y, Y_hat", "return -Y / Y_hat / len(Y)"),                      # stops at the CCE
        d("softmax_cce_backward", "Y, Y_hat", "return -(Y - Y_hat) / Y.size"),                    # 1/(N K)
        d("softmax_cce_backward", "Y, Y_hat", "dY = -Y / Y_hat / len(Y)\n"                        # composed: NaN at p = 0
                                              "return Y_hat * (dY - np.sum(dY * Y_hat, axis=1, keepdims=True))"),
    ],
    "matmul_backward": [
        d("matmul_backward", "dC, A, B", "return dC @ B.T, dC.T @ A"),                            # dB transposed
        d("matmul_backward", "dC, A, B", "return dC @ B, A.T @ dC"),                              # B not transposed
        d("matmul_backward", "dC, A, B", "return dC @ B.T / len(A), A.T @ dC / len(A)"),          # extra 1/N
        d("matmul_backward", "dC, A, B", "return A.T @ dC, dC @ B.T"),                            # swapped
        d("matmul_backward", "dC, A, B", "return B @ dC.T, A.T @ dC"),                            # dA transposed
    ],
    "bias_backward": [
        d("bias_backward", "dC", "return np.sum(dC, axis=1)"),                                    # wrong axis
        d("bias_backward", "dC", "return np.mean(dC, axis=0)"),                                   # extra 1/N
        d("bias_backward", "dC", "return np.sum(dC)"),                                            # a scalar
        d("bias_backward", "dC", "return np.sum(dC, axis=0, keepdims=True)"),                     # shape (1, l)
        d("bias_backward", "dC", "return dC[0]"),                                                 # first row only
        d("bias_backward", "dC", "return list(np.sum(dC, axis=0))"),                              # not an array
    ],
    "affine_forward": [
        d("affine_forward", "X, W, b", "return X @ W"),                                           # no bias
        d("affine_forward", "X, W, b", "return X @ W - b"),                                       # sign of b
        d("affine_forward", "X, W, b", "return X @ W + b.sum()"),                                 # b summed
        d("affine_forward", "X, W, b", "return W.T @ X.T + b[:, None]"),                          # transposed result
    ],
    "affine_backward": [
        d("affine_backward", "dZ, X, W", "return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)"),            # dW = dZ^T X
        d("affine_backward", "dZ, X, W", "return dZ @ W.T, W @ dZ.T, dZ.sum(axis=0)"),            # dW = W dZ^T
        d("affine_backward", "dZ, X, W", "return dZ @ W.T, dZ @ X.T, dZ.sum(axis=0)"),            # dW = dZ X^T
        d("affine_backward", "dZ, X, W", "return dZ @ W.T, X.T @ dZ, dZ.sum(axis=1)"),            # db over axis 1
        d("affine_backward", "dZ, X, W", "return dZ @ W.T, X.T @ dZ / len(X), dZ.mean(axis=0)"),  # extra 1/N
        d("affine_backward", "dZ, X, W", "return dZ @ W, X.T @ dZ, dZ.sum(axis=0)"),              # dX without W^T
        d("affine_backward", "dZ, X, W", "return X.T @ dZ, dZ @ W.T, dZ.sum(axis=0)"),            # order of the tuple
    ],
    "sigmoid_backward": [
        d("sigmoid_backward", "dA, A", "s = 1 / (1 + np.exp(-A))\nreturn dA * s * (1 - s)"),       # sigmoid(A): A used as Z
        d("sigmoid_backward", "dA, A", "return A * (1 - A)"),                                      # upstream missing
        d("sigmoid_backward", "dA, A", "return dA * A * (1 + A)"),
        d("sigmoid_backward", "dA, A", "return dA * (1 - A)"),
        d("sigmoid_backward", "dA, A", "dA *= A * (1 - A)\nreturn dA"),                            # in place
    ],
    "relu_backward": [
        d("relu_backward", "dA, Z", "return dA * (dA > 0)"),                                      # masks on dA
        d("relu_backward", "dA, Z", "return np.maximum(dA, 0)"),                                  # relu of dA
        d("relu_backward", "dA, Z", "dA[Z <= 0] = 0\nreturn dA"),                                 # in place
        d("relu_backward", "dA, Z", "return (Z > 0).astype(float)"),                              # upstream missing
        d("relu_backward", "dA, Z", "return dA * np.maximum(Z, 0)"),                              # times A, not the mask
        d("relu_backward", "dA, Z", "return dA * (Z < 0)"),                                       # inverted mask
    ],
    "tanh_backward": [
        d("tanh_backward", "dA, A", "return dA * (1 - np.tanh(A) ** 2)"),                         # tanh(A): A used as Z
        d("tanh_backward", "dA, A", "return dA * (1 - A)"),
        d("tanh_backward", "dA, A", "return dA * (1 + A ** 2)"),
        d("tanh_backward", "dA, A", "return 1 - A ** 2"),                                         # upstream missing
        d("tanh_backward", "dA, A", "return dA * (1 - A) ** 2"),
    ],
}

CORRECT = {
    "mse_loss": [d("mse_loss", "Y, Y_hat", "return np.mean(np.sum((Y - Y_hat) ** 2, axis=1))"),
                 d("mse_loss", "Y, Y_hat", "total = 0.0\nfor y, p in zip(Y, Y_hat):\n    total += np.dot(y - p, y - p)\n"
                                           "return total / len(Y)")],
    "mse_backward": [d("mse_backward", "Y, Y_hat", "return 2 * (Y_hat - Y) / Y.shape[0]")],
    "bce_loss": [d("bce_loss", "Y, Y_hat", "return -np.mean(np.log(np.where(Y == 1, Y_hat, 1 - Y_hat)))"),
                 d("bce_loss", "Y, Y_hat", "return np.array(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log1p(-Y_hat)) / len(Y))")],
    "bce_backward": [d("bce_backward", "Y, Y_hat", "return (-Y / Y_hat + (1 - Y) / (1 - Y_hat)) / len(Y)")],
    "cce_loss": [d("cce_loss", "Y, Y_hat", "return -np.mean(np.log(Y_hat[np.arange(len(Y)), Y.argmax(axis=1)]))"),
                 d("cce_loss", "Y, Y_hat", "return -np.mean(np.log(np.sum(Y * Y_hat, axis=1)))")],
    "cce_backward": [d("cce_backward", "Y, Y_hat", "N = Y.shape[0]\nreturn -(1.0 / N) * (Y / Y_hat)")],
    "softmax": [d("softmax", "L", "M = L.max(axis=1, keepdims=True)\n"
                                  "return np.exp(L - M - np.log(np.exp(L - M).sum(axis=1, keepdims=True)))"),
                d("softmax", "L", "out = np.empty_like(L, dtype=float)\nfor i, row in enumerate(L):\n"
                                  "    e = np.exp(row - row.max())\n    out[i] = e / e.sum()\nreturn out")],
    "softmax_backward": [d("softmax_backward", "dY_hat, Y_hat",
                           "out = np.empty_like(dY_hat)\nfor i, y in enumerate(Y_hat):\n"
                           "    J = np.diag(y) - np.outer(y, y)\n    out[i] = J.T @ dY_hat[i]\nreturn out"),
                         d("softmax_backward", "dY_hat, Y_hat",
                           "J = np.einsum('ij,jk->ijk', Y_hat, np.eye(Y_hat.shape[1])) - np.einsum('ij,ik->ijk', Y_hat, Y_hat)\n"
                           "return np.einsum('ijk,ij->ik', J, dY_hat)")],
    "softmax_cce_backward": [d("softmax_cce_backward", "Y, Y_hat", "return (Y_hat - Y) / len(Y)")],
    "matmul_backward": [d("matmul_backward", "dC, A, B",
                          "return np.einsum('nm,pm->np', dC, B), np.einsum('np,nm->pm', A, dC)"),
                        d("matmul_backward", "dC, A, B", "return [dC.dot(B.T), A.T.dot(dC)]")],  # a list is accepted
    "bias_backward": [d("bias_backward", "dC", "return np.ones(dC.shape[0]) @ dC")],
    "affine_forward": [d("affine_forward", "X, W, b", "return np.dot(X, W) + b[None, :]"),
                       d("affine_forward", "X, W, b", "return (W.T @ X.T + b[:, None]).T")],
    "affine_backward": [d("affine_backward", "dZ, X, W",
                          "dX = np.zeros_like(X); dW = np.zeros_like(W)\nfor n in range(len(X)):\n"
                          "    dX[n] = W @ dZ[n]\n    dW += np.outer(X[n], dZ[n])\nreturn dX, dW, dZ.sum(0)")],
    "sigmoid_backward": [d("sigmoid_backward", "dA, A", "return dA * (A - A ** 2)")],
    "relu_backward": [d("relu_backward", "dA, Z", "return np.where(Z > 0, dA, 0.0)"),
                      d("relu_backward", "dA, Z", "A = np.maximum(Z, 0)\nreturn dA * (A > 0)"),  # the mask of A is that of Z
                      d("relu_backward", "dA, Z", "return dA * (Z >= 0)")],                    # Z = 0 is never tested
    "tanh_backward": [d("tanh_backward", "dA, A", "return dA * (1 - A) * (1 + A)")],
}


(test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
 test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly) = mutation_tests(A, MUTANTS, CORRECT)


# Each verdict says what is wrong, with the hint that explains it (not a hint of the case's label).
DIAGNOSES = [
    ("relu_backward", d("relu_backward", "dA, Z", "dA[Z <= 0] = 0\nreturn dA"),
     ["argument dA was modified in place"], ["argument 1", "outputs per sample"]),
    ("sigmoid_backward", d("sigmoid_backward", "dA, A", "dA *= A * (1 - A)\nreturn dA"),
     ["argument dA was modified in place"], ["argument 1"]),
    ("mse_backward", d("mse_backward", "Y, Y_hat", "Y_hat -= Y\nreturn 2 / len(Y) * Y_hat"),
     ["argument Y_hat was modified in place"], ["argument 2", "sum over them", "outputs per sample"]),
    ("mse_loss", d("mse_loss", "Y, Y_hat", "return float(np.mean((Y - Y_hat) ** 2))"),
     ["divided by N*K", "sum over the K = "], ["derivative", "outputs per sample"]),
    ("cce_loss", d("cce_loss", "Y, Y_hat", "return float(-np.mean(Y * np.log(Y_hat)))"), ["divided by N*K"],
     ["derivative"]),
    ("mse_backward", d("mse_backward", "Y, Y_hat", "return -2 * (Y - Y_hat) / Y.size"), ["divided by N*K"], []),
    ("bias_backward", d("bias_backward", "dC", "return np.mean(dC, axis=0)"), ["a mean where the sum is needed"], []),
    ("affine_backward", d("affine_backward", "dZ, X, W", "return dZ @ W, X.T @ dZ, dZ.sum(axis=0)"),
     ["dX equals dZ @ W", "transpose"], ["dZ @ W.T"]),  # the student's product, never the right one
    ("matmul_backward", d("matmul_backward", "dC, A, B", "return dC @ B, A.T @ dC"), ["dA equals dC @ B"], []),
    ("bce_loss", d("bce_loss", "Y, Y_hat", "P = np.clip(Y_hat, 1e-7, 1 - 1e-7)\n"
                                           "return float(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P)))"),
     ["no clipping"], []),
]
test_diagnosis_names_the_mistake = diagnosis_test(A, DIAGNOSES)
