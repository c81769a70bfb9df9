"""Hidden battery for ex01_differentiation."""

import inspect

import numpy as np

from autograder.gradcheck import numerical_gradient
from autograder.instructor.battery import (FN, Battery, Case, all_of, call_case, expect_array, expect_scalar,
                                           expect_tuple, raises_case, with_hint)
from autograder.instructor.reference import ex01_differentiation as ref
from autograder.sandbox.probes import FUNCTIONS

battery = Battery("ex01_differentiation")
SHAPES = [(), (1,), (5,), (2, 3)]
TANH_STABLE = "Write it with np.tanh: e^x and cosh overflow at |x| = 1000."
SIGMOID_STABLE = ("np.exp(-x) overflows at x = -1000. Compute e = np.exp(-np.abs(x)) once and build both branches "
                  "from e: np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x))) still overflows, since "
                  "np.where evaluates both branches for every x. Or use (1 + np.tanh(x / 2)) / 2.")


def _derivative_cases(rng, name, reference, primitive, low=-2.0, high=2.0, extra=(), args=()):
    """Cases for an elementwise derivative: reference values and the numeric derivative of `primitive`."""
    points = [(rng.uniform(low, high, size=shape), True) for shape in SHAPES]
    points += [(np.asarray(e, dtype=float), False) for e in extra]
    parameters = list(inspect.signature(reference).parameters)[1:]  # d_square_diff(x, a): "a"
    given = ", ".join(f"{p} = {v:g}" for p, v in zip(parameters, args))
    for x, random in points:
        expected = reference(x, *args)
        numeric = numerical_gradient(lambda v: np.sum(primitive(v, *args)), np.array(x, dtype=float))
        check_ref = expect_array(expected, name=f"{name}(x)")
        check_num = expect_array(numeric, name=f"{name}(x) vs the numeric derivative", rtol=1e-5, atol=1e-6)
        if x.ndim == 0:
            where = f"x = {float(x):.4g}"
        elif random:
            where = f"x of shape {x.shape} in [{low:g}, {high:g}]"
        else:
            where = f"x = {x.tolist()}"
        yield call_case(where + (f", {given}" if given else ""), name, (x, *args),
                        all_of(check_ref, check_num))


@battery.cases("average_rate_of_change")
def _(rng):
    for name in ("square", "cube", "sin", "exp"):
        a, b = rng.uniform(-2, 2, size=2)
        yield call_case(f"f={name}, a={a:.3f}, b={b:.3f}", "average_rate_of_change", (FN(name), a, b),
                        expect_scalar(ref.average_rate_of_change(FUNCTIONS[name], a, b), name="slope", kind="value"))
    yield call_case("f=square, a=2, b=4", "average_rate_of_change", (FN("square"), 2.0, 4.0),
                    expect_scalar(6.0, name="slope", kind="value"))
    yield call_case("f=cube, a=3, b=-1 (b < a)", "average_rate_of_change", (FN("cube"), 3.0, -1.0),
                    expect_scalar(7.0, name="slope", kind="value"))
    yield raises_case("a == b", "average_rate_of_change", (FN("square"), 1.5, 1.5), "ValueError")


def _difference_cases(rng, name, reference, true_tol):
    for fname, dname in (("sin", "cos"), ("exp", "exp"), ("cube", "d_cube")):
        for shape in ((), (4,), (2, 3)):
            x = rng.uniform(-1.5, 1.5, size=shape)
            h = float(rng.choice([1e-5, 1e-3, 0.1]))
            expected = reference(FUNCTIONS[fname], x, h)
            exact = FUNCTIONS[dname](x)
            check = expect_array(expected, name=f"{name}", rtol=1e-7, atol=1e-9, kind="value")
            near = expect_array(exact, name=f"{name} vs the true derivative", rtol=0, atol=true_tol(h), kind="value")
            yield call_case(f"f={fname}, x {np.shape(x)}, h={h:g}", name, (FN(fname), x),
                            lambda r, c=check, n=near: c(r) or n(r), kwargs={"h": h})
    x = rng.uniform(-1, 1, size=3)
    yield call_case("default h", name, (FN("sin"), x), expect_array(reference(np.sin, x, 1e-5), rtol=1e-7, kind="value"))


@battery.cases("forward_difference")
def _(rng):
    yield from _difference_cases(rng, "forward_difference", ref.forward_difference, lambda h: 10 * h + 1e-8)


@battery.cases("central_difference")
def _(rng):
    yield from _difference_cases(rng, "central_difference", ref.central_difference, lambda h: 5 * h * h + 1e-8)


