"""Numeric gradient checker (student-facing).

Central differences for gradients, Jacobians and vector-Jacobian products, and
comparisons that explain *why* an analytic gradient disagrees with the numeric
one: wrong shape (and whether a transpose would fix it), flipped sign, a
constant factor such as 2 or 1/N, a few wrong entries (with their index and
both values), or NaN/inf.

    >>> import numpy as np
    >>> x = np.array([1.0, -2.0, 3.0])
    >>> check_gradient(lambda v: np.sum(v ** 2), x, 2 * x).ok
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

__all__ = [
    "numerical_gradient",
    "numerical_jacobian",
    "numerical_vjp",
    "relative_error",
    "compare",
    "check_gradient",
    "check_backward",
    "CheckResult",
]

TINY = 1e-12
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-7
DEFAULT_MAX_ENTRIES = 2000
NUMERICAL = "numerical"  # expected_name of comparisons against central differences


# --------------------------------------------------------------------------
# Central differences
# --------------------------------------------------------------------------

def _as_float_array(x):
    """Return (array, restore) where array is a float64 array that can be
    perturbed in place: x itself when it is a writable float64 array (so that
    closures over x see the perturbation), else a copy."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.writeable:
        return x, True
    return np.array(x, dtype=np.float64), False


def _call(f, x_array, like_scalar):
    return f(float(x_array) if like_scalar else x_array)


def _central_difference_at(f, x, index, h, like_scalar):
    """(f(x + h e_i) - f(x - h e_i)) / 2h, with x restored afterwards."""
    old = x[index]
    try:
        x[index] = old + h
        plus = np.asarray(_call(f, x, like_scalar), dtype=np.float64).copy()
        x[index] = old - h
        minus = np.asarray(_call(f, x, like_scalar), dtype=np.float64).copy()
    finally:
        x[index] = old
    return (plus - minus) / (2.0 * h)


def _sample_indices(shape, max_entries, seed):
    """All multi-indices of `shape`, or a seeded random sample of them."""
    size = int(np.prod(shape, dtype=np.int64))
    if max_entries is None or size <= max_entries:
        flat = np.arange(size)
    else:
        flat = np.sort(np.random.default_rng(seed).choice(size, max_entries, replace=False))
    return [np.unravel_index(i, shape) for i in flat]


def numerical_gradient(f, x, h=1e-5, *, indices=None):
    """Gradient of the scalar function f at x by central differences.

    f: maps an array shaped like x (or a float, if x is a float) to a scalar.
    x: scalar or array of any shape; left unchanged (entries are perturbed in
       place one at a time and restored, so f may also read x by reference).
    indices: optional list of multi-indices to evaluate; other entries are NaN.
    Returns an array shaped like x (a 0-d array for scalar x).
    """
    like_scalar = np.ndim(x) == 0 and not isinstance(x, np.ndarray)
    arr, _ = _as_float_array(x)
    grad = np.full(arr.shape, np.nan) if indices is not None else np.zeros(arr.shape)
    for index in (indices if indices is not None else np.ndindex(*arr.shape)):
        value = _central_difference_at(f, arr, index, h, like_scalar)
        if value.size != 1:
            raise ValueError(
                f"numerical_gradient needs f to return a scalar, but f returned shape {value.shape}; "
                "use numerical_jacobian or numerical_vjp for vector outputs")
        grad[index] = value.item()
    return grad


def numerical_jacobian(f, x, h=1e-5):
    """Jacobian of f at x by central differences.

    f: maps an array shaped like x to an array of any shape.
    Returns shape (f(x).size, x.size); column j is d f(x).ravel() / d x.ravel()[j].
    """
    like_scalar = np.ndim(x) == 0 and not isinstance(x, np.ndarray)
    arr, _ = _as_float_array(x)
    out_size = np.asarray(_call(f, arr, like_scalar)).size
    jac = np.zeros((out_size, arr.size))
    for j, index in enumerate(np.ndindex(*arr.shape)):
        jac[:, j] = _central_difference_at(f, arr, index, h, like_scalar).ravel()
    return jac


def numerical_vjp(f, x, upstream, h=1e-5, *, indices=None):
    """Vector-Jacobian product: the gradient of sum(f(x) * upstream) w.r.t. x.

    upstream: array shaped like f(x) (dL/d output). Returns an array shaped like x:
    exactly what a backward function must return for this input.
    """
    upstream = np.asarray(upstream, dtype=np.float64)
    return numerical_gradient(lambda v: np.sum(np.asarray(f(v)) * upstream), x, h, indices=indices)


