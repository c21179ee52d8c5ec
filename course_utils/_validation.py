"""Argument checks shared by the learner API: one rule per kind of argument, one way to say what is wrong.

Every public function of the learner API checks its arguments at the top with these functions.
Each returns the value in the form the caller computes with (an ``int``, a ``float``, a NumPy
array) and raises ``TypeError`` for a value of the wrong kind or ``ValueError`` for a value out
of range, with a message that names the argument, says what was expected and shows what was
given, e.g. ``n_splits should be at least 2; got 1.``
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

#: The fewest bootstrap resamples an interval may rest on (the course's rule for intervals you report).
MIN_N_BOOT = 500


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- single values


def check_bool(value, name: str) -> bool:
    """``value`` as a bool; True and False (NumPy's too) only."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} should be True or False; got {_shown(value)} ({type(value).__name__}).")
    return bool(value)


def check_whole_number(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int within ``[low, high]`` (either bound optional)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} should be a whole number; got {_shown(value)} ({type(value).__name__}).")
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            limits = f"between {low} and {high}"
        else:
            limits = f"at least {low}" if low is not None else f"at most {high}"
        raise ValueError(f"{name} should be {limits}; got {value}.")
    return int(value)


def _interval_words(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        if low_open and high_open:
            return f"strictly between {low:g} and {high:g}"
        if not low_open and not high_open:
            return f"between {low:g} and {high:g}"
        return f"in the range {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"greater than {low:g}" if low_open else f"at least {low:g}"
    return f"less than {high:g}" if high_open else f"at most {high:g}"


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, example: str | None = None) -> float:
    """``value`` as a finite float within the interval from ``low`` to ``high``.

    ``low_open`` / ``high_open`` exclude the bound itself; ``example`` is shown in the message
    (e.g. ``"0.95"``).
    """
    such_as = f", such as {example}" if example else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        kind = "a number" if low is None and high is None else f"a number {_interval_words(low, high, low_open, high_open)}"
        raise TypeError(f"{name} should be {kind}{such_as}; got {_shown(value)}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ValueError(f"{name} should be {_interval_words(low, high, low_open, high_open)}{such_as}; "
                         f"got {_shown(value)}.")
    return float(value)


def check_confidence_level(value, name: str = "confidence_level") -> float:
    """A coverage strictly between 0 and 1."""
    return check_real(value, name, low=0, high=1, low_open=True, high_open=True, example="0.95")


def check_random_state(value, name: str = "random_state") -> int | None:
    """A seed: a whole number of at least 0, or None (different results on every call)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} should be a whole number of at least 0 (a seed) or None; "
                        f"got {_shown(value)} ({type(value).__name__}).")
    if value < 0:
        raise ValueError(f"{name} should be a whole number of at least 0 (a seed) or None; got {value}.")
    return int(value)


def check_n_boot(value, name: str = "n_boot") -> int:
    """Bootstrap resamples: 0 (no intervals) or at least :data:`MIN_N_BOOT`."""
    rule = (f"0 (point estimates, no intervals) or a whole number of resamples of at least {MIN_N_BOOT} "
            "(fewer give interval ends that change from seed to seed)")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} should be {rule}; got {_shown(value)} ({type(value).__name__}).")
    if value != 0 and value < MIN_N_BOOT:
        raise ValueError(f"{name} should be {rule}; got {value}.")
    return int(value)


def check_choice(value, name: str, options: Sequence):
    """``value`` if it is one of ``options``."""
    try:
        known = value in options
    except TypeError:  # an unhashable value looked up in a dict or set
        known = False
    if not known:
        raise ValueError(f"{name} should be one of {', '.join(map(repr, options))}; got {_shown(value)}.")
    return value


def check_text(value, name: str) -> str:
    """Non-blank text."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} should be text (say it in words); got {_shown(value)}.")
    return value


# --------------------------------------------------------------------------- tables and columns


