"""ex01_differentiation: plausible wrong answers are rejected by the hidden battery, correct variants accepted."""

from tests.mutation import define as d
from tests.mutation import diagnosis_test
from tests.mutation import mutation_tests

A = "ex01_differentiation"


def module(name, forward, backward):
    return (f"class {name}:\n    def forward(self, u):\n" + "".join(f"        {l}\n" for l in forward.splitlines())
            + "    def backward(self, upstream):\n" + "".join(f"        {l}\n" for l in backward.splitlines()))


CHAIN = "mods = [Negate(), Exp(), AddOne(), Reciprocal()]\ny = x\nfor m in mods:\n    y = m.forward(y)\n"

MUTANTS = {
    "average_rate_of_change": [
        d("average_rate_of_change", "f, a, b", "return (f(a) - f(b)) / (b - a)"),  # sign
        d("average_rate_of_change", "f, a, b", "return (f(b) - f(a)) / (a - b) if a != b else 0.0"),  # sign, no error
        d("average_rate_of_change", "f, a, b", "return (f(b) - f(a)) / (b - a + 1e-12) if a != b else 0.0"),
        d("average_rate_of_change", "f, a, b", "return f(b) - f(a)"),  # no division
        d("average_rate_of_change", "f, a, b", "return (f(b) - f(a)) / (b - a) if a != b else float('nan')"),
        d("average_rate_of_change", "f, a, b", "return (f(b) - f(a)) / (b - a)"),  # ZeroDivisionError, not ValueError
        d("average_rate_of_change", "f, a, b",  # rejects b < a instead of a == b
          "if a >= b:\n    raise ValueError('need a < b')\nreturn (f(b) - f(a)) / (b - a)"),
    ],
    "forward_difference": [
        d("forward_difference", "f, x, h=1e-5", "return (f(x + h) - f(x - h)) / h"),  # central numerator
        d("forward_difference", "f, x, h=1e-5", "return (f(x) - f(x + h)) / h"),  # sign
        d("forward_difference", "f, x, h=1e-5", "return (f(x + h) - f(x)) / (2 * h)"),  # factor 2
        d("forward_difference", "f, x, h=1e-5", "h = 1e-5\nreturn (f(x + h) - f(x)) / h"),  # ignores h
        d("forward_difference", "f, x, h=1e-5", "fx = f(x)\nx += h\nreturn (f(x) - fx) / h"),  # in place
    ],
    "central_difference": [
        d("central_difference", "f, x, h=1e-5", "return (f(x + h) - f(x - h)) / h"),  # factor 2
        d("central_difference", "f, x, h=1e-5", "return (f(x + h) - f(x)) / h"),  # forward difference
        d("central_difference", "f, x, h=1e-5", "return (f(x - h) - f(x + h)) / (2 * h)"),  # sign
        d("central_difference", "f, x, h=1e-5", "return (f(x + h) - f(x - h)) / (2 * 1e-5)"),  # ignores h
        d("central_difference", "f, x, h=1e-5", "x += h\nup = f(x)\nx -= 2 * h\nreturn (up - f(x)) / (2 * h)"),
    ],
    "tangent_line": [
        d("tangent_line", "f, df, a", "return lambda x: f(a) + df(x) * (x - a)"),  # slope at x
        d("tangent_line", "f, df, a", "return lambda x: f(x) + df(a) * (x - a)"),  # f at x
        d("tangent_line", "f, df, a", "return lambda x: f(a) + df(a) * (a - x)"),  # sign
        d("tangent_line", "f, df, a", "return f(a) + df(a)"),  # not a function
    ],
    "d_power": [
        d("d_power", "x, c", "return c * x ** c"),  # exponent not lowered
        d("d_power", "x, c", "return (c - 1) * x ** (c - 1)"),  # wrong factor
        d("d_power", "x, c", "return -c * x ** (c - 1)"),  # sign
        d("d_power", "x, c", "return x ** (c - 1)"),  # missing c
        d("d_power", "x, c", "return c * np.exp((c - 1) * np.log(x))"),  # NaN for x < 0
    ],
    "d_exp_log": [
        d("d_exp_log", "x", "return np.exp(x) / x"),  # one product term
        d("d_exp_log", "x", "return np.exp(x) * np.log(x)"),  # the other one
        d("d_exp_log", "x", "return np.exp(x) * (np.log(x) - 1 / x)"),  # sign
    ],
    "d_x2_over_exp": [
        d("d_x2_over_exp", "x", "return (2 * x + x ** 2) * np.exp(-x)"),  # quotient-rule sign
        d("d_x2_over_exp", "x", "return 2 * x * np.exp(-x)"),  # numerator derivative only
        d("d_x2_over_exp", "x", "return (2 * x - x ** 2) * np.exp(x)"),  # forgot to divide by (e^x)^2
    ],
    "d_tanh": [
        d("d_tanh", "x", "return 1 + np.tanh(x) ** 2"),  # sign
        d("d_tanh", "x", "return 1 - np.tanh(x)"),  # missing square
        d("d_tanh", "x", "return 1 / np.cosh(x) ** 2"),  # right values, but cosh(1000) overflows
        d("d_tanh", "x", "return 4 / (np.exp(x) + np.exp(-x))"),  # missing square
        d("d_tanh", "x", "return np.tanh(x) * (1 - np.tanh(x))"),  # sigmoid-style
    ],
    "d_cos_x3": [
        d("d_cos_x3", "x", "return -np.sin(x ** 3)"),  # missing inner derivative
        d("d_cos_x3", "x", "return 3 * x ** 2 * np.sin(x ** 3)"),  # sign
        d("d_cos_x3", "x", "return -3 * x ** 2 * np.sin(x) ** 3"),  # wrong composition
    ],
    "d_sin_shift": [
        d("d_sin_shift", "t, tau", "return np.cos(t + tau)"),
        d("d_sin_shift", "t, tau", "return -np.cos(t - tau)"),
        d("d_sin_shift", "t, tau", "return np.cos(t)"),
    ],
    "d_square_diff": [
        d("d_square_diff", "x, a", "return 2 * (a - x)"),  # missing inner derivative -1
        d("d_square_diff", "x, a", "return -(a - x)"),  # missing factor 2
        d("d_square_diff", "x, a", "return -2 * (a - x) ** 2"),
    ],
    "sigmoid": [
        d("sigmoid", "x", "return 1 / (1 + np.exp(x))"),  # sign of the exponent
        d("sigmoid", "x", "return np.exp(x) / (1 + np.exp(x))"),  # NaN at +1000
        d("sigmoid", "x", "return np.tanh(x)"),
        d("sigmoid", "x", "return np.nan_to_num(np.exp(x) / (1 + np.exp(x)))"),  # NaN patched to 0 at +1000
        d("sigmoid", "x", "return 1 / (1 + np.exp(-np.clip(x, -20, 20)))"),  # clipped too early
        d("sigmoid", "x", "import math\nreturn 1 / (1 + math.exp(-x))"),  # scalars only
        d("sigmoid", "x", "return 1 / (1 + np.exp(-x))"),  # right values, but exp(1000) overflows (warning)
        "np.seterr(all='ignore')\n" + d("sigmoid", "x", "return 1 / (1 + np.exp(-x))"),  # warning hidden globally
        d("sigmoid", "x", "return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))"),
    ],
    "d_sigmoid": [
        d("d_sigmoid", "x", "s = sigmoid(x)\nreturn s * (1 + s)"),
        d("d_sigmoid", "x", "return x * (1 - x)"),  # s(1 - s) applied to x instead of s
        d("d_sigmoid", "x", "s = sigmoid(x)\nreturn s - s ** 3"),
    ],
    "Negate": [
        module("Negate", "return -u", "return upstream"),  # local derivative +1
        module("Negate", "return u", "return -upstream"),  # forward
        module("Negate", "return -u", "return -1.0"),  # ignores upstream
    ],
    "Exp": [
        module("Exp", "self.u = u\nreturn np.exp(u)", "return np.exp(self.u)"),  # ignores upstream
        module("Exp", "self.y = np.exp(u)\nreturn self.y", "return upstream * np.log(self.y) "),
        module("Exp", "self.y = np.exp(u)\nreturn self.y", "return upstream + self.y"),
        module("Exp", "self.y = np.exp(u)\nreturn self.y", "upstream *= self.y\nreturn upstream"),  # in place
    ],
    "AddOne": [
        module("AddOne", "return 1 + u", "return upstream + 1"),
        module("AddOne", "return 1 - u", "return upstream"),
        module("AddOne", "return u", "return upstream"),
        module("AddOne", "return 1 + u", "return np.ones_like(upstream)"),  # ignores upstream
    ],
    "Reciprocal": [
        module("Reciprocal", "self.u = u\nreturn 1 / u", "return upstream / self.u ** 2"),  # sign
        module("Reciprocal", "self.u = u\nreturn 1 / u", "return -upstream / self.u"),  # -1/u instead of -1/u^2
        module("Reciprocal", "self.y = 1 / u\nreturn self.y", "return -upstream * self.y"),
        module("Reciprocal", "u /= 1\nself.u = u\nreturn 1 / u", "upstream *= -1\nreturn upstream / self.u ** 2"),
    ],
    "sigmoid_via_modules": [
        d("sigmoid_via_modules", "x", "s = 1 / (1 + np.exp(-x))\nreturn s, s * (1 + s)"),
        d("sigmoid_via_modules", "x", "s = 1 / (1 + np.exp(-x))\nreturn s * (1 - s), s"),  # swapped outputs
        d("sigmoid_via_modules", "x", "s = 1 / (1 + np.exp(-x))\nreturn s, -s * (1 - s)"),
        d("sigmoid_via_modules", "x",  # backward started from y instead of 1
          CHAIN + "g = y\nfor m in reversed(mods):\n    g = m.backward(g)\nreturn y, g"),
        d("sigmoid_via_modules", "x",  # Negate left out of the backward pass
          CHAIN + "g = np.ones_like(np.asarray(x, dtype=float))\nfor m in reversed(mods[1:]):\n"
                  "    g = m.backward(g)\nreturn y, g"),
        d("sigmoid_via_modules", "x",  # fresh modules in the backward pass (no stored forward values)
          CHAIN + "g = np.ones_like(np.asarray(x, dtype=float))\nfor m in [Reciprocal(), AddOne(), Exp(), Negate()]:\n"
                  "    g = m.backward(g)\nreturn y, g"),
    ],
    "gradient_descent_1d": [
        d("gradient_descent_1d", "df, x0, lr, n_steps",  # ascent
          "xs = [x0]\nfor _ in range(n_steps):\n    xs.append(xs[-1] + lr * df(xs[-1]))\nreturn xs"),
        d("gradient_descent_1d", "df, x0, lr, n_steps",  # x0 missing
          "xs = []\nx = x0\nfor _ in range(n_steps):\n    x = x - lr * df(x)\n    xs.append(x)\nreturn xs"),
        d("gradient_descent_1d", "df, x0, lr, n_steps",  # one step too many
          "xs = [x0]\nfor _ in range(n_steps + 1):\n    xs.append(xs[-1] - lr * df(xs[-1]))\nreturn xs"),
        d("gradient_descent_1d", "df, x0, lr, n_steps",  # no learning rate
          "xs = [x0]\nfor _ in range(n_steps):\n    xs.append(xs[-1] - df(xs[-1]))\nreturn xs"),
        d("gradient_descent_1d", "df, x0, lr, n_steps",  # gradient never re-evaluated
          "g = df(x0)\nreturn [x0 - k * lr * g for k in range(n_steps + 1)]"),
        d("gradient_descent_1d", "df, x0, lr, n_steps",  # only the final iterate
          "x = x0\nfor _ in range(n_steps):\n    x = x - lr * df(x)\nreturn x"),
    ],
}

