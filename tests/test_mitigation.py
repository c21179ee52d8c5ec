"""course_utils.mitigation: each adapter gives what its library gives, seeded, quiet, with clear errors."""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from course_utils import mitigation
from course_utils.data import load_heart
from course_utils.mitigation import binary_label_dataset, make_mitigator
from course_utils.models import make_baseline_model

GROUPS = dict(unprivileged_groups=[{"sensitive": 0}], privileged_groups=[{"sensitive": 1}])


@pytest.fixture(scope="module")
def split():
    heart = load_heart()
    strata = heart["disease"].astype(str) + heart["sex"].astype(str)
    train, test = train_test_split(heart, test_size=0.25, stratify=strata, random_state=0)
    return train, test


@pytest.fixture(scope="module")
def fitted(split):
    """Every method at its default knob, seed 0, fitted once for the module."""
    train, _ = split
    return {m: make_mitigator(m).fit(train, train["disease"], train["sex"]) for m in mitigation.METHODS}


def _male(frame):
    return (frame["sex"] == "Male").astype(int).to_numpy()


def _fnr_gap(y, pred, sex):
    fnr = {g: 1 - pred[(y == 1) & (sex == g)].mean() for g in ("Female", "Male")}
    return abs(fnr["Female"] - fnr["Male"])


# --------------------------------------------------------------------------- same as the library


def test_baseline_gives_the_course_baseline_pipelines_scores(split, fitted):
    train, test = split
    direct = make_baseline_model(random_state=0).fit(train, train["disease"]).predict_proba(test)
    np.testing.assert_allclose(fitted["baseline"].predict_proba(test, test["sex"]), direct, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fitted["baseline"].predict(test, test["sex"]), (direct[:, 1] >= 0.5).astype(int))


def test_reweighing_uses_classic_aif360_reweighing_weights(split, fitted):
    from aif360.algorithms.preprocessing import Reweighing

    train, test = split
    y = train["disease"].to_numpy()
    weights = Reweighing(**GROUPS).fit_transform(binary_label_dataset(y, _male(train))).instance_weights
    np.testing.assert_allclose(fitted["reweighing"].sample_weight_, weights, rtol=0, atol=1e-12)
    direct = make_baseline_model(random_state=0).fit(train, y, classifier__sample_weight=weights)
    np.testing.assert_allclose(fitted["reweighing"].predict_proba(test, test["sex"]), direct.predict_proba(test),
                               rtol=0, atol=1e-12)