def relative_error(a, b):
    """max over entries of |a - b| / max(|a| + |b|, tiny)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), TINY)))


# --------------------------------------------------------------------------
# Diagnosis
# --------------------------------------------------------------------------

@dataclass
class CheckResult:
    """Outcome of a comparison. `bool(result)` is `result.ok`; `str(result)` the message."""

    ok: bool
    message: str
    diagnosis: str = "ok"  # ok | type | shape | transpose | nan | sign | factor | entries | zero
    max_rel_error: float = float("nan")
    worst_index: tuple | None = None
    analytic_value: float | None = None
    numeric_value: float | None = None
    details: list = field(default_factory=list)

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.message

    def assert_ok(self):
        """Raise AssertionError carrying the diagnosis unless the check passed."""
        if not self.ok:
            raise AssertionError(self.message)
        return self


def _fmt(v):
    return f"{v:.6g}"


def _fmt_index(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _name_factor(c):
    """A readable name for a ratio c (e.g. 2, 1/4, -1/2) if it is a simple fraction."""
    frac = Fraction(float(c)).limit_denominator(1000)
    if frac == 0 or abs(float(frac) - c) > 1e-6 * max(1.0, abs(c)):
        return None
    return str(frac)


def _factor_hint(c, batch_size):
    frac = Fraction(float(c)).limit_denominator(1000)
    hints = []
    if abs(frac) == 2:
        hints.append("a factor 2 too much (e.g. the 2 of a square counted twice)")
    elif abs(frac) == Fraction(1, 2):
        hints.append("a factor 2 missing (the derivative of a square brings down a 2)")
    if batch_size and batch_size > 1:
        if abs(frac) == batch_size:
            hints.append(f"the 1/N of the mean loss is missing (N = {batch_size})")
        elif abs(frac) == Fraction(1, batch_size):
            hints.append(f"1/N applied twice, or where the loss has none (N = {batch_size})")
    elif abs(frac.numerator) == 1 and frac.denominator > 2:
        hints.append(f"an extra division by {frac.denominator}: 1/N applied twice?")
    elif frac.denominator == 1 and abs(frac) > 2:
        hints.append(f"a missing division by {abs(frac.numerator)}: is a 1/N (mean) missing?")
    if frac < 0:
        hints.append("and the sign is flipped")
    return "; ".join(hints)


def compare(actual, expected, *, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, name="gradient",
            expected_name=NUMERICAL, batch_size=None, reveal_expected=True, scale=None):
    """Compare `actual` (the student's array) with `expected` and explain any difference.

    Entries match when |a - e| <= atol * scale + rtol * (|a| + |e|), where scale is
    max(1, max |expected|) unless given. NaN entries of `expected` are ignored (they
    mark entries that were not sampled). `batch_size` lets the message name 1/N.
    `reveal_expected=False` keeps expected values out of the message.
    """
    expected = np.asarray(expected, dtype=np.float64)
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return CheckResult(False, f"{name} is a {type(actual).__name__}, not an array of numbers.", "type")

    if actual.shape != expected.shape:
        return CheckResult(False, _shape_message(actual.shape, expected.shape, name, batch_size, expected_name),
                           "shape")

    mask = ~np.isnan(expected)
    bad_values = ~np.isfinite(actual) & mask
    if bad_values.any():
        idx = tuple(np.argwhere(bad_values)[0])
        return CheckResult(
            False,
            f"{name} contains {int(bad_values.sum())} NaN/inf entr{'y' if bad_values.sum() == 1 else 'ies'}, "
            f"first at index {_fmt_index(idx)} (value {actual[idx]}). Usual causes: log(0) or division by 0 "
            "(clip or use the simplified formula), or exp overflow (subtract the max / use a stable form).",
            "nan", float("inf"), idx, float(actual[idx]), float(expected[idx]))

    a, e = actual[mask], expected[mask]
    if a.size == 0:
        return CheckResult(True, f"{name} OK (no entries to compare).", "ok", 0.0)
    if scale is None:
        scale = max(1.0, float(np.max(np.abs(e))))
    tol = atol * scale + rtol * (np.abs(a) + np.abs(e))
    err = np.abs(a - e)
    wrong = err > tol
    rel = relative_error(a, e)
    positions = np.argwhere(mask)
    worst = tuple(int(i) for i in positions[int(np.argmax(err - tol))])
    result = CheckResult(True, "", "ok", rel, worst, float(actual[worst]), float(expected[worst]))

    if not wrong.any():
        result.message = f"{name} OK: max relative error {rel:.2e} over {a.size} entries."
        return result
    result.ok = False
    result.message, result.diagnosis = _value_message(a, e, actual, expected, wrong, worst, tol, name,
                                                      expected_name, batch_size, reveal_expected)
    return result


def _shape_message(got, want, name, batch_size, expected_name=NUMERICAL):
    msg = f"{name} has shape {got}, but it must have shape {want}"
    msg += " (the shape of what it is the gradient of)." if expected_name == NUMERICAL else "."
    if len(got) >= 2 and got == want[::-1]:
        msg += " The transposed shape matches: a missing transpose (e.g. A.T @ dC vs dC.T @ A, or X.T)?"
    elif int(np.prod(got)) == int(np.prod(want)):
        msg += " Same number of entries: an unwanted reshape/flatten, or a missing one?"
    elif len(got) == len(want) - 1 and got in (want[1:], want[:-1]):
        msg += " One axis is missing: did you sum over an axis you should keep?"
    elif len(got) == len(want) == 1 and batch_size and got[0] == batch_size:
        msg += f" {got[0]} is the batch size N: sum over axis 0 (the samples), not axis 1."
    elif len(got) > len(want):
        msg += " It has extra axes: is a sum over the batch (axis 0) missing?"
    return msg


def _value_message(a, e, actual, expected, wrong, worst, tol, name, expected_name, batch_size, reveal):
    where = (f"worst at index {_fmt_index(worst)}: yours {_fmt(actual[worst])}"
             + (f", {expected_name} {_fmt(expected[worst])}" if reveal else ""))
    if not np.any(np.abs(e) > tol):
        return f"{name} should be (numerically) zero but is not; {where}.", "entries"
    if np.all(a == 0):
        return f"{name} is all zeros; the {expected_name} one is not. Is the function still a stub, or is a term missing?", "zero"

    # a constant factor c with a = c * e everywhere (c = -1 is a sign flip)
    c = float(np.dot(a, e) / np.dot(e, e))
    if np.all(np.abs(a - c * e) <= tol + 1e-6 * np.abs(c * e)):
        if abs(c + 1) < 1e-6:
            hint = ("the sign of the loss derivative, e.g. -(Y - Y_hat) vs (Y - Y_hat)" if expected_name == NUMERICAL
                    else "the signs of your terms")
            return (f"{name} has the wrong sign everywhere (it equals -1 times the {expected_name} one): "
                    f"check {hint}.", "sign")
        label = _name_factor(c) or _fmt(c)
        hint = _factor_hint(c, batch_size)
        if a.size == 1:  # one number: any two differ by "a factor"; show both, and the factor if it is simple
            simple = _name_factor(c) is not None and Fraction(label).denominator <= 10
            return (f"{name}: yours {_fmt(a[0])}" + (f", {expected_name} {_fmt(e[0])}" if reveal else "")
                    + (f" (a factor {label}: {hint})." if simple and hint else "."), "factor" if simple else "entries")
        return (f"{name} is off by a constant factor: yours = {label} x the {expected_name} one"
                + (f" ({hint})." if hint else "."), "factor")

    if actual.ndim == 2 and actual.shape[0] == actual.shape[1] and actual.shape[0] > 1:
        if np.allclose(actual, expected.T, rtol=1e-5, atol=1e-7 * max(1.0, np.max(np.abs(e)))):
            return (f"{name} equals the TRANSPOSE of the {expected_name} one (square shapes hide a missing "
                    "or extra transpose).", "transpose")

    n_wrong, n = int(wrong.sum()), a.size
    if n_wrong == 1:
        return f"{name}: exactly one entry of {n} is wrong, index {_fmt_index(worst)}: yours {_fmt(actual[worst])}" + (
            f", {expected_name} {_fmt(expected[worst])}." if reveal else "."), "entries"
    pattern = _pattern_hint(actual, expected, wrong)
    return f"{name}: {n_wrong} of {n} entries are wrong; {where}.{pattern}", "entries"


def _pattern_hint(actual, expected, wrong):
    """Point at a row/column structure in the wrong entries, if there is one."""
    full_wrong = np.zeros(actual.shape, dtype=bool)
    full_wrong[~np.isnan(expected)] = wrong
    if actual.ndim == 2 and full_wrong.any():
        rows = np.unique(np.argwhere(full_wrong)[:, 0])
        cols = np.unique(np.argwhere(full_wrong)[:, 1])
        if len(rows) == 1 and actual.shape[0] > 1:
            return f" All wrong entries are in row {rows[0]}."
        if len(cols) == 1 and actual.shape[1] > 1:
            return f" All wrong entries are in column {cols[0]}."
    return ""


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------

def check_gradient(f, x, analytic, *, h=1e-5, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL,
                   max_entries=DEFAULT_MAX_ENTRIES, seed=0, name="gradient", batch_size=None):
    """Compare an analytic gradient of the scalar function f at x with central differences.

    x: any shape; analytic: must have x's shape. Tensors larger than max_entries
    are checked on a seeded random sample of entries. Returns a CheckResult.
    """
    shape = np.shape(x)
    analytic_shape = np.shape(analytic)
    if analytic_shape != shape:
        return CheckResult(False, _shape_message(analytic_shape, shape, name, batch_size), "shape")
    indices = _sample_indices(shape, max_entries, seed) if np.prod(shape) > (max_entries or np.inf) else None
    numeric = numerical_gradient(f, x, h, indices=indices)
    return compare(analytic, numeric, rtol=rtol, atol=atol, name=name, batch_size=batch_size)


def check_backward(forward, backward, inputs, upstream=None, *, h=1e-5, rtol=DEFAULT_RTOL,
                   atol=DEFAULT_ATOL, max_entries=DEFAULT_MAX_ENTRIES, seed=0, names=None):
    """Check a backward function against numeric vector-Jacobian products of its forward.

    forward: forward(*inputs) -> output array.
    backward: backward(upstream) -> the gradient w.r.t. each input (a tuple in the
              order of inputs, or one array when there is one input; None skips an input).
    inputs: an array or a tuple of arrays; upstream: dL/d output (default: seeded
            standard normal shaped like the output).
    Returns the CheckResult of the first failing input (or an OK summary); every
    input's result is in `.details`.

        check_backward(affine_forward, lambda dZ: affine_backward(dZ, X, W), (X, W, b))
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    names = list(names) if names else [f"d(input {i})" for i in range(len(inputs))]
    out = np.asarray(forward(*inputs))
    if upstream is None:
        upstream = np.random.default_rng(seed).standard_normal(out.shape)
    upstream = np.asarray(upstream, dtype=np.float64)
    if upstream.shape != out.shape:
        raise ValueError(f"upstream has shape {upstream.shape} but forward returned shape {out.shape}")
    grads = backward(upstream)
    if len(inputs) == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if not isinstance(grads, (tuple, list)) or len(grads) != len(inputs):
        count = len(grads) if isinstance(grads, (tuple, list)) else 1
        return CheckResult(False, f"backward returned {count} gradient(s) but forward has {len(inputs)} "
                                  "input(s): return one gradient per input, in the same order.", "type")
    batch = np.shape(inputs[0])[0] if np.ndim(inputs[0]) >= 1 else None
    results = []
    for i, (x, g) in enumerate(zip(inputs, grads)):
        if g is None:
            continue

        def f_i(v, i=i):
            args = list(inputs)
            args[i] = v
            return forward(*args)

        shape = np.shape(x)
        if np.shape(g) != shape:
            results.append(CheckResult(False, _shape_message(np.shape(g), shape, names[i], batch), "shape"))
            continue
        x_copy = np.array(x, dtype=np.float64)
        indices = _sample_indices(shape, max_entries, seed) if x_copy.size > max_entries else None
        numeric = numerical_vjp(f_i, x_copy, upstream, h, indices=indices)
        results.append(compare(g, numeric, rtol=rtol, atol=atol, name=names[i], batch_size=batch))
    failed = [r for r in results if not r.ok]
    if failed:
        first = failed[0]
        first.details = results
        return first
    worst = max(results, key=lambda r: r.max_rel_error) if results else CheckResult(True, "", max_rel_error=0.0)
    summary = ", ".join(f"{n} {r.max_rel_error:.1e}" for n, r in zip(
        [n for n, g in zip(names, grads) if g is not None], results))
    return CheckResult(True, f"backward OK: max relative error per input: {summary}.", "ok",
                       worst.max_rel_error, worst.worst_index, worst.analytic_value, worst.numeric_value, results)
