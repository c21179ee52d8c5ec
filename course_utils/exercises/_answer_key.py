"""Value answers checked without the answer: salted, slow digests of the value on the question's grid.

A value question (a count, a rate, a choice) must tell a learner "correct" at once, yet nothing a
learner can import may hold the answer.  So the learner edition stores, per question, only
digests: PBKDF2-SHA256 (100,000 rounds, salted with the question's id) of the answer's *grid key*:

* a whole number: the number itself;
* a number: its cell on a grid whose step is the question's tolerance, ``round(value / step)``, and
  the two neighbouring cells -- so every answer within one tolerance of the expected value is
  accepted wherever the grid lines fall (and none further than two);
* a choice or text: the text, lower-cased with its spaces folded;
* one number per group: each group's name with its cell (and neighbours), group by group.

Known wrong values (the test patients' count where the validation patients' was asked) are stored
the same way, by name, so a check can say which mistake an answer looks like without computing it
(:meth:`AnswerKey.is_known`): nothing in the learner edition computes a value answer, right or wrong.

The check and the grader use this one test (:meth:`AnswerKey.accepts`), so what the check marks
correct is exactly what earns the points.  The slow hash makes guessing costly (about 35 ms a try),
but it cannot make a small answer space large: a learner who loops the check over every whole number
up to 10,000 finds a count in minutes.  The README says so.

Examples
--------
>>> key = AnswerKey.of("q", "number", 0.4567, tolerance=0.001)
>>> key.accepts(0.457), key.accepts(0.4557), key.accepts(0.46)
(True, True, False)
>>> AnswerKey.of("q", "choice", "Justice").accepts("  justice ")
True
>>> key = AnswerKey.of("q", "integer", 120, wrong={"test patients": 45})
>>> key.is_known("test patients", 45), key.is_known("test patients", 120)
(True, False)
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

ROUNDS = 100_000  # about 35 ms per digest on a 2-core laptop: cheap for a check, slow for a guessing loop
KEY_FILE = "answer_keys.json"  # in course_utils/exercises/questions/, written by `course release`


def _fold(text: Any) -> str:
    return " ".join(str(text).strip().lower().split())


def digest(question_id: str, grid_key: str, rounds: int | None = None) -> str:
    """The stored form of one grid key: PBKDF2-SHA256 salted with the question id (hex).

    ``rounds=0`` stores the grid key itself: for the grader's own copy of a key, which never leaves the
    instructor's machine and is read for every hand-in (the same grid, the same acceptance, no slow hash).
    """
    rounds = ROUNDS if rounds is None else rounds
    if rounds == 0:
        return grid_key
    salt = f"course-utils answer key {question_id}".encode()
    return hashlib.pbkdf2_hmac("sha256", grid_key.encode(), salt, rounds).hex()


def _cell(value: float, step: float) -> int:
    return math.floor(float(value) / step + 0.5)


def grid_keys(kind: str, value: Any, tolerance: float, neighbours: bool) -> list[str]:
    """The grid keys of a value: one per cell the value falls in, with its neighbours when asked.

    For ``"mapping"`` the value is ``{group: number}`` and each key names its group.
    """
    if kind == "integer":
        return [str(int(value))]
    if kind in ("choice", "text"):
        return [_fold(value)]
    if kind == "number":
        cell = _cell(value, tolerance)
        return [str(cell + shift) for shift in ((-1, 0, 1) if neighbours else (0,))]
    if kind == "mapping":
        return [f"{_fold(group)}={key}" for group, number in sorted(value.items(), key=lambda item: _fold(item[0]))
                for key in grid_keys("number", number, tolerance, neighbours)]
    raise ValueError(f"unknown value kind {kind!r}")


@dataclass(frozen=True)
class AnswerKey:
    """What a value question knows of its answer: digests, never the value.

    ``groups`` (for ``"mapping"``) are the group names the answer must have -- names, not values.
    """

    question_id: str
    kind: str
    tolerance: float
    digests: frozenset[str]
    groups: tuple[str, ...] = ()
    wrong: tuple[tuple[str, frozenset[str]], ...] = ()  # (name, digests) of known wrong values
    rounds: int = ROUNDS  # 0: the grader's own key, holding grid keys unhashed (see digest)

    @classmethod
    def of(cls, question_id: str, kind: str, expected: Any, tolerance: float = 0.0,
           wrong: dict[str, Any] | None = None, rounds: int = ROUNDS) -> AnswerKey:
        """The key of an expected value and of named wrong ones (instructor side: ``course release`` writes these)."""
        groups = tuple(str(group) for group in expected) if kind == "mapping" else ()

        def digests(value: Any, name: str = "") -> frozenset[str]:
            return frozenset(digest(question_id, name + key, rounds) for key in grid_keys(kind, value, tolerance, True))

        known = tuple((name, digests(value, f"wrong {name}: ")) for name, value in sorted((wrong or {}).items()))
        return cls(question_id, kind, tolerance, digests(expected), groups, known, rounds)

    def accepts(self, answer: Any) -> bool:
        """True when ``answer`` (already of the right type) is the expected value within the tolerance."""
        return self._in(answer, self.digests, "")

    def is_known(self, name: str, answer: Any) -> bool:
        """True when ``answer`` is the known wrong value called ``name`` (False for a name the key lacks)."""
        digests = dict(self.wrong).get(name)
        return digests is not None and self._in(answer, digests, f"wrong {name}: ")

    def _in(self, answer: Any, digests: frozenset[str], prefix: str) -> bool:
        try:
            if self.kind == "mapping":
                return all(math.isfinite(float(answer[group]))
                           and digest(self.question_id, prefix + key, self.rounds) in digests
                           for group in self.groups
                           for key in grid_keys("mapping", {group: answer[group]}, self.tolerance, False))
            if self.kind in ("integer", "number") and not math.isfinite(float(answer)):
                return False
            (key,) = grid_keys(self.kind, answer, self.tolerance, neighbours=False)
        except (TypeError, ValueError, KeyError, OverflowError, ZeroDivisionError):
            return False
        return digest(self.question_id, prefix + key, self.rounds) in digests

    def to_json(self) -> dict:
        return {"kind": self.kind, "tolerance": self.tolerance, "digests": sorted(self.digests),
                **({"rounds": self.rounds} if self.rounds != ROUNDS else {}),
                **({"groups": list(self.groups)} if self.groups else {}),
                **({"wrong": {name: sorted(digests) for name, digests in self.wrong}} if self.wrong else {})}


def parse_keys(text: str) -> dict[str, AnswerKey]:
    """Answer keys from the JSON ``course release`` writes."""
    entries = json.loads(text)
    return {question_id: AnswerKey(question_id, entry["kind"], float(entry["tolerance"]),
                                   frozenset(entry["digests"]), tuple(entry.get("groups", ())),
                                   tuple((name, frozenset(digests)) for name, digests in entry.get("wrong", {}).items()),
                                   int(entry.get("rounds", ROUNDS)))
            for question_id, entry in entries.items()}


@cache
def answer_keys() -> dict[str, AnswerKey]:
    """Every value question's key, read once per session from the package's data ({} before a release)."""
    path = resources.files("course_utils.exercises.questions") / KEY_FILE
    if not path.is_file():
        return {}
    return parse_keys(path.read_text(encoding="utf-8"))


def keys_text(keys: dict[str, AnswerKey]) -> str:
    """The file ``course release`` writes: sorted, one question per entry, stable across runs."""
    return json.dumps({question_id: keys[question_id].to_json() for question_id in sorted(keys)}, indent=1) + "\n"
