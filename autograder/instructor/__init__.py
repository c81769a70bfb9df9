"""Instructor-only side of the autograder: reference implementations, hidden
batteries, the judge and the grading pipeline. Never shipped to students, and
refused (by an audit hook) inside the grading sandbox."""

import sys

# jsonschema (imported by nbformat) loads its optional IRI-syntax checker, rfc3987_syntax, which
# compiles 38 Lark grammars at import: 1.3 s in every grading process (the main one, each judge,
# each nbgrader job). Nothing the instructor side does validates IRIs; without the module,
# jsonschema leaves that one format unchecked. (A process that imported it already keeps it.)
sys.modules.setdefault("rfc3987_syntax", None)
