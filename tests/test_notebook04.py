"""Notebook 04 states true findings, and the course's sweep is what its build script makes.

Every number the notebook and its part of the instructor guide state is recomputed here with plain pandas / numpy /
scikit-learn from the generator's films and the shipped sweep -- never with the notebook's functions or the
learner's solutions.  The stored outputs are the ones nbval re-checks on every run, so reading them is reading the
notebook.  The sweep is rebuilt from its script (slow), so the notebook's "shipped as data" is tested, not trusted.
"""

import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

from course_utils.data import load_chest_films_sweep
from course_utils.instructor import release
from course_utils.radiographs import make_chest_films, marker_box

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = release.SOLUTIONS_DIR / "04_imaging_audit.ipynb"
GUIDE = (release.SOLUTIONS_DIR / "INSTRUCTOR_GUIDE.md").read_text(encoding="utf-8")
PART = GUIDE[GUIDE.index("## 04 · "):GUIDE.index("## Interview and practice scenarios")]


def in_fresh_python(code: str) -> str:
    """Run ``code`` in a new Python and return what it printed last.  aif360, which other tests of a session load,
    switches TensorFlow to graph mode for the whole process; Keras needs eager mode."""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOLUTION, as_version=4)


@pytest.fixture(scope="module")
def prose(notebook):
    return " ".join(" ".join(c.source for c in notebook.cells if c.cell_type == "markdown").split())


def output_of(notebook, start):
    """The printed output of the first code cell whose source starts with ``start``."""
    cell = next(c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(start))
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs)


@pytest.fixture(scope="module")
def films():
    return make_chest_films(n_patients=1500, image_size=32, random_state=0)


@pytest.fixture(scope="module")
def sets(films):
    """The course's three sets, drawn here the way the sweep's script says it draws them."""
    facts = films.facts
    rest, test = next(GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0).split(
        facts, groups=facts["patient_id"]))
    a, b = next(GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=1).split(
        facts.iloc[rest], groups=facts["patient_id"].iloc[rest]))
    return {"train": rest[a], "validation": rest[b], "test": test}


@pytest.fixture(scope="module")
def sweep():
    return load_chest_films_sweep()


def highest_threshold(y, scores, sensitivity=0.85):
    """Every score tried from the top: the first that flags `sensitivity` of the positives."""
    positives = scores[y == 1]
    for candidate in np.sort(np.unique(scores))[::-1]:
        if (positives >= candidate).mean() >= sensitivity:
            return candidate
    return math.nan


def fnr(y, flagged, mask):
    sick = mask & (y == 1)
    return (~flagged[sick]).mean()


def model_scores(sweep, method, seed, part, value=None):
    rows = sweep[(sweep["method"] == method) & (sweep["seed"] == seed) & (sweep["part"] == part)]
    if value is not None:
        rows = rows[np.isclose(rows["value"], value)]
    by_film = rows.set_index("film_id")["score"]
    return by_film


# --- the films, the sets and the split ----------------------------------------------------------------------------

def test_the_sets_are_the_sweeps_and_hold_the_stated_patients(films, sets, sweep, notebook):
    facts = films.facts
    listed = sweep.drop_duplicates("film_id").set_index("film_id")["part"]
    for name in ("validation", "test"):
        assert sorted(listed[listed == name].index) == sorted(facts["film_id"].iloc[sets[name]])
    patients = {name: facts["patient_id"].iloc[rows].nunique() for name, rows in sets.items()}
    assert patients == {"train": 843, "validation": 282, "test": 375}
    assert not set(facts["patient_id"].iloc[sets["train"]]) & set(facts["patient_id"].iloc[sets["test"]])
    printed = output_of(notebook, "yours = split_by_patient")
    assert "{'train': (2877, 843), 'validation': (969, 282), 'test': (1266, 375)}" in printed
    assert f"{len(facts):,} films of 1,500 patients" in output_of(notebook, "import math")
    assert "843, 282 and 375 patients" in " ".join(PART.split())


def test_a_split_by_film_shares_the_stated_share_of_test_films(films, notebook):
    facts = films.facts
    test_films = 1266  # the size of the test part by patient
    drawn = np.random.default_rng(0).permutation(len(facts))[:test_films]
    others = np.setdiff1d(np.arange(len(facts)), drawn)
    share = np.isin(facts["patient_id"].to_numpy()[drawn], facts["patient_id"].to_numpy()[others]).mean()
    assert f"{share:.0%}" == "91%"
    assert "91% of its test films" in output_of(notebook, "yours = split_by_patient")
    assert "91 %" in PART


