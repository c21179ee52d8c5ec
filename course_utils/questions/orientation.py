"""Questions of notebook 00 (orientation): warm-ups on the heart data and the ethical frame."""

from course_utils.checks import Misconception, Question
from course_utils.questions.common import (
    chose,
    complement,
    count_not_proportion,
    equals,
    heart,
    inverted_ratio,
    percentage_not_proportion,
)


def _n_female():
    return int((heart()["sex"] == "Female").sum())


def _n_male():
    return int((heart()["sex"] == "Male").sum())


QUESTIONS = [
    Question(
        id="orient-n-patients",
        notebook="00",
        points=1,
        kind="integer",
        expected=lambda: len(heart()),
        misconceptions=[
            equals(
                lambda: int((heart()["site"] == "Cleveland").sum()),
                "That is the Cleveland Clinic alone. The course data pools all four hospitals.",
            ),
            Misconception(
                lambda answer, expected: int(answer) == heart().shape[1],
                "That is the number of columns. The question asks for rows: one row is one patient.",
            ),
        ],
        hints=[
            "One row of the table is one patient.",
            "`len(heart)` or `heart.shape[0]` counts the rows of a DataFrame.",
        ],
    ),
    Question(
        id="orient-female-share",
        notebook="00",
        points=2,
        kind="number",
        tolerance=0.005,
        expected=lambda: _n_female() / len(heart()),
        misconceptions=[
            count_not_proportion(_n_female),
            percentage_not_proportion(),
            complement(0.005, "male patients"),
            inverted_ratio(0.005, "female patients", "patient"),
            Misconception(
                lambda answer, expected: abs(float(answer) - _n_female() / _n_male()) < 0.005,
                "That divides women by men. A share divides women by all patients.",
            ),
            Misconception(
                lambda answer, expected: abs(float(answer) - _n_male() / _n_female()) < 0.005,
                "That is the male : female ratio (men per woman). A share divides women by all patients.",
            ),
        ],
        hints=[
            "A share (proportion) is a number between 0 and 1: the group's count divided by everyone.",
            "`(heart['sex'] == 'Female').mean()` is the share of rows where the condition holds.",
        ],
    ),
    Question(
        id="orient-justice-principle",
        notebook="00",
        points=1,
        kind="choice",
        choices=("beneficence", "non-maleficence", "justice", "autonomy"),
        expected=lambda: "justice",
        misconceptions=[
            chose(
                "beneficence",
                "Beneficence asks whether the model does good for the patients it is used on. "
                "The question is about how benefits are shared between groups.",
            ),
            chose(
                "non-maleficence",
                "Non-maleficence is about avoiding harm to a patient. "
                "The question is about how benefits and burdens are distributed.",
            ),
            chose(
                "autonomy",
                "Autonomy is about a patient's right to make informed choices. "
                "The question is about fairness between groups.",
            ),
        ],
        hints=["Which principle is about the fair distribution of benefits, risks and costs?"],
    ),
]
