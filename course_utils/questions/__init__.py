"""The graded questions of every notebook, by id (the id is also the nbgrader ``grade_id``).

Each notebook has one module here listing its questions; this package gathers them into
``QUESTIONS`` so :mod:`course_utils.checks` can find any of them by id.
"""

from course_utils.questions import debiasing, ethics, orientation, representation

_ALL = [*orientation.QUESTIONS, *representation.QUESTIONS, *debiasing.QUESTIONS, *ethics.QUESTIONS]

QUESTIONS = {question.id: question for question in _ALL}

if len(QUESTIONS) != len(_ALL):  # a duplicated id would silently shadow a question
    raise RuntimeError("Two graded questions share an id; ids must be unique across the course.")
