"""The synthetic chest films: seeded, checked inputs, and every mechanism visible in a model trained on them.

Each mechanism of ``course_utils.radiographs`` is switched on and off with its knob, and a small model (a logistic
regression on 12 x 12 pooled pixels, or a nearest neighbour for the split) shows the effect only when it is on:
a model relies on the portable film's marker only when films carry one; women's pneumonias are missed more often
only when soft tissue hides lower-zone opacities, or when their reports miss them more often; a split by film
flatters a model only when patients have several films.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

from course_utils.radiographs import FILM_COLUMNS, FILM_SETTINGS, make_chest_films


def pooled(images, cells=12, standardise=True):
    """Each film standardised (its own mean and spread), average-pooled to cells x cells: a crude model's input."""
    n, size, _ = images.shape
    if standardise:
        images = (images - images.mean(axis=(1, 2), keepdims=True)) / images.std(axis=(1, 2), keepdims=True)
    step = size // cells
    cropped = images[:, :cells * step, :cells * step]
    return cropped.reshape(n, cells, step, cells, step).mean(axis=(2, 4)).reshape(n, -1)


def by_patient(facts, share=0.5, seed=0):
    """Train and test masks that keep each patient's films together."""
    patients = facts["patient_id"].unique()
    test = set(np.random.default_rng(seed).choice(patients, int(share * len(patients)), replace=False))
    is_test = facts["patient_id"].isin(test).to_numpy()
    return ~is_test, is_test


def fnr_by_sex(scores, facts, sensitivity=0.8):
    """Each sex's FNR at the threshold that catches ``sensitivity`` of all pneumonias (one threshold for all)."""
    ill = facts["pneumonia"].to_numpy() == 1
    flagged = scores >= np.quantile(scores[ill], 1 - sensitivity)
    return {sex: float(1 - flagged[ill & (facts["sex"] == sex).to_numpy()].mean()) for sex in ("Female", "Male")}


def fnr_gap(films, label="pneumonia"):
    """Women's FNR minus men's (against the truth) of a model trained on ``label``; -1 labels are dropped (U-Ignore)."""
    train, test = by_patient(films.facts)
    known = train & (films.facts[label] >= 0).to_numpy()
    model = LogisticRegression(max_iter=2000, C=0.1).fit(pooled(films.images[known]), films.facts[label][known])
    rates = fnr_by_sex(model.predict_proba(pooled(films.images[test]))[:, 1], films.facts[test])
    return rates["Female"] - rates["Male"]


def test_the_same_arguments_give_the_same_films_and_every_column_is_described():
    first, second = make_chest_films(150, random_state=4), make_chest_films(150, random_state=4)
    assert np.array_equal(first.images, second.images)
    pd.testing.assert_frame_equal(first.facts, second.facts)
    assert not np.array_equal(first.images[:10], make_chest_films(150, random_state=5).images[:10])
    assert list(first.facts.columns) == list(FILM_COLUMNS)
    assert first.images.min() >= 0 and first.images.max() <= 1


@pytest.mark.parametrize("arguments, words", [
    ({"n_patients": 0}, "at least 1"), ({"image_size": 16}, "at least 24"), ({"soft_tissue": 1.5}, "between 0 and 1"),
    ({"contrast": 0.5}, "has no setting 'contrast'"), ({"drift": {"marker": 0}}, "{'period': k, 'value': v}"),
    ({"films_per_patient": 0.5}, "at least 1")])
def test_bad_settings_get_a_clear_error(arguments, words):
    with pytest.raises((ValueError, TypeError), match=words.replace("(", r"\(").replace("{", r"\{")):
        make_chest_films(**{"n_patients": 20, **arguments})