def test_load_keras_is_quiet_eager_with_onednn_on_and_leaves_the_environment_as_it_was():
    code = ("import os, sys\n"
            "os.environ['TF_ENABLE_ONEDNN_OPTS'] = '0'  # as a kernel started by an aif360 process inherits it\n"
            "from course_utils.radiographs import load_keras\n"
            "keras, tf = load_keras()\n"
            "from tensorflow.python.util import _pywrap_util_port\n"
            "print(keras.backend.backend(), tf.executing_eagerly(), _pywrap_util_port.IsMklEnabled(),"
            " os.environ['TF_ENABLE_ONEDNN_OPTS'])\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0 and run.stderr == "", run.stderr[-2000:]
    assert run.stdout.split() == ["tensorflow", "True", "True", "0"]


def test_the_solutions_cnn_has_about_2400_weights_and_the_marker_is_3_by_3(prose):
    trainable = int(in_fresh_python(
        "import numpy as np\n"
        "from course_utils.radiographs import load_keras\n"
        "keras, _ = load_keras()\n"
        "layers = [keras.Input((32, 32, 1)), keras.layers.Conv2D(8, 5, padding='same'), keras.layers.MaxPooling2D(2),"
        " keras.layers.Conv2D(16, 3, padding='same'), keras.layers.MaxPooling2D(2), keras.layers.Flatten(),"
        " keras.layers.Dense(1)]\n"
        "print(sum(int(np.prod(w.shape)) for w in keras.Sequential(layers).trainable_weights))\n"))
    assert round(trainable, -2) == 2400 and "about 2,400 weights at 32 pixels" in " ".join(PART.split())
    rows, columns = marker_box(32)
    assert rows.stop - rows.start == columns.stop - columns.start == 3 and "3 × 3-pixel marker" in prose


# --- the audit's numbers (the notebook's live CNN is the sweep's baseline, seed 0) ------------------------------------

def test_the_live_cnn_is_the_sweeps_baseline_and_the_guide_states_its_audit(films, sets, sweep, notebook):
    facts = films.facts
    y = (facts["label"] == 1).to_numpy().astype(int)
    truth = facts["pneumonia"].to_numpy()
    validation = model_scores(sweep, "baseline", 0, "validation").loc[facts["film_id"].iloc[sets["validation"]]]
    test = model_scores(sweep, "baseline", 0, "test").loc[facts["film_id"].iloc[sets["test"]]]
    assert f"validation AUC against the labels: {roc_auc_score(y[sets['validation']], validation):.3f}" in output_of(
        notebook, "def scores_of(")
    cut = highest_threshold(y[sets["validation"]], validation.to_numpy())
    flagged = test.to_numpy() >= cut
    women = (facts["sex"].to_numpy()[sets["test"]] == "Female")
    by_label = [fnr(y[sets["test"]], flagged, women), fnr(y[sets["test"]], flagged, ~women)]
    by_truth = fnr(truth[sets["test"]], flagged, women)
    text = " ".join(PART.split())
    assert f"FNR {by_label[0]:.3f} against {by_label[1]:.3f}" in text
    assert f"({by_truth:.3f})" in text
    audit = output_of(notebook, "test_facts = facts.iloc[test_rows]")
    assert re.search(rf"Female\s+\d+\s+\d+\s+{by_label[0]:.3f}", audit), audit[:400]


# --- the front: Figure 2's caption, the guide and the Reflect's model answer ---------------------------------------------

@pytest.fixture(scope="module")
def front(films, sets, sweep):
    """Per setting: mean, lowest and highest seed of validation AUC and |FNR women - FNR men| at each model's
    operating point for 85 % sensitivity -- computed here from the sweep with numpy and scikit-learn."""
    facts = films.facts.set_index("film_id")
    rows = []
    validation = sweep[sweep["part"] == "validation"]
    for (method, value, seed), models in validation.groupby(["method", "value", "seed"], dropna=False):
        y = (facts.loc[models["film_id"], "label"] == 1).to_numpy().astype(int)
        women = (facts.loc[models["film_id"], "sex"] == "Female").to_numpy()
        scores = models["score"].to_numpy()
        flagged = scores >= highest_threshold(y, scores)
        rows.append({"setting": method if pd.isna(value) else f"{method} {value:g}", "auc": roc_auc_score(y, scores),
                     "gap": abs(fnr(y, flagged, women) - fnr(y, flagged, ~women))})
    table = pd.DataFrame(rows).groupby("setting").agg(["mean", "min", "max"])
    return table


def test_figure_2_and_the_guide_state_the_sweeps_numbers(front, prose, films, sets):
    text = prose + " " + " ".join(PART.split())
    auc, gap = front["auc"], front["gap"]
    for setting, words in [("baseline", "baseline (AUC {a:.3f}, gap {g:.3f})"),
                           ("reweighing 1", "re-weighting by sex and label ({a:.3f}, {g:.3f})")]:
        assert words.format(a=auc.loc[setting, "mean"], g=gap.loc[setting, "mean"]) in prose, setting
    assert f"smallest gap ({gap.loc['adversarial 1', 'mean']:.3f})" in prose
    assert gap["mean"].idxmin() == "adversarial 1" and auc["mean"].idxmin() == "adversarial 1"
    assert f"most AUC ({auc.loc['adversarial 1', 'mean']:.3f})" in prose
    assert (f"seeds from {auc.loc['adversarial 1', 'min']:.3f} to {auc.loc['adversarial 1', 'max']:.3f}" in prose)
    assert (f"at weight 0.3 the gap falls to {gap.loc['adversarial 0.3', 'mean']:.3f} for "
            f"{auc.loc['baseline', 'mean'] - auc.loc['adversarial 0.3', 'mean']:.3f} of AUC") in prose
    assert f"0.823 (seeds 0.720–0.895)" in text and auc.loc["adversarial 1", "mean"].round(3) == 0.823
    # the weights: P(sex) P(label) / P(sex, label) on the training films
    facts = films.facts.iloc[sets["train"]]
    cells = pd.crosstab(facts["sex"], facts["label"] == 1)
    weights = np.outer(cells.sum(axis=1), cells.sum(axis=0)) / len(facts) / cells.to_numpy()
    assert f"between {weights.min():.2f} and {weights.max():.2f}" in text


def test_the_reflect_model_answer_states_the_sweeps_numbers(front, notebook):
    answer = next(c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                  == "imaging-reflect-front")
    answer = " ".join(answer.split())
    gap, auc = front["gap"], front["auc"]
    assert f"gap {gap.loc['reweighing 1', 'mean']:.3f} against the baseline's {gap.loc['baseline', 'mean']:.3f}" in answer
    assert f"({gap.loc['adversarial 0.3', 'min']:.3f}–{gap.loc['adversarial 0.3', 'max']:.3f})" in answer
    assert gap.loc["adversarial 0.3", "max"] <= gap.loc["baseline", "min"] + 1e-12
    assert f"best seed ({gap.loc['baseline', 'min']:.3f})" in answer
    spread = auc.loc["adversarial 1", "max"] - auc.loc["adversarial 1", "min"]
    assert f"disagree by {spread:.2f} of AUC" in answer


def test_notebook_04s_time_is_its_sections_added_up_in_one_sitting():
    timing = PART[PART.index("### Timing and flow"):PART.index("### Expected answers")]
    minutes = sum(int(m) for m in re.findall(r"^\|[^|\n]*\| (\d+) \|", timing, re.M))
    first = nbformat.read(SOLUTION, as_version=4).cells[0].source
    stated = re.search(r"\*\*Estimated time:\*\* (\d+) h (\d+) min", first)
    assert minutes == 60 * int(stated.group(1)) + int(stated.group(2)) == 165


# --- the sweep is what its script builds -----------------------------------------------------------------------------

def _build_module():
    spec = importlib.util.spec_from_file_location("build_imaging_sweep", ROOT / "data" / "raw" / "build_imaging_sweep.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_imaging_sweep"] = module
    spec.loader.exec_module(module)
    return module


def test_the_sweep_script_uses_the_notebooks_films_and_sets(films, sets):
    build = _build_module()
    made, part = build.films_and_parts()
    assert np.array_equal(made.images, films.images)
    for name, rows in sets.items():
        assert sorted(np.flatnonzero(part == name)) == sorted(rows)


#: The names through which a cell reads a network the notebook trains live (its outputs then follow the processor).
LIVE_MODELS = re.compile(r"\b(train_cnn|cnn|validation_scores|test_scores|flagged|adversary)\b")


def test_nbval_ignores_the_output_of_live_trained_networks_only(notebook):
    """oneDNN picks its kernels by the processor's instruction set, so a network trained live on another machine
    has other weights: nbval runs those cells and compares every other cell's output; the numbers the notebook and
    the guide state come from the shipped sweep, which a test rebuilds."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    ignored = [cell for cell in code if "nbval-ignore-output" in cell.metadata.get("tags", [])]
    assert len(ignored) == 5
    assert all(LIVE_MODELS.search(cell.source) for cell in ignored)
    assert not any("sweep" in cell.source and not LIVE_MODELS.search(cell.source) for cell in ignored)
    released = nbformat.read(ROOT / "notebooks" / SOLUTION.name, as_version=4)
    assert [c.source for c in released.cells if "nbval-ignore-output" in c.metadata.get("tags", [])] == [
        c.source for c in ignored]


@pytest.mark.slow  # fifteen CNNs: about a minute
def test_rebuilding_the_sweep_gives_the_shipped_file():
    # --check rebuilds in a fresh Python and compares with the shipped file: exit 0 only if they agree
    # On the processor that built it the rebuild is the shipped file; on another, the same experiment (the same
    # films, settings and seeds, each setting's mean validation AUC within the build script's tolerance).
    said = in_fresh_python("import runpy, sys\nsys.argv = ['build', '--check']\n"
                           "runpy.run_path('data/raw/build_imaging_sweep.py', run_name='__main__')")
    print(said)
    assert re.search(r"chest_films_sweep\.csv: the same (as a fresh build|experiment as a fresh build on this "
                     r"processor)", said), said


def test_the_sweeps_comparison_across_processors_tells_another_experiment(films, sweep):
    build = _build_module()
    labels = (films.facts["label"] == 1).astype(int).to_numpy()
    assert build.same_experiment(sweep, sweep.copy(), labels)
    noisy = sweep.copy()
    noisy["score"] = (noisy["score"] + np.random.default_rng(0).normal(0, 1e-3, len(noisy))).clip(0, 1)
    assert build.same_experiment(sweep, noisy, labels) and not build.same_sweep(sweep, noisy)
    for change in ("shuffled scores of one setting", "another seed", "a score above 1"):
        other = sweep.copy()
        rows = other.index[(other["method"] == "baseline") & (other["part"] == "validation")]
        if change == "shuffled scores of one setting":
            other.loc[rows, "score"] = np.random.default_rng(1).permutation(other.loc[rows, "score"].to_numpy())
        elif change == "another seed":
            other.loc[rows[:10], "seed"] = 7
        else:
            other.loc[rows[0], "score"] = 1.5
        assert not build.same_experiment(sweep, other, labels), change


# --- the same notebook on CheXpert's layout ---------------------------------------------------------------------------

def chexpert_like(root, n_patients=400):
    """Generated films written as CheXpert-v1.0-small lays its release out: train.csv and one JPEG per film."""
    from PIL import Image

    from course_utils.radiographs import CHEXPERT_COLUMNS

    films = make_chest_films(n_patients=n_patients, image_size=64, random_state=7)
    folder = root / "CheXpert-v1.0-small"
    records = []
    for row, fact in films.facts.iterrows():
        relative = f"train/patient{fact['patient_id'] + 1:05d}/study{row + 1}/view1_frontal.jpg"
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((films.images[row] * 255).astype(np.uint8)).save(folder / relative, quality=95)
        record = dict.fromkeys(CHEXPERT_COLUMNS, None)
        record.update({"Path": f"CheXpert-v1.0-small/{relative}", "Sex": fact["sex"], "Age": int(fact["age"]),
                       "Frontal/Lateral": "Frontal", "AP/PA": fact["view"],
                       "Pneumonia": None if fact["label"] == 0 else float(fact["label"])})
        records.append(record)
    pd.DataFrame(records, columns=list(CHEXPERT_COLUMNS)).to_csv(folder / "train.csv", index=False)
    return folder


@pytest.mark.slow  # the whole notebook, on some 1,400 films read from JPEGs
def test_setting_one_variable_runs_the_notebook_on_chexperts_layout(tmp_path):
    from nbclient import NotebookClient

    folder = chexpert_like(tmp_path)
    notebook = nbformat.read(SOLUTION, as_version=4)
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code" and "CHEXPERT_FOLDER = None" in cell.source)
    setup.source = setup.source.replace("CHEXPERT_FOLDER = None", f"CHEXPERT_FOLDER = {str(folder)!r}")
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "solutions")}}).execute()
    errors = [(index, output.get("ename"), output.get("evalue")) for index, cell in enumerate(notebook.cells)
              if cell.cell_type == "code" for output in cell.outputs if output.output_type == "error"]
    assert not errors, errors
    printed = "\n".join(output_of(notebook, start) for start in ("import math", "yours = split_by_patient"))
    assert f"{len(pd.read_csv(folder / 'train.csv')):,} films of 400 patients" in printed
    assert "No course sweep on CheXpert" in output_of(notebook, "summary = seed_summary")
    assert "FNR against the truth" not in output_of(notebook, "if facts[\"pneumonia\"]")
