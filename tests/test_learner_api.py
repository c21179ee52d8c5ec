"""The learner API speaks one vocabulary: __all__ lists exactly the public names, no dataset-specific defaults.

The learner API is what notebooks import (``course_utils.<module>`` below); the exercise engine and
the instructor tools are not part of it.  Per-row group arrays are ``sensitive_features=``, column
names end in ``_col`` / ``_cols``, seeds are ``random_state``, and no public signature defaults to a
column, group or label of one data set: callers say which.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "course_utils"
LEARNER_API = ["data", "cohort", "metrics", "models", "mitigation", "tradeoff", "plots", "governance", "monitoring",
               "explain", "environment", "whatif", "scenarios", "radiographs"]

# Defaults that would tie a function to one data set.
DATASET_VALUES = {"sex", "Male", "Female", "disease", "race", "readmitted_30d", "flagged", "month", "site", "White",
                  "Black", "risk_score", "diagnosis", "chronic_conditions"}
# Former spellings of the vocabulary's arguments.  ``group`` alone names one group's label (group_colour,
# EscalationRule), not a column or a per-row array, so it stays.
OLD_SPELLINGS = {"seed", "by", "s_train", "s_test", "sensitive", "knob", "target", "outcome", "within",
                 "stratify_by", "reweight_by", "y_true_col", "features", "column", "x", "numeric", "categorical"}


def top_level_names(module_name):
    """Names a module defines itself (functions, classes, assignments), from its source."""
    tree = ast.parse((PACKAGE / f"{module_name}.py").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def private_reexports(module_name):
    """Names a module imports from the package's private modules to offer them publicly (e.g. DEFAULT_N_BOOT)."""
    tree = ast.parse((PACKAGE / f"{module_name}.py").read_text(encoding="utf-8"))
    return {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("course_utils._") for alias in node.names}


def public_callables():
    for name in LEARNER_API:
        module = importlib.import_module(f"course_utils.{name}")
        for public in module.__all__:
            obj = getattr(module, public)
            if inspect.isfunction(obj):
                yield f"{name}.{public}", obj
            elif inspect.isclass(obj) and not issubclass(obj, BaseException) and "__init__" in vars(obj):
                yield f"{name}.{public}", obj.__init__


CALLABLES = dict(public_callables())


@pytest.mark.parametrize("module_name", LEARNER_API)
def test_all_lists_exactly_the_public_names(module_name):
    module = importlib.import_module(f"course_utils.{module_name}")
    listed = set(module.__all__)
    assert len(listed) == len(module.__all__), "a name is listed twice"
    public = {name for name in top_level_names(module_name) if not name.startswith("_")}
    offered = public | (private_reexports(module_name) & listed)
    assert listed == offered, f"in __all__ only: {sorted(listed - offered)}; public but unlisted: {sorted(offered - listed)}"
    assert all(hasattr(module, name) for name in listed)


def test_private_modules_start_with_an_underscore():
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    learner_commands = {"cli", "handin", "selfcheck"}  # the `course` command's modules
    assert modules - learner_commands - set(LEARNER_API) == {"_tensorflow", "_validation", "_whatif_view"}


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_no_public_signature_defaults_to_one_data_sets_columns_or_groups(name):
    for parameter in inspect.signature(CALLABLES[name]).parameters.values():
        default = parameter.default
        values = default if isinstance(default, (tuple, list, frozenset, set)) else [default]
        found = [v for v in values if isinstance(v, str) and v in DATASET_VALUES]
        assert not found, f"{name}({parameter.name}={default!r}) defaults to a data set's column or group"
        assert not (isinstance(default, tuple) and len(default) > 2 and all(isinstance(v, str) for v in default)), \
            f"{name}({parameter.name}) defaults to a list of columns"


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_one_vocabulary_for_groups_columns_and_seeds(name):
    parameters = inspect.signature(CALLABLES[name]).parameters
    assert not OLD_SPELLINGS & set(parameters), f"{name} uses {sorted(OLD_SPELLINGS & set(parameters))}"
    if "sensitive_features" in parameters:
        assert parameters["sensitive_features"].kind is inspect.Parameter.KEYWORD_ONLY, name


@pytest.mark.parametrize("name", sorted(n for n, f in CALLABLES.items() if not n.split(".")[1][0].isupper()))
def test_public_functions_have_type_hints(name):
    signature = inspect.signature(CALLABLES[name])
    assert signature.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
    unannotated = [p for p in signature.parameters if signature.parameters[p].annotation is inspect.Parameter.empty]
    assert not unannotated, f"{name}: no type for {unannotated}"