def test_the_story_holds_in_the_facts():
    facts = make_chest_films(3000, random_state=0).facts
    films_per_patient = facts.groupby("patient_id").size().mean()
    assert abs(films_per_patient - FILM_SETTINGS["films_per_patient"]) < 0.1
    assert abs((facts.drop_duplicates("patient_id")["sex"] == "Female").mean() - FILM_SETTINGS["female_share"]) < 0.03
    by_view = facts.groupby("view")[["inpatient", "pneumonia"]].mean()
    assert by_view.loc["AP", "inpatient"] > 0.6 > 0.3 > by_view.loc["PA", "inpatient"]
    assert by_view.loc["AP", "pneumonia"] > 1.5 * by_view.loc["PA", "pneumonia"]  # the view goes with the label
    by_age = facts.groupby("age_band", observed=True)["pneumonia"].mean()
    assert by_age.is_monotonic_increasing
    ill = facts[facts["pneumonia"] == 1]
    missed = ill.assign(missed=ill["label"] == 0).groupby("sex")["missed"].mean()
    assert missed["Female"] > 1.5 * missed["Male"]
    assert set(facts.loc[facts["pneumonia"] == 0, "label"]) == {0, -1}


def test_drift_changes_a_setting_from_its_period_on_and_nothing_before():
    plain = make_chest_films(300, random_state=2, periods=4)
    drifted = make_chest_films(300, random_state=2, periods=4, drift={"marker": {"period": 2, "value": 0.0}})
    early = (plain.facts["period"] < 2).to_numpy()
    assert np.array_equal(plain.images[early], drifted.images[early])
    late_ap = ((plain.facts["period"] >= 2) & (plain.facts["view"] == "AP")).to_numpy()
    corner = (slice(None), slice(2, 6), slice(2, 6))
    assert drifted.images[late_ap][corner].mean() < plain.images[late_ap][corner].mean() - 0.5


@pytest.mark.slow  # a model trained on thousands of films, twice: `make test` runs it, `make check` not
def test_a_model_relies_on_the_marker_only_when_films_carry_one():
    # Paint the marker's corner with the background and see how far each model's scores move on AP films (raw
    # pixels: standardising each film would let the marker's brightness move every other pixel too).
    def reliance(films):
        train, test = by_patient(films.facts)
        model = LogisticRegression(max_iter=2000, C=0.1).fit(pooled(films.images[train], standardise=False),
                                                             films.facts["pneumonia"][train])
        ap = test & (films.facts["view"] == "AP").to_numpy()
        painted = films.images[ap].copy()
        painted[:, :8, :8] = np.median(films.images[ap][:, :8, :8])
        before = model.predict_proba(pooled(films.images[ap], standardise=False))[:, 1]
        after = model.predict_proba(pooled(painted, standardise=False))[:, 1]
        return float(np.mean(before - after))

    with_marker = reliance(make_chest_films(3000, random_state=11))
    without = reliance(make_chest_films(3000, random_state=11, marker=0))
    assert with_marker > 0.02 and abs(without) < 0.01, (with_marker, without)


@pytest.mark.slow  # a model trained on thousands of films, twice: `make test` runs it, `make check` not
def test_soft_tissue_makes_women_missed_more_often_and_only_then():
    with_tissue = fnr_gap(make_chest_films(3000, random_state=11))
    without = fnr_gap(make_chest_films(3000, random_state=11, soft_tissue=0))
    assert with_tissue > 0.12 and abs(without) < 0.06, (with_tissue, without)


@pytest.mark.slow  # a model trained on thousands of films, twice: `make test` runs it, `make check` not
def test_labels_that_miss_womens_findings_teach_the_model_to_miss_them():
    settings = {"soft_tissue": 0, "missed_rate_young": 0.08}  # the labels are the only difference
    unequal = fnr_gap(make_chest_films(3000, random_state=12, missed_rate_female=0.45, **settings), label="label")
    equal = fnr_gap(make_chest_films(3000, random_state=12, missed_rate_female=0.08, **settings), label="label")
    assert unequal > equal + 0.04 and abs(equal) < 0.06, (unequal, equal)


