"""Reference solutions for ex02_total_derivatives (instructor only)."""

import numpy as np


def total_derivative(dz_dy, dy_dx):
    """Sum over paths: dz_dy (n,) -> float, or dz_dy (m, n) -> (m,); dy_dx: (n,)."""
    return np.asarray(dz_dy) @ np.asarray(dy_dx)


def d_cosh_total(x):
    """d/dx cosh(x) by the total derivative over u = e^x and v = e^-x (float or array)."""
    u, v = np.exp(x), np.exp(-x)
    dz_du, dz_dv = 0.5, 0.5
    return dz_du * u + dz_dv * (-v)


def d_sinh_total(x):
    """d/dx sinh(x) by the total derivative over u = e^x and v = e^-x (float or array)."""
    u, v = np.exp(x), np.exp(-x)
    dz_du, dz_dv = 0.5, -0.5
    return dz_du * u + dz_dv * (-v)


def d_tanh_total(x):
    """d/dx tanh(x) by the total derivative over u = e^x and v = e^-x (float or array)."""
    x = np.clip(x, -350.0, 350.0)  # beyond this tanh' is 0 in float64 and e^x would overflow
    u, v = np.exp(x), np.exp(-x)
    dz_du, dz_dv = 2 * v / (u + v) ** 2, -2 * u / (u + v) ** 2
    return dz_du * u + dz_dv * (-v)


def bce(y, y_hat):
    """Per-sample binary cross-entropy; y, y_hat: same shape, 0 < y_hat < 1."""
    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))


def d_bce(y, y_hat):
    """dBCE/dy_hat = (1 - y)/(1 - y_hat) - y/y_hat, elementwise."""
    return (1 - y) / (1 - y_hat) - y / y_hat


def linear_regression_grads(x, y, w, b):
    """(dJ/dw, dJ/db) of the mean squared error of y_hat = w x + b; x, y: (N,), w, b floats."""
    residual = y - (w * x + b)
    return float(-2 * np.mean(residual * x)), float(-2 * np.mean(residual))


def linear_regression_grads_vec(X, y, w, b):
    """(dw (d,), db float) of J = mean((y - (X w + b))^2); X: (N, d), y: (N,), w: (d,), b: float."""
    residual = y - (X @ w + b)
    N = X.shape[0]
    return -2.0 / N * (X.T @ residual), float(-2.0 / N * np.sum(residual))


def logistic_regression_grads(X, y, w, b):
    """(dw (d,), db float) of the mean BCE of y_hat = sigmoid(X w + b); X: (N, d), y: (N,) in {0, 1}."""
    y_hat = 0.5 * (1.0 + np.tanh(0.5 * (X @ w + b)))
    error = y_hat - y
    return X.T @ error / X.shape[0], float(np.mean(error))
