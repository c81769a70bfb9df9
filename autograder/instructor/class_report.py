"""The class report: what a class got wrong, for the instructor (written after `grade`).

    text = build_class_report(results, "report.html")   # also returns the same as plain text

`results` holds one dict per graded submission:

    {"student": "alice", "assignment": "ex04_expanded_jacobians", "score": 7.0, "max_score": 10.0,
     "verdicts": {"affine_backward": {"passed": False, "message": "...", "cases": 6, "failed": 6}, ...}}

The report shows, per assignment, the score distribution (a PNG plot embedded as a data URI, so
report.html is one self-contained file that works offline) and, per graded function, the share of
students who passed and the mistakes the judge diagnosed ("missing transpose: 12 students"). Failure
messages are sorted into the named categories of MISTAKES (one table, below) by what the checker
(autograder.gradcheck.compare), the battery checks and the judge write; a message that matches
none is "other", and its text is shown so the table can grow.

Everything from a submission (student ids, messages, which may quote the student's own error text)
is escaped in the HTML, and the page carries a Content-Security-Policy that allows no script at all.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import re
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MISTAKES", "ALTERNATIVES", "OTHER", "NOT_GRADED", "classify", "classify_message", "summarize", "render_text",
           "render_html", "build_class_report"]

# --------------------------------------------------------------------------- mistake categories
#
# (name, pattern) in priority order: each failing case of a verdict gets the FIRST category whose
# pattern matches its problem text (case-insensitive) -- except among ALTERNATIVES: the checker
# lists the possible causes of a constant factor most likely first ("...; or ..."), so of those
# the one named first in the text wins. Patterns use the diagnosis wording of
# autograder.gradcheck (compare, _shape_message, _value_message, _factor_hint, _product_message,
# no_inplace), of autograder.instructor.battery (array_problem, expect_*, unchanged_problem) and of
# the judge (evaluate, judge_function, Sandbox): specific phrases, not single words, so that a case
# description ("logits of +-1000 (no NaN/overflow)") or a student's own error text does not pick a
# category (tests/test_class_report.py checks every battery's case descriptions and real messages).
MISTAKES: list[tuple[str, str]] = [
    # the student's code raised: the rest of the text is the student's own error message, so this
    # comes first (the text after "raised X:" must not pick a category); numpy's errors are numerics
    ("raised an exception", r"(?:^|: )raised (?!FloatingPointError)[A-Za-z_][\w.]*"),
    ("not implemented", r"not implemented yet|raises NotImplementedError"),
    ("out of time / crashed", r"timed out after|out of grading time|ended the grading process|"
                              r"grading channel was corrupted|result was too large|grader could not read|"
                              r"judge crashed|did not finish|could not run"),
    ("modified an input in place", r"modified in place|modified .{0,120}? in place"),
    ("NaN/inf (overflow, log(0), division by 0)", r"NaN/inf entr|contains NaN|NaN or inf|numpy warned|"
                                                  r"FloatingPointError"),
    ("missing transpose", r"transposed shape matches|the TRANSPOSE of|missing transpose|extra transpose"),
    ("wrong product (factors or their order)", r"factors are in the wrong order|other factors than the"),
    ("1/N missing (mean vs sum)", r"1/N of the mean loss is missing|is a 1/N \(mean\) missing"),
    ("mean over all N*K entries (np.mean)", r"divided by N\*K|division by N\*K|N\*K = \d+|entries per sample"),
    ("1/N too much (mean where a sum is needed)", r"1/N too much|1/N applied twice"),
    ("factor 2", r"a factor 2 (?:too much|missing)"),
    ("flipped sign", r"wrong sign everywhere|sign is flipped"),
    ("wrong sum axis", r"sum over axis 0 \(the samples\)|sum over an axis you should keep|"
                       r"is a sum over the batch \(axis 0\) missing"),
    ("wrong shape", r"has shape \(.*?\), but it must have shape|has shape .*?expected|unwanted reshape|"
                    r"row sums range"),
    ("wrong type / missing return", r"is None: did you forget|should be a numpy array|should be a single number|"
                                    r"should return a (?:tuple|dict)|must return a (?:dict|pair)|is not numeric|"
                                    r"not an array of numbers|of an unexpected kind|dict keys are|keys are \[|"
                                    r"must be a list of numbers|is not a pair|must be a dict|"
                                    r"returned \d+ gradient\(s\)"),
    ("other constant factor", r"off by a constant factor|\(a factor -?\d+(?:/\d+)?:"),
    ("all zeros (a term missing?)", r"is all zeros"),
    ("one wrong entry", r"exactly one entry of \d+ is wrong"),
    ("wrong row or column", r"All wrong entries are in (?:row|column)"),
    ("missing input check (should raise)", r"should raise \w+"),
    ("training does not work", r"did not decrease|training accuracy|different seeds gave the same|"
                               r"must start at zero|symmetry must be broken|cannot be evaluated"),
    ("wrong values", r"entries are wrong|should be \(numerically\) zero|yours -?[\d.]"),
]
# alternative causes of one constant factor: the first one the message names wins
ALTERNATIVES = {"1/N missing (mean vs sum)", "mean over all N*K entries (np.mean)",
                "1/N too much (mean where a sum is needed)", "factor 2", "flipped sign"}
OTHER = "other"
NOT_GRADED = "not graded (no verdict)"
_COMPILED = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in MISTAKES]
_CASE_LINE = re.compile(r"^\s*-\s*case\s+", re.IGNORECASE)
_NOTE_LINE = re.compile(r"^\s*note:", re.IGNORECASE)


def classify(problem: str) -> str:
    """The mistake category of one problem text (one failing case)."""
    matches = [(name, match.start()) for name, pattern in _COMPILED if (match := pattern.search(problem))]
    if not matches:
        return OTHER
    if matches[0][0] in ALTERNATIVES:
        return min((m for m in matches if m[0] in ALTERNATIVES), key=lambda m: m[1])[0]
    return matches[0][0]


def _problems(message: str) -> list[str]:
    """The problem texts of a verdict message: its `- case ...: problem` lines, or, when it has none
    (e.g. "f: not implemented yet ..."), the message itself without its loading notes."""
    lines = [line for line in str(message).splitlines() if line.strip()]
    cases = [_CASE_LINE.sub("", line, count=1) for line in lines if _CASE_LINE.match(line)]
    if cases:
        return cases
    kept = [line.strip() for line in lines if not _NOTE_LINE.match(line)]
    return [" ".join(kept)] if kept else []


def classify_message(message: str) -> list[str]:
    """The distinct mistake categories of a failed verdict's message, in order of appearance."""
    found = list(OrderedDict.fromkeys(classify(p) for p in _problems(message)))
    return found or [OTHER]


