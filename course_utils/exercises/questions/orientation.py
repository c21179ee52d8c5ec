"""Questions of notebook 00 (orientation): warm-ups on the heart data and the ethical frame."""

from course_utils.exercises._cases import cases_for
from course_utils.exercises._question import CodeQuestion, Misconception, Question, numbers_match
from course_utils.exercises.rules import (
    chose,
    known,
    output_complement,
    output_percentage,
    output_zero_for_undefined,
)

NOTEBOOK = "00"
NOTEBOOK_FILES = {NOTEBOOK: "00_orientation"}


QUESTIONS = [
    Question(
        id="orient-n-patients",
        notebook=NOTEBOOK,
        points=1,
        kind="integer",
        misconceptions=[
            known("Cleveland only", "That is the Cleveland Clinic alone. The course data pools all four hospitals."),
            known("columns", "That is the number of columns. The question asks for rows: one row is one patient."),
        ],
        hints=[
            "One row of the table is one patient.",
            "`len(heart)` or `heart.shape[0]` counts the rows of a DataFrame.",
        ],
    ),
    CodeQuestion(
        id="orient-share-function",
        notebook=NOTEBOOK,
        points=2,
        signature="share_of(data, column, value)",
        cases=cases_for("orient-share-function"),
        returns="number",
        tolerance=1e-9,
        misconceptions=[
            output_zero_for_undefined(),
            output_percentage(),
            Misconception(
                lambda output, expected, inputs: output == int((inputs["data"][inputs["column"]] == inputs["value"]).sum())
                and output != expected,
                "Your function returns a count of rows. The exercise asks for a proportion: divide by the number of rows.",
            ),
            Misconception(
                lambda output, expected, inputs: numbers_match(
                    output, (inputs["data"][inputs["column"]] == inputs["value"]).sum()
                    / inputs["data"][inputs["column"]].notna().sum(), 1e-9) and not numbers_match(output, expected, 1e-9),
                "Your function leaves rows with a missing value out of the denominator. The share is of all rows: "
                "a missing value is a row that does not match.",
            ),
            output_complement(what="the rows that do not match"),
        ],
        hints=[
            "A share (proportion) is a number between 0 and 1: the matching rows divided by all rows.",
            "`data[column] == value` gives one True/False per row; the mean of True/False values is the share of True. "
            "Check `len(data) == 0` first.",
        ],
    ),
    Question(
        id="orient-justice-principle",
        notebook=NOTEBOOK,
        points=1,
        kind="choice",
        choices=("beneficence", "non-maleficence", "justice", "autonomy"),
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
