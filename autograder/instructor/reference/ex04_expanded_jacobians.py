"""Reference solutions for ex04_expanded_jacobians (instructor only).

Conventions: rows are samples. X (N, l_in), W (l_in, l_out), b (l_out,), Z = X W + b (N, l_out);
Y, Y_hat (N, K) (K = 1 for MSE/BCE, Y one-hot for CCE). Every loss is a mean over the N samples
(a sum over the K outputs), so every loss gradient carries a 1/N.
"""

import numpy as np


def mse_loss(Y, Y_hat):
    """Mean squared error (1/N) sum (Y - Y_hat)^2; Y, Y_hat: (N, K) -> float."""
    return float(np.sum((Y - Y_hat) ** 2) / Y.shape[0])


def mse_backward(Y, Y_hat):
    """dJ/dY_hat of the MSE: -(2/N)(Y - Y_hat); (N, K)."""
    return -2.0 / Y.shape[0] * (Y - Y_hat)


def bce_loss(Y, Y_hat):
    """Mean binary cross-entropy; Y in {0, 1}, 0 < Y_hat < 1; (N, 1) -> float."""
    return float(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)) / Y.shape[0])


def bce_backward(Y, Y_hat):
    """dJ/dY_hat of the mean BCE: (1/N)(Y_hat - Y) / (Y_hat (1 - Y_hat)); (N, 1)."""
    return (Y_hat - Y) / (Y_hat * (1 - Y_hat)) / Y.shape[0]


def cce_loss(Y, Y_hat):
    """Mean categorical cross-entropy -(1/N) sum Y log Y_hat; (N, K) -> float."""
    return float(-np.sum(Y * np.log(Y_hat)) / Y.shape[0])


def cce_backward(Y, Y_hat):
    """dJ/dY_hat of the mean CCE: -(1/N) Y / Y_hat; (N, K)."""
    return -Y / Y_hat / Y.shape[0]


def softmax(L):
    """Row-wise softmax of logits L: (N, K) -> (N, K), rows sum to 1 (stable: row max subtracted)."""
    E = np.exp(L - np.max(L, axis=1, keepdims=True))
    return E / np.sum(E, axis=1, keepdims=True)


def softmax_backward(dY_hat, Y_hat):
    """dL through the softmax, row by row dL_i = (diag(y_i) - y_i y_i^T) dY_hat_i; (N, K) -> (N, K)."""
    return Y_hat * (dY_hat - np.sum(dY_hat * Y_hat, axis=1, keepdims=True))


def softmax_cce_backward(Y, Y_hat):
    """dJ/dL for J = CCE(Y, softmax(L)): -(1/N)(Y - Y_hat); (N, K)."""
    return -(Y - Y_hat) / Y.shape[0]


def matmul_backward(dC, A, B):
    """(dA, dB) for C = A B; dC: (N, M), A: (N, P), B: (P, M)."""
    return dC @ B.T, A.T @ dC


def bias_backward(dC):
    """db for C = Z + b (b broadcast over rows): sum of dC over axis 0; (N, l) -> (l,)."""
    return np.sum(dC, axis=0)


def affine_forward(X, W, b):
    """Z = X W + b; X: (N, l_in), W: (l_in, l_out), b: (l_out,) -> (N, l_out)."""
    return X @ W + b


def affine_backward(dZ, X, W):
    """(dX (N, l_in), dW (l_in, l_out), db (l_out,)) for Z = X W + b; dZ: (N, l_out)."""
    return dZ @ W.T, X.T @ dZ, np.sum(dZ, axis=0)


def sigmoid(Z):
    """Overflow-free logistic sigmoid (helper for the battery's numeric checks)."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(Z, dtype=float)))


def relu(Z):
    """max(Z, 0) (helper for the battery's numeric checks)."""
    return np.maximum(Z, 0.0)


def sigmoid_backward(dA, A):
    """dZ for A = sigmoid(Z), given the output A; (N, l)."""
    return dA * A * (1 - A)


def relu_backward(dA, Z):
    """dZ for A = relu(Z), given the input Z; (N, l). (Z = 0 counts as inactive.)"""
    return dA * (Z > 0)


def tanh_backward(dA, A):
    """dZ for A = tanh(Z), given the output A; (N, l)."""
    return dA * (1 - A ** 2)