def test_reweighing_strength_interpolates_between_baseline_and_full_weights(split, fitted):
    train, test = split
    none = make_mitigator("reweighing", knob=0.0).fit(train, train["disease"], train["sex"])
    half = make_mitigator("reweighing", knob=0.5).fit(train, train["disease"], train["sex"])
    np.testing.assert_allclose(none.predict_proba(test, test["sex"]), fitted["baseline"].predict_proba(test, test["sex"]),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(half.sample_weight_, (1 + fitted["reweighing"].sample_weight_) / 2, rtol=0, atol=1e-12)


def test_threshold_gives_reject_option_classifications_labels(split, fitted):
    from aif360.algorithms.postprocessing import RejectOptionClassification

    train, test = split
    y = train["disease"].to_numpy()
    base = make_baseline_model(random_state=0).fit(train, y)
    roc = RejectOptionClassification(
        low_class_thresh=0.01, high_class_thresh=0.99, num_class_thresh=mitigation.REJECT_OPTION_THRESHOLDS,
        num_ROC_margin=mitigation.REJECT_OPTION_MARGINS, metric_name="Equal opportunity difference",
        metric_ub=0.05, metric_lb=-0.05, **GROUPS,
    ).fit(binary_label_dataset(y, _male(train)),
          binary_label_dataset(y, _male(train), scores=base.predict_proba(train)[:, 1]))
    test_scores = base.predict_proba(test)[:, 1]
    direct = roc.predict(binary_label_dataset(np.zeros(len(test)), _male(test), scores=test_scores)).labels.ravel()
    np.testing.assert_array_equal(fitted["threshold"].predict(test, test["sex"]), direct.astype(int))
    # Post-processing changes decisions, not scores.
    np.testing.assert_allclose(fitted["threshold"].predict_proba(test, test["sex"])[:, 1], test_scores, rtol=0, atol=1e-12)


def test_adversarial_gives_aif360_adversarial_debiasings_scores(split, fitted):
    tf = mitigation._tensorflow()
    from aif360.algorithms.inprocessing import AdversarialDebiasing

    train, test = split
    encoder = make_baseline_model(random_state=0)[:-1].fit(train)
    dataset = binary_label_dataset(train["disease"].to_numpy(), _male(train), features=encoder.transform(train))
    graph = tf.Graph()
    with graph.as_default():
        config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
        with tf.compat.v1.Session(graph=graph, config=config) as session:
            model = AdversarialDebiasing(
                scope_name="direct", sess=session, seed=0, adversary_loss_weight=0.1,
                num_epochs=mitigation.ADVERSARIAL_EPOCHS, batch_size=mitigation.ADVERSARIAL_BATCH_SIZE,
                classifier_num_hidden_units=mitigation.ADVERSARIAL_HIDDEN_UNITS, **GROUPS,
            )
            with mitigation._quiet():
                model.fit(dataset)
                direct = model.predict(binary_label_dataset(
                    test["disease"].to_numpy(), _male(test), features=encoder.transform(test))).scores.ravel()
    np.testing.assert_allclose(fitted["adversarial"].predict_proba(test, test["sex"])[:, 1], direct, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- seeded and quiet


def test_adversarial_is_bit_identical_for_a_seed_and_differs_between_seeds(split, fitted):
    train, test = split
    first = fitted["adversarial"].predict_proba(test, test["sex"])
    again = make_mitigator("adversarial").fit(train, train["disease"], train["sex"]).predict_proba(test, test["sex"])
    other = make_mitigator("adversarial", random_state=1).fit(train, train["disease"], train["sex"])
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other.predict_proba(test, test["sex"]))


def test_adversarial_leaves_the_global_numpy_random_state_alone(split, fitted):
    train, test = split
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    fitted["adversarial"].predict(test, test["sex"])
    assert np.array_equal(np.random.random(3), expected)


def test_fitting_prints_nothing(split, capfd):
    train, _ = split
    make_mitigator("adversarial", knob=0.05).fit(train, train["disease"], train["sex"])
    make_mitigator("threshold").fit(train, train["disease"], train["sex"])
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_importing_mitigation_and_tradeoff_does_not_import_tensorflow_or_aif360():
    code = ("import sys, course_utils.mitigation, course_utils.tradeoff; "
            "print(sorted(m for m in ('tensorflow', 'aif360') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- does it help?

# Held-out FNR gap |FNR_female - FNR_male| on the split above (25 %, stratified by disease x sex,
# seed 0; 12 women and 115 men with disease held out), default knobs, seed 0.  Measured:
# baseline 0.154 (AUC 0.882), reweighing 0.028 (0.868), adversarial 0.059 (0.854),
# threshold 0.019 (0.882).  A change of direction means a method's behaviour changed.
REDUCES_GAP = {"reweighing": True, "adversarial": True, "threshold": True}


def test_baseline_gap_on_the_heart_split_is_as_measured(split, fitted):
    _, test = split
    y, sex = test["disease"].to_numpy(), test["sex"].to_numpy()
    gap = _fnr_gap(y, fitted["baseline"].predict(test, test["sex"]), sex)
    assert gap == pytest.approx(0.154, abs=0.001)
    assert roc_auc_score(y, fitted["baseline"].predict_proba(test, test["sex"])[:, 1]) == pytest.approx(0.882, abs=0.001)


@pytest.mark.parametrize("method", sorted(REDUCES_GAP))
def test_each_mitigation_moves_the_held_out_fnr_gap_in_the_measured_direction(split, fitted, method):
    _, test = split
    y, sex = test["disease"].to_numpy(), test["sex"].to_numpy()
    baseline_gap = _fnr_gap(y, fitted["baseline"].predict(test, test["sex"]), sex)
    gap = _fnr_gap(y, fitted[method].predict(test, test["sex"]), sex)
    assert bool(gap < baseline_gap) is REDUCES_GAP[method], f"{method}: gap {gap:.3f} vs baseline {baseline_gap:.3f}"


# --------------------------------------------------------------------------- bad input


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"method should be one of \['baseline', 'reweighing', 'adversarial', "
                                         r"'threshold'\]; got 'fairness'"):
        make_mitigator("fairness")


@pytest.mark.parametrize("method, knob, message", [
    ("reweighing", 1.5, r"knob \(strength for 'reweighing'\) should be in the range \[0.0, 1.0\]; got 1.5"),
    ("adversarial", -0.1, r"knob \(adversary_loss_weight for 'adversarial'\) should be in the range \[0.0, 1.0\]"),
    ("threshold", 0.0, r"knob \(max_fnr_gap for 'threshold'\) should be in the range \(0.0, 1.0\]; got 0.0"),
    ("baseline", 0.5, r"method 'baseline' has no knob, so knob should be None; got 0.5"),
])
def test_knob_outside_its_range_is_refused(method, knob, message):
    with pytest.raises(ValueError, match=message):
        make_mitigator(method, knob)


def test_knob_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="should be a number from 0.0 to 1.0; got 'high'"):
        make_mitigator("reweighing", "high")


