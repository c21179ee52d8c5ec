"""Public cases of code questions: read from YAML, so the expected results are data, not code.

Each code question has a file ``questions/cases/<question-id>.yaml``: a list of cases, each with a
``name``, its ``inputs`` (the learner's function is called with them as keyword arguments) and
the ``expected`` result.  Five tags build the pandas and NumPy objects learners work with:

``!frame {column: [values]}``     a pandas DataFrame (an ``_index: [labels]`` entry labels its rows)
``!series [values]``              a pandas Series (``!series {label: value}`` keeps the labels)
``!array [values]``               a NumPy array
``!category {values: [...], categories: [...]}``
                                  a categorical pandas Series whose categories may include one nobody
                                  is in (a column of a ``!frame`` too)
``!scenario {generator: name, ...}``
                                  what a generator of :mod:`course_utils.scenarios` returns for the
                                  other keys as its arguments -- simulated audits too large to write out,
                                  which learners can rebuild with the same call

``.nan`` is YAML's NaN (an undefined result) and ``null`` is a missing value.

Examples
--------
>>> cases = parse_cases('''
... - name: two groups
...   inputs: {y: !array [1, 0], groups: !series [a, b]}
...   expected: {a: 1.0, b: .nan}
... ''')
>>> cases[0].name, type(cases[0].inputs["y"]).__name__, cases[0].expected["b"]
('two groups', 'ndarray', nan)
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from course_utils.exercises._question import PublicCase


#: The key of ``DataFrame.attrs`` under which a ``!scenario`` table keeps the generator call that built it.
SCENARIO_CALL = "course_scenario_call"


class _CaseLoader(yaml.SafeLoader):
    """YAML's safe loader plus the tags above: no other Python object can be built."""


def _frame(loader, node):
    import pandas as pd

    columns = loader.construct_mapping(node, deep=True)
    index = columns.pop("_index", None)  # rows labelled by name, so a position and a label differ
    return pd.DataFrame(columns, index=index)


def _series(loader, node):
    import pandas as pd

    if isinstance(node, yaml.MappingNode):
        return pd.Series(loader.construct_mapping(node, deep=True))
    return pd.Series(loader.construct_sequence(node, deep=True))


def _array(loader, node):
    import numpy as np

    return np.asarray(loader.construct_sequence(node, deep=True))


def _category(loader, node):
    import pandas as pd

    spec = loader.construct_mapping(node, deep=True)
    if set(spec) != {"values", "categories"}:
        raise ValueError("!category needs exactly the keys values and categories")
    return pd.Series(pd.Categorical(spec["values"], categories=spec["categories"]))


class ScenarioInputs(dict):
    """A case's arguments, all from one call of a generator of :mod:`course_utils.scenarios`; ``call`` rebuilds them."""

    call: str = ""


def _scenario(loader, node):
    from course_utils import scenarios

    spec = loader.construct_mapping(node, deep=True)
    name = spec.pop("generator", None)
    if name not in scenarios.__all__ or not callable(getattr(scenarios, name)):
        raise ValueError(f"!scenario needs generator: one of the generators of course_utils.scenarios, not {name!r}")
    built = getattr(scenarios, name)(**spec)
    call = f"{name}({', '.join(f'{key}={value!r}' for key, value in spec.items())})"
    # Each table remembers the call that built it, so show_cases can show the call instead of 1,000 rows.
    for key, value in (built.items() if isinstance(built, dict) else [(None, built)]):
        if hasattr(value, "attrs"):
            value.attrs[SCENARIO_CALL] = call if key is None else f"{call}[{key!r}]"
    if isinstance(built, dict):  # the whole case from one call (films as arrays, which keep no attrs): say which
        built = ScenarioInputs(built)
        built.call = call
    return built


_CaseLoader.add_constructor("!frame", _frame)
_CaseLoader.add_constructor("!scenario", _scenario)
_CaseLoader.add_constructor("!category", _category)
_CaseLoader.add_constructor("!series", _series)
_CaseLoader.add_constructor("!array", _array)


def parse_cases(text: str) -> tuple[PublicCase, ...]:
    """Public cases from YAML text; a clear error for a malformed file."""
    entries = yaml.load(text, Loader=_CaseLoader)  # noqa: S506 -- a SafeLoader subclass
    if not isinstance(entries, list) or not entries:
        raise ValueError("a public-case file should be a non-empty YAML list of cases")
    cases = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or set(entry) != {"name", "inputs", "expected"}:
            raise ValueError(f"public case {number} should have exactly the keys name, inputs and expected")
        if not isinstance(entry["inputs"], dict):
            raise ValueError(f"public case {number}: inputs should map argument names to values")
        cases.append(PublicCase(str(entry["name"]), entry["inputs"], entry["expected"]))
    return tuple(cases)


@cache
def load_cases(question_id: str) -> tuple[PublicCase, ...]:
    """The public cases of one code question, read once per session from the package's data."""
    path = resources.files("course_utils.exercises.questions") / "cases" / f"{question_id}.yaml"
    return parse_cases(path.read_text(encoding="utf-8"))


def cases_for(question_id: str):
    """A callable for ``CodeQuestion(cases=...)``: the cases are read when first needed."""
    return lambda: load_cases(question_id)
