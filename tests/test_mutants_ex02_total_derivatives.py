"""ex02_total_derivatives: plausible wrong answers are rejected by the hidden battery, correct variants accepted."""

from tests.mutation import define as d
from tests.mutation import diagnosis_test
from tests.mutation import mutation_tests

A = "ex02_total_derivatives"


MUTANTS = {
    "total_derivative": [
        d("total_derivative", "dz_dy, dy_dx", "return np.sum(dz_dy) * np.sum(dy_dx)"),
        d("total_derivative", "dz_dy, dy_dx", "return dz_dy * dy_dx"),
        d("total_derivative", "dz_dy, dy_dx", "return np.asarray(dz_dy).T @ dy_dx if np.ndim(dz_dy) == 2 else dz_dy @ dy_dx"),
        d("total_derivative", "dz_dy, dy_dx", "return np.sum(np.asarray(dz_dy) * dy_dx, axis=0)"),
        d("total_derivative", "dz_dy, dy_dx", "return np.sum(np.asarray(dz_dy) * dy_dx)"),  # (m, n) collapsed
    ],
    "d_cosh_total": [
        d("d_cosh_total", "x", "return 0.5 * (np.exp(x) + np.exp(-x))"),
        d("d_cosh_total", "x", "return 0.5 * np.exp(x)"),
        d("d_cosh_total", "x", "return np.exp(x) - np.exp(-x)"),
    ],
    "d_sinh_total": [
        d("d_sinh_total", "x", "return 0.5 * (np.exp(x) - np.exp(-x))"),
        d("d_sinh_total", "x", "return 0.5 * (np.exp(x) + np.exp(x))"),
        d("d_sinh_total", "x", "return np.exp(x) + np.exp(-x)"),
    ],
    "d_tanh_total": [
        d("d_tanh_total", "x", "return 2 / (np.exp(x) + np.exp(-x)) ** 2"),
        d("d_tanh_total", "x", "return 1 + np.tanh(x) ** 2"),
        d("d_tanh_total", "x", "u, v = np.exp(x), np.exp(-x)\nreturn 2 * v * u / (u + v) ** 2"),
        d("d_tanh_total", "x",  # right for moderate x, NaN (inf * 0) at |x| = 1000
          "u, v = np.exp(x), np.exp(-x)\nreturn 2 * v / (u + v) ** 2 * u + (-2 * u / (u + v) ** 2) * (-v)"),
    ],
    "bce": [
        d("bce", "y, y_hat", "return y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)"),
        d("bce", "y, y_hat", "return -np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))"),
        d("bce", "y, y_hat", "return -(y * np.log(y_hat) + y * np.log(1 - y_hat))"),
        d("bce", "y, y_hat", "return -(y * np.log(y_hat + 1e-7) + (1 - y) * np.log(1 - y_hat + 1e-7))"),
        d("bce", "y, y_hat", "p = np.clip(y_hat, 1e-7, 1 - 1e-7)\nreturn -(y * np.log(p) + (1 - y) * np.log(1 - p))"),
    ],
    "d_bce": [
        d("d_bce", "y, y_hat", "return y / y_hat - (1 - y) / (1 - y_hat)"),
        d("d_bce", "y, y_hat", "return -y / y_hat"),
        d("d_bce", "y, y_hat", "return (y_hat - y) / y_hat"),
        d("d_bce", "y, y_hat", "return (1 - y) / (1 - y_hat) + y / y_hat"),  # sign of one path
        d("d_bce", "y, y_hat", "return -(1 - y) / (1 - y_hat) - y / y_hat"),  # chain factor -1 of log(1 - y_hat) lost
    ],
    "linear_regression_grads": [
        d("linear_regression_grads", "x, y, w, b", "r = y - (w * x + b)\nreturn float(2 * np.mean(r * x)), float(2 * np.mean(r))"),
        d("linear_regression_grads", "x, y, w, b", "r = y - (w * x + b)\nreturn float(-2 * np.sum(r * x)), float(-2 * np.sum(r))"),
        d("linear_regression_grads", "x, y, w, b", "r = y - (w * x + b)\nreturn float(-np.mean(r * x)), float(-np.mean(r))"),
        d("linear_regression_grads", "x, y, w, b", "r = y - (w * x + b)\nreturn float(-2 * np.mean(r)), float(-2 * np.mean(r * x))"),
        d("linear_regression_grads", "x, y, w, b",  # in place
          "x *= w\nr = y - (x + b)\nreturn float(-2 * np.mean(r * x / w)), float(-2 * np.mean(r))"),
    ],
    "linear_regression_grads_vec": [
        d("linear_regression_grads_vec", "X, y, w, b", "r = y - (X @ w + b)\nreturn -2 * X.T @ r, float(-2 * np.mean(r))"),
        d("linear_regression_grads_vec", "X, y, w, b", "r = y - (X @ w + b)\nreturn 2 * X.T @ r / len(y), float(2 * np.mean(r))"),
        d("linear_regression_grads_vec", "X, y, w, b", "r = y - (X @ w + b)\nreturn -2 * np.mean(r) * np.ones_like(w), float(-2 * np.mean(r))"),
        d("linear_regression_grads_vec", "X, y, w, b", "r = y - (X @ w + b)\nreturn -2 * (r @ X) / len(y), float(-2 * np.mean(r * X[:, 0]))"),
        d("linear_regression_grads_vec", "X, y, w, b",  # in place
          "y -= X @ w + b\nreturn -2 * X.T @ y / len(y), float(-2 * np.mean(y))"),
    ],
    "logistic_regression_grads": [
        d("logistic_regression_grads", "X, y, w, b", "p = 1 / (1 + np.exp(-(X @ w + b)))\nreturn X.T @ (y - p) / len(y), float(np.mean(y - p))"),
        d("logistic_regression_grads", "X, y, w, b", "p = 1 / (1 + np.exp(-(X @ w + b)))\nreturn X.T @ (p - y), float(np.sum(p - y))"),
        d("logistic_regression_grads", "X, y, w, b", "p = 1 / (1 + np.exp(-(X @ w + b)))\nreturn X.T @ ((p - y) * p * (1 - p)) / len(y), float(np.mean((p - y) * p * (1 - p)))"),
        d("logistic_regression_grads", "X, y, w, b", "z = X @ w + b\nreturn X.T @ (z - y) / len(y), float(np.mean(z - y))"),
        d("logistic_regression_grads", "X, y, w, b",  # dL/dy_hat * sigma' without cancelling: 0 / 0 when saturated
          "p = 1 / (1 + np.exp(-(X @ w + b)))\ng = ((1 - y) / (1 - p) - y / p) * p * (1 - p)\n"
          "return X.T @ g / len(y), float(np.mean(g))"),
    ],
}