def test_sensitive_feature_with_one_group_is_refused(split):
    train, _ = split
    with pytest.raises(ValueError, match=r"sensitive should have exactly two groups .* found 1: \['Male'\]"):
        make_mitigator("baseline").fit(train, train["disease"], ["Male"] * len(train))


def test_privileged_value_must_be_one_of_the_groups(split):
    train, _ = split
    with pytest.raises(ValueError, match=r"privileged='male' is not one of the groups in sensitive: \['Female', 'Male'\]"):
        make_mitigator("baseline", privileged="male").fit(train, train["disease"], train["sex"])


def test_mismatched_lengths_are_refused(split):
    train, test = split
    with pytest.raises(ValueError, match=f"the lengths differ: X has {len(train)}, y has {len(train)}, sensitive has 10"):
        make_mitigator("reweighing").fit(train, train["disease"], train["sex"].iloc[:10])
    model = make_mitigator("baseline").fit(train, train["disease"], train["sex"])
    with pytest.raises(ValueError, match=f"X has {len(test)}, sensitive has {len(train)}"):
        model.predict(test, train["sex"])


def test_predict_before_fit_is_refused(split):
    _, test = split
    with pytest.raises(RuntimeError, match=r"this 'threshold' model is not fitted yet: call fit\(X, y, sensitive\) first"):
        make_mitigator("threshold").predict(test, test["sex"])


def test_a_group_unseen_in_training_is_refused_at_prediction(split, fitted):
    _, test = split
    with pytest.raises(ValueError, match=r"sensitive has group\(s\) \['Other'\] that were not in the training data"):
        fitted["baseline"].predict(test, ["Other"] * len(test))


def test_non_binary_labels_are_refused(split):
    train, _ = split
    with pytest.raises(ValueError, match=r"y should contain only 0 and 1; found \[0, 1, 2\]"):
        make_mitigator("baseline").fit(train, np.arange(len(train)) % 3, train["sex"])


def test_features_must_be_a_dataframe(split):
    train, _ = split
    with pytest.raises(TypeError, match="X should be a pandas DataFrame"):
        make_mitigator("baseline").fit(train.to_numpy(), train["disease"], train["sex"])


def test_threshold_warns_in_plain_words_when_its_bound_cannot_be_met():
    # A stand-in model scores every woman 1.0 and every man 0.0.  Reject-option classification
    # only moves patients strictly inside (threshold - margin, threshold + margin] and favours
    # women there, so women's TPR stays 1 and men's 0 for every threshold and margin.
    rng = np.random.default_rng(0)
    n = 200
    X = pd.DataFrame({"age": rng.normal(55, 9, n), "sex": ["Female"] * 100 + ["Male"] * 100})
    y = np.r_[np.ones(50), np.zeros(50), np.ones(50), np.zeros(50)].astype(int)
    model = make_mitigator("threshold", knob=1e-6)
    model._baseline = lambda: _ConstantBySex()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, X["sex"])
    assert any("no threshold and margin kept the training patients' FNR gap within max_fnr_gap=1e-06"
               in str(w.message) for w in caught)


class _ConstantBySex:
    """A stand-in model scoring women 1.0 and men 0.0, whatever the features."""

    def fit(self, X, y, **fit_params):
        return self

    def predict_proba(self, X):
        p = (X["sex"] == "Female").to_numpy(float)
        return np.column_stack([1 - p, p])
