"""Impact-assessment validation, model cards and datasheets rendered from real results."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from course_utils.cohort import make_readmission_cohort
from course_utils.governance import (
    DATASHEET_SECTIONS,
    MODEL_CARD_SECTIONS,
    Problem,
    load_schema,
    render_datasheet,
    render_model_card,
    template_path,
    validate_assessment,
)
from course_utils.instructor.course_tables import group_audit_table  # the course's audit tables (shipped)


WORKED = Path(__file__).resolve().parents[1] / "solutions" / "impact_assessment_solution.yaml"


@pytest.fixture()
def solution():
    """The instructor's worked assessment (not shipped to learners)."""
    return yaml.safe_load(WORKED.read_text(encoding="utf-8"))


def by_location(problems):
    return {p.location: p.message for p in problems}


# --- the shipped documents ---------------------------------------------------------------------


def test_solution_is_valid_from_path_str_text_and_dict(solution):
    path = WORKED
    assert validate_assessment(path) == []
    assert validate_assessment(str(path)) == []
    assert validate_assessment(path.read_text(encoding="utf-8")) == []
    assert validate_assessment(solution) == []


def test_template_fails_helpfully_on_every_blank():
    problems = validate_assessment(template_path("template"))
    assert all(isinstance(p, Problem) and p.line is not None for p in problems)
    required = load_schema()["required"]
    tops = {re.split(r"[.\[]", p.location)[0] for p in problems}
    assert tops == set(required)  # every section of the template is flagged, none is silently accepted
    messages = by_location(problems)
    assert messages["contestability"] == "contestability is blank: say how a patient can challenge a decision"
    assert messages["fairness_metrics[0].threshold"].startswith("fairness_metrics[0].threshold is blank")
    assert messages["intended_users"].startswith("intended_users is an empty list")
    # Problems come in the template's order.
    assert [p.line for p in problems] == sorted(p.line for p in problems)


# --- each kind of problem, with its place and its message ----------------------------------------


def test_missing_field(solution):
    del solution["contestability"]
    assert [(p.location, p.message) for p in validate_assessment(solution)] == [
        ("contestability", "missing field 'contestability': say how a patient can challenge a decision")]


def test_missing_nested_field_names_its_section(solution):
    del solution["fairness_metrics"][1]["comparison"]["reference"]
    (problem,) = validate_assessment(solution)
    assert problem.location == "fairness_metrics[1].comparison.reference"
    assert problem.message.startswith("missing field 'reference' in fairness_metrics[1].comparison: the group")


THRESHOLD_WORDS = "a number: for a difference between 0 and 1 (0.05, not 5), for a ratio such as 0.8 or 1.2"


def test_wrong_type_threshold(solution):
    solution["fairness_metrics"][0]["threshold"] = "five percent"
    assert [(p.location, p.message) for p in validate_assessment(solution)] == [
        ("fairness_metrics[0].threshold", f"fairness_metrics[0].threshold should be {THRESHOLD_WORDS}, got 'five percent'")]


@pytest.mark.parametrize("value", [5, 1.5])
def test_a_difference_threshold_above_1_looks_like_a_percentage(solution, value):
    assert solution["fairness_metrics"][0]["comparison"]["measure"] == "difference"
    solution["fairness_metrics"][0]["threshold"] = value
    assert by_location(validate_assessment(solution)) == {
        "fairness_metrics[0].threshold": "fairness_metrics[0].threshold should be at most 1 for a difference: write a "
                                         f"proportion (0.05, not 5), got {value!r}"}


@pytest.mark.parametrize("value, valid", [(1.5, True), (0.8, True), (80, False), (-0.1, False)])
def test_a_ratio_threshold_may_exceed_1_but_not_look_like_a_percentage(solution, value, valid):
    assert solution["fairness_metrics"][1]["comparison"]["measure"] == "ratio"
    solution["fairness_metrics"][1]["threshold"] = value
    expected = {} if valid else {
        "fairness_metrics[1].threshold": f"fairness_metrics[1].threshold should be {THRESHOLD_WORDS}, got {value!r}"}
    assert by_location(validate_assessment(solution)) == expected


