"""Instructor-only side of the autograder: reference implementations, hidden
batteries, the judge and the grading pipeline. Never shipped to students, and
refused (by an audit hook) inside the grading sandbox."""
