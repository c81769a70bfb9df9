"""Autograder for the backpropagation & Jacobians course.

Student-facing: `autograder.gradcheck` (numeric gradient checker) and
`autograder.selfcheck` (public self-check). Instructor-only code (reference
implementations, hidden batteries, the grading pipeline) lives in
`autograder.instructor` and is never shipped to students.
"""