CORRECT = {
    "average_rate_of_change": [d("average_rate_of_change", "f, a, b",
                                 "if b - a == 0:\n    raise ValueError('same point')\nreturn (f(a) - f(b)) / (a - b)")],
    "forward_difference": [d("forward_difference", "f, x, h=1e-5",
                             "x = np.asarray(x, dtype=float)\nreturn (f(x + h) - f(x)) * (1 / h)")],
    "central_difference": [d("central_difference", "f, x, h=1e-5", "return 0.5 * (f(x + h) - f(x - h)) / h")],
    "tangent_line": [d("tangent_line", "f, df, a", "def t(x):\n    return df(a) * x + (f(a) - df(a) * a)\nreturn t")],
    "d_power": [d("d_power", "x, c", "return c * x ** c / x"), d("d_power", "x, c", "return c * x ** (c - 1)")],
    "d_exp_log": [d("d_exp_log", "x", "return np.exp(x) * np.log(x) + np.exp(x) / x")],
    "d_x2_over_exp": [d("d_x2_over_exp", "x", "return (2 * x * np.exp(x) - x ** 2 * np.exp(x)) / np.exp(2 * x)")],
    "d_tanh": [d("d_tanh", "x", "t = np.tanh(x)\nreturn (1 - t) * (1 + t)")],
    "d_cos_x3": [d("d_cos_x3", "x", "u = x ** 3\nreturn -np.sin(u) * 3 * x * x")],
    "d_sin_shift": [d("d_sin_shift", "t, tau", "return np.sin(t - tau + np.pi / 2)")],
    "d_square_diff": [d("d_square_diff", "x, a", "return 2 * (x - a)")],
    "sigmoid": [d("sigmoid", "x", "return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))"),
                d("sigmoid", "x", "x = np.asarray(x, dtype=float)\nout = np.empty_like(x)\npos = x >= 0\n"
                                  "out[pos] = 1 / (1 + np.exp(-x[pos]))\nez = np.exp(x[~pos])\nout[~pos] = ez / (1 + ez)\n"
                                  "return out"),
                d("sigmoid", "x", "with np.errstate(over='ignore'):\n    return 1 / (1 + np.exp(-x))")],
    "d_sigmoid": [d("d_sigmoid", "x", "e = np.exp(-np.abs(x))\nreturn e / (1 + e) ** 2")],
    "Negate": [module("Negate", "return -1 * u", "return -1 * upstream")],
    "Exp": [module("Exp", "self.u = u\nreturn np.exp(u)", "return upstream * np.exp(self.u)")],
    "AddOne": [module("AddOne", "return u + 1", "return upstream")],
    "Reciprocal": [module("Reciprocal", "self.y = 1 / u\nreturn self.y", "return -upstream * self.y ** 2")],
    "sigmoid_via_modules": [d("sigmoid_via_modules", "x", "s = 0.5 * (1 + np.tanh(0.5 * x))\nreturn s, s - s * s"),
                            d("sigmoid_via_modules", "x",  # the backward pass in any order: the factors commute
                              CHAIN + "g = 1.0\nfor m in mods:\n    g = m.backward(g)\nreturn y, g")],
    "gradient_descent_1d": [d("gradient_descent_1d", "df, x0, lr, n_steps",
                              "out = [x0]\nx = x0\nfor _ in range(n_steps):\n    x -= lr * df(x)\n    out.append(x)\n"
                              "return out")],
}


(test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
 test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly) = mutation_tests(A, MUTANTS, CORRECT)


# Each verdict says what is wrong: the x where t(x) is wrong, parameters by name, the argument changed in place.
DIAGNOSES = [
    ("tangent_line", d("tangent_line", "f, df, a", "return lambda x: f(a) + df(x) * (x - a)"),
     ["t(x) at x = "], ["t(x): yours"]),
    ("d_square_diff", d("d_square_diff", "x, a", "return 2 * (a - x)"), [", a = 0"], ["args"]),
    ("d_power", d("d_power", "x, c", "return c * x ** c"), [", c = 3"], ["args"]),
    ("forward_difference", d("forward_difference", "f, x, h=1e-5", "fx = f(x)\nx += h\nreturn (f(x) - fx) / h"),
     ["argument x was modified in place"], ["argument 2"]),
    ("Exp", module("Exp", "self.y = np.exp(u)\nreturn self.y", "upstream *= self.y\nreturn upstream"),
     ["argument upstream of backward was modified in place"], ["argument 2"]),
]
test_diagnosis_names_the_mistake = diagnosis_test(A, DIAGNOSES)
