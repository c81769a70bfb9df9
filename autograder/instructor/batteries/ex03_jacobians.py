"""Hidden battery for ex03_jacobians.

Every Jacobian is compared with the reference AND with a numeric Jacobian (central differences of the
reference forward map), on non-square shapes (m != n, so a transpose or a column-major flattening cannot
pass by accident), n = 1 / m = 1, and square shapes (where only the values can catch a transpose).
Edge values: softmax logits of +-1000 (no NaN). `chain_jacobians` uses non-square factors, so the wrong
multiplication order fails with a shape error or wrong values, and a real composition checked numerically.
"""

import numpy as np

from autograder.gradcheck import numerical_gradient, numerical_jacobian
from autograder.instructor.battery import (FN, NUMERIC_ATOL, NUMERIC_RTOL, Battery, all_of, call_case,
                                           expect_array, expect_dict, with_hint)
from autograder.instructor.reference import ex03_jacobians as ref
from autograder.sandbox.probes import FUNCTIONS

battery = Battery("ex03_jacobians")

SIZES = [(1, 1), (2, 3), (4, 2), (3, 3), (1, 5), (5, 1)]  # (m, n) of W
MAX_FIRST = "Subtract max(l) before np.exp (as a new array: l - l.max())."


def _jac(expected, numeric, name):
    return all_of(expect_array(expected, name=name),
                expect_array(numeric, name=f"{name} (compared with the numeric Jacobian)",
                             rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL))


def _affine(rng, m, n):
    return rng.standard_normal((m, n)), rng.standard_normal(n), rng.standard_normal(m)


@battery.cases("numerical_jacobian")
def _(rng):
    for fname, n in (("vec_poly", 1), ("vec_poly", 4), ("vec_tanh", 3), ("vec_softplus_mix", 5), ("vec_tanh", 1)):
        x = rng.uniform(-1.5, 1.5, size=n)
        f = FUNCTIONS[fname]
        m = np.size(f(x))
        yield call_case(f"f={fname}, x of shape ({n},), f(x) of shape ({m},)", "numerical_jacobian", (FN(fname), x),
                        expect_array(ref.numerical_jacobian(f, x), name="Jacobian", rtol=1e-6, atol=1e-8))
    for h in (1e-3, 0.1):
        x = rng.uniform(-1, 1, size=3)
        yield call_case(f"f=vec_poly, x of shape (3,), h={h}", "numerical_jacobian", (FN("vec_poly"), x),
                        with_hint(expect_array(ref.numerical_jacobian(FUNCTIONS["vec_poly"], x, h),
                                               name="Jacobian", rtol=1e-7, atol=1e-9),
                                  f"Use the h you are given (here h = {h})."),
                        kwargs={"h": h})


@battery.cases("jacobian_elementwise")
def _(rng):
    for fname, dname, n in (("tanh", "d_tanh", 1), ("sigmoid", "d_sigmoid", 4), ("sin", "cos", 6),
                            ("cube", "d_cube", 3), ("tanh", "d_tanh", 10)):
        z = rng.uniform(-2, 2, size=n)
        numeric = numerical_jacobian(FUNCTIONS[fname], z.copy())
        yield call_case(f"f'={dname}, z of shape ({n},)", "jacobian_elementwise", (FN(dname), z),
                        _jac(ref.jacobian_elementwise(FUNCTIONS[dname], z), numeric, "dh/dz"))
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    yield call_case("f'=d_sigmoid, z up to +-1000", "jacobian_elementwise", (FN("d_sigmoid"), z),
                    expect_array(ref.jacobian_elementwise(FUNCTIONS["d_sigmoid"], z), name="dh/dz", atol=1e-12))


@battery.cases("jacobian_affine_x")
def _(rng):
    for m, n in SIZES:
        W, x, b = _affine(rng, m, n)
        numeric = numerical_jacobian(lambda v: W @ v + b, x.copy())
        yield call_case(f"W of shape ({m}, {n})", "jacobian_affine_x", (W, x, b),
                        _jac(ref.jacobian_affine_x(W, x, b), numeric, "dz/dx"))


@battery.cases("jacobian_affine_b")
def _(rng):
    for m, n in SIZES:
        W, x, b = _affine(rng, m, n)
        numeric = numerical_jacobian(lambda v: W @ x + v, b.copy())
        yield call_case(f"W of shape ({m}, {n})", "jacobian_affine_b", (W, x, b),
                        _jac(ref.jacobian_affine_b(W, x, b), numeric, "dz/db"))


