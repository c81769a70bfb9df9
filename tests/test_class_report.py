"""The class report (autograder/instructor/class_report.py) on a synthetic class with known mistakes.

The failure messages are real: they come from autograder.gradcheck.compare and the battery checks
on planted wrong arrays, from the judge's own evaluate/judge_function (not implemented, modified
in place, out of time), and from the real ex04 battery run against planted bugs through
judge.judge_function with an in-process stand-in for the sandbox. The report is rendered in
headless Chromium (screenshots in the test's tmp_path).
"""

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from autograder.gradcheck import compare, no_inplace, numerical_vjp
from autograder.instructor import judge
from autograder.instructor.batteries import ASSIGNMENTS, load_battery
from autograder.instructor.battery import array_problem, call_case
from autograder.instructor.class_report import (MISTAKES, NOT_GRADED, OTHER, build_class_report, classify,
                                                classify_message, summarize)
from autograder.instructor.reference import ex04_expanded_jacobians as ref

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PAYLOAD = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'

# ------------------------------------------------------------------ planted mistakes -> real messages

RNG = np.random.default_rng(42)
N, L_IN, L_OUT = 4, 3, 5
X, W = RNG.standard_normal((N, L_IN)), RNG.standard_normal((L_IN, L_OUT))
DZ = RNG.standard_normal((N, L_OUT))
DW_NUMERIC = numerical_vjp(lambda W_: X @ W_, W.copy(), DZ)  # = X.T @ dZ, by central differences
SQUARE = RNG.standard_normal((4, 4))
Y, Y_HAT = RNG.standard_normal((N, 2)), RNG.standard_normal((N, 2))
DY_HAT = ref.mse_backward(Y, Y_HAT)  # (N, K) with K = 2 outputs per sample
DY1 = ref.mse_backward(Y[:, :1], Y_HAT[:, :1])  # (N, 1)


def failed(function, *problems, total=6):
    """A verdict in the judge's words: header line, then one `- case` line per problem."""
    lines = [f"{function}: failed {len(problems)} of {total} hidden test cases."]
    lines += [f"  - case X of shape ({N}, {L_IN}), W of shape ({L_IN}, {L_OUT}): {p}" for p in problems]
    return {"passed": False, "message": "\n".join(lines), "cases": total, "failed": len(problems)}


def passed(function, total=6):
    return {"passed": True, "message": f"{function}: passed all {total} hidden test cases.", "cases": total,
            "failed": 0}


def checker(actual, expected, name="dW", batch_size=N):
    """The numeric checker's diagnosis (comparison against central differences)."""
    result = compare(actual, expected, name=name, batch_size=batch_size)
    assert not result.ok
    return result.message


def battery_check(actual, expected, name="dY_hat", batch_size=N):
    """The battery's diagnosis (comparison against the reference, expected values hidden)."""
    problem = array_problem(actual, expected, name=name, batch_size=batch_size)
    assert problem
    return problem


def judged(case, reply):
    problem, _ = judge.evaluate(case, reply)
    assert problem
    return problem


def mse_case():
    return call_case("Y, Y_hat of shape (4, 2)", "mse_backward", (Y, Y_HAT), lambda result: None)


def not_implemented(function):
    verdict = judge.judge_function(RaisingSandbox("NotImplementedError"), load_battery("ex04_expanded_jacobians"),
                                   function)
    return {"passed": False, "message": verdict.message, "cases": verdict.cases, "failed": verdict.failed}


def out_of_time(function):
    verdict = judge.judge_function(BudgetSandbox(), load_battery("ex04_expanded_jacobians"), function)
    return {"passed": False, "message": verdict.message, "cases": verdict.cases, "failed": verdict.failed}


class RaisingSandbox:
    """Stands in for judge.Sandbox: every call raises `error_type` in the student's code."""
    skipped_cells, cell_errors = {}, {}

    def __init__(self, error_type, text=""):
        self.error_type, self.text = error_type, text

    def run(self, case, deadline=None):
        return {"ok": False, "error_type": self.error_type, "error": f"{self.error_type}: {self.text}"}


class BudgetSandbox:
    skipped_cells, cell_errors = {}, {}

    def run(self, case, deadline=None):
        raise judge.BudgetExceeded()


