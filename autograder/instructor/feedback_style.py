"""Feedback pages that read well offline and on a phone (nbgrader `generate_feedback`).

Stock nbgrader feedback is nbconvert HTML whose math is typeset in the browser by MathJax from a
CDN (offline, and on many school networks, the student sees raw LaTeX), whose output blocks
(the hidden-test verdicts under every test cell) never wrap, and whose table of contents says
"Test cell" thirty times. `FeedbackExporter`, nbgrader's HTMLExporter with:

1. math typeset at feedback time: every `$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]` and
   `\\begin{env}...\\end{env}` that nbconvert's markdown parser finds (so code spans and escaped
   dollars are left alone, exactly as MathJax would) becomes an inline SVG image drawn by
   matplotlib's mathtext (Computer Modern, glyphs as paths: no font, no script, no network).
   TeX that mathtext lacks is rewritten first (`\\frac1N`, `\\mathbf x`, `\\tfrac`, `\\le`,
   `\\big(`...); matrices/cases become a small table of typeset cells, aligned lines are stacked;
   what still cannot be typeset is shown as its TeX source in a code box (and logged);
2. a mobile viewport, output blocks that wrap (`white-space: pre-wrap; overflow-wrap: anywhere`),
   code boxes that scroll inside themselves, and no prompt column on narrow screens;
3. a table of contents naming each graded function (the test cell's grade_id is `test_<function>`).

Wiring, in nbgrader_config.py (`feedback_config(c)` does exactly this):

    c.GenerateFeedback.exporter_class = "autograder.instructor.feedback_style.FeedbackExporter"

The formgrader's own HTMLExporter is untouched (the settings live on this subclass only).
"""

from __future__ import annotations

import base64
import functools
import html
import logging
import re
from pathlib import Path

import numpy as np

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from autograder.notebook_code import tested_function

__all__ = ["FeedbackExporter", "OfflineMathRenderer", "feedback_config", "render_math", "tex_to_mathtext",
           "TEMPLATE_FILE", "EXPORTER"]

TEMPLATE_FILE = Path(__file__).resolve().parent / "templates" / "feedback_offline.html.j2"
EXPORTER = "autograder.instructor.feedback_style.FeedbackExporter"
FONT_SIZE = 12.0  # points at which mathtext draws; the image is then sized in em of the page text
SCALE = 1.1  # TeX math is set a little larger than the surrounding text
log = logging.getLogger(__name__)


def feedback_config(c):
    """Make `nbgrader generate_feedback` (and `grade`'s feedback) use FeedbackExporter."""
    c.GenerateFeedback.exporter_class = EXPORTER
    return c


# --------------------------------------------------------------------------- TeX -> mathtext

# commands whose arguments mathtext wants in braces, with how many (TeX accepts `\frac1N`, `\mathbf x`)
_ARITY = {"frac": 2, "dfrac": 2, "tfrac": 2, "cfrac": 2, "binom": 2, "overset": 2, "underset": 2,
          "mathbf": 1, "mathbb": 1, "mathcal": 1, "mathrm": 1, "mathit": 1, "mathsf": 1, "mathtt": 1,
          "mathfrak": 1, "mathscr": 1, "boldsymbol": 1, "bm": 1, "operatorname": 1, "text": 1, "textrm": 1,
          "textbf": 1, "textit": 1, "mbox": 1, "hat": 1, "widehat": 1, "bar": 1, "overline": 1, "vec": 1,
          "tilde": 1, "widetilde": 1, "dot": 1, "ddot": 1, "check": 1, "breve": 1, "acute": 1, "grave": 1,
          "sqrt": 1, "underbrace": 1, "overbrace": 1, "underline": 1, "boxed": 1}
