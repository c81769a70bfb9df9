"""ex04_expanded_jacobians: plausible wrong answers are rejected by the hidden battery, correct variants accepted."""

from tests.mutation import define as d
from tests.mutation import mutation_tests

A = "ex04_expanded_jacobians"


MUTANTS = {
    "mse_loss": [d("mse_loss", "Y, Y_hat", "return float(np.mean((Y - Y_hat) ** 2) * 2)"),
                 d("mse_loss", "Y, Y_hat", "return float(np.sum((Y - Y_hat) ** 2))"),
                 d("mse_loss", "Y, Y_hat", "return float(np.sum(np.abs(Y - Y_hat)) / len(Y))")],
    "mse_backward": [d("mse_backward", "Y, Y_hat", "return -2 * (Y - Y_hat)"),                   # missing 1/N
                     d("mse_backward", "Y, Y_hat", "return 2 / len(Y) * (Y - Y_hat)"),            # sign
                     d("mse_backward", "Y, Y_hat", "return -(Y - Y_hat) / len(Y)"),               # missing 2
                     d("mse_backward", "Y, Y_hat", "Y_hat -= Y\nreturn 2 / len(Y) * Y_hat")],    # in place
    "bce_loss": [d("bce_loss", "Y, Y_hat", "return float(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)))"),
                 d("bce_loss", "Y, Y_hat", "return float(np.mean(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)))"),
                 d("bce_loss", "Y, Y_hat", "return float(-np.mean(Y * np.log(Y_hat)))")],
    "bce_backward": [d("bce_backward", "Y, Y_hat", "return (Y_hat - Y) / (Y_hat * (1 - Y_hat))"),
                     d("bce_backward", "Y, Y_hat", "return (Y - Y_hat) / (Y_hat * (1 - Y_hat)) / len(Y)"),
                     d("bce_backward", "Y, Y_hat", "return (Y_hat - Y) / len(Y)"),
                     d("bce_backward", "Y, Y_hat", "return -Y / Y_hat / len(Y)")],
    "cce_loss": [d("cce_loss", "Y, Y_hat", "return float(-np.sum(Y * np.log(Y_hat)))"),
                 d("cce_loss", "Y, Y_hat", "return float(-np.mean(Y * np.log(Y_hat)))"),
                 d("cce_loss", "Y, Y_hat", "return float(-np.sum(np.log(Y_hat)) / len(Y))")],
    "cce_backward": [d("cce_backward", "Y, Y_hat", "return -Y / Y_hat"),
                     d("cce_backward", "Y, Y_hat", "return Y / Y_hat / len(Y)"),
                     d("cce_backward", "Y, Y_hat", "return -(Y - Y_hat) / len(Y)")],
    "softmax": [d("softmax", "L", "E = np.exp(L)\nreturn E / E.sum(axis=1, keepdims=True)"),         # no max-subtraction
                d("softmax", "L", "E = np.exp(L - L.max())\nreturn E / E.sum()"),                       # global normalization
                d("softmax", "L", "E = np.exp(L - L.max(axis=0))\nreturn E / E.sum(axis=0)"),           # columns
                d("softmax", "L", "L -= L.max(axis=1, keepdims=True)\nE = np.exp(L)\nreturn E / E.sum(axis=1, keepdims=True)")],
    "softmax_backward": [d("softmax_backward", "dY_hat, Y_hat", "return dY_hat * Y_hat * (1 - Y_hat)"),  # diagonal only
                         d("softmax_backward", "dY_hat, Y_hat", "return Y_hat * (dY_hat - np.sum(dY_hat * Y_hat))"),
                         d("softmax_backward", "dY_hat, Y_hat", "return Y_hat * (dY_hat - np.sum(dY_hat * Y_hat, axis=0))"),
                         d("softmax_backward", "dY_hat, Y_hat", "return dY_hat - Y_hat")],
    "softmax_cce_backward": [d("softmax_cce_backward", "Y, Y_hat", "return -(Y - Y_hat)"),
                             d("softmax_cce_backward", "Y, Y_hat", "return (Y - Y_hat) / len(Y)"),
                             d("softmax_cce_backward", "Y, Y_hat", "return -Y / Y_hat / len(Y)")],
    "matmul_backward": [d("matmul_backward", "dC, A, B", "return dC @ B.T, dC.T @ A"),
                        d("matmul_backward", "dC, A, B", "return B.T @ dC.T, A.T @ dC"),
                        d("matmul_backward", "dC, A, B", "return dC @ B.T / len(A), A.T @ dC / len(A)")],
    "bias_backward": [d("bias_backward", "dC", "return np.sum(dC, axis=1)"),
                      d("bias_backward", "dC", "return np.mean(dC, axis=0)"),
                      d("bias_backward", "dC", "return np.sum(dC)")],
    "affine_forward": [d("affine_forward", "X, W, b", "return X @ W"),
                       d("affine_forward", "X, W, b", "return (X @ W).T + b[:, None] if X.shape[0] == 1 else X @ W - b"),
                       d("affine_forward", "X, W, b", "return X @ W + b.sum()")],
    "affine_backward": [d("affine_backward", "dZ, X, W", "return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)"),      # dW = dZ^T X
                        d("affine_backward", "dZ, X, W", "return dZ @ W.T, W @ dZ.T, dZ.sum(axis=0)"),              # dW = W dZ^T
                        d("affine_backward", "dZ, X, W", "return dZ @ W.T, X.T @ dZ, dZ.sum(axis=1)"),      # db over axis 1
                        d("affine_backward", "dZ, X, W", "return dZ @ W.T, X.T @ dZ / len(X), dZ.sum(axis=0)"),  # extra 1/N
                        d("affine_backward", "dZ, X, W", "return dZ @ W, X.T @ dZ, dZ.sum(axis=0)")],
    "sigmoid_backward": [d("sigmoid_backward", "dA, A", "s = 1 / (1 + np.exp(-A))\nreturn dA * s * (1 - s)"),  # uses A as Z
                         d("sigmoid_backward", "dA, A", "return A * (1 - A)"),
                         d("sigmoid_backward", "dA, A", "return dA * A * (1 + A)")],
    "relu_backward": [d("relu_backward", "dA, Z", "return dA * (dA > 0)"),       # masks on the wrong array
                      d("relu_backward", "dA, Z", "return np.maximum(dA, 0)"),
                      d("relu_backward", "dA, Z", "dA[Z <= 0] = 0\nreturn dA"),  # in place
                      d("relu_backward", "dA, Z", "return (Z > 0).astype(float)")],
    "tanh_backward": [d("tanh_backward", "dA, A", "return dA * (1 - np.tanh(A) ** 2)"),
                      d("tanh_backward", "dA, A", "return dA * (1 - A)"),
                      d("tanh_backward", "dA, A", "return dA * (1 + A ** 2)")],
}

