"""Reference solutions for ex03_jacobians (instructor only)."""

import numpy as np


def numerical_jacobian(f, x, h=1e-5):
    """Central-difference Jacobian of f at x; x: (n,), f(x): (m,) -> (m, n)."""
    x = np.asarray(x, dtype=float)
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = h
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h))
    return np.stack(columns, axis=1)


def jacobian_elementwise(fprime, z):
    """diag(fprime(z)); z: (n,) -> (n, n)."""
    return np.diag(fprime(z))


def jacobian_affine_x(W, x, b):
    """dz/dx of z = W x + b; W: (m, n), x: (n,), b: (m,) -> (m, n)."""
    return W.copy()


def jacobian_affine_b(W, x, b):
    """dz/db of z = W x + b: the (m, m) identity."""
    return np.eye(W.shape[0])


def jacobian_affine_W(W, x, b):
    """dz/dW of z = W x + b with W flattened row-major; -> (m, m*n)."""
    m, n = W.shape
    J = np.zeros((m, m * n))
    for i in range(m):
        J[i, i * n:(i + 1) * n] = x
    return J


def jacobian_softmax(l):
    """diag(y) - y y^T with y = softmax(l); l: (K,) -> (K, K)."""
    e = np.exp(l - np.max(l))
    y = e / e.sum()
    return np.diag(y) - np.outer(y, y)


def chain_jacobians(jacobians):
    """J_k ... J_2 J_1 for jacobians = [J_1, ..., J_k] in forward order."""
    total = jacobians[0]
    for J in jacobians[1:]:
        total = J @ total
    return total


def score_gradients(x, W, b, u, f, fprime):
    """Gradients of s = u^T f(W x + b): {"b": (m,), "W": (m, n), "x": (n,), "u": (m,)}."""
    z = W @ x + b
    delta = u * fprime(z)
    return {"b": delta, "W": np.outer(delta, x), "x": W.T @ delta, "u": f(z)}