# commands mathtext lacks: TeX name -> the mathtext text that replaces the command ("" drops it)
_RENAME = {"tfrac": r"\frac", "cfrac": r"\dfrac", "le": r"\leq", "ge": r"\geq", "ne": r"\neq",
           "implies": r"\Rightarrow", "impliedby": r"\Leftarrow", "iff": r"\Leftrightarrow", "textrm": r"\text",
           "textbf": r"\mathbf", "textit": r"\mathit", "mbox": r"\text", "bm": r"\boldsymbol", "lvert": "|",
           "rvert": "|", "lVert": r"\Vert", "rVert": r"\Vert", "dotsc": r"\ldots", "dotsb": r"\cdots",
           "dotsm": r"\cdots", "lbrace": r"\{", "rbrace": r"\}", "gets": r"\leftarrow", "land": r"\wedge",
           "lor": r"\vee", "lnot": r"\neg", "textstyle": "", "displaystyle": "", "scriptstyle": "",
           "limits": "", "nolimits": "", "nonumber": "", "notag": "",
           **{size + side: "" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")},
           # wrappers mathtext lacks: the argument stays, in braces
           "boxed": "", "underbrace": "", "overbrace": "", "underline": ""}
_DROP_WITH_ARGUMENT = {"label", "tag", "tag*"}
_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|\s+|.", re.S)


def _tokens(tex):
    return _TOKEN.findall(tex)


def _group(tokens, i):
    """(the tokens of the argument starting at tokens[i] without its braces, next index); skips spaces."""
    while i < len(tokens) and tokens[i].isspace():
        i += 1
    if i >= len(tokens):
        return [], i
    if tokens[i] != "{":
        return [tokens[i]], i + 1
    depth, j = 0, i
    while j < len(tokens):
        depth += tokens[j] == "{"
        depth -= tokens[j] == "}"
        if depth == 0:
            return tokens[i + 1:j], j + 1
        j += 1
    return tokens[i + 1:], len(tokens)


def _normalize(tokens):
    out, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        name = tok[1:] if tok.startswith("\\") and tok[1:2].isalpha() else None
        i += 1
        if name in _DROP_WITH_ARGUMENT:
            _, i = _group(tokens, i)
            continue
        if name not in _ARITY:
            out.append(_RENAME.get(name, tok) if name else tok)
            continue
        command = _RENAME.get(name, "\\" + name)
        optional = []
        if name == "sqrt":  # \sqrt[n]{x}
            j = i
            while j < len(tokens) and tokens[j].isspace():
                j += 1
            if j < len(tokens) and tokens[j] == "[" and "]" in tokens[j:]:
                k = tokens.index("]", j)
                optional, i = tokens[j:k + 1], k + 1
        args = []
        for _ in range(_ARITY[name]):
            arg, i = _group(tokens, i)
            args.append(arg)
        verbatim = command in (r"\text", r"\operatorname", r"\mathrm")
        out += [command, *optional] if command else []
        for arg in args:
            out += ["{", *(arg if verbatim else _normalize(arg)), "}"]
    return out


def tex_to_mathtext(tex: str, display: bool = False) -> str:
    """TeX math (without delimiters) rewritten into the subset matplotlib's mathtext parses;
    display=True sets the outermost fractions in display style, as TeX does in display math."""
    tex = re.sub(r"(?<!\\)%[^\n]*", "", tex)  # TeX comments
    tokens, depth = _normalize(_tokens(tex)), 0
    if display:
        for i, tok in enumerate(tokens):
            depth += (tok == "{") - (tok == "}")
            if depth == 0 and tok == r"\frac":
                tokens[i] = r"\dfrac"
    return "".join(tokens).replace("\n", " ").strip()


# --------------------------------------------------------------------------- typesetting

class MathError(ValueError):
    """mathtext could not typeset an expression."""


@functools.lru_cache(maxsize=1)
def _text_to_path():
    """matplotlib's glyph-outline builder (one per process: its parse cache is per instance)."""
    from matplotlib.textpath import TextToPath
    return TextToPath()


def _path_data(vertices, codes, baseline):
    """SVG path data for a matplotlib path whose y axis points up, with y = 0 at `baseline` px from the top."""
    from matplotlib.path import Path as MplPath

    letters = {MplPath.MOVETO: "M", MplPath.LINETO: "L", MplPath.CURVE3: "Q", MplPath.CURVE4: "C"}
    parts = []
    for points, code in MplPath(vertices, codes).iter_segments(simplify=False, curves=True):
        if code == MplPath.CLOSEPOLY:
            parts.append("Z")
            continue
        xy = points.reshape(-1, 2)
        parts.append(letters[code] + " ".join(f"{x:.2f} {baseline - y:.2f}" for x, y in xy))
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _svg(mathtext: str):
    """(svg bytes, width, height, depth in points at FONT_SIZE) for a mathtext string (without $):
    the glyph outlines of matplotlib's mathtext layout as one SVG path (one parse, no figure)."""
    import matplotlib
    from matplotlib.font_manager import FontProperties

    text_to_path, source = _text_to_path(), f"${mathtext}$"
    prop = FontProperties(size=text_to_path.FONT_SCALE, math_fontfamily="cm")
    with matplotlib.rc_context({"mathtext.fontset": "cm"}):
        try:  # the layout's box, then its outlines (the second call reuses the parse)
            width, height, depth, _, _ = text_to_path.mathtext_parser.parse(source, text_to_path.DPI, prop)
            vertices, codes = text_to_path.get_text_path(prop, source, ismath=True)
        except Exception as exc:  # pyparsing errors, unknown symbols
            raise MathError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    scale = FONT_SIZE / text_to_path.FONT_SCALE
    width, height, depth = max(float(width) * scale, 1.0), max(float(height) * scale, 1.0), float(depth) * scale
    data = _path_data(np.asarray(vertices, dtype=float).reshape(-1, 2) * scale, codes, height - depth)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.3f}pt" height="{height:.3f}pt" '
           f'viewBox="0 0 {width:.3f} {height:.3f}"><path d="{data}" fill="#111"/></svg>')
    return svg.encode("utf-8"), width, height, depth