CORRECT = {
    "mse_loss": [d("mse_loss", "Y, Y_hat", "return np.mean(np.sum((Y - Y_hat) ** 2, axis=1))")],
    "mse_backward": [d("mse_backward", "Y, Y_hat", "return 2 * (Y_hat - Y) / Y.shape[0]")],
    "bce_loss": [d("bce_loss", "Y, Y_hat", "return -np.mean(np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log1p(-Y_hat), axis=1))")],
    "bce_backward": [d("bce_backward", "Y, Y_hat", "return ((1 - Y) / (1 - Y_hat) - Y / Y_hat) / len(Y)")],
    "cce_loss": [d("cce_loss", "Y, Y_hat", "return -sum(np.log(Y_hat[i, np.argmax(Y[i])]) for i in range(len(Y))) / len(Y)")],
    "cce_backward": [d("cce_backward", "Y, Y_hat", "return np.where(Y > 0, -Y / Y_hat, 0.0) / Y.shape[0]")],
    "softmax": [d("softmax", "L", "return np.exp(L - np.logaddexp.reduce(L, axis=1, keepdims=True))")],
    "softmax_backward": [d("softmax_backward", "dY_hat, Y_hat",
                           "out = np.empty_like(dY_hat)\nfor i, y in enumerate(Y_hat):\n"
                           "    J = np.diag(y) - np.outer(y, y)\n    out[i] = J.T @ dY_hat[i]\nreturn out")],
    "softmax_cce_backward": [d("softmax_cce_backward", "Y, Y_hat", "return (Y_hat - Y) / len(Y)")],
    "matmul_backward": [d("matmul_backward", "dC, A, B", "return np.einsum('nm,pm->np', dC, B), np.einsum('np,nm->pm', A, dC)")],
    "bias_backward": [d("bias_backward", "dC", "return np.ones(dC.shape[0]) @ dC")],
    "affine_forward": [d("affine_forward", "X, W, b", "return np.dot(X, W) + b[None, :]")],
    "affine_backward": [d("affine_backward", "dZ, X, W",
                          "dX = np.zeros_like(X); dW = np.zeros_like(W)\nfor n in range(len(X)):\n"
                          "    dX[n] = W @ dZ[n]\n    dW += np.outer(X[n], dZ[n])\nreturn dX, dW, dZ.sum(0)")],
    "sigmoid_backward": [d("sigmoid_backward", "dA, A", "return dA * (A - A ** 2)")],
    "relu_backward": [d("relu_backward", "dA, Z", "return np.where(Z > 0, dA, 0.0)")],
    "tanh_backward": [d("tanh_backward", "dA, A", "return dA * (1 - A) * (1 + A)")],
}


(test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
 test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly) = mutation_tests(A, MUTANTS, CORRECT)