# --------------------------------------------------------------------------- aggregation

@dataclass
class FunctionSummary:
    assignment: str
    function: str
    students: int = 0
    passed: int = 0
    mistakes: dict = field(default_factory=lambda: defaultdict(list))  # category -> [student, ...]
    examples: dict = field(default_factory=lambda: defaultdict(list))  # category -> [(student, problem)]

    @property
    def share(self):
        return self.passed / self.students if self.students else 0.0

    def ranked(self):
        """[(category, students)] most common first (ties in table order)."""
        order = {name: i for i, (name, _) in enumerate(MISTAKES + [(OTHER, ""), (NOT_GRADED, "")])}
        return sorted(((c, sorted(set(s))) for c, s in self.mistakes.items()),
                      key=lambda item: (-len(item[1]), order.get(item[0], 99)))


@dataclass
class AssignmentSummary:
    assignment: str
    scores: dict = field(default_factory=dict)  # student -> (score, max_score)
    functions: dict = field(default_factory=OrderedDict)  # function -> FunctionSummary

    def percents(self):
        return [100.0 * s / m if m else 0.0 for s, m in self.scores.values()]


@dataclass
class ClassSummary:
    assignments: dict  # assignment -> AssignmentSummary (first-seen order)
    students: list

    def mistakes(self):
        """[(category, sorted students, Counter of functions)] across the class, most students first."""
        students, where = defaultdict(set), defaultdict(Counter)
        for a in self.assignments.values():
            for f in a.functions.values():
                for category, who in f.mistakes.items():
                    students[category] |= set(who)
                    where[category][f.function] += len(set(who))
        order = {name: i for i, (name, _) in enumerate(MISTAKES + [(OTHER, ""), (NOT_GRADED, "")])}
        return sorted(((c, sorted(s), where[c]) for c, s in students.items()),
                      key=lambda item: (-len(item[1]), order.get(item[0], 99)))

    def hardest(self, n=5):
        """The n functions with the lowest pass share (at least one failure)."""
        functions = [f for a in self.assignments.values() for f in a.functions.values() if f.passed < f.students]
        return sorted(functions, key=lambda f: (f.share, f.assignment, f.function))[:n]