def check_dataframe(data, name: str = "data", *, columns: Iterable[str] = (), allow_empty: bool = False,
                    what: str = "a pandas DataFrame with one row per patient") -> pd.DataFrame:
    """A DataFrame with the named columns and (unless ``allow_empty``) at least one row."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} should be {what}; got {type(data).__name__}.")
    if len(data) == 0 and not allow_empty:
        raise ValueError(f"{name} has no rows: there are no patients.")
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise ValueError(f"{name} has no column {', '.join(map(repr, absent))}; "
                         f"its columns are {', '.join(map(str, data.columns))}.")
    return data


def check_column(data: pd.DataFrame, value, name: str, data_name: str = "data") -> str:
    """One column name of ``data``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} should be the name of one column of {data_name}; got {_shown(value)}.")
    check_dataframe(data, data_name, columns=[value])
    return value


def check_columns(data: pd.DataFrame, value, name: str, data_name: str = "data") -> list[str]:
    """One column name or a non-empty list of them, each a column of ``data``."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(c, str) for c in names):
        raise TypeError(f"{name} should be a column name or a list of column names of {data_name}; "
                        f"got {_shown(value)}.")
    check_dataframe(data, data_name, columns=names)
    return list(names)


def check_column_list(value, name: str) -> list[str]:
    """A list of column names (possibly empty), without checking a table: e.g. a model's feature columns."""
    if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, Mapping) \
            or not all(isinstance(c, str) for c in value):
        raise TypeError(f"{name} should be a list of column names; got {_shown(value)}.")
    return list(value)


# --------------------------------------------------------------------------- one value per patient


def check_one_dimensional(values, name: str) -> np.ndarray:
    """One value per patient as a 1-D array (a one-column DataFrame counts), not empty."""
    if isinstance(values, pd.DataFrame) and values.shape[1] == 1:
        values = values.iloc[:, 0]
    array = np.asarray(values, dtype=object) if isinstance(values, list) else np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} should be one value per patient (a 1-D list, array or Series); "
                         f"got something of shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{name} is empty: there are no patients.")
    return array


def check_no_missing(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` if it has no NaN / None."""
    missing = pd.isna(array)
    if missing.any():
        raise ValueError(f"{name} has {int(missing.sum())} missing value(s) (NaN/None), first at position "
                         f"{int(np.flatnonzero(missing)[0])}; remove or fill those patients first.")
    return array


def check_groups(values, name: str = "sensitive_features") -> np.ndarray:
    """Each patient's group, one per patient, none missing."""
    return check_no_missing(check_one_dimensional(values, name), name)


def _is_zero_or_one(value) -> bool:
    return isinstance(value, (numbers.Real, np.bool_)) and value in (0, 1)


def check_binary_labels(values, name: str, *, both_classes: bool = False) -> np.ndarray:
    """0/1 (or False/True) labels, one per patient, as an int array."""
    array = check_no_missing(check_one_dimensional(values, name), name)
    found = pd.unique(array)
    if not all(_is_zero_or_one(v) for v in found):
        shown = ", ".join(repr(v) for v in sorted(found.tolist(), key=str)[:10])
        hint = ""
        if name == "y_pred" and all(isinstance(v, numbers.Real) for v in found):
            hint = " If these are probabilities, threshold them for y_pred and pass them as y_score."
        raise ValueError(f"{name} should contain only 0 and 1 (or False and True); found the values {shown}." + hint)
    array = array.astype(int)
    if both_classes and np.unique(array).size < 2:
        raise ValueError(f"{name} has only one class ({array[0]}); a classifier needs patients with and without "
                         "the condition.")
    return array


def check_scores(values, name: str = "y_score") -> np.ndarray:
    """A finite real score per patient (a probability, log-odds or any risk score)."""
    array = np.asarray(values, dtype=object) if isinstance(values, list) else np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 2:
        raise ValueError(f"{name} should be one score per patient; got two columns, as predict_proba returns. "
                         "Pass the probability of the condition: model.predict_proba(X)[:, 1].")
    array = check_no_missing(check_one_dimensional(array, name), name)
    try:
        array = array.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} should be numbers (a probability or any real-valued risk score); "
                         f"found values such as {array[0]!r}.") from None
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains infinite values; every score must be a finite number.")
    return array


def check_same_length(**arrays) -> None:
    """Every argument given has the same number of patients (None is skipped)."""
    lengths = {name: len(values) for name, values in arrays.items() if values is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"Every argument needs one value per patient, but the lengths differ: {described}.")