@pytest.mark.slow  # a model trained on thousands of films, twice: `make test` runs it, `make check` not
def test_a_split_by_film_flatters_a_model_only_when_patients_have_several_films():
    def flattery(films):
        X, y = pooled(films.images, cells=24, standardise=False), films.facts["pneumonia"].to_numpy()
        order = np.random.default_rng(0).permutation(len(y))
        by_film = np.zeros(len(y), dtype=bool)
        by_film[order[: len(y) // 2]] = True
        train_p, test_p = by_patient(films.facts)

        def auc(train, test):
            model = KNeighborsClassifier(n_neighbors=1).fit(X[train], y[train])
            return roc_auc_score(y[test], model.predict_proba(X[test])[:, 1])

        return auc(by_film, ~by_film) - auc(train_p, test_p)

    several = flattery(make_chest_films(800, random_state=3))
    one = flattery(make_chest_films(2700, random_state=3, films_per_patient=1))
    assert several > 0.05 and abs(one) < 0.03, (several, one)


# --- the real-data path: CheXpert's layout, on a tiny fixture made here ---------------------------------------------

def chexpert_fixture(root):
    """A few films in CheXpert-v1.0-small's exact layout: the CSV's columns, its paths, JPEGs of its odd sizes."""
    from PIL import Image

    from course_utils.radiographs import CHEXPERT_COLUMNS

    folder = root / "CheXpert-v1.0-small"
    rows = [("patient00001/study1/view1_frontal.jpg", "Female", 68, "Frontal", "AP", 1.0),
            ("patient00001/study1/view2_lateral.jpg", "Female", 68, "Lateral", "", 1.0),
            ("patient00002/study1/view1_frontal.jpg", "Male", 87, "Frontal", "PA", -1.0),
            ("patient00003/study2/view1_frontal.jpg", "Male", 33, "Frontal", "AP", None),
            ("patient00004/study1/view1_frontal.jpg", "Unknown", 0, "Frontal", "PA", 0.0)]
    records = []
    for number, (path, sex, age, frontal, view, pneumonia) in enumerate(rows):
        file = folder / "train" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        shade = np.full((390, 320), 40 * number + 20, dtype=np.uint8)
        shade[:, :160] = 255 - shade[:, :160]  # left half light, right half dark: the resize must keep it
        Image.fromarray(shade).save(file, quality=95)
        record = dict.fromkeys(CHEXPERT_COLUMNS, None)
        record.update({"Path": f"CheXpert-v1.0-small/train/{path}", "Sex": sex, "Age": age, "Frontal/Lateral": frontal,
                       "AP/PA": view or None, "Pneumonia": pneumonia})
        records.append(record)
    pd.DataFrame(records, columns=list(CHEXPERT_COLUMNS)).to_csv(folder / "train.csv", index=False)
    return folder


def test_chexpert_is_read_frontal_only_resized_with_its_labels_as_given(tmp_path):
    from course_utils.radiographs import load_chexpert

    films = load_chexpert(chexpert_fixture(tmp_path), image_size=32)
    assert films.images.shape == (4, 32, 32) and films.images.dtype == np.float32
    assert list(films.facts.columns) == list(FILM_COLUMNS)
    facts = films.facts
    assert facts["patient_id"].tolist() == [1, 2, 3, 4] and facts["view"].tolist() == ["AP", "PA", "AP", "PA"]
    assert facts["label"].tolist() == [1, -1, 0, 0]  # a blank (not mentioned) is negative, uncertain stays -1
    assert facts["age_band"].astype(str).tolist() == ["60-79", "80+", "under 40", "under 40"]
    assert facts["pneumonia"].isna().all() and facts["inpatient"].isna().all()  # not recorded in real data
    film = films.images[0]
    assert film[:, :14].mean() > film[:, 18:].mean() + 0.5  # the light half stayed on the left
    assert load_chexpert(tmp_path / "CheXpert-v1.0-small", max_films=2).images.shape == (2, 48, 48)


def test_chexpert_path_errors_say_what_is_missing(tmp_path):
    from course_utils.radiographs import load_chexpert

    with pytest.raises(FileNotFoundError, match="needs the unpacked CheXpert-v1.0-small folder"):
        load_chexpert(tmp_path)
    folder = chexpert_fixture(tmp_path)
    (folder / "train" / "patient00002" / "study1" / "view1_frontal.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="is the folder unpacked whole"):
        load_chexpert(folder)
    pd.DataFrame({"Path": [], "Sex": []}).to_csv(folder / "valid.csv", index=False)
    with pytest.raises(ValueError, match="not in CheXpert's layout: it has no column Age"):
        load_chexpert(folder, split="valid")