@battery.cases("jacobian_affine_W")
def _(rng):
    for m, n in SIZES:
        W, x, b = _affine(rng, m, n)
        numeric = numerical_jacobian(lambda flat: flat.reshape(m, n) @ x + b, W.flatten())
        yield call_case(f"W of shape ({m}, {n})", "jacobian_affine_W", (W, x, b),
                        with_hint(_jac(ref.jacobian_affine_W(W, x, b), numeric, "dz/dW"),
                                  "Column j of dz/dW belongs to W.flatten()[j] (row-major order)."))


@battery.cases("jacobian_softmax")
def _(rng):
    def softmax(v):
        e = np.exp(v - v.max())
        return e / e.sum()
    for K in (1, 2, 5, 10):
        logits = rng.standard_normal(K) * 2
        numeric = numerical_jacobian(softmax, logits.copy())
        yield call_case(f"l of shape ({K},)", "jacobian_softmax", (logits,),
                        _jac(ref.jacobian_softmax(logits), numeric, "dy/dl"))
    for logits in (np.array([1000.0, -1000.0, 0.0]), np.array([-1000.0, -999.0, -1000.5]), np.full(4, 1000.0),
                   rng.standard_normal(10) + 800.0):
        label = f"{logits.tolist()}" if logits.size <= 4 else "near 800, shape (10,)"
        yield call_case(f"large logits {label}", "jacobian_softmax", (logits,),
                        with_hint(expect_array(ref.jacobian_softmax(logits), name="dy/dl", atol=1e-12), MAX_FIRST),
                        no_fp_warnings=MAX_FIRST)


@battery.cases("chain_jacobians")
def _(rng):
    for dims in ((3, 2), (2, 4, 3), (5, 1, 2, 3), (3, 3, 3, 3), (1, 4, 2, 6, 3)):
        # J_i maps R^dims[i] -> R^dims[i+1]: non-square factors make the wrong order fail
        jacobians = [rng.standard_normal((dims[i + 1], dims[i])) for i in range(len(dims) - 1)]
        yield call_case(f"Jacobians of shapes {[j.shape for j in jacobians]} (forward order)", "chain_jacobians",
                        (jacobians,), expect_array(ref.chain_jacobians(jacobians), name="dh_k/dx"))
    J = rng.standard_normal((2, 3))
    yield call_case("a single Jacobian of shape (2, 3)", "chain_jacobians", ([J],), expect_array(J, name="dh/dx"))
    # a real composition x (3,) -> A1 x (4,) -> tanh -> A2 h (2,): the chain rule vs the numeric Jacobian
    A1, A2, x = rng.standard_normal((4, 3)), rng.standard_normal((2, 4)), rng.standard_normal(3)
    jacobians = [A1, np.diag(1 - np.tanh(A1 @ x) ** 2), A2]
    numeric = numerical_jacobian(lambda v: A2 @ np.tanh(A1 @ v), x.copy())
    yield call_case("the Jacobians of x -> A1 x -> tanh -> A2 h, shapes (4, 3), (4, 4), (2, 4)", "chain_jacobians",
                    (jacobians,), _jac(ref.chain_jacobians(jacobians), numeric, "dh_k/dx"))


@battery.cases("score_gradients")
def _(rng):
    settings = [((1, 1), "tanh"), ((2, 3), "sigmoid"), ((4, 2), "tanh"), ((3, 3), "sigmoid"), ((1, 4), "sigmoid"),
                ((5, 2), "tanh")]
    for (m, n), fname in settings:
        dname = f"d_{fname}"
        W, x, b = _affine(rng, m, n)
        u = rng.standard_normal(m)
        f, fprime = FUNCTIONS[fname], FUNCTIONS[dname]
        expected = ref.score_gradients(x, W, b, u, f, fprime)
        numeric = {"b": numerical_gradient(lambda v: u @ f(W @ x + v), b.copy()),
                   "W": numerical_gradient(lambda M: u @ f(M @ x + b), W.copy()),
                   "x": numerical_gradient(lambda v: u @ f(W @ v + b), x.copy()),
                   "u": numerical_gradient(lambda v: v @ f(W @ x + b), u.copy())}
        yield call_case(f"W of shape ({m}, {n}), f={fname}, fprime={dname}", "score_gradients",
                        (x, W, b, u, FN(fname), FN(dname)),
                        all_of(expect_dict(expected), expect_dict(numeric, rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL)))
