"""Accessibility: every figure is titled, labelled, captioned in words and drawn from one colour-blind-safe
palette; every notebook's headings go in order.

Screen-reader users cannot see a figure: the Markdown caption after it must say what it shows. Colour-blind
learners must be able to tell the groups apart: every colour comes from ``course_utils.plots.PALETTE``.
A heading outline that jumps levels (``##`` to ``####``) breaks navigation by headings.
"""

import ast
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import Collection  # noqa: E402
from matplotlib.colors import to_hex, to_rgba  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.markers import MarkerStyle  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from course_utils import metrics, plots, radiographs, tradeoff  # noqa: E402
from course_utils.instructor import release  # noqa: E402
from tables import count_table, rate_table, share_table  # noqa: E402

SOLUTIONS = release.solution_paths()
LEARNER = [release.NOTEBOOKS_DIR / path.name for path in SOLUTIONS]
PACKAGE = Path(plots.__file__).parent


def image_cells(notebook):
    return [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            and any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))]


# --------------------------------------------------------------------------- captions


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_every_figure_is_followed_by_a_numbered_caption_in_words(solution):
    notebook = nbformat.read(solution, as_version=4)
    figures = image_cells(notebook)
    captions = [i for i, cell in enumerate(notebook.cells)
                if cell.cell_type == "markdown" and cell.source.startswith("*Figure")]
    assert [i + 1 for i in figures] == captions, "each figure needs its caption cell right after it, and only then"
    for number, index in enumerate(captions, start=1):
        text = notebook.cells[index].source
        assert text.startswith(f"*Figure {number}.* "), f"{solution.name}: caption {number} starts {text[:14]!r}"
        words = text.split(maxsplit=2)[2]
        assert len(words.split()) >= 25, f"{solution.name}, Figure {number}: say what the figure shows, in words"
        assert re.search(r"\d", words), f"{solution.name}, Figure {number}: state the finding, with its numbers"


def test_the_course_has_figures_to_caption():
    assert sum(len(image_cells(nbformat.read(path, as_version=4))) for path in SOLUTIONS) >= 10


def figure_functions():
    """Every public ``plot_*`` function defined in course_utils, found in the source."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("plot_"):
                found.add(f"{path.stem}.{node.name}")
    return found


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_every_notebook_figure_is_drawn_by_a_course_figure_function(solution):
    # Raw matplotlib in a notebook escapes the palette and label tests below.
    names = {name.split(".")[1] for name in figure_functions()}
    notebook = nbformat.read(solution, as_version=4)
    for index in image_cells(notebook):
        source = notebook.cells[index].source
        assert any(f"{name}(" in source for name in names), f"{solution.name}, cell {index}: use course_utils.plots"
        raw = re.findall(r"\.(plot|bar|barh|hist|errorbar|scatter|axvline|axhline|fill_between)\(", source)
        assert not raw, f"{solution.name}, cell {index} draws with raw matplotlib: {raw}"


# --------------------------------------------------------------------------- every figure function, on real data


@pytest.fixture(scope="module")
def heart():
    from course_utils.data import load_heart

    return load_heart()


@pytest.fixture(scope="module")
def out_of_fold(heart):
    from reference_model import make_baseline_model, out_of_fold_predictions

    model = make_baseline_model()
    return out_of_fold_predictions(heart, model, outcome_col="disease", n_splits=5, random_state=0)


@pytest.fixture(scope="module")
def audit(heart, out_of_fold):
    from course_utils.instructor.course_tables import group_audit_table  # the course's audit, as the shipped tables

    def by(column):
        return group_audit_table(out_of_fold["y_true"], out_of_fold["y_pred"], sensitive_features=heart[column],
                                 y_score=out_of_fold["y_score"], random_state=0)
    return by


@pytest.fixture(scope="module")
def cohort():
    from course_utils.cohort import make_readmission_cohort

    return make_readmission_cohort(n=6000, random_state=0)


@pytest.fixture(scope="module")
def period_metrics():
    from sklearn.linear_model import LogisticRegression

    from course_utils.cohort import DEFAULT_DRIFT, make_readmission_cohort
    from course_utils.instructor.course_tables import metrics_by_period
    from course_utils.monitoring import simulate_deployment

    features = ["chronic_conditions", "prior_utilisation"]
    train = make_readmission_cohort(n=5000, random_state=1)
    model = LogisticRegression().fit(train[features], train["readmitted_30d"])
    year = simulate_deployment(model, make_readmission_cohort(n=6000, random_state=2, drift=DEFAULT_DRIFT),
                               feature_cols=features, period_col="month")
    return metrics_by_period(year, period_col="month", group_col="race", outcome_col="readmitted_30d",
                             prediction_col="flagged", progress=False)


@pytest.fixture(scope="module")
def validation_rows():
    """Notebook 02's shipped predictions for its validation patients, with their sex and outcome."""
    from course_utils.data import load_debiasing_predictions, load_heart_model_inputs

    predictions = load_debiasing_predictions()
    return predictions[predictions["split"] == "validation"].merge(
        load_heart_model_inputs()[["patient_id", "sex", "disease"]], on="patient_id")


