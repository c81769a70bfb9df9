"""ex01_differentiation: plausible wrong answers are rejected by the hidden battery, correct variants accepted."""

from tests.mutation import define as d
from tests.mutation import mutation_tests

A = "ex01_differentiation"


def module(name, forward, backward):
    return (f"class {name}:\n    def forward(self, u):\n" + "".join(f"        {l}\n" for l in forward.splitlines())
            + "    def backward(self, upstream):\n" + "".join(f"        {l}\n" for l in backward.splitlines()))


MUTANTS = {
    "average_rate_of_change": [
        d("average_rate_of_change", "f, a, b", "return (f(a) - f(b)) / (b - a)"),
        d("average_rate_of_change", "f, a, b", "return (f(b) - f(a)) / (a - b) if a != b else 0.0"),
        d("average_rate_of_change", "f, a, b", "return (f(b) - f(a)) / (b - a + 1e-12) if a != b else 0.0"),
        d("average_rate_of_change", "f, a, b", "return f(b) - f(a)"),
        d("average_rate_of_change", "f, a, b", "return (f(b) - f(a)) / (b - a) if a != b else float('nan')"),
    ],
    "forward_difference": [
        d("forward_difference", "f, x, h=1e-5", "return (f(x + h) - f(x - h)) / h"),
        d("forward_difference", "f, x, h=1e-5", "return (f(x) - f(x + h)) / h"),
        d("forward_difference", "f, x, h=1e-5", "return (f(x + h) - f(x)) / (2 * h)"),
        d("forward_difference", "f, x, h=1e-5", "h = 1e-5\nreturn (f(x + h) - f(x)) / h"),
    ],
    "central_difference": [
        d("central_difference", "f, x, h=1e-5", "return (f(x + h) - f(x - h)) / h"),
        d("central_difference", "f, x, h=1e-5", "return (f(x + h) - f(x)) / h"),
        d("central_difference", "f, x, h=1e-5", "return (f(x - h) - f(x + h)) / (2 * h)"),
    ],
    "tangent_line": [
        d("tangent_line", "f, df, a", "return lambda x: f(a) + df(x) * (x - a)"),
        d("tangent_line", "f, df, a", "return lambda x: f(x) + df(a) * (x - a)"),
        d("tangent_line", "f, df, a", "return lambda x: f(a) + df(a) * (a - x)"),
        d("tangent_line", "f, df, a", "return f(a) + df(a)"),
    ],
    "d_power": [
        d("d_power", "x, c", "return c * x ** c"),
        d("d_power", "x, c", "return (c - 1) * x ** (c - 1)"),
        d("d_power", "x, c", "return -c * x ** (c - 1)"),
        d("d_power", "x, c", "return x ** (c - 1)"),
    ],
    "d_exp_log": [
        d("d_exp_log", "x", "return np.exp(x) / x"),
        d("d_exp_log", "x", "return np.exp(x) * np.log(x)"),
        d("d_exp_log", "x", "return np.exp(x) * (np.log(x) - 1 / x)"),
    ],
    "d_x2_over_exp": [
        d("d_x2_over_exp", "x", "return (2 * x + x ** 2) * np.exp(-x)"),
        d("d_x2_over_exp", "x", "return 2 * x * np.exp(-x)"),
        d("d_x2_over_exp", "x", "return (2 * x - x ** 2) * np.exp(x)"),
    ],
    "d_tanh": [
        d("d_tanh", "x", "return 1 + np.tanh(x) ** 2"),
        d("d_tanh", "x", "return 1 - np.tanh(x)"),
        d("d_tanh", "x", "return np.cosh(x) ** -2 if np.all(np.abs(x) < 5) else np.nan * x"),
        d("d_tanh", "x", "return 4 / (np.exp(x) + np.exp(-x))"),
    ],
    "d_cos_x3": [
        d("d_cos_x3", "x", "return -np.sin(x ** 3)"),
        d("d_cos_x3", "x", "return 3 * x ** 2 * np.sin(x ** 3)"),
        d("d_cos_x3", "x", "return -3 * x ** 2 * np.sin(x) ** 3"),
    ],
    "d_sin_shift": [
        d("d_sin_shift", "t, tau", "return np.cos(t + tau)"),
        d("d_sin_shift", "t, tau", "return -np.cos(t - tau)"),
        d("d_sin_shift", "t, tau", "return np.cos(t)"),
    ],
    "d_square_diff": [
        d("d_square_diff", "x, a", "return 2 * (a - x)"),
        d("d_square_diff", "x, a", "return -(a - x)"),
        d("d_square_diff", "x, a", "return -2 * (a - x) ** 2"),
    ],
    "sigmoid": [
        d("sigmoid", "x", "return 1 / (1 + np.exp(x))"),
        d("sigmoid", "x", "return np.exp(x) / (1 + np.exp(x))"),  # NaN at +1000
        d("sigmoid", "x", "return np.tanh(x)"),
    ],
    "d_sigmoid": [
        d("d_sigmoid", "x", "s = sigmoid(x)\nreturn s * (1 + s)"),
        d("d_sigmoid", "x", "return x * (1 - x)"),
        d("d_sigmoid", "x", "s = sigmoid(x)\nreturn s - s ** 3"),
    ],
    "Negate": [
        module("Negate", "return -u", "return upstream"),
        module("Negate", "return u", "return -upstream"),
        module("Negate", "return -u", "return -1.0"),
    ],
    "Exp": [
        module("Exp", "self.u = u\nreturn np.exp(u)", "return np.exp(self.u)"),
        module("Exp", "self.y = np.exp(u)\nreturn self.y", "return upstream * np.log(self.y) "),
        module("Exp", "self.y = np.exp(u)\nreturn self.y", "return upstream + self.y"),
    ],
    "AddOne": [
        module("AddOne", "return 1 + u", "return upstream + 1"),
        module("AddOne", "return 1 - u", "return upstream"),
        module("AddOne", "return u", "return upstream"),
    ],
    "Reciprocal": [
        module("Reciprocal", "self.u = u\nreturn 1 / u", "return upstream / self.u ** 2"),
        module("Reciprocal", "self.u = u\nreturn 1 / u", "return -upstream / self.u"),
        module("Reciprocal", "self.y = 1 / u\nreturn self.y", "return -upstream * self.y"),
        module("Reciprocal", "u /= 1\nself.u = u\nreturn 1 / u", "upstream *= -1\nreturn upstream / self.u ** 2"),
    ],
    "sigmoid_via_modules": [
        d("sigmoid_via_modules", "x", "s = 1 / (1 + np.exp(-x))\nreturn s, s * (1 + s)"),
        d("sigmoid_via_modules", "x", "s = 1 / (1 + np.exp(-x))\nreturn s * (1 - s), s"),
        d("sigmoid_via_modules", "x", "s = 1 / (1 + np.exp(-x))\nreturn s, -s * (1 - s)"),
    ],
    "gradient_descent_1d": [
        d("gradient_descent_1d", "df, x0, lr, n_steps",
          "xs = [x0]\nfor _ in range(n_steps):\n    xs.append(xs[-1] + lr * df(xs[-1]))\nreturn xs"),
        d("gradient_descent_1d", "df, x0, lr, n_steps",
          "xs = []\nx = x0\nfor _ in range(n_steps):\n    x = x - lr * df(x)\n    xs.append(x)\nreturn xs"),
        d("gradient_descent_1d", "df, x0, lr, n_steps",
          "xs = [x0]\nfor _ in range(n_steps + 1):\n    xs.append(xs[-1] - lr * df(xs[-1]))\nreturn xs"),
        d("gradient_descent_1d", "df, x0, lr, n_steps",
          "xs = [x0]\nfor _ in range(n_steps):\n    xs.append(xs[-1] - df(xs[-1]))\nreturn xs"),
    ],
}

