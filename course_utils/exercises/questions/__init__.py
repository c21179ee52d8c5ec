"""The graded questions of every notebook, by id (the id is also the nbgrader ``grade_id``).

One module per notebook lists its questions; the public cases of its code questions are data in
``cases/<question-id>.yaml``.  This package gathers them into ``QUESTIONS`` and names each
notebook's file in ``NOTEBOOKS``, so the engine and ``course submit`` can find any of them.
"""

import re
from pathlib import Path

from course_utils.exercises.questions import debiasing, ethics, imaging, orientation, representation

_MODULES = (orientation, representation, debiasing, ethics, imaging)

#: Notebook id (``"01"``, ``"02a"``) -> the notebook's file name without ``.ipynb``.  Each module names its
#: notebooks in ``NOTEBOOK_FILES``; the module of notebook 02 names both parts.
NOTEBOOKS = {number: file for module in _MODULES for number, file in module.NOTEBOOK_FILES.items()}

_ALL = [question for module in _MODULES for question in module.QUESTIONS]

QUESTIONS = {question.id: question for question in _ALL}

if len(QUESTIONS) != len(_ALL):  # a duplicated id would silently shadow a question
    raise RuntimeError("Two graded questions share an id; ids must be unique across the course.")


def notebook_id(value) -> str:
    """A notebook's id as the course writes it: two digits, then a part letter if the notebook has parts.

    Examples
    --------
    >>> notebook_id(1), notebook_id("2B"), notebook_id(" 03 ")
    ('01', '02b', '03')
    """
    text = str(value).strip().lower()
    match = re.fullmatch(r"(\d{1,2})([a-z]?)", text)
    return f"{int(match[1]):02d}{match[2]}" if match else text


def notebook_id_of(name) -> str:
    """The id a course notebook's file name starts with.

    Examples
    --------
    >>> notebook_id_of("solutions/02b_debiasing_pipeline.ipynb"), notebook_id_of("01_representation_audit.ipynb")
    ('02b', '01')
    """
    return notebook_id(Path(str(name)).name.split("_", 1)[0])
