"""course_utils.mitigation: aif360 imported quietly, and a TensorFlow session per adversarial model that makes a
seed give the same model, prints only what the learner prints, and leaves NumPy's global random state alone.

The aif360 algorithms notebook 02 asks learners to call are checked here on the pinned stack, as learners call
them: ``Reweighing`` on a ``BinaryLabelDataset`` (against the Kamiran-Calders formula and aif360's scikit-learn
API) and ``AdversarialDebiasing`` inside :func:`tensorflow_session`.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from course_utils.mitigation import load_aif360, tensorflow_session

GROUPS = dict(unprivileged_groups=[{"privileged": 0.0}], privileged_groups=[{"privileged": 1.0}])


@pytest.fixture(scope="module")
def aif360():
    load_aif360()
    from aif360.algorithms.inprocessing import AdversarialDebiasing
    from aif360.algorithms.preprocessing import Reweighing
    from aif360.datasets import BinaryLabelDataset

    return BinaryLabelDataset, Reweighing, AdversarialDebiasing


@pytest.fixture(scope="module")
def patients():
    rng = np.random.default_rng(4)
    n = 120
    privileged = rng.random(n) < 0.6
    x = rng.normal(size=(n, 3))
    label = (x[:, 0] + 0.8 * privileged + rng.normal(scale=0.7, size=n) > 0.4).astype(float)
    frame = pd.DataFrame(x, columns=["x0", "x1", "x2"])
    frame["privileged"], frame["label"] = privileged.astype(float), label
    return frame


def dataset(BinaryLabelDataset, frame):
    return BinaryLabelDataset(df=frame, label_names=["label"], protected_attribute_names=["privileged"])


def adversarial_scores(libraries, frame, seed, capture=None):
    BinaryLabelDataset, _, AdversarialDebiasing = libraries
    with tensorflow_session() as session:
        model = AdversarialDebiasing(scope_name="adversary", sess=session, seed=seed, num_epochs=5, debias=True,
                                     **GROUPS)
        model.fit(dataset(BinaryLabelDataset, frame))
        if capture is not None:
            print(capture)
        return model.predict(dataset(BinaryLabelDataset, frame)).scores.ravel()


def test_reweighing_gives_the_kamiran_calders_weights_and_agrees_with_aif360s_sklearn_api(aif360, patients):
    from aif360.sklearn.preprocessing import Reweighing as SklearnReweighing

    BinaryLabelDataset, Reweighing, _ = aif360
    weights = Reweighing(**GROUPS).fit_transform(dataset(BinaryLabelDataset, patients)).instance_weights
    group, label = patients["privileged"], patients["label"]
    expected = [group.eq(g).mean() * label.eq(y).mean() / (group.eq(g) & label.eq(y)).mean() for g, y in zip(group, label)]
    np.testing.assert_allclose(weights, expected, rtol=1e-12)
    index = pd.Index(group.to_numpy(), name="privileged")
    _, sklearn_weights = SklearnReweighing(prot_attr="privileged").fit_transform(
        pd.DataFrame({"unused": np.zeros(len(label))}, index=index), pd.Series(label.to_numpy(), index=index))
    np.testing.assert_allclose(weights, sklearn_weights, atol=2e-16)


def test_a_seed_gives_the_same_adversarial_model_and_another_seed_another(aif360, patients):
    first, again, other = (adversarial_scores(aif360, patients, seed) for seed in (0, 0, 1))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_each_session_has_its_own_graph_so_a_second_model_can_reuse_the_scope_name(aif360, patients):
    with tensorflow_session() as first, tensorflow_session() as second:
        assert first is not second and first.graph is not second.graph
    adversarial_scores(aif360, patients, 0)
    adversarial_scores(aif360, patients, 0)  # "Variable ... already exists" would raise here


def test_training_progress_is_left_out_and_the_learners_own_prints_stay(aif360, patients, capfd):
    adversarial_scores(aif360, patients, 0, capture="my own line")
    out, err = capfd.readouterr()
    assert out == "my own line\n" and err == ""


def test_the_global_numpy_random_state_is_left_alone(aif360, patients):
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    adversarial_scores(aif360, patients, 5)
    assert np.array_equal(np.random.random(3), expected)


def test_importing_aif360_after_load_aif360_prints_nothing():
    code = ("from course_utils.mitigation import load_aif360; load_aif360(); "
            "from aif360.datasets import BinaryLabelDataset; "
            "from aif360.algorithms.preprocessing import Reweighing; "
            "from aif360.algorithms.inprocessing import AdversarialDebiasing; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True)
    assert result.stdout == "ok\n" and result.stderr == ""


def test_importing_mitigation_and_tradeoff_does_not_import_tensorflow_aif360_or_aequitas():
    code = ("import sys, course_utils.mitigation, course_utils.tradeoff; "
            "print(sorted(m for m in ('tensorflow', 'aif360', 'aequitas') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