class PlantedSandbox:
    """Runs planted (buggy) implementations in this process, with the sandbox's reply format."""
    skipped_cells, cell_errors = {}, {}

    def __init__(self, implementations):
        self.implementations = implementations

    def run(self, case, deadline=None):
        name, args, kwargs = case.args
        args = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        try:
            with np.errstate(all="ignore"):
                value = self.implementations[name](*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the student's error, as the sandbox reports it
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "error_type": type(exc).__name__}
        return {"ok": True, "result": {"value": value, "args_after": args}}


def synthetic_class():
    """10 students, ex04 (affine_backward, mse_backward, softmax) and ex01 (sigmoid), known mistakes."""
    students = [f"s{i:02d}" for i in range(10)]
    affine = {
        "s00": failed("affine_backward", checker(DW_NUMERIC.T, DW_NUMERIC)),            # transposed shape
        "s01": failed("affine_backward", checker(DW_NUMERIC.T, DW_NUMERIC), checker(DW_NUMERIC.T, DW_NUMERIC)),
        "s02": failed("affine_backward", checker(DW_NUMERIC.T, DW_NUMERIC)),
        "s03": failed("affine_backward", checker(SQUARE.T, SQUARE)),                     # square: values only
        "s04": failed("affine_backward", checker(_one_entry(DW_NUMERIC), DW_NUMERIC)),      # one wrong entry
        "s05": failed("affine_backward", checker(_one_entry(DW_NUMERIC, (2, 4)), DW_NUMERIC)),
        "s06": failed("affine_backward", checker(np.where(DW_NUMERIC > 0, np.nan, DW_NUMERIC), DW_NUMERIC)),
    }
    mse = {
        "s00": failed("mse_backward", battery_check(DY_HAT * N, DY_HAT)),                 # 1/N missing
        "s01": failed("mse_backward", battery_check(DY_HAT * N, DY_HAT), checker(DY_HAT * N, DY_HAT, "dY_hat")),
        "s02": failed("mse_backward", checker(DY_HAT * N, DY_HAT, "dY_hat")),
        "s03": failed("mse_backward", battery_check(DY_HAT * N, DY_HAT)),
        "s04": failed("mse_backward", battery_check(DY_HAT * N, DY_HAT)),
        "s05": failed("mse_backward", battery_check(-DY_HAT, DY_HAT)),                    # flipped sign
        "s06": failed("mse_backward", battery_check(DY1 / 2, DY1)),                       # factor 2 missing
        "s07": failed("mse_backward", judged(mse_case(), {"ok": True, "result": {            # in place
            "value": DY_HAT, "args_after": [Y * 0, Y_HAT]}})),
        "s08": not_implemented("mse_backward"),
    }
    softmax = {
        "s00": failed("softmax", judged(call_case("L of shape (4, 2)", "softmax", (Y,), lambda r: None),
                                        {"ok": False, "error_type": "ValueError",
                                         "error": f"ValueError: {PAYLOAD}"})),
        "s01": out_of_time("softmax"),
    }
    results = []
    for s in students:
        verdicts = {"affine_backward": affine.get(s, passed("affine_backward")),
                    "mse_backward": mse.get(s, passed("mse_backward")),
                    "softmax": softmax.get(s, passed("softmax"))}
        score = sum(v["passed"] for v in verdicts.values()) * 10 / 3
        results.append({"student": s, "assignment": "ex04_expanded_jacobians", "score": score, "max_score": 10.0,
                        "verdicts": verdicts})
    for i, s in enumerate(students[:4]):
        verdict = passed("sigmoid") if i < 2 else {"passed": False, "message": "sigmoid: something odd happened",
                                                   "cases": 3, "failed": 1}
        results.append({"student": s, "assignment": "ex01_differentiation", "score": 5.0 * verdict["passed"],
                        "max_score": 5.0, "verdicts": {"sigmoid": verdict}})
    results.append({"student": "s04", "assignment": "ex01_differentiation", "score": 0.0, "max_score": 5.0,
                    "verdicts": {"__error__": "the judge crashed or did not finish"}})
    return results


def _one_entry(G, index=(0, 1)):
    G = G.copy()
    G[index] += 3.0
    return G


