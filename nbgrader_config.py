"""nbgrader configuration for the course (the course root is this directory)."""

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.root = "."
c.CourseDirectory.course_id = "backprop-jacobians"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.CourseDirectory.assignments = [
    "ex01_differentiation",
    "ex02_total_derivatives",
    "ex03_jacobians",
    "ex04_expanded_jacobians",
    "ex05_backprop",
]

# What students see in place of a solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Each cell may run this long before it is interrupted. The first hidden-test
# cell of a notebook runs the whole hidden battery (ex05 trains a network).
c.Execute.timeout = 120

# Deleted grade cells come back from the gradebook instead of costing points.
c.OverwriteCells.add_missing_cells = True

# Feedback shows scores, outputs and the hidden-test verdicts, never the hidden test code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "nbgrader.preprocessors.ClearHiddenTests",
]
