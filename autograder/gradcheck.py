"""Numeric gradient checker (student-facing).

Central differences for gradients, Jacobians and vector-Jacobian products, and
comparisons that explain *why* an analytic gradient disagrees with the numeric
one: wrong shape (and whether a transpose would fix it), flipped sign, a
constant factor such as 2, 1/N or 1/K, a missing transpose or swapped factors
that square shapes hide, a few wrong entries (with their index and both
values), NaN/inf, an overflow (with the standard fix), or an input or upstream modified in place
(named by the student's own parameter). `result.plot()` draws yours, the numeric array and their
difference as heat maps. Two helpers for tests:
`no_inplace(f)(*args)` calls f and fails if it changed an argument, and
`with no_overflow(what, hint): ...` turns a numpy overflow into a message.

    >>> import numpy as np
    >>> x = np.array([1.0, -2.0, 3.0])
    >>> check_gradient(lambda v: np.sum(v ** 2), x, 2 * x).ok
    True
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import types
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
    "no_inplace",
    "no_overflow",
    "CheckResult",
]

TINY = 1e-12
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-7
DEFAULT_MAX_ENTRIES = 2000
MAX_OPERAND_ENTRIES = 250_000  # larger operands are not multiplied out to test the product hypotheses
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
    """The entries of a tensor of `shape` to check numerically: None (every entry) when max_entries
    is None or the tensor has at most max_entries entries, else a seeded random sample of
    max_entries multi-indices in row-major order (the `indices` of numerical_gradient/_vjp)."""
    size = int(np.prod(shape, dtype=np.int64))
    if max_entries is None or size <= max_entries:
        return None
    flat = np.sort(np.random.default_rng(seed).choice(size, max_entries, replace=False))
    return [np.unravel_index(i, shape) for i in flat]


def _numerical_entries(f, x, h, indices, entry):
    """Central differences of f at each entry of x (or at `indices`; other entries are NaN), each one
    (f(x + h e_i) - f(x - h e_i)) / 2h, an array shaped like f(x), reduced to a number by entry()."""
    like_scalar = np.ndim(x) == 0 and not isinstance(x, np.ndarray)
    arr, _ = _as_float_array(x)
    grad = np.full(arr.shape, np.nan) if indices is not None else np.zeros(arr.shape)
    for index in (indices if indices is not None else np.ndindex(*arr.shape)):
        grad[index] = entry(_central_difference_at(f, arr, index, h, like_scalar))
    return grad


def numerical_gradient(f, x, h=1e-5, *, indices=None):
    """Gradient of the scalar function f at x by central differences.

    f: maps an array shaped like x (or a float, if x is a float) to a scalar.
    x: scalar or array of any shape; left unchanged (entries are perturbed in
       place one at a time and restored, so f may also read x by reference).
    indices: optional list of multi-indices to evaluate; other entries are NaN.
    Returns an array shaped like x (a 0-d array for scalar x).
    """
    def scalar(value):
        if value.size != 1:
            raise ValueError(
                f"numerical_gradient needs f to return a scalar, but f returned shape {value.shape}; "
                "use numerical_jacobian or numerical_vjp for vector outputs")
        return value.item()
    return _numerical_entries(f, x, h, indices, scalar)


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
    Each output entry is differenced on its own before it is weighted by upstream (as CS231n's
    eval_numerical_gradient_array does): summing f(x +- h) * upstream first would cancel the digits
    of small changes against large outputs.
    """
    upstream = np.asarray(upstream, dtype=np.float64)
    flat = upstream.ravel()

    def weighted(difference):
        if difference.shape == upstream.shape:
            return np.dot(difference.ravel(), flat)
        return np.sum(difference * upstream)  # broadcasting, e.g. a scalar upstream
    return _numerical_entries(f, x, h, indices, weighted)


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

SHOW_FIGURE_ON_FAILURE = True  # assert_ok() of a failed matrix check draws plot() in a notebook


