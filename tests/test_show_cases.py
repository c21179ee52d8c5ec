"""``show_cases`` shows the public cases a learner needs to rebuild: whole on request, in their true structure."""

import re

import numpy as np
import pandas as pd
import pytest

from course_utils import exercises as checks
from course_utils.exercises._cases import SCENARIO_CALL
from course_utils.exercises.questions import QUESTIONS

CODE = sorted(qid for qid, q in QUESTIONS.items() if q.answer_type == "code")


@pytest.mark.parametrize("question_id", CODE)
def test_full_shows_every_input_value_whole(capsys, question_id):
    checks.show_cases(question_id, full=True)
    shown = capsys.readouterr().out
    assert "..." not in shown  # nothing cut short
    for case in QUESTIONS[question_id].cases():
        assert case.name in shown
        for value in case.inputs.values():
            if isinstance(value, np.ndarray) and value.dtype.kind in "iub":
                # every number of an array, in order
                numbers = " ".join(str(int(v)) for v in value.ravel())
                assert numbers in " ".join(re.sub(r"[^\d-]", " ", shown).split()), question_id
            if isinstance(value, pd.DataFrame) and SCENARIO_CALL in value.attrs:
                # a simulated audit of a thousand rows: its first rows, and the one call that rebuilds it whole
                assert value.attrs[SCENARIO_CALL] in shown and value.head(8).to_string().splitlines()[1] in shown
            elif isinstance(value, pd.DataFrame):
                assert f"(a DataFrame, {len(value)} rows)" in shown


def test_a_table_result_is_shown_as_a_table_with_its_index(capsys):
    checks.show_cases("audit-prevalence-function", full=True)
    shown = capsys.readouterr().out
    header = next(line for line in shown.splitlines() if "prevalence" in line and "ci_low" in line)
    assert header.split() == ["n", "cases", "prevalence", "ci_low", "ci_high"]
    assert not re.search(r"\bgroup\b", header)  # the groups are the index, not a column named 'group'


def test_number_keys_stay_numbers():
    from course_utils.exercises import _whole_expected

    text = _whole_expected({"n": {0: 3.0, 1: 2.0}, "cases": {0: 1.0, 1: 2.0}}, "table")
    assert re.search(r"^\s*0\s+3\.0", text, re.M) and "'0'" not in text
    assert "'1'" not in _whole_expected({1: 0.5, 2: 0.25}, "mapping")


def test_the_compact_view_says_when_a_value_is_cut_and_how_to_see_it_whole(capsys):
    cut = 0
    for question_id in CODE:
        checks.show_cases(question_id)
        compact = capsys.readouterr().out
        body = compact.replace("values cut short with ...", "")
        assert ("..." in body) == (f"show_cases({question_id!r}, full=True)" in compact), question_id
        cut += "..." in body
    assert cut >= 3, "some public cases are long enough to be cut in the compact view"


def test_a_mapping_keyed_by_numbers_is_shown_with_the_numbers_the_inputs_give(capsys):
    # The what-if cases carry their expected scores under text keys ('6'); the learner returns a Series indexed
    # by the numbers 6, 0, 2, 4, so that is what both views show.
    checks.show_cases("ethics-whatif-function")
    compact = capsys.readouterr().out
    assert "{6: " in compact and "'6'" not in compact
    checks.show_cases("ethics-whatif-function", full=True)
    whole = capsys.readouterr().out
    assert re.search(r"^\s+6\s+0\.888", whole, re.M) and "'6'" not in whole  # a Series indexed by the numbers
    assert re.search(r"^\s+private\s+0\.295", whole, re.M)  # text keys stay text
