"""Building blocks of the hidden test batteries (instructor side, trusted).

A battery maps each graded function of an assignment to a generator of Cases.
A Case says how the sandbox should exercise the student's code (a probe from
autograder.sandbox.probes and its plain-data arguments) and how the judge checks the
returned plain data (a `check` callable that returns None when the value is
right and otherwise a message for the student). A function returning several
parts (a tuple such as affine_backward's dX, dW, db, or a dict of gradients) is
checked with expect_tuple / expect_dict, whose PartsCheck says which parts are
wrong: the judge then gives the function's points per part (graded_parts).

    battery = Battery("ex04_expanded_jacobians")

    @battery.cases("mse_backward")
    def _(rng):
        for N, K in [(1, 1), (6, 1), (5, 3)]:
            Y, Y_hat = rng.standard_normal((N, K)), rng.standard_normal((N, K))
            yield call_case(f"Y, Y_hat {(N, K)}", "mse_backward", (Y, Y_hat),
                            expect_array(ref.mse_backward(Y, Y_hat), batch_size=N))

Messages must help the student without printing the reference: use shapes,
the diagnosis of autograder.gradcheck.compare (sign, factor, transpose, index
and *the student's* value) and the name of the check.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from autograder.gradcheck import _change, compare
from autograder.instructor.settings import CASE_TIMEOUT

FN = lambda name: {"__fn__": name}  # noqa: E731 - a marker for a named test function
RNG = lambda seed: {"__rng__": int(seed)}  # noqa: E731 - a marker for default_rng(seed)


@dataclass
class Case:
    """One hidden test: run `probe(*args)` in the sandbox, then `check(result)` here."""

    description: str
    probe: str
    args: tuple
    check: Callable
    inputs: list | None = None  # the arguments whose values must not change (compared to result["args_after"]);
    #                             Battery.iter_cases makes it an Inputs list whose .names are the parameter names
    timeout: float = CASE_TIMEOUT
    expect_error: str | None = None  # name of the exception the call must raise (e.g. "ValueError")
    no_fp_warnings: bool | str = False  # numpy overflow/invalid/divide warnings fail the case (edge inputs);
    #                                     a str also says how to avoid them (a hint for the judge's message)


@dataclass
class Battery:
    assignment: str
    seed: int = 20261124
    functions: dict = field(default_factory=dict)

    def cases(self, function_name):
        """Decorator registering a case generator `gen(rng)` for a graded function."""
        def register(generator):
            self.functions[function_name] = generator
            return generator
        return register

    def iter_cases(self, function_name):
        """The cases of a graded function; their inputs carry the parameter names (Inputs.names)."""
        index = list(self.functions).index(function_name)
        rng = np.random.default_rng([self.seed, index])
        cases = list(self.functions[function_name](rng))
        for case in cases:
            if case.inputs is not None and getattr(case.inputs, "names", None) is None:
                case.inputs = Inputs(case.inputs, parameter_names(case, self.reference()))
        return cases

    def reference(self):
        """The reference implementation module of the assignment (None if there is none)."""
        try:
            return importlib.import_module(f"autograder.instructor.reference.{self.assignment}")
        except ImportError:
            return None


class Inputs(list):
    """A case's inputs (the arguments that must not change) with `names`, their parameter names."""

    def __init__(self, values, names=None):
        super().__init__(values)
        self.names = list(names) if names else None


def _signature_names(function, skip=0):
    try:
        return list(inspect.signature(function).parameters)[skip:]
    except (TypeError, ValueError):
        return None


def parameter_names(case, reference):
    """The names of a case's inputs: the parameters of the reference function the probe calls
    (dA, A for sigmoid_backward), of a module's forward and backward, or of the probe itself."""
    from autograder.sandbox import probes

    target = case.args[0] if case.args and isinstance(case.args[0], str) else None
    implementation = getattr(reference, target, None) if reference is not None and target else None
    if case.probe == "module_roundtrip" and inspect.isclass(implementation):
        forward, backward = _signature_names(implementation.forward, 1), _signature_names(implementation.backward, 1)
        if forward and backward:
            return [f"{forward[0]} of forward", f"{backward[0]} of backward"]
    if case.probe in ("call", "call_part", "call_returned", "collect") and callable(implementation):
        return _signature_names(implementation)
    probe = probes.PROBES.get(case.probe)
    names = _signature_names(probe, 1) if probe else None
    return names if names and len(names) == len(case.inputs) else None