@pytest.mark.parametrize("risk_class", ["limited-risk", "minimal-risk", "high-risk"])
def test_the_schema_records_the_facts_and_leaves_the_class_to_the_assessor(solution, risk_class):
    # Article 6 is reasoned in risk_class_rationale (notebook 03, Exercise 7), not decided by the schema.
    solution["eu_ai_act_risk_class"] = risk_class
    assert validate_assessment(solution) == []


def test_the_facts_of_the_classification_are_required_and_named(solution):
    del solution["use_context"]["profiling"]
    solution["use_context"]["annex_iii_point"] = "5a"
    solution["use_context"]["medical_device_class"] = "2a"
    messages = by_location(validate_assessment(solution))
    assert messages["use_context.profiling"].startswith("missing field 'profiling' in use_context: true if the system "
                                                        "profiles people")
    assert messages["use_context.annex_iii_point"].endswith("got '5a' (did you mean '5(a)'?)")
    assert "'not a medical device', 'I', 'IIa'" in messages["use_context.medical_device_class"]


def test_each_fairness_metric_carries_its_value_and_verdict(solution):
    del solution["fairness_metrics"][0]["value_at_validation"]
    solution["fairness_metrics"][1]["met_at_validation"] = "yes"
    messages = by_location(validate_assessment(solution))
    assert messages["fairness_metrics[0].value_at_validation"].startswith(
        "missing field 'value_at_validation' in fairness_metrics[0]: the value the notebook measured")
    assert messages["fairness_metrics[1].met_at_validation"] == (
        "fairness_metrics[1].met_at_validation should be true or false, got 'yes'")


def test_unknown_risk_class_gets_one_problem_with_a_suggestion(solution):
    solution["eu_ai_act_risk_class"] = "high risk"
    (problem,) = validate_assessment(solution)
    assert problem.location == "eu_ai_act_risk_class"
    assert problem.message.endswith("got 'high risk' (did you mean 'high-risk'?)")


def test_enum_typo_gets_a_suggestion(solution):
    solution["fairness_metrics"][1]["metric"] = "fnrr"
    assert by_location(validate_assessment(solution)) == {
        "fairness_metrics[1].metric": "fairness_metrics[1].metric should be one of 'selection_rate', 'tpr', 'fnr', "
                                      "'fpr', 'ppv', 'accuracy', 'auc', 'calibration', got 'fnrr' (did you mean 'fnr'?)"}


def test_unknown_field_is_reported_with_a_suggestion(solution):
    solution["contestibility"] = solution.pop("contestability")
    messages = by_location(validate_assessment(solution))
    assert messages["contestibility"].startswith("unknown field 'contestibility' in the document (did you mean 'contestability'?)")
    assert messages["contestability"].startswith("missing field 'contestability'")


def test_dates_quoted_or_not_and_impossible_dates(solution):
    solution["review_date"] = "2027-06-30"
    assert validate_assessment(solution) == []
    solution["review_date"] = "2027-02-30"
    assert by_location(validate_assessment(solution))["review_date"].startswith("review_date is not a real date")
    solution["review_date"] = "next June"
    assert by_location(validate_assessment(solution))["review_date"].startswith("review_date is not in the expected form")


def test_all_problems_are_reported_not_just_the_first(solution):
    solution["fairness_metrics"][0]["threshold"] = "five percent"
    solution["fairness_metrics"][1]["threshold"] = 80
    solution["eu_ai_act_risk_class"] = "moderate-risk"
    del solution["monitoring_owner"]
    solution["intended_users"] = []
    locations = [p.location for p in validate_assessment(solution)]
    assert locations == ["intended_users", "eu_ai_act_risk_class", "fairness_metrics[0].threshold",
                         "fairness_metrics[1].threshold", "monitoring_owner"]


