"""Probes: how the sandbox exercises a student's function (runs inside the sandbox).

A probe receives the student's namespace and plain data, calls the student's
code, and returns plain data (see autograder.wire). Nothing here knows a right
answer; comparisons happen in the judge process. Arguments may contain two
markers that the sandbox turns into live objects:

    {"__fn__": "sin"}     a function from FUNCTIONS (test inputs for f, df, ...)
    {"__rng__": 7}        numpy.random.default_rng(7)
"""

import copy

import numpy as np


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


FUNCTIONS = {
    "square": lambda x: x ** 2,
    "d_square": lambda x: 2 * x,
    "cube": lambda x: x ** 3,
    "d_cube": lambda x: 3 * x ** 2,
    "sin": np.sin,
    "cos": np.cos,
    "neg_sin": lambda x: -np.sin(x),
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "d_tanh": lambda x: 1.0 - np.tanh(x) ** 2,
    "sigmoid": _sigmoid,
    "d_sigmoid": lambda x: _sigmoid(x) * (1.0 - _sigmoid(x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "d_relu": lambda x: (np.asarray(x) > 0).astype(float),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "two_x_squared": lambda x: 2 * x ** 2,
    "d_two_x_squared": lambda x: 4 * x,
    "quartic": lambda x: x ** 4 - 3 * x ** 2 + x,
    "d_quartic": lambda x: 4 * x ** 3 - 6 * x + 1,
    "shifted_square_3": lambda x: (x - 3.0) ** 2,
    "d_shifted_square_3": lambda x: 2 * (x - 3.0),
    # vector -> vector maps (for Jacobians)
    "vec_poly": lambda v: np.array([v[0] ** 2 * v[-1], 5 * v[0] + np.sin(v[-1]), np.sum(v ** 3)]),
    "vec_tanh": np.tanh,
    "vec_softplus_mix": lambda v: np.logaddexp(0.0, np.outer(np.arange(1, 3), v).sum(axis=0) - np.sum(v)),
}


def resolve(value):
    """Replace {"__fn__": name} and {"__rng__": seed} markers by live objects."""
    if isinstance(value, dict):
        if set(value) == {"__fn__"}:
            return FUNCTIONS[value["__fn__"]]
        if set(value) == {"__rng__"}:
            return np.random.default_rng(int(value["__rng__"]))
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v) for v in value)
    return value


def _plain(value):
    """The argument as plain data for the mutation check (None for functions and generators)."""
    return None if callable(value) or isinstance(value, np.random.Generator) else value


def _lookup(ns, name):
    if name not in ns:
        raise NameError(f"`{name}` is not defined in the notebook (was its cell deleted or renamed?)")
    return ns[name]


def call(ns, name, args=(), kwargs=None):
    """value = name(*args, **kwargs); also returns the array arguments after the call."""
    live_args = resolve(list(args))
    live_kwargs = resolve(kwargs or {})
    value = _lookup(ns, name)(*live_args, **live_kwargs)
    return {"value": value, "args_after": [_plain(a) for a in live_args]}


def call_each(ns, name, args, kwargs_list):
    """[name(*args, **kwargs) for kwargs in kwargs_list]: several calls in one case (e.g. init_mlp twice with
    one seed and once with another), so that the case alone can tell whether the results are reproducible."""
    live_args = resolve(list(args))
    function = _lookup(ns, name)
    value = [function(*live_args, **resolve(kwargs)) for kwargs in kwargs_list]
    return {"value": value, "args_after": [_plain(a) for a in live_args]}


def call_part(ns, name, args, index):
    """name(*args)[index]: one part of a tuple result (e.g. Y_hat of mlp_forward; its cache stays here)."""
    live_args = resolve(list(args))
    value = _lookup(ns, name)(*live_args)
    if not isinstance(value, (tuple, list)) or len(value) <= index:
        raise TypeError(f"`{name}` must return a tuple with at least {index + 1} items")
    return {"value": value[index], "args_after": [_plain(a) for a in live_args]}


def call_returned(ns, name, args, points):
    """g = name(*args); returns [g(p) for p in points] (for functions returning functions)."""
    returned = _lookup(ns, name)(*resolve(list(args)))
    if not callable(returned):
        raise TypeError(f"`{name}` must return a function, but returned a {type(returned).__name__}")
    return {"value": [returned(p) for p in points]}


def module_roundtrip(ns, name, x, upstream):
    """m = name(); y = m.forward(x); dx = m.backward(upstream)."""
    module = _lookup(ns, name)()
    y = module.forward(x)
    dx = module.backward(upstream)
    return {"value": (y, dx), "args_after": [x, upstream]}


def collect(ns, name, args):
    """list(name(*args)): drains a generator (e.g. minibatches)."""
    live_args = resolve(list(args))
    value = [tuple(item) if isinstance(item, (tuple, list)) else item
             for item in _lookup(ns, name)(*live_args)]
    return {"value": value, "args_after": [_plain(a) for a in live_args]}


def forward_backward(ns, params, X, Y, activation):
    """The student's mlp_forward followed by the student's mlp_backward on its cache."""
    params_before = copy.deepcopy(params)
    Y_hat, cache = _lookup(ns, "mlp_forward")(params, X, activation)
    grads = _lookup(ns, "mlp_backward")(params, cache, Y)
    if not isinstance(grads, dict):
        raise TypeError(f"mlp_backward must return a dict of gradients, not {type(grads).__name__}")
    changed = [k for k in params_before if not np.array_equal(params_before[k], params[k])]
    return {"value": (Y_hat, {str(k): np.asarray(v) for k, v in grads.items()}),
            "changed_params": changed, "args_after": [params, X, Y, activation]}


PROBES = {
    "call": call,
    "call_each": call_each,
    "call_part": call_part,
    "call_returned": call_returned,
    "module_roundtrip": module_roundtrip,
    "collect": collect,
    "forward_backward": forward_backward,
}
