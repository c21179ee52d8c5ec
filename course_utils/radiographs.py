"""Synthetic chest radiographs with a known causal story: the imaging counterpart of :mod:`course_utils.cohort`.

The seed's imaging project is a pneumonia classifier on chest X-rays that must work for every age group and sex.
No medical image set with age and sex installs offline from the package registries (CheXpert needs a research-use
agreement and is about 11 GB), so the course *generates* small grey-scale films from a causal model whose every
mechanism is written down here, has a knob with a default, and comes from the literature
(``data/DATASHEET_chest_films.md`` gives each source).  Synthetic films teach the mechanisms; they prove nothing
about a real hospital's films.

Entry points
------------
make_chest_films       the films (an array) and one row of facts per film, seeded, optionally with drift
FILM_SETTINGS          every knob and its default
FILM_COLUMNS           what each column of the facts means
load_chexpert          CheXpert's frontal films in the same shape and columns, for a learner with access
marker_box             where a portable film's marker is
load_keras             Keras and TensorFlow for the films' models, their start-up messages silenced

The causal story
----------------
::

    age, sex ──► inpatient ──► portable AP film ──► marker, lower contrast, larger heart shadow
       │            │                                   (the shortcut: AP goes with pneumonia)
       └────────────┴──► pneumonia ──► a local opacity in one lung zone
    sex = female ──► soft-tissue overlay ──► lower-zone opacities fainter
    pneumonia ──► report ──► parsed label: positive, negative, or uncertain (-1);
                              findings missed more often for women and for the young
    patient ──► several films, same anatomy, often the same episode: a split by film leaks

Examples
--------
>>> films = make_chest_films(n_patients=200, random_state=0)
>>> films.images.shape[1:], films.images.dtype.name
((48, 48), 'float32')
>>> len(films.images) == len(films.facts) and films.facts["patient_id"].nunique() == 200
True
>>> sorted(films.facts["label"].unique().tolist())
[-1, 0, 1]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

__all__ = ["AGE_BANDS", "AGE_SHARES", "CHEXPERT_COLUMNS", "FILM_COLUMNS", "FILM_SETTINGS", "ChestFilms",
           "load_chexpert", "load_keras", "make_chest_films", "marker_box"]

#: Every knob of the generator and its default.  ``data/DATASHEET_chest_films.md`` says where each comes from.
FILM_SETTINGS: dict[str, float] = {
    # patients and films
    "films_per_patient": 3.4,       # mean films per patient (CheXpert: 224,316 films of 65,240 patients)
    "same_episode": 0.6,            # chance that a patient's next film is of the same illness episode
    "female_share": 0.408,          # share of women (CheXpert's test patients, Seyyed-Kalantari et al. 2021)
    # who is an inpatient, who has pneumonia
    "inpatient_share": 0.45,        # at age 60, average frailty
    "pneumonia_rate": 0.08,         # an outpatient of 60, average frailty
    "pneumonia_age_odds": 1.25,     # odds ratio per 10 years of age
    "pneumonia_inpatient_odds": 3.0,
    # the view: portable AP films for inpatients and the old, PA films for ambulant outpatients
    "ap_share_inpatient": 0.85,
    "ap_share_outpatient": 0.15,
    "marker": 1.0,                  # brightness of the portable film's marker (0: no marker)
    "ap_contrast": 0.9,             # an AP film's contrast relative to a PA film's
    # how the opacity shows
    "opacity": 0.15,                # brightness an opacity adds at its centre
    "lower_zone_share": 0.65,       # share of opacities in a lower zone
    "soft_tissue": 0.6,             # how much of a lower-zone opacity women's soft tissue hides (0: none)
    "noise": 0.04,                  # pixel noise (standard deviation)
    # the report parser
    "uncertain_rate": 0.15,         # share of pneumonias reported as uncertain
    "false_uncertain_rate": 0.03,   # share of films without pneumonia reported as uncertain
    "missed_rate": 0.08,            # share of pneumonias the report misses: men of 40 or more
    "missed_rate_female": 0.2,      # the same for women
    "missed_rate_young": 0.25,      # the same for patients under 40 (the larger of the two applies)
}

#: What each column of :attr:`ChestFilms.facts` means.
FILM_COLUMNS: dict[str, str] = {
    "film_id": "the film's number, 0 to n-1: its row in the images",
    "patient_id": "the patient's number; a patient has one film or several, often of the same illness episode",
    "period": "when the film was taken (0 to periods-1); drift starts at a period",
    "age": "age in years at the film",
    "age_band": "age group: under 40, 40-59, 60-79, 80+",
    "sex": "Female or Male",
    "inpatient": "1 if the patient was an inpatient when filmed",
    "view": "AP (portable, front to back) or PA (standing, back to front)",
    "pneumonia": "1 if the patient had pneumonia (the truth: no real data set has it)",
    "zone": "where the opacity is: upper left, upper right, lower left, lower right, or none",
    "label": "the label parsed from the report: 1 positive, 0 negative, -1 uncertain",
}

#: The age bands of the films' facts, youngest first.
AGE_BANDS = ("under 40", "40-59", "60-79", "80+")
#: Shares of the age bands, and the ages each covers (CheXpert's test patients: 0-20 0.9 %, 20-40 11.7 %, 40-60
#: 29.8 %, 60-80 40.0 %, 80+ 17.7 %; Seyyed-Kalantari et al. 2021's published results).  Adults only here: the
#: youngest band starts at 18.
AGE_SHARES = {"under 40": (0.126, 18, 40), "40-59": (0.298, 40, 60), "60-79": (0.400, 60, 80), "80+": (0.177, 80, 91)}


@dataclass(frozen=True)
class ChestFilms:
    """Films and their facts: ``images[i]`` is the film of row ``i`` of ``facts``.

    Attributes
    ----------
    images : numpy.ndarray
        ``(n_films, size, size)`` float32 in [0, 1]: brighter is denser (bone, heart, opacity).
    facts : pandas.DataFrame
        One row per film, the columns of :data:`FILM_COLUMNS`.
    settings : dict
        The knobs the films were made with.
    """

    images: np.ndarray
    facts: pd.DataFrame
    settings: dict

    def __len__(self) -> int:
        return len(self.images)


def _settings(overrides: Mapping | None) -> dict:
    settings = dict(FILM_SETTINGS)
    for name, value in dict(overrides or {}).items():
        if name not in FILM_SETTINGS:
            raise ValueError(f"make_chest_films has no setting {name!r}; the settings are {sorted(FILM_SETTINGS)}.")
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            raise TypeError(f"setting {name!r} should be a number; got {value!r}.")
        settings[name] = float(value)
    for name in ("same_episode", "female_share", "inpatient_share", "pneumonia_rate", "ap_share_inpatient",
                 "ap_share_outpatient",
                 "lower_zone_share", "soft_tissue", "uncertain_rate", "false_uncertain_rate", "missed_rate",
                 "missed_rate_female", "missed_rate_young"):
        if not 0 <= settings[name] <= 1:
            raise ValueError(f"setting {name!r} is a share: it should be between 0 and 1; got {settings[name]}.")
    if settings["films_per_patient"] < 1:
        raise ValueError(f"films_per_patient is a mean number of films: at least 1; "
                         f"got {settings['films_per_patient']}.")
    return settings


def _logit(share: np.ndarray) -> np.ndarray:
    """Log-odds of a share; 0 and 1 kept finite, so that a switched-off mechanism adds no NaN."""
    return logit(np.clip(share, 1e-9, 1 - 1e-9))


def _age_band(age) -> pd.Categorical:
    """The age band of each age (ordered, youngest first); a missing age has none."""
    return pd.cut(age, [0, 40, 60, 80, 200], right=False, labels=AGE_BANDS)


def make_chest_films(n_patients: int = 2000, *, image_size: int = 48, random_state: int = 0, periods: int = 1,
                     drift: Mapping[str, Mapping[str, float]] | None = None, **settings: float) -> ChestFilms:
    """Synthetic chest films of ``n_patients`` patients, seeded, with the mechanisms of the module's story.

    Parameters
    ----------
    n_patients : int, default 2000
        Patients; each has ``1 + Poisson(films_per_patient - 1)`` films.
    image_size : int, default 48
        Films are ``image_size`` x ``image_size`` pixels (at least 24).
    random_state : int, default 0
        Seed: the same arguments give the same films, pixel for pixel.
    periods : int, default 1
        Films are spread evenly over periods ``0..periods-1`` (months, say); ``drift`` changes settings from a
        period on.
    drift : dict, optional
        ``{setting: {"period": k, "value": v}}``: films from period ``k`` on are made with ``v``, e.g. a new
        portable machine without a marker, ``{"marker": {"period": 6, "value": 0.0}}``.
    **settings : float
        Any knob of :data:`FILM_SETTINGS`, e.g. ``soft_tissue=0`` to switch a mechanism off.

    Returns
    -------
    ChestFilms
        ``images`` (n_films, image_size, image_size) float32 and ``facts`` (one row per film).

    Examples
    --------
    Switch the shortcut off: no film carries a marker.

    >>> plain = make_chest_films(n_patients=100, random_state=1, marker=0)
    >>> float(plain.images[:, 1:6, 1:6].max()) < 0.5
    True
    """
    if not isinstance(n_patients, (int, np.integer)) or n_patients < 1:
        raise ValueError(f"n_patients should be a whole number of patients, at least 1; got {n_patients!r}.")
    if not isinstance(image_size, (int, np.integer)) or image_size < 24:
        raise ValueError(f"image_size should be a whole number of pixels, at least 24; got {image_size!r}.")
    if not isinstance(periods, (int, np.integer)) or periods < 1:
        raise ValueError(f"periods should be a whole number, at least 1; got {periods!r}.")
    base = _settings(settings)
    changes = []
    for name, change in dict(drift or {}).items():
        if not isinstance(change, Mapping) or set(change) != {"period", "value"}:
            raise ValueError(f"drift[{name!r}] should be {{'period': k, 'value': v}}; got {change!r}.")
        _settings({name: change["value"]})  # checks the name and the value
        changes.append((name, int(change["period"]), float(change["value"])))
    draw = np.random.default_rng(random_state)

    # Patients: sex, age, frailty (shared by all their films), anatomy.
    female = draw.random(n_patients) < base["female_share"]
    shares = np.array([share for share, _, _ in AGE_SHARES.values()])
    band = draw.choice(len(AGE_SHARES), size=n_patients, p=shares / shares.sum())
    low, high = (np.array([bounds[i] for bounds in AGE_SHARES.values()]) for i in (1, 2))
    age0 = draw.uniform(low[band], high[band])
    frailty = draw.normal(0, 0.8, n_patients)
    n_films = 1 + draw.poisson(base["films_per_patient"] - 1, n_patients)
    anatomy = {"lung_width": draw.normal(1, 0.07, n_patients), "lung_height": draw.normal(1, 0.07, n_patients),
               "rib_phase": draw.uniform(0, 2 * np.pi, n_patients), "body": draw.normal(0.72, 0.04, n_patients)}

    # Films: each film of a patient, its period, and the settings in force then.
    patient = np.repeat(np.arange(n_patients), n_films)
    n = len(patient)
    period = draw.integers(0, periods, n)
    values = {name: np.full(n, value) for name, value in base.items()}
    for name, start, value in changes:
        values[name] = np.where(period >= start, value, values[name])
    age = np.minimum(age0[patient] + draw.uniform(0, 2, n), 90.9)
    is_female = female[patient]
    # Episodes: a patient's next film is often of the same illness (a follow-up), with the same findings and view.
    first_film = np.r_[True, patient[1:] != patient[:-1]]
    episode = np.cumsum(first_film | (draw.random(n) >= values["same_episode"])) - 1
    starts = np.flatnonzero(np.r_[True, episode[1:] != episode[:-1]])  # each episode's first film
    k = len(starts)
    at_start = {name: value[starts] for name, value in values.items()}
    episode_inpatient = draw.random(k) < expit(_logit(at_start["inpatient_share"])
                                                + 0.03 * (age[starts] - 60) + frailty[patient[starts]])
    pneumonia_logit = (_logit(at_start["pneumonia_rate"])
                       + np.log(at_start["pneumonia_age_odds"]) * (age[starts] - 60) / 10
                       + np.log(at_start["pneumonia_inpatient_odds"]) * episode_inpatient + frailty[patient[starts]])
    episode_pneumonia = draw.random(k) < expit(pneumonia_logit)
    episode_ap = draw.random(k) < np.where(episode_inpatient, at_start["ap_share_inpatient"],
                                           at_start["ap_share_outpatient"])
    episode_lower = draw.random(k) < at_start["lower_zone_share"]
    episode_left = draw.random(k) < 0.5
    blob = {"cy": np.where(episode_lower, 0.3, -0.3) + draw.normal(0, 0.06, k),
            "cx": np.where(episode_left, -0.42, 0.42) + draw.normal(0, 0.05, k), "sigma": draw.uniform(0.12, 0.2, k)}
    inpatient, pneumonia, ap = episode_inpatient[episode], episode_pneumonia[episode], episode_ap[episode]
    lower, left = episode_lower[episode], episode_left[episode]
    blob = {name: value[episode] for name, value in blob.items()}
    zone = np.where(~pneumonia, "none",
                    np.char.add(np.where(lower, "lower ", "upper "), np.where(left, "left", "right")))

    # The report: missed, uncertain, or positive; negatives now and then uncertain.
    missed_by_sex = np.where(is_female, values["missed_rate_female"], values["missed_rate"])
    missed_share = np.where(age < 40, np.maximum(values["missed_rate_young"], missed_by_sex), missed_by_sex)
    u = draw.random(n)
    label = np.where(pneumonia, np.where(u < missed_share, 0, np.where(u < missed_share + values["uncertain_rate"]
                                                                        * (1 - missed_share), -1, 1)),
                     np.where(u < values["false_uncertain_rate"], -1, 0))

    images = _draw_images(draw, image_size, patient, anatomy, is_female, ap, pneumonia, lower, blob, values)
    facts = pd.DataFrame({
        "film_id": np.arange(n), "patient_id": patient, "period": period, "age": age.round(1),
        "age_band": _age_band(age),
        "sex": np.where(is_female, "Female", "Male"), "inpatient": inpatient.astype(int),
        "view": np.where(ap, "AP", "PA"), "pneumonia": pneumonia.astype(int), "zone": zone, "label": label.astype(int),
    })
    return ChestFilms(images=images, facts=facts, settings={**base, "drift": {n: (p, v) for n, p, v in changes}})


def _draw_images(draw, size, patient, anatomy, female, ap, pneumonia, lower, blob, values) -> np.ndarray:
    """The pixels: body, lungs, ribs, heart, the opacity, the view's contrast and marker, soft tissue, noise.

    Every array is float32, one film per row: 10,000 films of 48 x 48 pixels are 92 MB each.
    """
    def per_film(values_of_films):
        return np.asarray(values_of_films, dtype=np.float32)[:, None, None]

    n = len(patient)
    grid = np.linspace(-1, 1, size, dtype=np.float32)
    y, x = grid[None, :, None], grid[None, None, :]
    jitter = draw.normal(0, 0.02, (n, 2))  # the same patient, positioned a little differently each time
    dy, dx = per_film(jitter[:, 0]), per_film(jitter[:, 1])
    # Women's lungs are a little smaller: a model can tell a woman's film, as it can on real films.
    width = per_film(anatomy["lung_width"][patient] * np.where(female, 0.94, 1.0))
    height = per_film(anatomy["lung_height"][patient] * np.where(female, 0.92, 1.0))
    inside = (x / 0.95) ** 2 + (y / 1.05) ** 2 < 1
    image = np.where(inside, per_film(anatomy["body"][patient]), np.float32(0.08))
    lungs = np.zeros((n, size, size), dtype=bool)
    for side in (-1, 1):
        lungs |= ((x - dx - side * 0.42) / (0.3 * width)) ** 2 + ((y - dy + 0.05) / (0.62 * height)) ** 2 < 1
    ribs = 0.05 * np.sin(14 * (y - dy) + per_film(anatomy["rib_phase"][patient]))
    image = np.where(lungs, 0.28 + ribs, image)
    heart_scale = per_film(np.where(ap, 1.2, 1.0))  # an AP film magnifies the heart
    heart = ((x - dx - 0.12) / (0.24 * heart_scale)) ** 2 + ((y - dy - 0.32) / (0.22 * heart_scale)) ** 2 < 1
    image = np.where(heart, np.float32(0.68), image)
    # The opacity: a blob in one zone of one lung.
    cy, cx, sigma = per_film(blob["cy"]), per_film(blob["cx"]), per_film(blob["sigma"])
    amplitude = per_film(values["opacity"] * pneumonia * np.where(lower & female, 1 - values["soft_tissue"], 1.0))
    image += amplitude * np.exp(-((x - dx - cx) ** 2 + (y - dy - cy) ** 2) / (2 * sigma ** 2)) * lungs
    # The view: an AP film has less contrast, and a portable machine's marker in the top left corner.
    mean = image.mean(axis=(1, 2), keepdims=True)
    image = mean + per_film(np.where(ap, values["ap_contrast"], 1.0)) * (image - mean)
    rows, columns = marker_box(size)
    image[:, rows, columns] += per_film(ap * values["marker"])
    image += draw.standard_normal((n, size, size), dtype=np.float32) * per_film(values["noise"])
    return np.clip(image, 0, 1, out=image)


def load_keras() -> tuple:
    """Keras and TensorFlow (CPU), imported with their start-up messages silenced: ``keras, tf = load_keras()``.

    TensorFlow announces its CPU features and oneDNN on stderr when first imported; the import here keeps a
    notebook's outputs to what the learner's code prints, and switches oneDNN on whatever the environment says (the
    course's CNN trains about three times faster with it, and the course's sweep was built with it).  The import
    takes a few seconds the first time and nothing afterwards.

    Examples
    --------
    In a notebook (not as a doctest: a process that imports TensorFlow keeps its switches for good, so
    ``tests/test_notebook04.py`` checks this in a fresh Python)::

        keras, tf = load_keras()
        keras.backend.backend(), tf.executing_eagerly()   # ('tensorflow', True)
    """
    from course_utils import _tensorflow

    return _tensorflow.keras, _tensorflow.tf


def marker_box(image_size: int) -> tuple[slice, slice]:
    """Where a portable film's marker is: ``images[:, rows, columns]`` with ``(rows, columns) = marker_box(size)``.

    The marker is a bright square in the top left corner of every AP film (when the ``marker`` setting is not 0);
    PA films have only the dark background there.  Real markers move from film to film; these do not.

    Examples
    --------
    >>> marker_box(32)
    (slice(1, 4, None), slice(1, 4, None))
    >>> films = make_chest_films(n_patients=50, image_size=32, random_state=0)
    >>> rows, columns = marker_box(32)
    >>> ap = (films.facts["view"] == "AP").to_numpy()
    >>> bool(films.images[ap][:, rows, columns].mean() > 0.9 > 0.2 > films.images[~ap][:, rows, columns].mean())
    True
    """
    if not isinstance(image_size, (int, np.integer)) or image_size < 24:
        raise ValueError(f"image_size should be a whole number of pixels, at least 24; got {image_size!r}.")
    start = max(1, image_size // 24)
    corner = slice(start, start + max(3, image_size // 10))
    return corner, corner


def _smooth_step(value: np.ndarray, start: float) -> np.ndarray:
    return np.clip((value - start) / 0.3, 0, 1)


#: The columns of CheXpert's ``train.csv`` and ``valid.csv`` (CheXpert-v1.0-small), in their order.
CHEXPERT_COLUMNS = ("Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", "No Finding", "Enlarged Cardiomediastinum",
                    "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema", "Consolidation", "Pneumonia", "Atelectasis",
                    "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture", "Support Devices")


def load_chexpert(folder: str | os.PathLike, *, split: str = "train", image_size: int = 48,
                  max_films: int | None = None) -> ChestFilms:
    """CheXpert's frontal films in the generator's shape, for a learner with credentialed access.

    ``folder`` is the unpacked ``CheXpert-v1.0-small`` folder: it holds ``train.csv`` and ``valid.csv``, whose
    ``Path`` column starts with the folder's own name.  Lateral films are left out; each frontal film is read in
    grey scale and resized to ``image_size`` x ``image_size``.  The facts have the generator's columns:

    * ``label`` is CheXpert's Pneumonia label: 1 positive, 0 negative, -1 uncertain; a blank (not mentioned in
      the report) is 0, as the CheXpert authors read it;
    * ``view`` is CheXpert's ``AP/PA`` (``AP``, ``PA``, or another value as given);
    * what a real data set does not record is missing (``<NA>``): ``pneumonia`` (the truth), ``inpatient``,
      ``zone`` and ``period``.

    Parameters
    ----------
    folder : str or Path
        The ``CheXpert-v1.0-small`` folder.
    split : {"train", "valid"}
        Which CSV to read.
    image_size : int, default 48
        Side of the resized films, as :func:`make_chest_films` makes them.
    max_films : int, optional
        Read only the first ``max_films`` frontal films (a quick look before the whole set).

    Returns
    -------
    ChestFilms

    Examples
    --------
    >>> load_chexpert("no-such-folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: load_chexpert needs the unpacked CheXpert-v1.0-small folder, with train.csv in it; ...
    """
    from pathlib import Path

    from PIL import Image

    folder = Path(folder)
    table_path = folder / f"{split}.csv"
    if split not in ("train", "valid"):
        raise ValueError(f"split should be 'train' or 'valid'; got {split!r}.")
    if not table_path.is_file():
        raise FileNotFoundError(f"load_chexpert needs the unpacked CheXpert-v1.0-small folder, with {split}.csv in "
                                f"it; {str(table_path)!r} does not exist.")
    table = pd.read_csv(table_path)
    missing = [column for column in ("Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", "Pneumonia")
               if column not in table.columns]
    if missing:
        raise ValueError(f"{table_path.name} is not in CheXpert's layout: it has no column {', '.join(missing)}.")
    frontal = table[table["Frontal/Lateral"] == "Frontal"].reset_index(drop=True)
    if max_films is not None:
        frontal = frontal.head(max_films)
    images = np.empty((len(frontal), image_size, image_size), dtype=np.float32)
    for row, relative in enumerate(frontal["Path"]):
        # Path is "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg": relative to the folder's parent.
        path = folder.parent / relative
        if not path.is_file():
            raise FileNotFoundError(f"{table_path.name} lists {relative!r}, but {str(path)!r} does not exist: is the "
                                    f"folder unpacked whole?")
        with Image.open(path) as film:
            small = film.convert("L").resize((image_size, image_size), Image.Resampling.BILINEAR)
        images[row] = np.asarray(small, dtype=np.float32) / 255
    age = pd.to_numeric(frontal["Age"], errors="coerce")
    label = pd.to_numeric(frontal["Pneumonia"], errors="coerce").fillna(0).astype(int)
    unknown = pd.array([pd.NA] * len(frontal), dtype="Int64")
    facts = pd.DataFrame({
        "film_id": np.arange(len(frontal)),
        "patient_id": frontal["Path"].str.extract(r"patient(\d+)", expand=False).astype(int),
        "period": unknown, "age": age,
        "age_band": _age_band(age),
        "sex": frontal["Sex"].astype(str), "inpatient": unknown, "view": frontal["AP/PA"].astype(str),
        "pneumonia": unknown, "zone": pd.array([pd.NA] * len(frontal), dtype="string"), "label": label,
    })
    return ChestFilms(images=images, facts=facts, settings={"source": str(folder), "split": split})