def test_problems_in_yaml_carry_their_line():
    text = WORKED.read_text(encoding="utf-8")
    lines = text.splitlines()
    first_threshold = next(i for i, line in enumerate(lines) if line.strip().startswith("threshold:"))
    lines[first_threshold] = lines[first_threshold].split("threshold:")[0] + "threshold: five percent"
    (problem,) = validate_assessment("\n".join(lines) + "\n")
    assert problem.location == "fairness_metrics[0].threshold"
    assert problem.line == first_threshold + 1
    assert str(problem) == f"line {first_threshold + 1}: {problem.message}"


def test_bad_yaml_is_one_problem_with_its_line_not_a_traceback():
    text = "system_name: Readmission risk\nintended_use: ranks patients\n  intended_users: [nurses\n"
    problems = validate_assessment(text)
    assert len(problems) == 1
    assert problems[0].location == "(document)" and problems[0].line == 3
    assert problems[0].message.startswith("the file is not valid YAML at line 3")


def test_bad_yaml_file(tmp_path):
    path = tmp_path / "assessment.yaml"
    path.write_text("system_name: x\nfairness_metrics:\n- metric: fnr\n threshold: 0.1\n", encoding="utf-8")
    (problem,) = validate_assessment(path)
    assert problem.line == 4 and "not valid YAML" in problem.message


@pytest.mark.parametrize("text, message", [
    ("# only a comment\n", "the document is empty"),
    ("- a list\n- not fields\n", "the document should be a set of 'field: value' lines"),
])
def test_empty_or_non_mapping_document(text, message):
    (problem,) = validate_assessment(text)
    assert problem.message.startswith(message)


def test_missing_file_and_wrong_input_type_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="No impact assessment at"):
        validate_assessment(tmp_path / "nothing.yaml")
    with pytest.raises(TypeError, match="YAML file path, YAML text or a dict; got int"):
        validate_assessment(42)


def test_template_path_rejects_unknown_names():
    with pytest.raises(ValueError, match="'template'"):
        template_path("answer")
    with pytest.raises(ValueError, match="'template'"):
        template_path("solution")  # the worked assessment stays with the instructor


# --- model card -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit():
    cohort = make_readmission_cohort(n=3000, random_state=4)
    flagged = (cohort["chronic_conditions"] >= 5).astype(int)
    return group_audit_table(cohort["readmitted_30d"], flagged, sensitive_features=cohort["race"],
                             y_score=cohort["chronic_conditions"], random_state=0)


def card_results(audit):
    results = {key: f"About {key}." for key in MODEL_CARD_SECTIONS}
    results["model_details"] = {"name": "Readmission risk", "version": "1.0", "threshold": 0.2345}
    results["quantitative_analyses"] = {"by race": audit}
    return results


def parse_markdown_table(text, caption):
    lines = text[text.index(f"**{caption}**"):].splitlines()[2:]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return header, rows


def test_model_card_numbers_equal_the_audit_table(audit):
    card = render_model_card(card_results(audit))
    for heading in MODEL_CARD_SECTIONS.values():
        assert f"\n## {heading}\n" in card
    header, rows = parse_markdown_table(card, "by race")
    assert header[:2] == ["group", "n"]
    assert len(rows) == len(audit)
    cell = re.compile(r"^(-?\d+\.\d+) \[(-?\d+\.\d+), (-?\d+\.\d+)\]$")
    for row in rows:
        group = audit.loc[row[0]]
        assert int(row[1]) == group["n"]
        for metric, text in zip(header[2:], row[2:]):
            if pd.isna(group[metric]):
                assert text == "undefined"
                continue
            shown = cell.match(text).groups()
            assert shown == tuple(f"{group[c]:.3f}" for c in (metric, f"{metric}_ci_low", f"{metric}_ci_high"))
    assert "- **threshold:** 0.234" in card  # decimals=3 throughout


def test_model_card_shows_undefined_metrics_as_undefined():
    table = pd.DataFrame({"n": [10, 5], "tpr": [0.5, np.nan]}, index=pd.Index(["A", "B"], name="group"))
    results = {key: "x" for key in MODEL_CARD_SECTIONS} | {"quantitative_analyses": table}
    assert "| B | 5 | undefined |" in render_model_card(results, decimals=2)