# ------------------------------------------------------------------ classification

def test_each_planted_mistake_gets_its_category():
    assert classify_message(failed("f", checker(DW_NUMERIC.T, DW_NUMERIC))["message"]) == ["missing transpose"]
    assert classify_message(failed("f", checker(SQUARE.T, SQUARE))["message"]) == ["missing transpose"]
    assert classify_message(failed("f", battery_check(DY_HAT * N, DY_HAT))["message"]) == ["1/N missing (mean vs sum)"]
    assert classify_message(failed("f", battery_check(DY_HAT / N, DY_HAT))["message"]) \
        == ["1/N too much (mean where a sum is needed)"]
    assert classify_message(failed("f", battery_check(DY_HAT / 2, DY_HAT))["message"]) \
        == ["mean over all N*K entries (np.mean)"]  # np.mean over N*K entries: the checker's first guess
    assert classify_message(failed("f", battery_check(DY_HAT / (2 * N), DY_HAT))["message"]) \
        == ["mean over all N*K entries (np.mean)"]
    assert classify_message(failed("f", battery_check(-DY_HAT, DY_HAT))["message"]) == ["flipped sign"]
    assert classify_message(failed("f", battery_check(DY1 / 2, DY1))["message"]) == ["factor 2"]
    assert classify_message(failed("f", battery_check(DY1 * -2, DY1))["message"]) == ["factor 2"]
    assert classify_message(failed("f", checker(DY_HAT * 2, DY_HAT, batch_size=None))["message"]) == ["factor 2"]
    A, B = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    assert classify_message(failed("f", compare(A @ B.T, A.T @ B, name="dW", operands={"X": A, "dZ": B}).message)
                            ["message"]) == ["missing transpose"]
    assert classify_message(failed("f", compare(B @ A, A.T @ B, name="dW", operands={"X": A, "dZ": B}).message)
                            ["message"]) == ["wrong product (factors or their order)"]
    assert classify_message(failed("f", battery_check(DY_HAT * 7.3, DY_HAT))["message"]) == ["other constant factor"]
    assert classify_message(failed("f", checker(_one_entry(DW_NUMERIC), DW_NUMERIC))["message"]) == ["one wrong entry"]
    nan = np.where(DW_NUMERIC > 0, np.inf, DW_NUMERIC)
    assert classify_message(failed("f", checker(nan, DW_NUMERIC))["message"]) == ["NaN/inf (overflow, log(0), division by 0)"]
    db = DZ.sum(axis=0)
    assert classify_message(failed("f", checker(DZ.sum(axis=1), db, "db"))["message"]) == ["wrong sum axis"]
    assert classify_message(failed("f", checker(db, DZ, "dZ"))["message"]) == ["wrong sum axis"]  # an axis gone
    assert classify_message(failed("f", checker(db[:3], db, "db", batch_size=None))["message"]) == ["wrong shape"]
    assert classify_message(failed("f", checker(DZ.reshape(-1), DZ, "dZ"))["message"]) == ["wrong shape"]
    assert classify_message(failed("f", checker(np.zeros_like(DZ), DZ, "dZ"))["message"]) == ["all zeros (a term missing?)"]
    row = DZ.copy()
    row[2] += 1.0
    assert classify_message(failed("f", checker(row, DZ, "dZ"))["message"]) == ["wrong row or column"]
    assert classify_message(failed("f", array_problem(None, DZ, name="dZ"))["message"]) == ["wrong type / missing return"]
    assert classify_message(failed("f", array_problem(DZ.tolist(), DZ, name="dZ"))["message"]) \
        == ["wrong type / missing return"]
    assert classify_message(not_implemented("softmax")["message"]) == ["not implemented"]
    with pytest.raises(AssertionError) as inplace:
        no_inplace(lambda Y_, P: P.__isub__(Y_))(Y.copy(), Y_HAT.copy())
    assert classify_message(failed("f", str(inplace.value))["message"]) == ["modified an input in place"]
    case = call_case("L of shape (4, 2)", "softmax", (Y,), lambda r: None)
    overflow = judged(case, {"ok": False, "error_type": "FloatingPointError",
                             "error": "FloatingPointError: overflow encountered in exp"})
    assert classify_message(failed("f", overflow)["message"]) == ["NaN/inf (overflow, log(0), division by 0)"]
    assert classify_message(out_of_time("softmax")["message"]) == ["out of time / crashed"]
    assert classify_message("f: failed 1 of 3 hidden test cases.\n  - case x: the moon is made of cheese") == [OTHER]


