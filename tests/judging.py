"""Judge one answer as `course grade` does, in process: the grading harness runs it, then the judge decides.

Shared by the hidden-case tests of every notebook (``tests/test_hidden_*.py``).
"""

import itertools
import warnings

from course_utils.exercises._harness import answer

_folders = itertools.count()


def judged(judge, folder, question_id, function):
    """The judge's verdict on ``function`` as the answer to ``question_id``.

    The harness calls ``function`` on every public and hidden case and writes what came back into a fresh
    answers folder under ``folder``; the judge reads it there.  Library warnings raised by the answer are
    silenced: they are not part of any verdict.
    """
    answers = folder / f"answers-{next(_folders)}"
    answers.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answer(question_id, lambda: function, judge.cases_dir, answers)
    return judge.verdict(question_id, answers)
