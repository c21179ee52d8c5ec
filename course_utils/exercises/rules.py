"""Misconception rules that recur across questions (a share given as a count, a percentage...).

Each function returns a :class:`Misconception` so a question can list the mistakes it recognises
in one line each.  Rules for value questions take ``(answer, key)`` (the question's answer key:
digests, never the value); rules for code questions (the ``output_*`` ones) take
``(output, expected, inputs)`` on one public case, whose expected result is public data.
"""

import math

from course_utils.exercises._question import Misconception, numbers_match

# --- rules for value questions: (answer, key) -------------------------------------------------------
# A value question holds no answer, only its key's digests: these rules ask the key whether a
# transformed answer would be right, or whether the answer is a named wrong value the instructor's
# material recorded (``course release`` writes those digests beside the answer's).


def percentage_not_proportion():
    """The learner multiplied a proportion by 100."""
    return Misconception(
        lambda answer, key: key.accepts(float(answer) / 100),
        "That looks like a percentage. Give a proportion between 0 and 1 (e.g. 0.25, not 25).",
    )


def complement(what):
    """The learner computed the share of the other group (1 - p)."""
    return Misconception(lambda answer, key: key.accepts(1 - float(answer)),
                         f"That is the share of {what}. Check which group the question asks about.")


def inverted_ratio(numerator, denominator):
    """The learner divided the wrong way round (b : a instead of a : b)."""
    return Misconception(
        lambda answer, key: float(answer) != 0 and key.accepts(1 / float(answer)),
        f"Your ratio looks inverted. The question asks for {numerator} per one {denominator}: "
        f"{numerator} on top, {denominator} underneath.",
    )


def opposite_sign(feedback):
    """The learner subtracted the wrong way round (b - a instead of a - b)."""
    return Misconception(lambda answer, key: float(answer) != 0 and key.accepts(-float(answer)), feedback)


def chose(option, feedback):
    """The learner picked a specific wrong option of a multiple-choice question."""
    return Misconception(lambda answer, key: " ".join(str(answer).lower().split()) == option, feedback)


def known(name, feedback):
    """The answer is the wrong value the instructor's material calls ``name`` (e.g. ``"Cleveland only"``)."""
    return Misconception(lambda answer, key: key.is_known(name, answer), feedback)


# --- rules for code questions: (output, expected, inputs) on one public case ---------------------


def output_percentage(tolerance=1e-6):
    """The learner's function returns percentages (x 100) where proportions were asked."""
    return Misconception(
        lambda output, expected, inputs: _each_number(output, expected, lambda o, e: numbers_match(o, 100 * e, tolerance)
                                                      and not numbers_match(o, e, tolerance)),
        "Your function returns percentages. Return proportions between 0 and 1 (e.g. 0.25, not 25).",
    )


def output_zero_for_undefined():
    """The learner's function returns 0 where the result is undefined (NaN)."""
    return Misconception(
        lambda output, expected, inputs: any(math.isnan(e) and o == 0 for o, e in _pairs(output, expected)),
        "Your function returns 0 where the result is undefined: with nobody to divide by, a rate is not 0 but "
        "unknown. Return NaN (`float('nan')`) there.",
    )


def output_complement(tolerance=1e-6, what="the other outcome"):
    """The learner's function returns 1 - the expected proportion."""
    return Misconception(
        lambda output, expected, inputs: _each_number(output, expected, lambda o, e: numbers_match(o, 1 - e, tolerance)
                                                      and not numbers_match(o, e, tolerance)),
        f"Your function returns the share of {what}: one minus what was asked.",
    )


def output_decisions(what="model.predict_proba(...)[:, 1]"):
    """The learner's function returns 0/1 decisions (``model.predict``) where probabilities were asked."""
    return Misconception(
        lambda output, expected, inputs: all(o in (0.0, 1.0) for o, _ in _pairs(output, expected))
        and not all(e in (0.0, 1.0) for _, e in _pairs(output, expected)),
        f"Your function returns 0/1 decisions, what model.predict gives. Return the predicted probability of the "
        f"outcome: {what}.",
    )


def output_other_class(tolerance=1e-6):
    """The learner's function returns the probability of class 0 (``predict_proba(...)[:, 0]``): one minus it."""
    return Misconception(
        lambda output, expected, inputs: _each_number(output, expected, lambda o, e: numbers_match(o, 1 - e, tolerance)
                                                      and not numbers_match(o, e, tolerance)),
        "Your function returns the probability of the other class: column 0 of predict_proba is the probability "
        "of *no* outcome. Column 1 (`[:, 1]`) is the probability of the outcome.",
    )


def _pairs(output, expected):
    if isinstance(expected, dict):
        return [(float(output[key]), float(value)) for key, value in expected.items()]
    return [(float(output), float(expected))]


def _each_number(output, expected, test):
    pairs = [(o, e) for o, e in _pairs(output, expected) if not (math.isnan(o) or math.isnan(e))]
    return bool(pairs) and all(test(o, e) for o, e in pairs)