@pytest.fixture(scope="module")
def grid(validation_rows):
    """Notebook 02's sweep on its validation patients: the shipped predictions, measured by the course."""
    from course_utils.instructor.course_tables import evaluate_predictions

    return evaluate_predictions(validation_rows, setting_cols=["method", "value", "seed"], outcome_col="disease",
                                score_col="score", decision_col="decision", group_col="sex", patient_col="patient_id")


def front_of(table):
    """The rows no other row beats on both AUC and FNR gap (a plain double loop, for drawing)."""
    rows = table[["auc", "fnr_gap"]].dropna().to_numpy()
    keep = [i for i, (auc, gap) in enumerate(rows)
            if not any(a >= auc and g <= gap and (a > auc or g < gap) for a, g in rows)]
    return table.dropna(subset=["auc", "fnr_gap"]).iloc[keep]


def roc_axes(grid_rows):
    """The baseline's validation ROC curves by sex, on axes of their own."""
    rows = grid_rows[grid_rows["method"] == "baseline"]
    ax = plt.figure().add_subplot()
    plots.plot_roc_by_group(rows["disease"], rows["score"], sensitive_features=rows["sex"], ax=ax)
    return ax


# (id, "module.function", how to draw it from the fixtures above)
FIGURES = [
    ("roc-by-sex", "plots.plot_roc_by_group", lambda f: roc_axes(f("validation_rows"))),
    ("counts-by-site-and-sex", "plots.plot_group_counts", lambda f: plots.plot_group_counts(
        count_table(f("heart"), ["site", "sex"]))),
    ("counts-by-age-band-and-site", "plots.plot_group_counts", lambda f: plots.plot_group_counts(
        count_table(f("heart"), ["age_band", "site"]))),
    ("prevalence-by-sex", "plots.plot_group_rates", lambda f: plots.plot_group_rates(
        rate_table(f("heart"), "sex", "disease"), "prevalence")),
    ("error-rates-by-sex", "plots.plot_group_rates",
     lambda f: plots.plot_group_rates(f("audit")("sex"), ["accuracy", "fnr", "fpr"])),
    ("error-rates-by-age-band", "plots.plot_group_rates",
     lambda f: plots.plot_group_rates(f("audit")("age_band"), ["fnr", "fpr"])),
    ("cholesterol-by-sex", "plots.plot_distribution_by_group",
     lambda f: plots.plot_distribution_by_group(f("heart"), value_col="cholesterol", group_col="sex")),
    ("age-by-site", "plots.plot_distribution_by_group",
     lambda f: plots.plot_distribution_by_group(f("heart"), value_col="age", group_col="site")),
    ("chest-pain-by-sex", "plots.plot_category_shares", lambda f: plots.plot_category_shares(
        share_table(f("heart"), "sex", "chest_pain"))),
    ("calibration-by-sex", "plots.plot_calibration_by_group", lambda f: plots.plot_calibration_by_group(
        metrics.calibration_table(f("out_of_fold")["y_true"], f("out_of_fold")["y_score"],
                                  sensitive_features=f("heart")["sex"]), outcome_label="disease")),
    ("readmission-by-need-and-race", "plots.plot_rate_by_level", lambda f: plots.plot_rate_by_level(
        rate_table(f("cohort").assign(conditions=f("cohort")["chronic_conditions"].clip(upper=10)),
                   ["conditions", "race"], "readmitted_30d"),
        "prevalence", group_col="race")),
    ("monitored-share", "plots.plot_metric_by_period", lambda f: plots.plot_metric_by_period(
        f("period_metrics"), "share", group_col="race", events={6: "population shift"})),
    ("monitored-fnr", "plots.plot_metric_by_period", lambda f: plots.plot_metric_by_period(
        f("period_metrics"), "fnr", group_col="race", groups=["White", "Black"])),
    ("shap-contributions", "plots.plot_contributions", lambda f: plots.plot_contributions(
        pd.Series({"chronic conditions": 1.2, "visits": -0.14, "insurance": -0.03}),
        patient=pd.Series({"chronic conditions": 7, "visits": 20, "insurance": "Medicare"}))),
    ("shap-mean-abs-by-race", "plots.plot_mean_abs_by_group", lambda f: plots.plot_mean_abs_by_group(
        pd.DataFrame({"chronic conditions": [0.58, 0.66], "visits": [0.05, 0.06]},
                     index=pd.Index(["White", "Black"], name="race")))),
    ("tradeoff", "plots.plot_tradeoff", lambda f: plots.plot_tradeoff(f("grid"), front_of(f("grid")))),
    ("pareto", "tradeoff.plot_pareto", lambda f: tradeoff.plot_pareto(f("grid"), front_of(f("grid")))),
    ("pareto-without-front", "tradeoff.plot_pareto", lambda f: tradeoff.plot_pareto(f("grid"))),
    ("chest-films", "plots.plot_films", lambda f: plots.plot_films(
        radiographs.make_chest_films(n_patients=5, image_size=32, random_state=0).images[:6],
        ["AP · F · 71\nlabel 1", "PA", "PA", "AP", "PA", "AP"])),
    ("class-scores", "plots.plot_score_distribution",
     lambda f: plots.plot_score_distribution([0.1, 0.45, 0.5, 0.8, 0.95, 1.0], needs_help_below=0.5)),
    ("class-items", "plots.plot_item_statistics", lambda f: plots.plot_item_statistics(pd.DataFrame(
        {"difficulty": [0.97, 0.5, 0.15, 0.6], "discrimination": [float("nan"), 0.45, -0.2, 0.1],
         "flagged": [True, False, True, True]}))),
    ("pareto-unknown-method", "tradeoff.plot_pareto",
     lambda f: tradeoff.plot_pareto(f("grid").assign(method=f("grid")["method"].replace("threshold", "other")))),
]