def _img(tex_source, mathtext, display):
    svg, width, height, depth = _svg(mathtext)
    em = SCALE / FONT_SIZE
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    css = f"width:{width * em:.3f}em;vertical-align:{-depth * em:.3f}em"
    return (f'<img class="tex-math{" tex-display-img" if display else ""}" src="{uri}" '
            f'alt="{html.escape(tex_source, quote=True)}" style="{css}">')


_ENV = re.compile(r"\\begin\{(?P<name>[A-Za-z]+\*?)\}(?P<body>.*?)\\end\{(?P=name)\}", re.S)
_MATRIX_DELIMS = {"matrix": ("", ""), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"), "Bmatrix": ("{", "}"),
                  "vmatrix": ("|", "|"), "Vmatrix": ("‖", "‖"), "smallmatrix": ("", ""),
                  "cases": ("{", ""), "dcases": ("{", ""), "array": ("", "")}
_LINES_ENVS = {"aligned", "align", "align*", "gather", "gather*", "split", "equation", "equation*",
               "multline", "multline*", "eqnarray", "eqnarray*", "gathered", "alignat", "alignat*"}


def _split_rows(body):
    """Rows of an environment body split at top-level `\\\\` (not inside braces)."""
    rows, depth, start, i = [], 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and body.startswith("\\\\", i) and depth == 0:
            rows.append(body[start:i])
            i += 2
            if body.startswith("[", i) and "]" in body[i:]:  # \\[2pt]
                i = body.index("]", i) + 1
            start = i
            continue
        if ch == "\\":
            i += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        i += 1
    rows.append(body[start:])
    return [r for r in rows if r.strip()]


def _split_cells(row):
    cells, depth, start, i = [], 0, 0, 0
    while i < len(row):
        ch = row[i]
        if ch == "\\":
            i += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "&" and depth == 0:
            cells.append(row[start:i])
            start = i + 1
        i += 1
    cells.append(row[start:])
    return cells