def test_model_card_html_is_escaped(audit):
    results = card_results(audit)
    results["ethical_considerations"] = ["<script>alert('x')</script>", "cost & need differ"]
    results["model_details"]["name"] = "Risk <v1>"
    page = render_model_card(results, fmt="html")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "cost &amp; need differ" in page
    assert "<title>Model card: Risk &lt;v1&gt;</title>" in page
    n_white = int(audit.loc["White", "n"])
    assert f"<td>White</td><td>{n_white}</td><td>{audit.loc['White', 'base_rate']:.3f} [" in page


@pytest.mark.parametrize("change, message", [
    (lambda r: r.pop("caveats_and_recommendations"), "missing section(s) 'caveats_and_recommendations'"),
    (lambda r: r.update(factor=["race"]), "unknown section(s) 'factor' (did you mean 'factors'?)"),
])
def test_model_card_section_errors(audit, change, message):
    results = card_results(audit)
    change(results)
    with pytest.raises(ValueError) as caught:
        render_model_card(results)
    assert message in str(caught.value)


def test_render_arguments_are_checked(audit):
    with pytest.raises(ValueError, match="fmt should be 'markdown' or 'html'; got 'pdf'"):
        render_model_card(card_results(audit), fmt="pdf")
    with pytest.raises(TypeError, match="results should be a dict"):
        render_model_card(["model_details"])
    results = card_results(audit) | {"quantitative_analyses": [1, 2]}
    with pytest.raises(TypeError, match="an audit table DataFrame"):
        render_model_card(results)


# --- datasheet --------------------------------------------------------------------------------


def test_datasheet_composition_equals_the_data():
    cohort = make_readmission_cohort(n=4000, random_state=2)
    info = {key: f"About {key}." for key in DATASHEET_SECTIONS if key != "composition"}
    info["title"] = "Datasheet: synthetic readmission cohort"
    sheet = render_datasheet(cohort, info, group_cols=("race", "payer"), outcome_col="readmitted_30d")
    for heading in DATASHEET_SECTIONS.values():
        assert f"\n## {heading}\n" in sheet
    assert f"{len(cohort)} rows and {cohort.shape[1]} columns." in sheet
    for column in ("race", "payer"):
        header, rows = parse_markdown_table(sheet, f"By {column}")
        assert header == [column, "n", "share", "readmitted_30d cases", "readmitted_30d rate"]
        labels = cohort[column].astype(str)
        for group, n, share, cases, rate in rows:
            members = cohort[labels == group]
            assert int(n) == len(members)
            assert share == f"{len(members) / len(cohort):.3f}"
            assert int(cases) == members["readmitted_30d"].sum()
            assert rate == f"{members['readmitted_30d'].mean():.3f}"
    overall = cohort["readmitted_30d"]
    assert f"Overall readmitted_30d rate: {overall.mean():.3f} ({overall.sum()} of {len(cohort)})." in sheet


def test_datasheet_html_escapes_and_checks_arguments():
    frame = pd.DataFrame({"race": ["<b>A</b>", "B & C"], "y": [1, 0]})
    info = {key: "text" for key in DATASHEET_SECTIONS if key != "composition"}
    page = render_datasheet(frame, info, fmt="html", group_cols="race", outcome_col="y")
    assert "<b>A</b>" not in page and "&lt;b&gt;A&lt;/b&gt;" in page and "B &amp; C" in page
    with pytest.raises(ValueError, match="data has no column 'sex'"):
        render_datasheet(frame, info, group_cols=["sex"])
    with pytest.raises(ValueError, match="missing section\\(s\\) 'uses'"):
        render_datasheet(frame, {k: v for k, v in info.items() if k != "uses"}, group_cols="race")
    with pytest.raises(TypeError, match="group_cols"):
        render_datasheet(frame, info)  # no default group columns: say which