def test_every_figure_function_in_course_utils_is_checked_here():
    assert {name for _, name, _ in FIGURES} == figure_functions()


def draw(request, make):
    result = make(request.getfixturevalue)
    figure = result.figure if hasattr(result, "figure") else result
    figure.canvas.draw()
    return figure


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("make", [make for *_, make in FIGURES], ids=[case for case, *_ in FIGURES])
def test_every_figure_has_a_title_and_labelled_axes(request, make):
    figure = draw(request, make)
    suptitle = figure.get_suptitle()
    drawn = [ax for ax in figure.axes if ax.has_data()]
    assert drawn
    for ax in drawn:
        assert ax.get_title().strip() or suptitle.strip(), "no title"
        assert ax.get_xlabel().strip(), "no x-axis label"
        assert ax.get_ylabel().strip(), "no y-axis label"


def _artist_colours(artist):
    if isinstance(artist, Line2D):
        if artist.get_linestyle() not in ("None", "", " "):
            yield artist.get_color()
        marker = MarkerStyle(artist.get_marker())
        if marker.get_marker() not in (None, "None", "", " "):
            yield artist.get_markeredgecolor()
            if marker.is_filled() and artist.get_fillstyle() != "none":  # "_" and "|" caps have no face
                yield artist.get_markerfacecolor()
    elif isinstance(artist, Patch):
        yield artist.get_facecolor()
        if artist.get_linewidth() > 0:
            yield artist.get_edgecolor()
    elif isinstance(artist, Collection):
        yield from artist.get_facecolors()
        if max(artist.get_linewidths(), default=0) > 0:
            yield from artist.get_edgecolors()
    elif isinstance(artist, Text) and artist.get_text():
        yield artist.get_color()


def colours_used(figure):
    """Every visible colour of every artist, as upper-case hex (alpha dropped), with an artist that uses it."""
    found = {}
    for artist in figure.findobj():
        if not artist.get_visible():
            continue
        for colour in _artist_colours(artist):
            rgba = to_rgba(colour)
            if rgba[3] > 0:  # fully transparent draws nothing
                found.setdefault(to_hex(rgba, keep_alpha=False).upper(), type(artist).__name__)
    return found