def _typeset(tex, display):
    """HTML for a piece of TeX math: one image, or a layout of images for environments and lines."""
    tex = tex.strip()
    if not tex:
        return ""
    env = _ENV.search(tex)
    if env:
        before, after = tex[:env.start()], tex[env.end():]
        name, body = env.group("name"), env.group("body")
        if name == "array":
            body = re.sub(r"^\s*\{[^}]*\}", "", body)  # the column spec
        parts = [_typeset(before, display) if before.strip() else ""]
        if name in _MATRIX_DELIMS:
            left, right = _MATRIX_DELIMS[name]
            rows = "".join("<tr>" + "".join(f"<td>{_typeset(cell, False)}</td>" for cell in _split_cells(row))
                           + "</tr>" for row in _split_rows(body))
            cls = "tex-cases" if "cases" in name else "tex-matrix"
            parts.append(f'<span class="{cls}"><span class="tex-delim">{html.escape(left)}</span>'
                         f'<table>{rows}</table><span class="tex-delim">{html.escape(right)}</span></span>')
        elif name in _LINES_ENVS:
            parts.append(_lines(body))
        else:
            raise MathError(f"unsupported environment {name}")
        parts.append(_typeset(after, display) if after.strip() else "")
        return "".join(parts)
    rows = _split_rows(tex)
    if len(rows) > 1:
        return _lines(tex)
    return _img(tex, tex_to_mathtext(tex.replace("&", " "), display), display)


def _lines(body):
    """Lines of aligned/gather/...: a table whose `&` columns alternate right and left (as in TeX)."""
    rows = [_split_cells(row) for row in _split_rows(body)]
    if all(len(cells) == 1 for cells in rows):
        return ('<span class="tex-lines">' + "".join(f'<span class="tex-line">{_typeset(cells[0], True)}</span>'
                                                      for cells in rows) + "</span>")
    html_rows = "".join('<tr class="tex-line">' + "".join(f"<td>{_typeset(cell, True)}</td>" for cell in cells)
                        + "</tr>" for cells in rows)
    return f'<span class="tex-align"><table>{html_rows}</table></span>'


def render_math(tex: str, display: bool = False) -> str:
    """HTML for TeX math (without its $ delimiters): typeset images, or the TeX in a code box."""
    try:
        inner = _typeset(tex, display)
    except MathError as exc:
        log.warning("could not typeset %r: %s", tex, exc)
        inner = f'<code class="tex-source">{html.escape(tex.strip())}</code>'
    if display:
        return f'<span class="tex-display">{inner}</span>'
    return f'<span class="tex-inline">{inner}</span>'


# --------------------------------------------------------------------------- nbconvert hooks

class OfflineMathRenderer(IPythonRenderer):
    """nbconvert's markdown renderer with the math typeset here instead of left for MathJax."""

    def block_math(self, body):
        return render_math(body, display=True)

    def inline_math(self, body):
        return render_math(body, display=False)

    def latex_environment(self, name, body):
        return render_math(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    def multiline_math(self, text):  # older mistune: the raw $$...$$ block
        return render_math(text.strip().strip("$"), display=True)


def latex_output(latex):
    """A text/latex output ($...$, $$...$$, \\[...\\] or an environment), typeset."""
    text = str(latex).strip()
    for left, right in (("$$", "$$"), ("\\[", "\\]"), ("$", "$"), ("\\(", "\\)")):
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
            return render_math(text[len(left):-len(right)], display=True)
    return render_math(text, display=True)


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback HTML (template "feedback"), typeset offline and readable on a phone."""

    def __init__(self, config=None, **kw):
        super().__init__(config=config, **kw)
        own = self.config.get(type(self).__name__, {})
        if "template_name" not in own:
            self.template_name = "feedback"  # nbgrader's, which this template extends
        if "template_file" not in own:
            self.template_file = str(TEMPLATE_FILE)  # a file path: nbconvert adds its folder to the search path
        if "exclude_anchor_links" not in own:
            self.exclude_anchor_links = True  # no pilcrow after every heading
        if "template_paths" not in own:  # computed once, during __init__: again, with the template's folder
            self.template_paths = self._template_paths()

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        renderer = OfflineMathRenderer(
            escape=False, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)

    def default_filters(self):
        yield from super().default_filters()
        yield ("latex_output", latex_output)
        yield ("tested_function", tested_function)

    def from_notebook_node(self, nb, resources=None, **kw):
        """HTMLExporter's conversion without its BeautifulSoup pass over the whole page (alt texts and
        tabindex attributes), which took half of the feedback's time: math images carry their TeX as
        alt text already, and grading renders many pages."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code",
                             self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                        parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)