def test_student_error_text_does_not_pick_a_category():
    # the student's own exception text mentions other diagnoses: it is still "raised an exception"
    case = call_case("L of shape (4, 2)", "softmax", (Y,), lambda r: None)
    problem = judged(case, {"ok": False, "error_type": "ValueError",
                            "error": "ValueError: missing transpose, wrong sign everywhere, contains NaN"})
    assert classify_message(failed("softmax", problem)["message"]) == ["raised an exception"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_case_description_of_any_battery_picks_a_category(assignment):
    """Case descriptions are part of every failure line; they must not look like a diagnosis."""
    battery = load_battery(assignment)
    for function in battery.functions:
        for case in battery.iter_cases(function):
            assert classify(case.description) == OTHER, (function, case.description)


def test_real_battery_messages_on_planted_bugs_are_classified():
    """The ex04 battery through the judge's own judge_function, planted bugs run in-process."""
    battery = load_battery("ex04_expanded_jacobians")

    def crashing(dC, A, B):
        return dC / 0 if dC.ndim > 5 else {}["missing key"]

    def inplace_affine(dZ, X_, W_):
        grads = ref.affine_backward(dZ, X_, W_)
        dZ *= 2.0
        return grads

    planted = {
        "affine_backward": (lambda dZ, X_, W_: (dZ @ W_.T, (X_.T @ dZ).T, dZ.sum(0)), "missing transpose"),
        "mse_backward": (lambda Y_, P: ref.mse_backward(Y_, P) * len(Y_), "1/N missing (mean vs sum)"),
        "bias_backward": (lambda dC: dC.sum(axis=1), "wrong sum axis"),
        "softmax_backward": (lambda dY, P: -ref.softmax_backward(dY, P), "flipped sign"),
        "bce_backward": (lambda Y_, P: ref.bce_backward(Y_, P) * 2, "factor 2"),
        "softmax": (lambda L: np.exp(L) / np.exp(L).sum(axis=1, keepdims=True),
                    "NaN/inf (overflow, log(0), division by 0)"),
        "matmul_backward": (crashing, "raised an exception"),
        "tanh_backward": (lambda dA, A: dA * (1 - A ** 2) + (A == A.flat[0]) * 5.0, "one wrong entry"),
        "sigmoid_backward": (lambda dA, A: dA.tolist(), "wrong type / missing return"),
    }
    results = []
    for function, (implementation, _) in planted.items():
        verdict = judge.judge_function(PlantedSandbox({function: implementation}), battery, function)
        assert not verdict.passed, function
        results.append({"student": function, "assignment": "ex04_expanded_jacobians", "score": 0, "max_score": 1,
                        "verdicts": {function: {"passed": False, "message": verdict.message, "cases": verdict.cases,
                                                "failed": verdict.failed}}})
        assert classify_message(verdict.message) == [planted[function][1]], verdict.message
    verdict = judge.judge_function(PlantedSandbox({"affine_backward": inplace_affine}), battery, "affine_backward")
    assert classify_message(verdict.message) == ["modified an input in place"]


def test_mistakes_table_is_one_ordered_list_of_compilable_patterns():
    names = [name for name, _ in MISTAKES]
    assert len(names) == len(set(names)) and OTHER not in names
    for name, pattern in MISTAKES:
        re.compile(pattern)


# ------------------------------------------------------------------ counts, shares, text

def test_counts_and_shares_on_the_synthetic_class(tmp_path):
    summary = summarize(synthetic_class())
    ex04 = summary.assignments["ex04_expanded_jacobians"]
    affine, mse, softmax = (ex04.functions[f] for f in ("affine_backward", "mse_backward", "softmax"))
    assert (affine.passed, affine.students) == (3, 10) and affine.share == pytest.approx(0.3)
    assert {c: len(w) for c, w in affine.ranked()} == {
        "missing transpose": 4, "one wrong entry": 2, "NaN/inf (overflow, log(0), division by 0)": 1}
    assert affine.ranked()[0] == ("missing transpose", ["s00", "s01", "s02", "s03"])
    assert (mse.passed, mse.students) == (1, 10)
    assert {c: len(w) for c, w in mse.ranked()} == {
        "1/N missing (mean vs sum)": 5, "flipped sign": 1, "factor 2": 1, "modified an input in place": 1,
        "not implemented": 1}
    assert (softmax.passed, softmax.students) == (8, 10)
    assert {c: len(w) for c, w in softmax.ranked()} == {"raised an exception": 1, "out of time / crashed": 1}
    ex01 = summary.assignments["ex01_differentiation"].functions["sigmoid"]
    assert (ex01.passed, ex01.students) == (2, 5)
    assert {c: len(w) for c, w in ex01.ranked()} == {OTHER: 2, NOT_GRADED: 1}
    top = summary.mistakes()
    assert top[0][0] == "1/N missing (mean vs sum)" and len(top[0][1]) == 5
    assert top[1][0] == "missing transpose" and len(top[1][1]) == 4
    assert [f.function for f in summary.hardest(2)] == ["mse_backward", "affine_backward"]

    text = build_class_report(synthetic_class(), tmp_path / "report.html")
    assert "Class report: 10 student(s), 2 assignment(s)" in text
    assert "1/N missing (mean vs sum): 5 students (mse_backward 5)" in text
    assert "missing transpose: 4 students (affine_backward 4)" in text
    assert re.search(r"affine_backward\s+3/10 \(30%\)\s+missing transpose: 4 students, one wrong entry: 2 students", text)
    assert re.search(r"mse_backward\s+1/10 \(10%\)\s+1/N missing \(mean vs sum\): 5 students", text)
    assert re.search(r"softmax\s+8/10 \(80%\)", text)
    assert "ex04_expanded_jacobians: 10 submission(s), max score 10" in text
    assert (tmp_path / "report.html").exists()


# ------------------------------------------------------------------ HTML safety

class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.event_attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.event_attributes += [(tag, name) for name, _ in attrs if name.lower().startswith("on")]

    def handle_data(self, data):
        self.text.append(data)


def test_student_text_is_escaped(tmp_path):
    results = synthetic_class()
    results.append({"student": '<img src=x onerror="window.__xss = 3">', "assignment": "ex04_expanded_jacobians",
                    "score": 0, "max_score": 10, "verdicts": {"softmax": failed("softmax", PAYLOAD)}})
    out = tmp_path / "report.html"
    build_class_report(results, out)
    page = out.read_text()
    parser = _Elements()
    parser.feed(page)
    assert "script" not in parser.tags
    assert parser.event_attributes == []
    assert [t for t in parser.tags if t == "img"] == ["img", "img"]  # the two plots, nothing else
    text = "".join(parser.text)
    assert PAYLOAD in text  # shown to the instructor as text
    assert "default-src 'none'" in page  # and no script could run even if something slipped through


# ------------------------------------------------------------------ in a browser

@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (bash scripts/install_chromium.sh)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_report_in_chromium(tmp_path, browser):
    out = tmp_path / "report.html"
    build_class_report(synthetic_class(), out)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(out.as_uri())
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    text = page.inner_text("body")
    assert page.evaluate("window.__xss") is None
    assert "Most common mistakes across the class" in text
    assert re.search(r"1/N missing \(mean vs sum\)\s+5 \(50%\)", text)
    assert re.search(r"missing transpose\s+4 \(40%\)", text)
    assert re.search(r"affine_backward\s+3/10 \(30%\)", text)
    assert re.search(r"missing transpose: 4\s+one wrong entry: 2", text)
    assert PAYLOAD in text  # the student's error text, shown literally
    plots = page.evaluate("[...document.querySelectorAll('img.plot')].map(i => [i.naturalWidth, i.complete])")
    assert plots == [[640, True], [640, True]]
    page.close()

    phone = browser.new_page(viewport={"width": 400, "height": 800})
    phone.goto(out.as_uri())
    phone.screenshot(path=str(tmp_path / "report-400px.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 2")
    phone.close()