CORRECT = {
    "total_derivative": [d("total_derivative", "dz_dy, dy_dx",
                           "dz_dy = np.asarray(dz_dy)\nif dz_dy.ndim == 1:\n    return float(sum(a * b for a, b in zip(dz_dy, dy_dx)))\n"
                           "return np.array([sum(a * b for a, b in zip(row, dy_dx)) for row in dz_dy])")],
    "d_cosh_total": [d("d_cosh_total", "x", "return np.sinh(x)")],
    "d_sinh_total": [d("d_sinh_total", "x", "return np.cosh(x)")],
    "d_tanh_total": [d("d_tanh_total", "x", "return 1 / np.cosh(np.clip(x, -300, 300)) ** 2"),
                     d("d_tanh_total", "x", "u, v = np.exp(x), np.exp(-x)\nreturn 4 / (u + v) ** 2")],
    "bce": [d("bce", "y, y_hat", "return -np.where(y == 1, np.log(y_hat), 0) - np.where(y == 0, np.log1p(-y_hat), 0) "
              "- np.where((y > 0) & (y < 1), y * np.log(y_hat) + (1 - y) * np.log1p(-y_hat), 0)")],
    "d_bce": [d("d_bce", "y, y_hat", "return (y_hat - y) / (y_hat * (1 - y_hat))")],
    "linear_regression_grads": [d("linear_regression_grads", "x, y, w, b",
                                  "n = len(x)\ndw = db = 0.0\nfor xi, yi in zip(x, y):\n    e = (w * xi + b) - yi\n"
                                  "    dw += 2 * e * xi / n\n    db += 2 * e / n\nreturn dw, db")],
    "linear_regression_grads_vec": [d("linear_regression_grads_vec", "X, y, w, b",
                                      "e = X @ w + b - y\nreturn 2 * e @ X / X.shape[0], 2 * e.mean()")],
    "logistic_regression_grads": [d("logistic_regression_grads", "X, y, w, b",
                                    "z = X @ w + b\np = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))\n"
                                    "return np.mean((p - y)[:, None] * X, axis=0), np.mean(p - y)"),
                                  d("logistic_regression_grads", "X, y, w, b",  # overflow warnings, finite values
                                    "p = 1 / (1 + np.exp(-(X @ w + b)))\nreturn X.T @ (p - y) / len(y), np.mean(p - y)")],
}


(test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
 test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly) = mutation_tests(A, MUTANTS, CORRECT)


# Each verdict names the argument changed in place.
DIAGNOSES = [
    ("linear_regression_grads_vec", d("linear_regression_grads_vec", "X, y, w, b",
                                      "y -= X @ w + b\nreturn -2 * X.T @ y / len(y), float(-2 * np.mean(y))"),
     ["argument y was modified in place"], ["argument 2"]),
]
test_diagnosis_names_the_mistake = diagnosis_test(A, DIAGNOSES)
