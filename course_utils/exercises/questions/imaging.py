"""Questions of notebook 04: a chest X-ray pneumonia classifier that must work for every age group and sex.

Every answer is code the learner writes, on the course's generated films (:mod:`course_utils.radiographs`) or on
CheXpert's: a split by patient, the operating point for a stated sensitivity, the audit of FNR and FPR by group
with Wilson intervals and small-group flags, per-film weights by group prevalence, the gradient reversal at the heart
of an adversarial head's layer, the labels under an uncertain-label policy, and a decision -- does a model rely on
the view marker of portable films? -- judged on generated scenarios where the grader planted the shortcut or not.
Their public cases are in ``cases/``; the hidden cases (``solutions/hidden/04_imaging_audit.py``) run them on
other films, other groups and other models.

The ``run`` harnesses below say how a case exercises an answer (call the split twice, apply the reversal under a
gradient tape, turn a scenario's model into a function of films).  When a notebook is graded they run in the
learner's kernel, so they only call the learner's code and return what it gave as data; the judge compares that
data with results computed outside the kernel.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from course_utils.exercises._cases import cases_for
from course_utils.exercises._question import AnswerProblem, CodeQuestion, Misconception, numbers_match

NOTEBOOK = "04"
NOTEBOOK_FILES = {NOTEBOOK: "04_imaging_audit"}

#: The columns of the audit table, in order.
AUDIT_COLUMNS = ("n_positive", "n_negative", "fnr", "fnr_low", "fnr_high", "fpr", "fpr_low", "fpr_high", "small")
#: The three policies for uncertain labels (-1): count them as negative, as positive, or leave the films out.
POLICIES = ("zeros", "ones", "drop")
#: What the CNN exercise asks of a trained model: its weights at most, and its AUC on new films at least.
CNN_WEIGHTS = 20_000
CNN_AUC = 0.75


# --- harnesses: how the check runs an answer ---------------------------------------------------------------------


def _rows(part, n: int, name: str) -> list[int]:
    try:
        rows = np.asarray(part).ravel()
    except Exception as error:  # a learner's object of any kind
        raise AnswerProblem(f"the {name} part should be an array of row positions; it is {type(part).__name__}.") \
            from error
    if rows.dtype == bool:
        raise AnswerProblem(f"the {name} part is a True/False mask; return row positions (np.flatnonzero(mask)).")
    if len(rows) and not np.issubdtype(rows.dtype, np.integer):
        raise AnswerProblem(f"the {name} part should hold whole row positions (0 to {n - 1}); it holds "
                            f"{rows.dtype} values.")
    return [int(row) for row in rows]


def run_split(split_by_patient, facts, test_size, random_state):
    """The learner's two parts, twice with the same seed, as row positions; and the counts the public cases compare
    (patients in both parts, rows in neither or in both, test patients).  The judge recounts from the rows."""
    first = split_by_patient(facts, test_size=test_size, random_state=random_state)
    if first is None:
        return None
    again = split_by_patient(facts, test_size=test_size, random_state=random_state)
    parts = {}
    for label, answer in (("", first), ("again_", again)):
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise AnswerProblem("split_by_patient should return two arrays, (train_rows, test_rows); it returned "
                                f"{type(answer).__name__}.")
        parts[f"{label}train"] = _rows(answer[0], len(facts), "train")
        parts[f"{label}test"] = _rows(answer[1], len(facts), "test")
    n = len(facts)
    seen = np.zeros(n, dtype=int)
    for part in ("train", "test"):
        inside = [row for row in parts[part] if 0 <= row < n]
        np.add.at(seen, inside, 1)
    patients = facts["patient_id"].to_numpy()
    train = {patients[r] for r in parts["train"] if 0 <= r < n}
    test = {patients[r] for r in parts["test"] if 0 <= r < n}
    return {**parts, "patients_in_both": len(train & test), "rows_missing": int((seen == 0).sum()),
            "rows_twice": int((seen > 1).sum()), "test_patients": len(test)}


def run_reversal(reverse_gradient, weight, x, upstream):
    """Apply the learner's function to ``x`` under a gradient tape; return its output, then the gradient of
    ``sum(output * upstream)`` with respect to ``x``, as one list of numbers."""
    import tensorflow as tf

    tensor = tf.constant(np.asarray(x, dtype="float32"))
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        output = reverse_gradient(tensor, weight)
        if output is None:
            return None
        loss = tf.reduce_sum(tf.cast(output, "float32") * tf.constant(np.asarray(upstream, dtype="float32")))
    gradient = tape.gradient(loss, tensor)
    if gradient is None:
        raise AnswerProblem("no gradient flows back through your function to x: the adversary's gradient would "
                            "never reach the CNN. Return a tensor computed from x (tf.custom_gradient).")
    output = np.asarray(output, dtype=float)
    if output.shape != tuple(tensor.shape):
        raise AnswerProblem(f"reverse_gradient should return a tensor of x's shape {tuple(tensor.shape)}; it "
                            f"returned one of shape {output.shape}.")
    return output.ravel().tolist() + np.asarray(gradient, dtype=float).ravel().tolist()


def _layers(model):
    """Every layer of a Keras model, inside nested models too."""
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _layers(layer)


def run_cnn(train_cnn, films, labels, test_films, test_labels=None, random_state=0, again=True):
    """Train the learner's CNN on the case's films and score the new ones with it; say what the model is.

    Returns ``{"convolutional": whether a convolution layer is in it, "weights": how many, "scores": one per new
    film}``; with ``again``, also the scores of the model trained again with the same random_state
    (``scores_again``) and whether they are the same (``same_again``); and, for a public case that gives the new
    films' labels, whether the model keeps to the exercise's budget (``at_most_20000_weights``) and reaches its
    AUC (``auc_at_least_0.75``).  The judge measures hidden cases' AUC itself, with labels that never enter the
    kernel, and compares the two trainings' scores itself.
    """
    def scored(model):
        if model is None:
            return None
        if not callable(model):
            raise AnswerProblem(f"train_cnn should return the trained Keras model; it returned "
                                f"{type(model).__name__}.")
        try:
            output = model(np.asarray(test_films, dtype="float32")[..., None], training=False)
        except TypeError:
            output = model(np.asarray(test_films, dtype="float32")[..., None])
        scores = np.asarray(output, dtype=float).reshape(len(test_films), -1)
        if scores.shape[1] != 1:
            raise AnswerProblem(f"the model should give one score per film (output shape (n, 1)); it gives "
                                f"{scores.shape[1]} per film.")
        if not np.isfinite(scores).all():
            raise AnswerProblem("the model's scores hold NaN or infinite values: its training diverged.")
        return scores[:, 0]

    model = train_cnn(np.asarray(films, dtype="float32"), np.asarray(labels), random_state=random_state)
    scores = scored(model)
    if scores is None:
        return None
    record = {"convolutional": any("Conv" in kind.__name__ for layer in _layers(model) for kind in type(layer).__mro__),
              "weights": int(model.count_params()), "scores": scores.tolist()}
    if again:
        retrained = scored(train_cnn(np.asarray(films, dtype="float32"), np.asarray(labels), random_state=random_state))
        record["scores_again"] = None if retrained is None else retrained.tolist()
        record["same_again"] = retrained is not None and bool(np.allclose(retrained, scores, atol=1e-5))
    if test_labels is not None:
        from sklearn.metrics import roc_auc_score

        record[f"at_most_{CNN_WEIGHTS}_weights"] = record["weights"] <= CNN_WEIGHTS
        record[f"auc_at_least_{CNN_AUC}"] = bool(roc_auc_score(np.asarray(test_labels), scores) >= CNN_AUC)
    return record


def run_marker(relies_on_marker, coef, intercept, images, facts):
    """The learner's verdict on a scenario's model, handed over as a function of films."""
    from course_utils.scenarios import scenario_predict

    return relies_on_marker(scenario_predict(coef, intercept), images, facts)


def run_policy(labels_under_policy, labels, policy):
    """The rows the learner keeps (as text) and their 0/1 labels."""
    kept = labels_under_policy(labels, policy)
    if kept is None:
        return None
    if not isinstance(kept, pd.Series):
        raise AnswerProblem(f"labels_under_policy should return a pandas Series (labels indexed like the input); "
                            f"it returned a {type(kept).__name__}.")
    return {"rows": [str(row) for row in kept.index], "labels": [float(value) for value in kept.to_numpy()]}


# --- misconceptions ------------------------------------------------------------------------------------------------


def _split_rules():
    return [
        Misconception(lambda output, expected, inputs: output["patients_in_both"] > 0,
                      "Some patients have films in both parts: the model is tested on patients it has seen, and "
                      "its test score is too good. Split the patients, then take all of each patient's films."),
        Misconception(lambda output, expected, inputs: output["rows_missing"] > 0 or output["rows_twice"] > 0,
                      "Every film should be in exactly one part: some are in neither, or in both."),
    ]


def _threshold_rules():
    def positives(inputs):
        y, s = np.asarray(inputs["y_true"]), np.asarray(inputs["scores"], dtype=float)
        return np.sort(s[y == 1])[::-1], float(inputs["sensitivity"])

    def one_below(output, expected, inputs):
        scores, sensitivity = positives(inputs)
        k = math.ceil(sensitivity * len(scores) - 1e-9)
        return 0 < k < len(scores) and numbers_match(output, scores[k], 1e-9)

    def over_everyone(output, expected, inputs):
        s = np.asarray(inputs["scores"], dtype=float)
        return numbers_match(output, float(np.quantile(s, 1 - float(inputs["sensitivity"]))), 1e-9)

    return [Misconception(one_below, "At that threshold the sensitivity is just below the target: one more film "
                                     "with pneumonia must be flagged (flagged means a score at least the threshold)."),
            Misconception(over_everyone, "That is a quantile of everyone's scores. Sensitivity counts only the films "
                                         "with pneumonia: the threshold comes from their scores.")]


def _audit_rules():
    def wald(output, expected, inputs):
        table = output.get("fnr_low", {})
        return bool(table) and any(value is not None and isinstance(value, float) and value < 0
                                   for value in table.values())

    return [Misconception(wald, "An interval goes below 0: that is the Wald interval (p +/- z x se). Use the Wilson "
                                "interval, which stays inside [0, 1] and holds up for small groups."),
            Misconception(lambda output, expected, inputs: any(
                isinstance(v, float) and v == 0.0 and isinstance(expected["fnr"].get(k), float)
                and math.isnan(expected["fnr"][k]) for k, v in output.get("fnr", {}).items()),
                "A group without films with pneumonia has no FNR: NaN, not 0 (nothing was there to miss).")]


def _weights_rules():
    def inverse_group(output, expected, inputs):
        groups = pd.Series(np.asarray(inputs["sensitive_features"]).astype(str))
        share = groups.map(groups.value_counts(normalize=True))
        return np.allclose(output, 1 / share.to_numpy(), atol=1e-6)

    def inverted(output, expected, inputs):
        return np.allclose(np.asarray(output) * np.asarray(expected), 1, atol=1e-6)

    return [Misconception(inverse_group, "Those weights undo each group's size only. Weight by the group and the "
                                         "label together: P(group) x P(label) / P(group, label)."),
            Misconception(inverted, "Your weights are upside down: a (group, label) cell rarer than independence "
                                    "predicts should weigh more than 1, not less.")]


def _reversal_rules():
    def split(output, inputs):
        n = len(np.asarray(inputs["x"]).ravel())
        return np.asarray(output[:n]), np.asarray(output[n:]), np.asarray(inputs["upstream"], dtype=float).ravel()

    def not_reversed(output, expected, inputs):
        _, gradient, upstream = split(output, inputs)
        return float(inputs["weight"]) != 0 and np.allclose(gradient, upstream * abs(float(inputs["weight"])),
                                                            atol=1e-5)

    def weight_ignored(output, expected, inputs):
        _, gradient, upstream = split(output, inputs)
        return float(inputs["weight"]) != 1 and np.allclose(gradient, -upstream, atol=1e-5)

    def forward_changed(output, expected, inputs):
        values, _, _ = split(output, inputs)
        return not np.allclose(values, np.asarray(inputs["x"], dtype=float).ravel(), atol=1e-5)

    return [Misconception(forward_changed, "Your function changes x on the way forward. It is the identity "
                                           "forward; only the gradient on the way back is reversed and scaled."),
            Misconception(not_reversed, "The gradient comes back with its sign unchanged: the encoder would help "
                                        "the adversary. Return -weight x the upstream gradient."),
            Misconception(weight_ignored, "The gradient is reversed but not scaled: multiply it by the weight "
                                          "(the knob of the trade-off).")]


def _seed_rules():
    def standard_deviation(output, expected, inputs):
        results = inputs["results"]
        spread = results.groupby("setting", sort=False)["auc"].std()
        low = output.get("auc_ci_low", {})
        return any(isinstance(low.get(k), float) and abs(low[k] - (results.loc[results["setting"] == k, "auc"].mean()
                                                                   - v)) < 1e-9 for k, v in spread.items())

    return [Misconception(standard_deviation, "Your interval is the mean minus one standard deviation. The figure "
                                              "draws the spread of the seeds themselves: the lowest and the highest.")]


def _policy_rules():
    def kept_uncertain(output, expected, inputs):
        return inputs["policy"] == "drop" and len(output["rows"]) == len(np.asarray(inputs["labels"]))

    return [Misconception(kept_uncertain, "Under 'drop' the films with an uncertain label (-1) are left out: the "
                                          "Series is shorter than the labels.")]


def _cnn_rules():
    return [
        Misconception(lambda output, expected, inputs: output.get("convolutional") is False,
                      "The model has no convolution layer: a CNN learns local patterns (an opacity in one lung "
                      "zone) wherever they are, with few weights. Use keras.layers.Conv2D."),
        Misconception(lambda output, expected, inputs: output.get("same_again") is False,
                      "Training again with the same random_state gave other scores: call "
                      "keras.utils.set_random_seed(random_state) before building the model."),
        Misconception(lambda output, expected, inputs: output.get(f"at_most_{CNN_WEIGHTS}_weights") is False,
                      f"The model has more than {CNN_WEIGHTS:,} weights: too slow to train on a laptop's CPU and to "
                      "grade. Pool after each convolution and keep the dense part small."),
    ]


# --- the questions ---------------------------------------------------------------------------------------------------

QUESTIONS = [
    CodeQuestion(
        id="imaging-split-function",
        notebook=NOTEBOOK,
        points=2,
        signature="split_by_patient(facts, *, test_size, random_state)",
        cases=cases_for("imaging-split-function"),
        returns="record",
        run=run_split,
        misconceptions=_split_rules(),
        hints=["Split the patients, not the films: draw which patient ids go to the test part, then take every "
               "row of those patients (np.flatnonzero(facts['patient_id'].isin(test_ids))).",
               "scikit-learn's GroupShuffleSplit(n_splits=1, test_size=..., random_state=...) does it: its split(X, "
               "groups=facts['patient_id']) yields (train_rows, test_rows)."],
    ),
    CodeQuestion(
        id="imaging-cnn-function",
        notebook=NOTEBOOK,
        points=3,
        signature="train_cnn(films, labels, *, random_state)",
        cases=cases_for("imaging-cnn-function"),
        returns="record",
        run=run_cnn,
        misconceptions=_cnn_rules(),
        public_at_grading=False,  # every case trains a network; the hidden ones check all the public one does
        hints=["keras.utils.set_random_seed(random_state) first; then keras.Sequential([keras.Input((size, size, 1)), "
               "a Normalization layer, Conv2D, MaxPooling2D, ..., Flatten(), Dense(1, activation='sigmoid')]), compiled "
               "with binary_crossentropy and fitted on films[..., None] for a few epochs.",
               "Standardise with the training films: keras.layers.Normalization(axis=(1, 2, 3), mean=the average film "
               "[..., None], variance=its spread squared) lets the convolutions see what differs from film to film. "
               "Two blocks of Conv2D(8 or 16 filters) + MaxPooling2D(2), Adam(1e-2), 8 epochs of batches of 64."],
    ),
    CodeQuestion(
        id="imaging-threshold-function",
        notebook=NOTEBOOK,
        points=2,
        signature="threshold_for_sensitivity(y_true, scores, *, sensitivity)",
        cases=cases_for("imaging-threshold-function"),
        returns="number",
        tolerance=1e-9,
        misconceptions=_threshold_rules(),
        hints=["Only the scores of films with pneumonia (y_true == 1) matter. Sort them from high to low: flagging "
               "the top k of them gives a sensitivity of k / n.",
               "k = math.ceil(sensitivity * n - 1e-9); the threshold is the k-th highest of those scores. No film "
               "with pneumonia: return float('nan')."],
    ),
    CodeQuestion(
        id="imaging-audit-function",
        notebook=NOTEBOOK,
        points=3,
        signature="error_rates_by_group(y_true, y_pred, *, sensitive_features, min_count=30, confidence_level=0.95)",
        cases=cases_for("imaging-audit-function"),
        returns="table",
        tolerance=1e-6,
        misconceptions=_audit_rules(),
        hints=["Per group: FNR = missed / films with pneumonia, FPR = false alarms / films without. "
               "scipy.stats.binomtest(k, n).proportion_ci(confidence_level, method='wilson') gives the interval.",
               "A group without films with pneumonia: n_positive 0 and NaN for fnr, fnr_low and fnr_high (the same for "
               "the FPR without films free of it). small: n_positive < min_count or n_negative < min_count."],
    ),
    CodeQuestion(
        id="imaging-weights-function",
        notebook=NOTEBOOK,
        points=2,
        signature="prevalence_weights(labels, sensitive_features)",
        cases=cases_for("imaging-weights-function"),
        returns="array",
        tolerance=1e-9,
        misconceptions=_weights_rules(),
        hints=["Count the films of each (group, label) cell: weight = n_group x n_label / (n x n_cell). It is "
               "aif360's Reweighing, written with pandas.",
               "pd.crosstab or groupby([groups, labels]).transform('size') gives each film its cell's count."],
    ),
    CodeQuestion(
        id="imaging-reversal-function",
        notebook=NOTEBOOK,
        points=3,
        signature="reverse_gradient(x, weight)",
        cases=cases_for("imaging-reversal-function"),
        returns="array",
        tolerance=1e-5,
        run=run_reversal,
        misconceptions=_reversal_rules(),
        hints=["TensorFlow lets you give an operation your own gradient: a function decorated with "
               "@tf.custom_gradient returns its value and a function from the upstream gradient to x's gradient.",
               "Inside reverse_gradient: `@tf.custom_gradient def reverse(x): return tf.identity(x), lambda "
               "upstream: -weight * upstream`, then `return reverse(x)`."],
    ),
    CodeQuestion(
        id="imaging-seeds-function",
        notebook=NOTEBOOK,
        points=2,
        signature="seed_summary(results)",
        cases=cases_for("imaging-seeds-function"),
        returns="table",
        tolerance=1e-9,
        misconceptions=_seed_rules(),
        hints=["results.groupby('setting', sort=False) keeps the settings in the order they first appear; "
               "agg('mean'), 'min' and 'max' skip NaN.",
               "n_seeds is each setting's number of rows (.size()); method is its first row's method."],
    ),
    CodeQuestion(
        id="imaging-policy-function",
        notebook=NOTEBOOK,
        points=2,
        signature="labels_under_policy(labels, policy)",
        cases=cases_for("imaging-policy-function"),
        returns="record",
        run=run_policy,
        misconceptions=_policy_rules(),
        hints=["'zeros': -1 becomes 0; 'ones': -1 becomes 1; 'drop': the rows with -1 are left out. Keep the index.",
               "Any other policy: raise ValueError naming the three policies."],
    ),
    CodeQuestion(
        id="imaging-marker-function",
        notebook=NOTEBOOK,
        points=4,
        signature="relies_on_marker(predict, images, facts)",
        cases=cases_for("imaging-marker-function"),
        returns="boolean",
        run=run_marker,
        hints=["Compare the same films with and without the marker: remove it from the AP films (fill "
               "marker_box(size) with what PA films have there) and see how much each film's score changes.",
               "AP films are more often of sick inpatients, so AP films scoring higher than PA films proves nothing. "
               "Decide on the paired change, with a margin for noise: a few hundredths is no reliance."],
    ),
]