# ---------------------------------------------------------------- case helpers

def call_case(description, function_name, args, check, kwargs=None, timeout=CASE_TIMEOUT, no_fp_warnings=False):
    """Call the student's function with args (arrays are checked for in-place changes);
    no_fp_warnings: a numpy floating-point warning during the call fails the case (a str: and the hint
    that explains how to keep every intermediate value finite)."""
    return Case(description, "call", (function_name, list(args), kwargs or {}), check,
                inputs=list(args), timeout=timeout, no_fp_warnings=no_fp_warnings)


def raises_case(description, function_name, args, error):
    """The call must raise `error` (an exception class name, e.g. "ValueError")."""
    return Case(description, "call", (function_name, list(args), {}), lambda value: None,
                inputs=list(args), expect_error=error)


# ---------------------------------------------------------------- checks

def _value(result):
    return result["value"] if isinstance(result, dict) and "value" in result else result


def array_problem(actual, expected, *, name="result", rtol=1e-6, atol=1e-9, batch_size=None, per_sample=None,
                  kind="gradient", operands=None):
    """None if actual matches expected, else a diagnosis (never revealing expected values).
    batch_size, per_sample (N, K), kind ("value" for losses and outputs) and operands ({name: 2-D
    array}: is a wrong answer another product of them?) sharpen the diagnosis (see gradcheck.compare)."""
    if isinstance(actual, (list, tuple)) and not isinstance(expected, (list, tuple)):
        return f"{name} should be a numpy array, but it is a {type(actual).__name__}"
    if actual is None:
        return f"{name} is None: did you forget to `return`?"
    if isinstance(actual, dict):
        return f"{name} should be an array/number, but it is a dict"
    exp = np.asarray(expected, dtype=float)
    try:
        act = np.asarray(actual, dtype=float)
    except (TypeError, ValueError):
        return f"{name} is not numeric ({type(actual).__name__})"
    result = compare(act, exp, rtol=rtol, atol=atol, name=name, expected_name="expected",
                     batch_size=batch_size, reveal_expected=False, per_sample=per_sample, kind=kind,
                     operands=operands)
    return None if result.ok else result.message


NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7  # tolerances against central-difference derivatives


class PartsCheck:
    """The check of a value made of named parts (a tuple's entries, a dict's values), each part checked
    on its own. `problems(result)` is {part: problem or None} for each of `parts` (a problem of the
    value as a whole, such as a tuple of the wrong length, is every part's): the judge gives points per
    part from it. Called like any check, it returns the distinct problems of the wrong parts in one
    message, then its hints (None if every part is right)."""

    def __init__(self, parts, problems, hints=()):
        self.parts = tuple(parts)
        self.problems = problems
        self.hints = tuple(dict.fromkeys(hints))

    def message(self, problems):
        """The message for the student of `problems` (what self.problems returned), None if there are none."""
        found = list(dict.fromkeys(p for p in problems.values() if p))
        if not found:
            return None
        message = "; ".join([p.rstrip(".") for p in found[:-1]] + found[-1:])
        for hint in self.hints:
            message = _hinted(message, hint)
        return message

    def __call__(self, result):
        return self.message(self.problems(result))


def graded_parts(cases):
    """The parts a function earns its points by: those of its cases' checks when every case checks the
    same parts (affine_backward: dX, dW, db), else () (the function is graded as a whole)."""
    parts = [getattr(case.check, "parts", ()) for case in cases]
    return tuple(parts[0]) if parts and all(set(p) == set(parts[0]) for p in parts) else ()


def _named(check, name):
    """`check`, carrying the name of the value it checks (expect_tuple names its parts by it)."""
    check.name = name
    return check


def _name_of(checks):
    return next((c.name for c in checks if getattr(c, "name", None)), None)


def _hinted(problem, hint):
    return f"{problem.rstrip('.')}. {hint}"


def all_of(*checks):
    """A check passing only if every check passes (the first problem is reported). Checks of parts
    (PartsCheck) must check the same parts; then each part gets its first problem (a plain check's
    problem is every part's)."""
    parted = [c for c in checks if isinstance(c, PartsCheck)]
    if not parted:
        return _named(lambda result: next((p for p in (c(result) for c in checks) if p), None), _name_of(checks))
    parts = parted[0].parts
    if any(set(c.parts) != set(parts) for c in parted):
        raise ValueError(f"all_of: checks of different parts {[c.parts for c in parted]}")

    def problems(result):
        found = dict.fromkeys(parts)
        for check in checks:
            own = check.problems(result) if isinstance(check, PartsCheck) else dict.fromkeys(parts, check(result))
            found = {part: found[part] or own[part] for part in parts}
        return found
    return PartsCheck(parts, problems, [hint for c in parted for hint in c.hints])