@dataclass(repr=False)
class CheckResult:
    """Outcome of a comparison. `bool(result)` is `result.ok`; `str(result)` the message; `repr(result)`
    one line. `analytic` and `numeric` are the two arrays compared (None after a shape or type
    failure), NaN where an entry was not sampled; `plot()` draws them."""

    ok: bool
    message: str
    diagnosis: str = "ok"  # ok | type | shape | transpose | operands | nan | sign | factor | entries | zero | inplace | overflow
    max_rel_error: float = float("nan")
    worst_index: tuple | None = None
    analytic_value: float | None = None
    numeric_value: float | None = None
    details: list = field(default_factory=list)
    analytic: np.ndarray | None = None
    numeric: np.ndarray | None = None
    name: str = "gradient"
    expected_name: str = NUMERICAL

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"<CheckResult {'OK' if self.ok else 'FAILED'}: {self.message}>"

    def assert_ok(self):
        """Raise AssertionError carrying the diagnosis unless the check passed (in a notebook, a failed
        check of a matrix first shows plot())."""
        if not self.ok:
            if SHOW_FIGURE_ON_FAILURE and self.analytic is not None and self.analytic.ndim == 2 \
                    and min(self.analytic.shape) > 1:
                _display_in_notebook(self.plot)
            raise AssertionError(self.message)
        return self

    def plot(self):
        """Heat maps of yours, the expected (numerical) array and yours - expected side by side, with
        colorbars; the worst entry is circled. Vectors are drawn as one row, arrays of more than two
        axes as (shape[0], rest). Returns a matplotlib Figure (not shown through pyplot: no window,
        any backend), or None when there is nothing to draw (a shape or type failure)."""
        if self.analytic is None or self.numeric is None:
            return None
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        yours, expected = (np.atleast_2d(a.reshape(a.shape[0], -1) if a.ndim > 2 else a)
                           for a in (self.analytic, self.numeric))
        difference = yours - expected
        values = np.concatenate([yours[np.isfinite(yours)], expected[np.isfinite(expected)], [0.0]])
        low, high = float(values.min()), float(values.max())
        spread = float(np.nanmax(np.abs(difference))) if np.isfinite(difference).any() else 0.0
        fig = Figure(figsize=(11, 3.4), layout="constrained")
        panels = [(yours, f"yours ({self.name})", "viridis", low, high),
                  (expected, self.expected_name, "viridis", low, high),
                  (difference, f"difference yours - {self.expected_name}", "RdBu_r", -spread or -1, spread or 1)]
        axes = fig.subplots(1, 3)
        for ax, (data, title, cmap, vmin, vmax) in zip(axes, panels):
            image = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
            fig.colorbar(image, ax=ax)
            ax.set_title(title)
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(MaxNLocator(integer=True))
        if self.worst_index is not None and len(self.worst_index) == 2 and not self.ok:
            axes[2].plot(self.worst_index[1], self.worst_index[0], "o", mfc="none", mec="black", ms=12)
        fig.suptitle(("OK: " if self.ok else "") + self.message[:120] + ("..." if len(self.message) > 120 else ""),
                     fontsize="small")
        return fig


