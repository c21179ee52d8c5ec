"""The graded questions of every notebook, by id (the id is also the nbgrader ``grade_id``).

One module per notebook lists its questions; the public cases of its code questions are data in
``cases/<question-id>.yaml``.  This package gathers them into ``QUESTIONS`` and names each
notebook's file in ``NOTEBOOKS``, so the engine and ``course submit`` can find any of them.
"""

from course_utils.exercises.questions import debiasing, ethics, orientation, representation

_MODULES = (orientation, representation, debiasing, ethics)

#: Notebook number -> the notebook's file name without ``.ipynb``.
NOTEBOOKS = {module.NOTEBOOK: module.NOTEBOOK_FILE for module in _MODULES}

_ALL = [question for module in _MODULES for question in module.QUESTIONS]

QUESTIONS = {question.id: question for question in _ALL}

if len(QUESTIONS) != len(_ALL):  # a duplicated id would silently shadow a question
    raise RuntimeError("Two graded questions share an id; ids must be unique across the course.")