def summarize(results) -> ClassSummary:
    """Aggregate the results (see build_class_report) per assignment and function. A student's last
    result for an assignment counts; a function missing from a student's verdicts (the judge failed
    on that notebook) counts as NOT_GRADED."""
    latest = OrderedDict()
    for r in results:
        latest[(str(r.get("assignment", "")), str(r.get("student", "")))] = r
    assignments = OrderedDict()
    for (assignment, _), r in latest.items():
        summary = assignments.setdefault(assignment, AssignmentSummary(assignment))
        verdicts = r.get("verdicts") or {}
        for function in verdicts:
            if not str(function).startswith("__"):
                summary.functions.setdefault(function, FunctionSummary(assignment, str(function)))
    for (assignment, student), r in latest.items():
        summary = assignments[assignment]
        summary.scores[student] = (_number(r.get("score")), _number(r.get("max_score")))
        verdicts = r.get("verdicts") or {}
        for function, f in summary.functions.items():
            f.students += 1
            verdict = verdicts.get(function)
            if not isinstance(verdict, dict):
                error = verdicts.get("__error__", "no verdict for this function")
                f.mistakes[NOT_GRADED].append(student)
                f.examples[NOT_GRADED].append((student, str(error)))
                continue
            if verdict.get("passed"):
                f.passed += 1
                continue
            message = str(verdict.get("message", ""))
            problems = _problems(message) or [message]
            for category in classify_message(message):
                f.mistakes[category].append(student)
                example = next((p for p in problems if classify(p) == category), problems[0] if problems else "")
                f.examples[category].append((student, example))
    students = sorted({s for _, s in latest})
    return ClassSummary(assignments, students)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


# --------------------------------------------------------------------------- plot