@battery.cases("tangent_line")
def _(rng):
    for fname, dname in (("square", "d_square"), ("sin", "cos"), ("quartic", "d_quartic")):
        a = float(rng.uniform(-2, 2))
        points = [float(p) for p in rng.uniform(-3, 3, size=3)] + [rng.uniform(-1, 1, size=4)]
        t = ref.tangent_line(FUNCTIONS[fname], FUNCTIONS[dname], a)
        expected = [t(p) for p in points]

        def check(result, expected=expected, points=points):
            values = result["value"]
            for got, want, x in zip(values, expected, points):
                at = f"x = {x:.6g}" if np.ndim(x) == 0 else f"x = an array of shape {np.shape(x)} (elementwise)"
                problem = expect_array(want, name=f"t(x) at {at}", kind="value")({"value": got})
                if problem:
                    return problem
            return None
        yield Case(f"f={fname}, a={a:.3f}", "call_returned", ("tangent_line", [FN(fname), FN(dname), a], points), check)


@battery.cases("d_power")
def _(rng):
    for c in (3.0, -2.0, 0.5, 10.0, 1.0):
        yield from _derivative_cases(rng, "d_power", ref.d_power, lambda v, c: v ** c, 0.2, 2.5, args=(c,))
    for c in (3.0, -2.0, 2.0):  # integer powers are defined for negative x too
        yield from _derivative_cases(rng, "d_power", ref.d_power, lambda v, c: v ** c, -2.5, -0.2, args=(c,))


@battery.cases("d_exp_log")
def _(rng):
    yield from _derivative_cases(rng, "d_exp_log", ref.d_exp_log, lambda v: np.exp(v) * np.log(v), 0.05, 3.0,
                                 extra=[[0.01, 1.0, 5.0]])


@battery.cases("d_x2_over_exp")
def _(rng):
    yield from _derivative_cases(rng, "d_x2_over_exp", ref.d_x2_over_exp, lambda v: v ** 2 / np.exp(v), -3, 5,
                                 extra=[[0.0, 2.0]])


@battery.cases("d_tanh")
def _(rng):
    yield from _derivative_cases(rng, "d_tanh", ref.d_tanh, np.tanh, -3, 3)
    big = np.array([-1000.0, -30.0, 30.0, 1000.0])
    yield call_case(f"x = {big.tolist()}", "d_tanh", (big,),
                    with_hint(expect_array(ref.d_tanh(big), name="d_tanh(x)"), TANH_STABLE),
                    no_fp_warnings=TANH_STABLE)


@battery.cases("d_cos_x3")
def _(rng):
    yield from _derivative_cases(rng, "d_cos_x3", ref.d_cos_x3, lambda v: np.cos(v ** 3), -1.5, 1.5)


@battery.cases("d_sin_shift")
def _(rng):
    for tau in (0.0, 0.7, -2.0):
        yield from _derivative_cases(rng, "d_sin_shift", ref.d_sin_shift, lambda v, tau: np.sin(v - tau), -3, 3,
                                     args=(tau,))


@battery.cases("d_square_diff")
def _(rng):
    for a in (0.0, 1.5, -3.0):
        yield from _derivative_cases(rng, "d_square_diff", ref.d_square_diff, lambda v, a: (a - v) ** 2, -3, 3,
                                     args=(a,))


def _probabilities(expected, name="sigmoid(x)", atol=1e-9):
    """Values in [0, 1] without NaN/inf (the saturated ends within atol), then equal to expected."""
    compare_values = expect_array(expected, name=name, atol=atol, kind="value")

    def check(result):
        try:
            values = np.asarray(result["value"], dtype=float)
        except (TypeError, ValueError):
            values = None
        if values is not None and values.shape == np.shape(expected):
            if np.isnan(values).any():
                return (f"{name} contains NaN ({int(np.isnan(values).sum())} of {values.size} values): "
                        f"e^x / (1 + e^x) is inf / inf at x = 1000. {SIGMOID_STABLE}")
            if ((values < 0) | (values > 1)).any():
                return f"{name} must lie in [0, 1], but some values are outside"
        return compare_values(result)
    return check


@battery.cases("sigmoid")
def _(rng):
    for shape in SHAPES:
        x = rng.uniform(-6, 6, size=shape)
        yield call_case(f"x of shape {np.shape(x)}", "sigmoid", (x,), _probabilities(ref.sigmoid(x)))
    big = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    yield call_case(f"x = {big.tolist()}", "sigmoid", (big,), _probabilities(ref.sigmoid(big), atol=1e-12),
                    no_fp_warnings=SIGMOID_STABLE)
    wide = rng.uniform(-1000, 1000, size=(3, 4))
    yield call_case("x of shape (3, 4) with |x| up to 1000", "sigmoid", (wide,),
                    _probabilities(ref.sigmoid(wide), atol=1e-12), no_fp_warnings=SIGMOID_STABLE)
    yield call_case("x = 1000.0 (a float)", "sigmoid", (1000.0,), _probabilities(1.0, atol=1e-12),
                    no_fp_warnings=SIGMOID_STABLE)
    yield call_case("x = -1000.0 (a float)", "sigmoid", (-1000.0,), _probabilities(0.0, atol=1e-12),
                    no_fp_warnings=SIGMOID_STABLE)