def test_the_palette_is_okabe_ito_a_ramp_and_neutrals_only():
    assert plots.PALETTE == {c.upper() for c in [*plots.OKABE_ITO.values(), *plots.AGE_BAND_RAMP,
                                                 *plots.NEUTRALS.values()]}
    assert set(plots.GROUP_COLOURS.values()) | set(plots.METHOD_COLOURS.values()) <= plots.PALETTE
    from course_utils.exercises.questions.debiasing import GRID

    # one colour per method label of notebook 02's sweep, in the order the course teaches them
    assert tuple(plots.METHOD_COLOURS) == tuple(GRID)


def test_the_colour_check_catches_a_colour_outside_the_palette():
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])  # matplotlib's default blue
    ax.set_title("t", color="red")
    assert {"#1F77B4", "#FF0000"} <= set(colours_used(figure)) - plots.PALETTE


@pytest.mark.parametrize("make", [make for *_, make in FIGURES], ids=[case for case, *_ in FIGURES])
def test_every_figure_uses_only_palette_colours(request, make):
    outside = {colour: artist for colour, artist in colours_used(draw(request, make)).items()
               if colour not in plots.PALETTE}
    assert not outside, f"colours outside course_utils.plots.PALETTE: {outside}"


# Colour written in code: a colour keyword or variable, a hex literal, or a quoted colour name.
COLOUR_IN_CODE = re.compile(
    r"""(?ix) \b\w*colou?rs?\s*=(?!=)           # color=..., ecolor=..., colours = {...}
    | ["']\#[0-9a-f]{3}(?:[0-9a-f]{3})?(?:[0-9a-f]{2})?["']  # "#D55E00"
    """)
COLOUR_NAME = re.compile(r"""(?<!\[)["'](?:grey|gray|red|green|blue|orange|purple|yellow|black|white|tab:\w+|C\d)["']""")


def colour_literals(source):
    return COLOUR_IN_CODE.findall(source) + COLOUR_NAME.findall(source)


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py") if p.name != "plots.py"),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_colour_is_written_outside_the_palette_module(path):
    assert not colour_literals(path.read_text(encoding="utf-8")), "take colours from course_utils.plots"


def test_plots_writes_hex_colours_only_in_its_palette_block():
    source = (PACKAGE / "plots.py").read_text(encoding="utf-8")
    code = re.sub(r'""".*?"""', "", source[source.index("\ndef "):], flags=re.S)  # docstrings show examples
    assert not re.search(r"""["']#[0-9A-Fa-f]{3,8}["']""", code), "name palette colours in the palette block"
    assert not COLOUR_NAME.search(code)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_no_colour_is_written_in_a_notebook(solution):
    notebook = nbformat.read(solution, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not colour_literals(cell.source), f"{solution.name}: take colours from course_utils.plots"


def test_the_colour_checks_would_catch_colours_in_code():
    assert colour_literals('ax.plot(x, y, color="#D55E00")')
    assert colour_literals("ax.axvline(5, linestyle='--', colour='grey')")
    assert colour_literals('line.set(ecolor="tab:blue")')
    assert not colour_literals('group_colour("Female")') and not colour_literals('race == "Black"')
    assert not colour_literals('NEUTRALS["grey"]')  # a palette entry by name


# --------------------------------------------------------------------------- headings

HEADING = re.compile(r"^(#{1,6})\s+\S")


def headings(notebook):
    """(level, text) of every Markdown heading, in order, outside fenced code blocks."""
    found, fenced = [], False
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            elif not fenced and (match := HEADING.match(line)):
                found.append((len(match.group(1)), line.strip(), index))
        fenced = False
    return found


@pytest.mark.parametrize("path", SOLUTIONS + LEARNER, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_headings_go_in_order_under_one_title(path):
    notebook = nbformat.read(path, as_version=4)
    outline = headings(notebook)
    assert outline and outline[0][0] == 1 and outline[0][2] == 0, "the first cell should open with the # title"
    assert notebook.cells[0].source.startswith("# ")
    assert [h for h in outline if h[0] == 1] == outline[:1], "exactly one # title"
    for (previous, _, _), (level, text, index) in zip(outline, outline[1:]):
        assert level <= previous + 1, f"cell {index}: {text!r} jumps from level {previous} to {level}"


def test_the_heading_check_catches_a_jump():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T\n## A\n#### B\n```\n# not\n```")])
    levels = [level for level, *_ in headings(notebook)]
    assert levels == [1, 2, 4]