def with_hint(check, hint):
    """`check` whose failure message ends with `hint`. Hints belong with the check they explain,
    not in a case's description (which every failure of the case shows, an in-place change too)."""
    if isinstance(check, PartsCheck):
        return PartsCheck(check.parts, check.problems, check.hints + (hint,))

    def hinted(result):
        problem = check(result)
        return _hinted(problem, hint) if problem else None
    return _named(hinted, getattr(check, "name", None))


def expect_array(expected, *, name="result", rtol=1e-6, atol=1e-9, batch_size=None, per_sample=None,
                 kind="gradient", operands=None):
    """Check that the returned value equals `expected` (shape first, then values)."""
    def check(result):
        return array_problem(_value(result), expected, name=name, rtol=rtol, atol=atol, batch_size=batch_size,
                             per_sample=per_sample, kind=kind, operands=operands)
    return _named(check, name)


def expect_scalar(expected, *, name="result", rtol=1e-6, atol=1e-9, batch_size=None, per_sample=None,
                  kind="gradient"):
    """A single number: a Python or numpy scalar, or a 0-d array (not an array of shape (1,) or (1, 1),
    as the public tests demand). kind="value" for a loss (no hints about derivatives); batch_size and
    per_sample (N, K of the arrays it is the mean of) let the message name 1/N and 1/K."""
    def check(result):
        value = _value(result)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)) or np.ndim(value) != 0:
            return f"{name} should be a single number (a float), got {_describe_value(value)}"
        return array_problem(value, expected, name=name, rtol=rtol, atol=atol, batch_size=batch_size,
                             per_sample=per_sample, kind=kind)
    return _named(check, name)


def expect_tuple(*checks):
    """The value is a tuple/list of len(checks) parts, each with its own check; the parts are named by
    their checks (expect_array(..., name="dX")), which must name them apart."""
    names = [getattr(check, "name", None) for check in checks]
    if None in names or len(set(names)) < len(names):
        raise ValueError(f"expect_tuple: give each part's check its own name (names: {names})")

    def problems(result):
        value = _value(result)
        if not isinstance(value, (tuple, list)) or len(value) != len(checks):
            return dict.fromkeys(names, f"should return a tuple of {len(checks)} values, got {_describe_value(value)}")
        return {name: check({"value": part}) for name, check, part in zip(names, checks, value)}
    return PartsCheck(names, problems)


def expect_dict(expected: dict, *, rtol=1e-6, atol=1e-9):
    """A dict with exactly the keys of expected, each value an array matching it; its parts are the keys."""
    def problems(result):
        value = _value(result)
        if not isinstance(value, dict):
            whole = f"should return a dict with keys {sorted(expected)}, got {_describe_value(value)}"
        elif set(value) != set(expected):
            whole = f"dict keys are {sorted(value)}, expected {sorted(expected)}"
        else:
            return {key: array_problem(value[key], expected[key], name=f"[{key!r}]", rtol=rtol, atol=atol)
                    for key in expected}
        return dict.fromkeys(expected, whole)
    return PartsCheck(expected, problems)


def _describe_value(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def unchanged_problem(inputs, args_after, names=None):
    """None if no array argument was modified, else which one was, named by its parameter
    (names, by default inputs.names as Battery.iter_cases sets them), and what changed."""
    if inputs is None or args_after is None:
        return None
    names = names or getattr(inputs, "names", None) or []
    for position, (before, after) in enumerate(zip(inputs, args_after)):
        if after is None or isinstance(before, dict) and "__fn__" in before:
            continue
        if not _same(before, after):
            label = names[position] if position < len(names) else f"{position + 1}"
            if isinstance(before, np.ndarray) and not isinstance(after, np.ndarray):
                after = np.asarray(after)
            try:
                change = _change(before, after)
            except Exception:  # noqa: BLE001 - the detail is optional
                change = None
            return (f"argument {label} was modified in place" + (f" ({change})" if change else "")
                    + ": exercise functions must not change their inputs (work on a copy, e.g. `x = x.copy()`, "
                    "or build a new array)")
    return None


def _same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=True)
    return a == b or (isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b))