def _display_in_notebook(draw):
    """Show the Figure draw() returns as a PNG, only in a running IPython kernel (never a window, whatever
    the matplotlib backend); any failure of the drawing is ignored: the AssertionError that follows is
    the message that matters."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is None or not hasattr(shell, "kernel"):
        return
    try:
        import io

        from IPython.display import Image, display
        png = io.BytesIO()
        draw().savefig(png, format="png", dpi=72)
        display(Image(data=png.getvalue(), format="png"))
    except Exception:  # noqa: BLE001 - the picture is a bonus
        pass


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


def _factor_hint(c, batch_size=None, per_sample=None, kind="gradient"):
    """Likely causes of yours = c x expected; alternatives are joined by "; or ".

    batch_size: N, the samples a mean divides by; per_sample: K, the entries of each sample
    (a mean over all N*K entries, as np.mean does, is a factor 1/K); kind: "gradient" adds the
    hints about derivatives (the 2 a square brings down), "value" (a loss, an output) does not.
    """
    frac = Fraction(float(c)).limit_denominator(1000)
    size = abs(frac)
    n_known = int(batch_size) if batch_size else None
    N = n_known if n_known and n_known > 1 else None
    K = int(per_sample) if per_sample and per_sample > 1 else None
    hints = []
    if N and size == N:
        hints.append(f"the 1/N of the mean loss is missing (N = {N})")
    if N and size == Fraction(1, N):
        hints.append(f"a 1/N too much (N = {N}): a mean where the sum is needed, or 1/N applied twice")
    if K and size == Fraction(1, K):
        counts = f" = {n_known * K}" if n_known else ""
        samples = f" = {n_known}" if n_known else ""
        hints.append(f"divided by N*K{counts}, every entry (as np.mean or .size do), where the mean over the "
                     f"samples divides only by N{samples}: divide by N, not by N*K (sum over the K = {K} entries "
                     "of each sample)")
    elif kind == "value" and n_known and not K and size.numerator == 1 and size.denominator not in (1, N):
        k = size.denominator  # a loss value of unknown K: np.mean over an (N, k) array is the likely cause
        hints.append(f"divided by N*K = {n_known * k} if each sample has K = {k} entries (np.mean divides by "
                     f"every entry), where the mean over the samples divides only by N = {n_known}: "
                     "divide by N, not by N*K")
    if N and K and size == Fraction(1, N * K):
        hints.append(f"divided by N*K = {N * K}, every entry (as np.mean does), where the sum is needed")
    if kind == "gradient":
        if size == 2:
            hints.append("a factor 2 too much (e.g. the 2 of a square counted twice)")
        elif size == Fraction(1, 2):
            hints.append("a factor 2 missing (the derivative of a square brings down a 2)")
    if not hints:
        if size.numerator == 1 and size.denominator > 2:
            hints.append(f"an extra division by {size.denominator}" + ("" if N else ": 1/N applied twice?"))
        elif size.denominator == 1 and size > 2:
            hints.append(f"a missing division by {size.numerator}" + ("" if N else ": is a 1/N (mean) missing?"))
    text = "; or ".join(hints)
    if frac < 0:
        text += ("; and " if text else "") + "the sign is flipped"
    return text


def _infer_per_sample(shape, batch_size):
    """K = the entries per sample of an (N, ...) array whose leading axis is the batch, else None."""
    if batch_size and len(shape) >= 2 and shape[0] == batch_size:
        return int(np.prod(shape[1:]))
    return None


def compare(actual, expected, *, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, name="gradient",
            expected_name=NUMERICAL, batch_size=None, reveal_expected=True, scale=None,
            kind="gradient", per_sample=None, operands=None):
    """Compare `actual` (the student's array) with `expected` and explain any difference.

    Entries match when |a - e| <= atol * scale + rtol * (|a| + |e|), where scale is
    max(1, max |expected|) unless given. NaN entries of `expected` are ignored (they
    mark entries that were not sampled). `batch_size` (N) and `per_sample` (K, the entries
    of each sample; by default the trailing size of an (N, ...) array) let the message name
    1/N and 1/K factors. kind="value" for losses and outputs: no hints about derivatives.
    `operands` ({name: 2-D array}, e.g. {"dZ": dZ, "W": W}): when shapes match but values
    do not, test whether actual is another product of two of them (a missing transpose or
    swapped factors that square shapes hide). `reveal_expected=False` keeps expected values
    (and the right product) out of the message.
    """
    if kind not in ("gradient", "value"):
        raise ValueError(f"kind must be 'gradient' or 'value', not {kind!r}")
    expected = np.asarray(expected, dtype=np.float64)
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return CheckResult(False, f"{name} is a {type(actual).__name__}, not an array of numbers.", "type")

    if actual.shape != expected.shape:
        return CheckResult(False, _shape_message(actual.shape, expected.shape, name, batch_size, expected_name),
                           "shape")

    arrays = dict(analytic=actual, numeric=expected, name=name, expected_name=expected_name)
    mask = ~np.isnan(expected)
    bad_values = ~np.isfinite(actual) & mask
    if bad_values.any():
        idx = tuple(np.argwhere(bad_values)[0])
        return CheckResult(
            False,
            f"{name} contains {int(bad_values.sum())} NaN/inf entr{'y' if bad_values.sum() == 1 else 'ies'}, "
            f"first at index {_fmt_index(idx)} (value {actual[idx]}). Usual causes: log(0) or division by 0 "
            "(clip or use the simplified formula), or exp overflow (subtract the max / use a stable form).",
            "nan", float("inf"), idx, float(actual[idx]), float(expected[idx]), **arrays)

    a, e = actual[mask], expected[mask]
    if a.size == 0:
        return CheckResult(True, f"{name} OK (no entries to compare).", "ok", 0.0, **arrays)
    if scale is None:
        scale = max(1.0, float(np.max(np.abs(e))))
    tol = atol * scale + rtol * (np.abs(a) + np.abs(e))
    err = np.abs(a - e)
    wrong = err > tol
    rel = relative_error(a, e)
    positions = np.argwhere(mask)
    worst = tuple(int(i) for i in positions[int(np.argmax(err - tol))])
    result = CheckResult(True, "", "ok", rel, worst, float(actual[worst]), float(expected[worst]), **arrays)

    if not wrong.any():
        result.message = f"{name} OK: max relative error {rel:.2e} over {a.size} entries."
        return result
    result.ok = False
    if per_sample is None:
        per_sample = _infer_per_sample(expected.shape, batch_size)
    context = dict(name=name, expected_name=expected_name, batch_size=batch_size, per_sample=per_sample,
                   kind=kind, reveal=reveal_expected, operands=operands, rtol=rtol, atol=atol * scale)
    result.message, result.diagnosis = _value_message(a, e, actual, expected, wrong, worst, tol, **context)
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


def _value_message(a, e, actual, expected, wrong, worst, tol, *, name, expected_name, batch_size, per_sample,
                   kind, reveal, operands, rtol, atol):
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
            hint = ("the sign of the loss derivative, e.g. -(Y - Y_hat) vs (Y - Y_hat)"
                    if expected_name == NUMERICAL and kind == "gradient" else "the signs of your terms")
            return (f"{name} has the wrong sign everywhere (it equals -1 times the {expected_name} one): "
                    f"check {hint}.", "sign")
        label = _name_factor(c) or _fmt(c)
        hint = _factor_hint(c, batch_size, per_sample, kind)
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
    if operands:
        message = _product_message(actual, expected, operands, name, expected_name, reveal, rtol, atol)
        if message:
            return message, "operands"

    n_wrong, n = int(wrong.sum()), a.size
    if n_wrong == 1:
        return f"{name}: exactly one entry of {n} is wrong, index {_fmt_index(worst)}: yours {_fmt(actual[worst])}" + (
            f", {expected_name} {_fmt(expected[worst])}." if reveal else "."), "entries"
    pattern = _pattern_hint(actual, expected, wrong)
    return f"{name}: {n_wrong} of {n} entries are wrong; {where}.{pattern}", "entries"


def _products(operands):
    """(label, factors, value) for every product of two different 2-D operands, in either order and
    either transposed, whose shapes fit: dZ @ W, dZ @ W.T, W @ dZ, W.T @ dZ, dZ.T @ W, ..."""
    items = [(str(k), np.asarray(v, dtype=np.float64)) for k, v in operands.items()]
    items = [(k, v) for k, v in items if v.ndim == 2 and v.size <= MAX_OPERAND_ENTRIES]
    out = []
    for i, (p_name, P) in enumerate(items):
        for q_name, Q in items[i + 1:]:
            for left, right in (((p_name, P), (q_name, Q)), ((q_name, Q), (p_name, P))):
                for l_t in (False, True):
                    for r_t in (False, True):
                        L = left[1].T if l_t else left[1]
                        R = right[1].T if r_t else right[1]
                        if L.shape[1] == R.shape[0]:
                            label = f"{left[0]}{'.T' if l_t else ''} @ {right[0]}{'.T' if r_t else ''}"
                            out.append((label, (left[0], right[0]), L @ R))
    return out


def _close(x, y, rtol, atol):
    mask = ~np.isnan(y)
    return x.shape == y.shape and np.allclose(x[mask], y[mask], rtol=rtol, atol=atol)


def _product_message(actual, expected, operands, name, expected_name, reveal, rtol, atol):
    """'yours equals dZ @ W, the gradient is dZ @ W.T' when actual is a product of two operands."""
    candidates = [c for c in _products(operands) if c[2].shape == actual.shape]
    tolerance = dict(rtol=max(rtol, 1e-6), atol=max(atol, 1e-9))
    yours = next((c for c in candidates if _close(actual, c[2], **tolerance)), None)
    if yours is None:
        return None
    right = next((c for c in candidates if _close(c[2], expected, rtol=1e-4, atol=max(atol, 1e-7))), None)
    if right is None or right[0] == yours[0]:
        return (f"{name} equals {yours[0]}, which is not the {expected_name} one: a transpose, the order of the "
                "factors, or a missing term? (Square shapes hide a missing transpose and swapped factors.)")
    if right[1] == yours[1]:
        why = "a missing or extra transpose"
    elif set(right[1]) == set(yours[1]):
        why = "the factors are in the wrong order"
    else:
        why = "other factors than the gradient's"
    return (f"{name} equals {yours[0]}" + (f", but the {expected_name} one is {right[0]}" if reveal else "")
            + f": {why} (square shapes cannot tell them apart).")


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
# In-place changes
# --------------------------------------------------------------------------

_UNCHECKED = object()  # a snapshot of something that is not compared (functions, generators, objects)


def _snapshot(value):
    """A deep copy of the arrays, lists, tuples and dicts in value (other objects are not compared)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_snapshot(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        return value
    return _UNCHECKED


def _equal(before, after):
    if isinstance(before, np.ndarray) or isinstance(after, np.ndarray):
        if not (isinstance(before, np.ndarray) and isinstance(after, np.ndarray)) or before.shape != after.shape:
            return False
        try:
            return bool(np.array_equal(before, after, equal_nan=True))
        except TypeError:  # object or string arrays
            return bool(np.array_equal(before, after))
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        return len(before) == len(after) and all(_equal(b, a) for b, a in zip(before, after))
    if isinstance(before, dict) and isinstance(after, dict):
        return set(before) == set(after) and all(_equal(before[k], after[k]) for k in before)
    try:
        return bool(before == after) or (before != before and after != after)  # NaN == NaN here
    except Exception:  # noqa: BLE001 - incomparable objects count as unchanged
        return True


def _change(before, after):
    """None if `after` (the live object) still equals its snapshot `before`, else what changed."""
    if before is _UNCHECKED or _equal(before, after):
        return None
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return f"its shape changed from {before.shape} to {np.shape(after)}"
        try:
            changed = ~((before == after) | (np.isnan(before) & np.isnan(after)))
        except TypeError:
            changed = before != after
        changed = np.atleast_1d(changed)
        first = tuple(int(i) for i in np.argwhere(changed)[0])
        b, a = np.atleast_1d(before)[first], np.atleast_1d(after)[first]
        where = f" at index {_fmt_index(first)}" if before.ndim else ""
        count = f"{int(changed.sum())} of {before.size} entries changed, first" if before.size > 1 else "its value changed"
        return f"{count}{where}: was {b:.6g}, now {a:.6g}" if np.issubdtype(before.dtype, np.number) else \
            f"{count}{where}"
    if isinstance(before, (list, tuple)):
        if len(before) != len(after):
            return f"its length changed from {len(before)} to {len(after)}"
        if len(before) > 1 and _equal(list(before[::-1]), list(after)):
            return "it was reversed (x.reverse() changes the caller's list; x[::-1] or reversed(x) do not)"
        for i, (b, a) in enumerate(zip(before, after)):
            inner = _change(b, a)
            if inner:
                return f"item {i}: {inner}"
        return "its items changed"
    if isinstance(before, dict):
        if set(before) != set(after):
            added, removed = sorted(map(str, set(after) - set(before))), sorted(map(str, set(before) - set(after)))
            return "its keys changed" + (f", added {added}" if added else "") + (f", removed {removed}" if removed else "")
        for key in before:
            inner = _change(before[key], after[key])
            if inner:
                return f"[{key!r}]: {inner}"
    return "its value changed"


def _inplace_message(who, what, change, role=""):
    return (f"{who} modified {what} in place ({role}{change}). Exercise functions must not change their inputs: "
            "build new arrays instead (`x = x - m` or `x.copy()` first; `x -= m`, `x[...] = ...`, "
            "`x.sort()`, `list.reverse()` change the caller's data).")


def _backward_inplace_message(function, what, change):
    """'your backward changed its upstream argument `dA` in place (sigmoid_backward: ...)' and the fix."""
    where = f"{function}: " if function else ""
    return (f"your backward changed {what} in place ({where}{change}). The numeric check would then use the "
            "changed values, so build new arrays instead (`dA = dA * s` or `dA.copy()` first; `dA *= s`, "
            "`x[...] = ...` change the caller's data).")


def _function_name(f):
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or "the function"
    return "the function" if "<lambda>" in name else name


def _parameter_names(f, args, kwargs):
    """[(parameter name, value)] for a call f(*args, **kwargs), named from f's signature where possible."""
    try:
        bound = inspect.signature(f).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return [(f"argument {i + 1}", v) for i, v in enumerate(args)] + list(kwargs.items())
    named = []
    for param, value in bound.arguments.items():
        kind = inspect.signature(f).parameters[param].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            named += [(f"{param}[{i}]", v) for i, v in enumerate(value)]
        elif kind is inspect.Parameter.VAR_KEYWORD:
            named += list(value.items())
        else:
            named.append((param, value))
    return named


def no_inplace(f, ignore=()):
    """f wrapped to fail (AssertionError) when a call changes one of its arguments in place.

        J = no_inplace(mse_loss)(Y, Y_hat)     # the value of mse_loss(Y, Y_hat), or AssertionError

    Arrays, lists, tuples and dicts (and the arrays inside them) are compared with copies taken
    before the call; the message names the parameter (from f's signature) and the first change.
    A generator (e.g. minibatches) is checked after every item it yields. ignore: names of
    parameters that may change (e.g. a cache that belongs to the caller's own code).
    """
    who = _function_name(f)
    ignore = set(ignore)

    @functools.wraps(f)
    def checked(*args, **kwargs):
        named = _parameter_names(f, args, kwargs)
        before = [(param, _snapshot(value), value) for param, value in named if param not in ignore]

        def verify():
            for param, snap, value in before:
                change = _change(snap, value)
                if change:
                    raise AssertionError(_inplace_message(who, f"its argument {param}", change))

        result = f(*args, **kwargs)
        if isinstance(result, types.GeneratorType):
            def checked_items(gen=result):
                for item in gen:
                    verify()
                    yield item
                verify()
            return checked_items()
        verify()
        return result
    return checked


_FP_CAUSES = {
    "overflow": "a value overflowed to inf (np.exp(x) does for x > 709)",
    "invalid": "an invalid operation gave NaN (0/0, inf/inf, inf - inf or 0 * inf)",
    "divide": "a division by zero (or log(0)) gave inf",
    "underflow": "a value underflowed to 0",
}


_FP_FIXES = {  # numpy's message -> the standard fix
    "overflow encountered in exp": (
        "The standard fix: subtract the max before np.exp (a softmax: each row's own max, "
        "L - L.max(axis=1, keepdims=True); a sigmoid: np.where evaluates both of its branches for every x, so "
        "an np.exp(-x) in one of them still overflows: compute e = np.exp(-np.abs(x)) once and build both "
        "cases from it)."),
    "invalid value encountered in divide": (
        "Usually a softmax row whose exponentials all underflowed to 0 (0/0) or overflowed to inf (inf/inf): "
        "subtract each row's own max, L.max(axis=1, keepdims=True), not the global max L.max()."),
}


def _floating_point_sentence(what, err, hint=""):
    """'softmax(L): numpy raised FloatingPointError (overflow encountered in exp): a value overflowed ...'
    with the hint, or else the standard fix for that error."""
    text = str(err)
    cause = next((v for k, v in _FP_CAUSES.items() if k in text), "a floating-point error")
    fix = hint or next((v for k, v in _FP_FIXES.items() if k in text), "")
    return f"{what}: numpy raised FloatingPointError ({text}): {cause}." + (f" {fix}" if fix else "")


@contextlib.contextmanager
def no_overflow(what, hint="", **errstate):
    """Run the block with numpy floating-point errors raised; a FloatingPointError becomes an
    AssertionError that says what overflowed and how to avoid it (the hint, or else the standard
    fix for that error).

        with no_overflow("softmax of logits +-1000", "subtract each row's max"):
            Y_hat = softmax(L)

    errstate: which errors raise (default over="raise", invalid="raise").
    """
    settings = errstate or {"over": "raise", "invalid": "raise"}
    try:
        with np.errstate(**settings):
            yield
    except FloatingPointError as err:
        raise AssertionError(_floating_point_sentence(what, err, hint)) from None


class _FloatingPointProblem(Exception):
    """A FloatingPointError during a check, already turned into a sentence."""


@contextlib.contextmanager
def _numerics_of(what):
    """Overflow and invalid operations (NaN) raise inside the block (underflow to 0 does not, whatever
    np.seterr says); they leave it as a _FloatingPointProblem that names `what` overflowed."""
    try:
        with np.errstate(over="raise", invalid="raise", under="ignore"):
            yield
    except FloatingPointError as err:
        raise _FloatingPointProblem(_floating_point_sentence(what, err)) from None


def _floating_point_problems_as_results(check):
    """check(...) returning a failed CheckResult (diagnosis "overflow") for a _FloatingPointProblem."""
    @functools.wraps(check)
    def checked(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except _FloatingPointProblem as problem:
            return CheckResult(False, str(problem), "overflow")
    return checked


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------

def _name_in_caller(frame, obj):
    """The name a caller's variable gives obj (identity), or None."""
    for scope in (frame.f_locals, frame.f_globals) if frame is not None else ():
        for key, value in list(scope.items()):
            if value is obj and not key.startswith("_") and key.isidentifier():
                return key
    return None


def _referenced_data(f):
    """{name: array} of the arrays that the function f reads from its globals and closure (e.g. X and W
    in `lambda d: affine_backward(d, X, W)`). Lists and dicts are left out: a backward may consume a
    cache of its own."""
    code, found = getattr(f, "__code__", None), {}
    if code is None:
        return found
    scopes = [(name, cell.cell_contents) for name, cell in zip(code.co_freevars, f.__closure__ or ())
              if _has_contents(cell)]
    scopes += [(name, f.__globals__[name]) for name in code.co_names if name in getattr(f, "__globals__", {})]
    for name, value in scopes:
        if isinstance(value, np.ndarray):
            found.setdefault(name, value)
    return found


def _has_contents(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _call_watching_parameters(call, watched):
    """(call(), {id: (function name, parameter name)}): for each object of `watched`, the first function
    (neither a lambda nor this module's) that received it as a parameter during the call, e.g.
    ("sigmoid_backward", "dA") for the upstream that `lambda d: sigmoid_backward(d, A)` passes on.
    Where sys.setprofile is refused (the grading sandbox's audit hook), the call runs unwatched: {}."""
    ids, found = {id(obj) for obj in watched}, {}
    previous = sys.getprofile()

    def profile(frame, event, arg):
        if previous is not None:
            previous(frame, event, arg)
        code = frame.f_code
        if event != "call" or code.co_name == "<lambda>" or frame.f_globals.get("__name__") == __name__:
            return
        for param in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]:
            key = id(frame.f_locals.get(param))
            if key in ids and key not in found:
                found[key] = (code.co_name, param)

    try:
        sys.setprofile(profile)
    except Exception:  # noqa: BLE001 - e.g. the grading sandbox forbids it: no names, same check
        return call(), found
    try:
        result = call()
    finally:
        sys.setprofile(previous)
    return result, found


def _first_parameter(f):
    try:
        return next(iter(inspect.signature(f).parameters))
    except (TypeError, ValueError, StopIteration):
        return None


@_floating_point_problems_as_results
def check_gradient(f, x, analytic, *, h=1e-5, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL,
                   max_entries=DEFAULT_MAX_ENTRIES, seed=0, name="gradient", batch_size=None):
    """Compare an analytic gradient of the scalar function f at x with central differences.

    x: any shape; analytic: must have x's shape. Tensors larger than max_entries
    are checked on a seeded random sample of entries (max_entries=None: every entry). Returns a CheckResult; one
    with diagnosis "inplace" if f changes its argument (central differences would
    then measure something else).
    """
    shape = np.shape(x)
    analytic_shape = np.shape(analytic)
    if analytic_shape != shape:
        return CheckResult(False, _shape_message(analytic_shape, shape, name, batch_size), "shape")
    probe = np.array(x, dtype=np.float64)
    before = probe.copy()
    with _numerics_of(f"{_function_name(f)} at x"):
        _call(f, probe, np.ndim(x) == 0 and not isinstance(x, np.ndarray))
    change = _change(before, probe)
    if change:
        return CheckResult(False, _inplace_message(_function_name(f), "its argument", change), "inplace")
    indices = _sample_indices(shape, max_entries, seed)
    with _numerics_of(f"{_function_name(f)} at x +- h (central differences)"):
        numeric = numerical_gradient(f, x, h, indices=indices)
    return compare(analytic, numeric, rtol=rtol, atol=atol, name=name, batch_size=batch_size)


@_floating_point_problems_as_results
def check_backward(forward, backward, inputs, upstream=None, *, h=1e-5, rtol=DEFAULT_RTOL,
                   atol=DEFAULT_ATOL, max_entries=DEFAULT_MAX_ENTRIES, seed=0, names=None,
                   input_names=None, upstream_name=None):
    """Check a backward function against numeric vector-Jacobian products of its forward.

    forward: forward(*inputs) -> output array.
    backward: backward(upstream) -> the gradient w.r.t. each input (a tuple in the
              order of inputs, or one array when there is one input; None skips an input).
    inputs: an array or a tuple of arrays; upstream: dL/d output (default: seeded
            standard normal shaped like the output).
    max_entries: inputs larger than this are checked on a seeded random sample of entries
                 (None: every entry), as in check_gradient.
    names: of the gradients (default "d(input i)"); input_names, upstream_name: of the
           inputs and the upstream in messages (default: the caller's variable names).
    The batch size N for the messages is the leading dimension of the output (of the
    first input for a scalar output), K = the output's entries per sample.
    backward gets a copy of upstream; if it (or forward) changes the upstream, an input,
    or an array it reads (such as X in `lambda d: affine_backward(d, X, W)`), the result
    is a failure with diagnosis "inplace" naming it.
    Returns the CheckResult of the first failing input (or an OK summary); every
    input's result is in `.details`.

        check_backward(affine_forward, lambda dZ: affine_backward(dZ, X, W), (X, W, b))
    """
    caller = sys._getframe(2)  # 1 is the wrapper of _floating_point_problems_as_results
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    names = list(names) if names else [f"d(input {i})" for i in range(len(inputs))]
    if input_names is None:
        input_names = [_name_in_caller(caller, x) or (n[1:] if n.startswith("d") and n[1:].isidentifier()
                                                     else f"input {i}")
                       for i, (x, n) in enumerate(zip(inputs, names + [""] * len(inputs)))]
    given_upstream = upstream
    watched = [(input_names[i], x) for i, x in enumerate(inputs)]
    snapshots = [(label, _snapshot(x), x) for label, x in watched]

    def changed(who):
        for label, snap, x in snapshots:
            change = _change(snap, x)
            if change:
                return CheckResult(False, _inplace_message(who, label, change), "inplace")
        return None

    with _numerics_of("your forward"):
        out = np.asarray(forward(*inputs))
    problem = changed("forward")
    if problem is not None:  # a CheckResult is falsy when it failed
        return problem
    if upstream is None:
        upstream = np.random.default_rng(seed).standard_normal(out.shape)
    upstream = np.array(upstream, dtype=np.float64)  # a private copy: backward gets another one
    if upstream.shape != out.shape:
        raise ValueError(f"upstream has shape {upstream.shape} but forward returned shape {out.shape}")
    if upstream_name is None:
        upstream_name = (_name_in_caller(caller, given_upstream) if given_upstream is not None else None) or "upstream"
    seen = {id(x) for _, x in watched}
    read_by_backward = {}  # arrays backward reads besides the inputs (W in `lambda d: relu_backward(d @ W, Z)`)
    for label, data in _referenced_data(backward).items():
        if id(data) not in seen:
            seen.add(id(data))
            snapshots.append((label, _snapshot(data), data))
            read_by_backward[label] = data
    upstream_arg = upstream.copy()
    with _numerics_of("your backward"):
        grads, receivers = _call_watching_parameters(lambda: backward(upstream_arg),
                                                     [upstream_arg] + [x for _, _, x in snapshots])
    up_change = _change(upstream, upstream_arg)
    if up_change:
        function, param = receivers.get(id(upstream_arg), (None, _first_parameter(backward) or upstream_name))
        return CheckResult(False, _backward_inplace_message(function, f"its upstream argument `{param}`", up_change),
                           "inplace")
    for label, snap, x in snapshots:
        change = _change(snap, x)
        if change:
            function, param = receivers.get(id(x), (None, label))
            return CheckResult(False, _backward_inplace_message(function, f"its argument `{param}`", change),
                               "inplace")
    if len(inputs) == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if not isinstance(grads, (tuple, list)) or len(grads) != len(inputs):
        count = len(grads) if isinstance(grads, (tuple, list)) else 1
        return CheckResult(False, f"backward returned {count} gradient(s) but forward has {len(inputs)} "
                                  "input(s): return one gradient per input, in the same order.", "type")
    if upstream.ndim >= 1:
        batch = upstream.shape[0]
        per_sample = int(upstream.size // batch) if upstream.ndim >= 2 and batch else None
    else:
        batch = np.shape(inputs[0])[0] if np.ndim(inputs[0]) >= 1 else None
        per_sample = _infer_per_sample(np.shape(inputs[0]), batch)
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
        indices = _sample_indices(shape, max_entries, seed)
        with _numerics_of(f"your forward at {input_names[i]} +- h (central differences)"):
            numeric = numerical_vjp(f_i, x_copy, upstream, h, indices=indices)
        operands = {upstream_name: upstream}
        operands.update({input_names[j]: np.asarray(inputs[j]) for j in range(len(inputs)) if j != i})
        operands.update({k: v for k, v in read_by_backward.items() if k not in operands})
        results.append(compare(g, numeric, rtol=rtol, atol=atol, name=names[i], batch_size=batch,
                               per_sample=per_sample, operands=operands))
    failed = [r for r in results if not r.ok]
    if failed:
        first = failed[0]
        first.details = results
        return first
    worst = max(results, key=lambda r: r.max_rel_error) if results else CheckResult(True, "", max_rel_error=0.0)
    summary = ", ".join(f"{n} {r.max_rel_error:.1e}" for n, r in zip(
        [n for n, g in zip(names, grads) if g is not None], results))
    return CheckResult(True, f"backward OK: max relative error per input: {summary}.", "ok",
                       worst.max_rel_error, worst.worst_index, worst.analytic_value, worst.numeric_value, results,
                       worst.analytic, worst.numeric, worst.name, worst.expected_name)
