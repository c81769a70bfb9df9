"""Reference solutions for ex01_differentiation (instructor only)."""

import numpy as np


def average_rate_of_change(f, a, b):
    """Slope of the secant of f between a and b (floats). Raises ValueError if a == b."""
    if a == b:
        raise ValueError("a and b must differ: the secant needs two distinct points")
    return (f(b) - f(a)) / (b - a)


def forward_difference(f, x, h=1e-5):
    """Forward-difference estimate of f'(x); x: float or array (elementwise), same shape out."""
    return (f(x + h) - f(x)) / h


def central_difference(f, x, h=1e-5):
    """Central-difference estimate of f'(x); x: float or array (elementwise), same shape out."""
    return (f(x + h) - f(x - h)) / (2 * h)


def tangent_line(f, df, a):
    """Return t(x) = f(a) + df(a) (x - a); t works for floats and arrays."""
    fa, slope = f(a), df(a)
    def t(x):
        return fa + slope * (x - a)
    return t


def d_power(x, c):
    """Derivative of x**c: c * x**(c - 1); x: float or array (x > 0 for non-integer c)."""
    return c * np.power(x, c - 1)


def d_exp_log(x):
    """Derivative of e^x ln(x) for x > 0 (float or array)."""
    return np.exp(x) * (np.log(x) + 1.0 / x)


def d_x2_over_exp(x):
    """Derivative of x^2 / e^x (float or array)."""
    return (2 * x - x ** 2) * np.exp(-x)


def d_tanh(x):
    """Derivative of tanh: 1 - tanh(x)^2 (float or array)."""
    return 1.0 - np.tanh(x) ** 2


def d_cos_x3(x):
    """Derivative of cos(x^3) (float or array)."""
    return -3 * x ** 2 * np.sin(x ** 3)


def d_sin_shift(t, tau):
    """Derivative of sin(t - tau) with respect to t (float or array t, float tau)."""
    return np.cos(t - tau)


def d_square_diff(x, a):
    """Derivative of (a - x)^2 with respect to x (float or array x, float a)."""
    return -2.0 * (a - x)


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + e^-x), elementwise and overflow-free (float or array)."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def d_sigmoid(x):
    """sigma'(x) = s (1 - s) with s = sigmoid(x), elementwise."""
    s = sigmoid(x)
    return s * (1.0 - s)


class Negate:
    """y = -u."""
    def forward(self, u):
        return -u

    def backward(self, upstream):
        return -upstream


class Exp:
    """y = e^u."""
    def forward(self, u):
        self.y = np.exp(u)
        return self.y

    def backward(self, upstream):
        return upstream * self.y


class AddOne:
    """y = 1 + u."""
    def forward(self, u):
        return 1.0 + u

    def backward(self, upstream):
        return upstream * 1.0


class Reciprocal:
    """y = 1 / u."""
    def forward(self, u):
        self.u = u
        return 1.0 / u

    def backward(self, upstream):
        return -upstream / self.u ** 2


def sigmoid_via_modules(x):
    """(y, dy/dx) of the sigmoid computed by Negate -> Exp -> AddOne -> Reciprocal and backprop."""
    modules = [Negate(), Exp(), AddOne(), Reciprocal()]
    y = x
    for module in modules:
        y = module.forward(y)
    grad = np.ones_like(np.asarray(x, dtype=float))
    for module in reversed(modules):
        grad = module.backward(grad)
    return y, grad


def gradient_descent_1d(df, x0, lr, n_steps):
    """Iterates [x0, x1, ..., x_n_steps] of x := x - lr * df(x) (a list or 1-D array of floats)."""
    xs = [float(x0)]
    for _ in range(n_steps):
        xs.append(xs[-1] - lr * df(xs[-1]))
    return np.array(xs)
