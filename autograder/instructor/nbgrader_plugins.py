"""Preprocessors that nbgrader loads from the course's nbgrader_config.py.

They make stock nbgrader (the command line and formgrader's buttons) produce
exactly what the course needs, so no step runs after nbgrader:

- ReleaseNotebook, last of `nbgrader generate_assignment`: tags every test cell
  `raises-exception` (in the release they fail until the student answers, and
  with the tag a student's Run All and `pytest --nbval-lax` carry on past them)
  and keeps only stable notebook metadata (no widget state, editor settings...).
- FeedbackClearHiddenTests, in `nbgrader generate_feedback`: nbgrader's
  ClearHiddenTests (feedback shows the verdicts, never the hidden-test code),
  declared so that the HTML exporter's display_data_priority applies to it
  without a "Config option not recognized" warning.
"""

from nbformat.notebooknode import NotebookNode
from traitlets import List, Unicode

from autograder.notebook_code import is_test_cell
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor


class ReleaseNotebook(NbGraderPreprocessor):
    """Tag test cells for a Run All that does not stop at them; keep only stable notebook metadata."""

    keep_metadata = List(Unicode(), ["kernelspec", "language_info"],
                         help="Notebook metadata keys kept in the release").tag(config=True)
    test_cell_tag = Unicode("raises-exception", help="Tag added to every test cell").tag(config=True)

    def preprocess(self, nb, resources):
        nb.metadata = NotebookNode({k: v for k, v in nb.metadata.items() if k in self.keep_metadata})
        for cell in nb.cells:
            if is_test_cell(cell):
                tags = cell.metadata.setdefault("tags", [])
                if self.test_cell_tag not in tags:
                    tags.append(self.test_cell_tag)
        return nb, resources


class FeedbackClearHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for the HTML feedback.

    nbconvert's HTMLExporter configures NbConvertBase.display_data_priority, which
    every nbgrader preprocessor inherits but re-declares as not configurable, so
    traitlets warns for each one in an HTML export. nbgrader's own GetGrades
    re-declares it configurable; so does this class.
    """

    display_data_priority = List(['text/html', 'application/pdf', 'text/latex', 'image/svg+xml',
                                  'image/png', 'image/jpeg', 'text/plain']).tag(config=True)
