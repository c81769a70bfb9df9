"""Hidden battery for ex03_jacobians."""

import numpy as np

from autograder.gradcheck import numerical_gradient, numerical_jacobian
from autograder.instructor.battery import FN, Battery, call_case, expect_array, expect_dict
from autograder.instructor.reference import ex03_jacobians as ref
from autograder.probes import FUNCTIONS

battery = Battery("ex03_jacobians")


def _both(*checks):
    return lambda result: next((p for p in (c(result) for c in checks) if p), None)


@battery.cases("numerical_jacobian")
def _(rng):
    for fname, n in (("vec_poly", 1), ("vec_poly", 4), ("vec_tanh", 3), ("vec_softplus_mix", 5), ("vec_tanh", 1)):
        x = rng.uniform(-1.5, 1.5, size=n)
        f = FUNCTIONS[fname]
        expected = ref.numerical_jacobian(f, x)
        yield call_case(f"f={fname}, x ({n},)", "numerical_jacobian", (FN(fname), x),
                        expect_array(expected, name="Jacobian", rtol=1e-6, atol=1e-8))
    x = rng.uniform(-1, 1, size=3)
    yield call_case("f=vec_tanh, h=1e-3", "numerical_jacobian", (FN("vec_tanh"), x),
                    expect_array(ref.numerical_jacobian(np.tanh, x, 1e-3), rtol=1e-7), kwargs={"h": 1e-3})


@battery.cases("jacobian_elementwise")
def _(rng):
    for fname, dname, n in (("tanh", "d_tanh", 1), ("sigmoid", "d_sigmoid", 4), ("sin", "cos", 6), ("cube", "d_cube", 3)):
        z = rng.uniform(-2, 2, size=n)
        numeric = numerical_jacobian(FUNCTIONS[fname], z.copy())
        yield call_case(f"f'={dname}, z ({n},)", "jacobian_elementwise", (FN(dname), z),
                        _both(expect_array(ref.jacobian_elementwise(FUNCTIONS[dname], z), name="dh/dz"),
                              expect_array(numeric, name="dh/dz vs numeric", rtol=1e-5, atol=1e-7)))


def _affine(rng, m, n):
    return rng.standard_normal((m, n)), rng.standard_normal(n), rng.standard_normal(m)


SIZES = [(1, 1), (2, 3), (4, 2), (3, 3)]


@battery.cases("jacobian_affine_x")
def _(rng):
    for m, n in SIZES:
        W, x, b = _affine(rng, m, n)
        numeric = numerical_jacobian(lambda v: W @ v + b, x.copy())
        yield call_case(f"W ({m}, {n})", "jacobian_affine_x", (W, x, b),
                        _both(expect_array(W, name="dz/dx"), expect_array(numeric, name="dz/dx vs numeric", rtol=1e-5)))


@battery.cases("jacobian_affine_b")
def _(rng):
    for m, n in SIZES:
        W, x, b = _affine(rng, m, n)
        yield call_case(f"W ({m}, {n})", "jacobian_affine_b", (W, x, b), expect_array(np.eye(m), name="dz/db"))


@battery.cases("jacobian_affine_W")
def _(rng):
    for m, n in SIZES:
        W, x, b = _affine(rng, m, n)
        numeric = numerical_jacobian(lambda flat: flat.reshape(m, n) @ x + b, W.ravel().copy())
        yield call_case(f"W ({m}, {n})", "jacobian_affine_W", (W, x, b),
                        _both(expect_array(ref.jacobian_affine_W(W, x, b), name="dz/dW"),
                              expect_array(numeric, name="dz/dW vs numeric", rtol=1e-5, atol=1e-7)))


@battery.cases("jacobian_softmax")
def _(rng):
    def softmax(v):
        e = np.exp(v - v.max())
        return e / e.sum()
    for K in (1, 2, 5, 10):
        logits = rng.standard_normal(K) * 2
        numeric = numerical_jacobian(softmax, logits.copy())
        yield call_case(f"l ({K},)", "jacobian_softmax", (logits,),
                        _both(expect_array(ref.jacobian_softmax(logits), name="dy/dl"),
                              expect_array(numeric, name="dy/dl vs numeric", rtol=1e-5, atol=1e-7)))
    for logits in (np.array([1000.0, -1000.0, 0.0]), np.array([-1000.0, -999.0, -1000.5]), np.full(4, 1000.0)):
        yield call_case(f"large logits {logits.tolist()}", "jacobian_softmax", (logits,),
                        expect_array(ref.jacobian_softmax(logits), name="dy/dl", atol=1e-12))


@battery.cases("chain_jacobians")
def _(rng):
    for dims in ((3, 2), (2, 4, 3), (5, 1, 2, 3), (3, 3, 3, 3)):
        jacobians = [rng.standard_normal((dims[i + 1], dims[i])) for i in range(len(dims) - 1)]
        yield call_case(f"shapes {[j.shape for j in jacobians]}", "chain_jacobians", (jacobians,),
                        expect_array(ref.chain_jacobians(jacobians), name="dh_k/dx"))
    J = rng.standard_normal((2, 3))
    yield call_case("a single Jacobian", "chain_jacobians", ([J],), expect_array(J, name="dh/dx"))


@battery.cases("score_gradients")
def _(rng):
    for (m, n), (fname, dname) in zip([(1, 1), (2, 3), (4, 2), (3, 3)],
                                      [("tanh", "d_tanh"), ("sigmoid", "d_sigmoid"), ("tanh", "d_tanh"),
                                       ("sigmoid", "d_sigmoid")]):
        W, x, b = _affine(rng, m, n)
        u = rng.standard_normal(m)
        f, fprime = FUNCTIONS[fname], FUNCTIONS[dname]
        expected = ref.score_gradients(x, W, b, u, f, fprime)
        numeric = {"b": numerical_gradient(lambda v: u @ f(W @ x + v), b.copy()),
                   "W": numerical_gradient(lambda M: u @ f(M @ x + b), W.copy()),
                   "x": numerical_gradient(lambda v: u @ f(W @ v + b), x.copy()),
                   "u": numerical_gradient(lambda v: v @ f(W @ x + b), u.copy())}
        yield call_case(f"W ({m}, {n}), f={fname}", "score_gradients", (x, W, b, u, FN(fname), FN(dname)),
                        _both(expect_dict(expected), expect_dict(numeric, rtol=1e-5, atol=1e-7)))