@battery.cases("d_sigmoid")
def _(rng):
    yield from _derivative_cases(rng, "d_sigmoid", ref.d_sigmoid, ref.sigmoid, -6, 6)
    big = np.array([-1000.0, 1000.0])
    yield call_case("x = +-1000", "d_sigmoid", (big,), expect_array(ref.d_sigmoid(big), atol=1e-12))


def _module_cases(rng, cls, forward, low=-2.0, high=2.0):
    reference = getattr(ref, cls)
    for shape in SHAPES:
        x = rng.uniform(low, high, size=shape)
        upstream = rng.standard_normal(np.shape(x))
        module = reference()
        y = module.forward(np.array(x))
        dx = module.backward(np.array(upstream))
        numeric = numerical_gradient(lambda v: np.sum(forward(v) * upstream), np.array(x, dtype=float))
        check = expect_tuple(expect_array(y, name="forward(u)"), expect_array(dx, name="backward(upstream)"))
        check_num = expect_tuple(expect_array(y, name="forward(u)"),
                                 expect_array(numeric, name="backward vs numeric", rtol=1e-5, atol=1e-6))
        yield Case(f"u of shape {np.shape(x)}", "module_roundtrip", (cls, x, upstream),
                   lambda r, a=check, b=check_num: a(r) or b(r), inputs=[x, upstream])


@battery.cases("Negate")
def _(rng):
    yield from _module_cases(rng, "Negate", lambda v: -v)


@battery.cases("Exp")
def _(rng):
    yield from _module_cases(rng, "Exp", np.exp)


@battery.cases("AddOne")
def _(rng):
    yield from _module_cases(rng, "AddOne", lambda v: 1 + v)


@battery.cases("Reciprocal")
def _(rng):
    yield from _module_cases(rng, "Reciprocal", lambda v: 1 / v, 0.3, 3.0)
    yield from _module_cases(rng, "Reciprocal", lambda v: 1 / v, -3.0, -0.3)


@battery.cases("sigmoid_via_modules")
def _(rng):
    for shape in SHAPES + [(4, 1)]:
        x = rng.uniform(-5, 5, size=shape)
        s = ref.sigmoid(x)
        numeric = numerical_gradient(lambda v: np.sum(ref.sigmoid(v)), np.array(x, dtype=float))
        yield call_case(f"x of shape {np.shape(x)}", "sigmoid_via_modules", (x,),
                        expect_tuple(expect_array(s, name="y"),
                                     all_of(expect_array(s * (1 - s), name="dy_dx"),
                                            expect_array(numeric, name="dy_dx vs the numeric derivative", rtol=1e-5,
                                                         atol=1e-7))))
    yield call_case("x = 0.0 (a float)", "sigmoid_via_modules", (0.0,),
                    expect_tuple(expect_scalar(0.5, name="y"), expect_scalar(0.25, name="dy_dx")))


@battery.cases("gradient_descent_1d")
def _(rng):
    yield call_case("df=d_two_x_squared (f = 2x^2), x0=1, lr=1, n_steps=3 (diverges)", "gradient_descent_1d",
                    (FN("d_two_x_squared"), 1.0, 1.0, 3), expect_array([1.0, -3.0, 9.0, -27.0], name="iterates", kind="value"))
    yield call_case("df=d_two_x_squared (f = 2x^2), x0=1, lr=0.1, n_steps=10 (0.6^k)", "gradient_descent_1d",
                    (FN("d_two_x_squared"), 1.0, 0.1, 10), expect_array(list(0.6 ** np.arange(11)), name="iterates", kind="value"))
    settings = [("d_quartic", 0.7, 0.01, 25), ("d_shifted_square_3", float(rng.uniform(-5, 5)), 0.3, 15),
                ("cos", float(rng.uniform(-1, 1)), 0.5, 7),  # f = sin, so f' = cos
                ("d_two_x_squared", -2.0, 0.05, 1),
                ("d_two_x_squared", -2.0, 0.05, 0)]
    for dname, x0, lr, n in settings:
        expected = list(ref.gradient_descent_1d(FUNCTIONS[dname], x0, lr, n))
        yield call_case(f"df={dname}, x0={x0:.3f}, lr={lr}, n_steps={n}", "gradient_descent_1d",
                        (FN(dname), x0, lr, n), expect_array(expected, name="iterates", kind="value", rtol=1e-9))