def _histogram_png(summary: AssignmentSummary) -> bytes:
    """The score distribution of one assignment as a PNG (matplotlib Agg, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    percents = summary.percents()
    fig = Figure(figsize=(6.4, 2.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bins = list(range(0, 101, 10))
    counts, _, bars = ax.hist([min(max(p, 0.0), 100.0) for p in percents], bins=bins, color="#4c72b0",
                              edgecolor="white")
    for count, bar in zip(counts, bars):
        if count:
            ax.annotate(f"{int(count)}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
    mean = sum(percents) / len(percents) if percents else 0.0
    if percents:
        ax.axvline(mean, color="#c44e52", linestyle="--", linewidth=1.2)
    ax.set_xlim(0, 100)
    ax.set_xticks(bins)
    ax.set_ylim(0, max([1.0, *counts]) * 1.2)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("score (% of the maximum)")
    ax.set_ylabel("students")
    ax.set_title(f"{summary.assignment}: {len(percents)} submission(s), mean {mean:.0f}% (dashed)", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --------------------------------------------------------------------------- text

def _pct(part, whole):
    return f"{100.0 * part / whole:.0f}%" if whole else "-"


def _stats(summary: AssignmentSummary):
    percents = sorted(summary.percents())
    if not percents:
        return "no submissions"
    n = len(percents)
    median = percents[n // 2] if n % 2 else (percents[n // 2 - 1] + percents[n // 2]) / 2
    maximum = max((m for _, m in summary.scores.values()), default=0.0)
    return (f"{n} submission(s), max score {maximum:g}; mean {sum(percents) / n:.0f}%, median {median:.0f}%, "
            f"lowest {percents[0]:.0f}%, highest {percents[-1]:.0f}%")


def _text_histogram(summary: AssignmentSummary, width=30):
    percents = summary.percents()
    counts = [0] * 10
    for p in percents:
        counts[min(int(max(p, 0.0) // 10), 9)] += 1
    peak = max(counts) or 1
    lines = []
    for i, count in enumerate(counts):
        label = f"{i * 10:>3d}-{str(i * 10 + 10) + '%':<4}"
        lines.append(f"    {label} | {'#' * round(width * count / peak) if count else ''} {count or ''}".rstrip())
    return lines


def _mistake_list(ranked, limit=None):
    items = [f"{category}: {len(who)} student{'s' if len(who) != 1 else ''}" for category, who in ranked]
    if limit and len(items) > limit:
        items = items[:limit] + [f"+{len(ranked) - limit} more"]
    return ", ".join(items)


def render_text(summary: ClassSummary) -> str:
    lines = [f"Class report: {len(summary.students)} student(s), {len(summary.assignments)} assignment(s)"]
    mistakes = summary.mistakes()
    if mistakes:
        lines += ["", "Most common mistakes across the class:"]
        for category, who, where in mistakes:
            places = ", ".join(f"{fn} {n}" for fn, n in where.most_common(4))
            more = f", +{len(where) - 4} more" if len(where) > 4 else ""
            lines.append(f"  {category}: {len(who)} student{'s' if len(who) != 1 else ''} ({places}{more})")
    hardest = summary.hardest()
    if hardest:
        lines += ["", "Lowest pass rates:"]
        for f in hardest:
            lines.append(f"  {f.function} ({f.assignment}): {f.passed}/{f.students} passed ({_pct(f.passed, f.students)})")
    for a in summary.assignments.values():
        lines += ["", f"{a.assignment}: {_stats(a)}"]
        lines += _text_histogram(a)
        if a.functions:
            width = max(len(f) for f in a.functions)
            lines.append(f"  {'function'.ljust(width)}  passed")
            for f in a.functions.values():
                passed = f"{f.passed}/{f.students} ({_pct(f.passed, f.students)})".ljust(14)
                lines.append(f"  {f.function.ljust(width)}  {passed} {_mistake_list(f.ranked(), 4)}".rstrip())
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 72rem;
       padding: 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.5rem; border-bottom: 1px solid #eee; }
th { background: #f5f5f5; }
td.num { white-space: nowrap; }
.bar { background: #eee; height: 0.6rem; width: 8rem; max-width: 100%; border-radius: 0.3rem; overflow: hidden; margin-top: 0.2rem; }
.bar span { display: block; height: 100%; background: #55a868; }
.bar.low span { background: #c44e52; } .bar.mid span { background: #dd8452; }
.mistake { display: inline-block; margin: 0 0.6rem 0.2rem 0; }
.count { font-weight: 600; }
details { margin-top: 0.3rem; } summary { cursor: pointer; color: #345; }
pre, .message { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.85rem; background: #fafafa;
                border-left: 3px solid #ddd; padding: 0.2rem 0.5rem; margin: 0.2rem 0; }
img.plot { max-width: 100%; height: auto; }
.muted { color: #666; font-size: 0.9rem; }
.scroll { overflow-x: auto; }
@media (max-width: 640px) {  /* phones: one function per block instead of a three-column table */
  table.functions thead { display: none; }
  table.functions tr { display: block; border-bottom: 1px solid #ddd; padding: 0.3rem 0; }
  table.functions td { display: block; border: none; padding: 0.15rem 0.25rem; }
}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _bar(share):
    level = "low" if share < 0.5 else "mid" if share < 0.8 else "ok"
    return f'<div class="bar {level}" aria-hidden="true"><span style="width: {100 * share:.0f}%"></span></div>'


def _function_row(f: FunctionSummary) -> str:
    ranked = f.ranked()
    mistakes = " ".join(f'<span class="mistake">{_e(c)}: <span class="count">{len(who)}</span></span>'
                        for c, who in ranked) or '<span class="muted">none</span>'
    details = ""
    if ranked:
        parts = []
        for category, who in ranked:
            distinct = OrderedDict()  # example text -> the first student with it
            for student, text in f.examples[category]:
                distinct.setdefault(text, student)
            sample = "".join(f'<div class="message">{_e(student)}: {_e(text)}</div>'
                             for text, student in list(distinct.items())[:2])
            parts.append(f"<p><b>{_e(category)}</b> ({len(who)}): {_e(', '.join(who))}</p>{sample}")
        details = f"<details><summary>students and examples</summary>{''.join(parts)}</details>"
    return (f"<tr><td><code>{_e(f.function)}</code></td>"
            f'<td class="num">{f.passed}/{f.students} ({_pct(f.passed, f.students)}){_bar(f.share)}</td>'
            f"<td>{mistakes}{details}</td></tr>")


def render_html(summary: ClassSummary, generated: str | None = None) -> str:
    generated = generated or _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
           "style-src 'unsafe-inline'\">",
           "<title>Class report</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>Class report</h1>",
           f'<p class="muted">{len(summary.students)} student(s), {len(summary.assignments)} assignment(s); '
           f"generated {_e(generated)}. Mistakes are the checker's diagnoses of the failing hidden test cases "
           "(a student counts once per function and mistake).</p>"]
    mistakes = summary.mistakes()
    out.append('<h2 id="mistakes">Most common mistakes across the class</h2>')
    if mistakes:
        out.append('<div class="scroll"><table><thead><tr><th>mistake</th><th>students</th><th>where (students)</th>'
                   "</tr></thead><tbody>")
        for category, who, where in mistakes:
            places = ", ".join(f"<code>{_e(fn)}</code> {n}" for fn, n in where.most_common())
            out.append(f"<tr><td>{_e(category)}</td><td class=\"num\"><span class=\"count\">{len(who)}</span>"
                       f" ({_pct(len(who), len(summary.students))})</td><td>{places}</td></tr>")
        out.append("</tbody></table></div>")
    else:
        out.append("<p>No failing hidden tests.</p>")
    hardest = summary.hardest()
    if hardest:
        out.append('<h2 id="hardest">Lowest pass rates</h2><ol>')
        out += [f"<li><code>{_e(f.function)}</code> ({_e(f.assignment)}): {f.passed}/{f.students} passed "
                f"({_pct(f.passed, f.students)})</li>" for f in hardest]
        out.append("</ol>")
    for index, a in enumerate(summary.assignments.values()):
        png = base64.b64encode(_histogram_png(a)).decode("ascii")
        out.append(f'<h2 id="assignment-{index}">{_e(a.assignment)}</h2>')
        out.append(f"<p>{_e(_stats(a))}</p>")
        out.append(f'<img class="plot" src="data:image/png;base64,{png}" width="640" height="260" '
                   f'alt="{_e("score distribution of " + a.assignment + ": " + _stats(a))}">')
        if a.functions:
            out.append('<div class="scroll"><table class="functions"><thead><tr><th>function</th><th>passed</th>'
                       "<th>diagnosed mistakes (students)</th></tr></thead><tbody>")
            out += [_function_row(f) for f in a.functions.values()]
            out.append("</tbody></table></div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def build_class_report(results, out_path) -> str:
    """results: iterable of dicts {"student": str, "assignment": str, "score": float, "max_score": float,
    "verdicts": {function: {"passed": bool, "message": str, "cases": int, "failed": int}}}.
    Writes the HTML report to out_path; returns the plain-text version (for the terminal)."""
    summary = summarize(list(results))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_text(render_html(summary), encoding="utf-8")
    tmp.replace(out_path)
    return render_text(summary)