CORRECT = {
    "average_rate_of_change": [d("average_rate_of_change", "f, a, b",
                                 "if b - a == 0:\n    raise ValueError('same point')\nreturn (f(a) - f(b)) / (a - b)")],
    "forward_difference": [d("forward_difference", "f, x, h=1e-5", "x = np.asarray(x, dtype=float)\nreturn (f(x + h) - f(x)) * (1 / h)")],
    "central_difference": [d("central_difference", "f, x, h=1e-5", "return 0.5 * (f(x + h) - f(x - h)) / h")],
    "tangent_line": [d("tangent_line", "f, df, a", "def t(x):\n    return df(a) * x + (f(a) - df(a) * a)\nreturn t")],
    "d_power": [d("d_power", "x, c", "return c * x ** c / x")],
    "d_exp_log": [d("d_exp_log", "x", "return np.exp(x) * np.log(x) + np.exp(x) / x")],
    "d_x2_over_exp": [d("d_x2_over_exp", "x", "return (2 * x * np.exp(x) - x ** 2 * np.exp(x)) / np.exp(2 * x)")],
    "d_tanh": [d("d_tanh", "x", "t = np.tanh(x)\nreturn (1 - t) * (1 + t)")],
    "d_cos_x3": [d("d_cos_x3", "x", "u = x ** 3\nreturn -np.sin(u) * 3 * x * x")],
    "d_sin_shift": [d("d_sin_shift", "t, tau", "return np.sin(t - tau + np.pi / 2)")],
    "d_square_diff": [d("d_square_diff", "x, a", "return 2 * (x - a)")],
    "sigmoid": [d("sigmoid", "x", "return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))")],
    "d_sigmoid": [d("d_sigmoid", "x", "e = np.exp(-np.abs(x))\nreturn e / (1 + e) ** 2")],
    "Negate": [module("Negate", "return -1 * u", "return -1 * upstream")],
    "Exp": [module("Exp", "self.u = u\nreturn np.exp(u)", "return upstream * np.exp(self.u)")],
    "AddOne": [module("AddOne", "return u + 1", "return upstream")],
    "Reciprocal": [module("Reciprocal", "self.y = 1 / u\nreturn self.y", "return -upstream * self.y ** 2")],
    "sigmoid_via_modules": [d("sigmoid_via_modules", "x", "s = 0.5 * (1 + np.tanh(0.5 * x))\nreturn s, s - s * s")],
    "gradient_descent_1d": [d("gradient_descent_1d", "df, x0, lr, n_steps",
                              "out = [x0]\nx = x0\nfor _ in range(n_steps):\n    x -= lr * df(x)\n    out.append(x)\nreturn out")],
}


(test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
 test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly) = mutation_tests(A, MUTANTS, CORRECT)
