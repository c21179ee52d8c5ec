"""What crosses between the grader and a learner's kernel: inputs and answers as data, never pickle.

The grader never trusts an object from a learner's kernel: it reads back only data.  This module is
the one format both sides use.

* **Inputs** (grader -> kernel): :func:`write_value` turns a case's inputs into JSON, with tables in
  Parquet files (dtypes, categories and the index kept exactly) and arrays in ``.npy`` files
  (``allow_pickle=False``) beside it; :func:`read_value` rebuilds them.  An unfitted scikit-learn
  estimator travels as its class and parameters, a fitted one as that plus the data to fit it on: it
  is fitted again where it is read, identically on both sides.
* **Answers** (kernel -> grader): :func:`encode` turns what a learner's code returned into plain JSON
  (numbers, text, True/False, None, lists, and tagged tables, series, arrays, tuples and dicts), and
  :func:`decode` rebuilds pandas and NumPy objects from it in the grader's process.  Anything else --
  a model, a MetricFrame, an object that claims to equal everything -- is not data: :class:`NotData`
  names what it was.  Python's JSON writes every float exactly (its shortest round-trip form), and
  NaN as ``NaN``.

A tag is a JSON object with one key that starts with ``!``: ``{"!frame": ...}``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> back = decode(json.loads(json.dumps(encode(pd.Series([0.1, np.nan], index=["a", "b"], name="fnr")))))
>>> back.name, back.index.tolist(), back.isna().tolist()
('fnr', ['a', 'b'], [False, True])
>>> decode(encode({1: (2.5, "x")}))
{1: (2.5, 'x')}
>>> encode(object())
Traceback (most recent call last):
...
course_utils.exercises._transfer.NotData: an object cannot be written as data
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

MAX_ITEMS = 5_000_000        # numbers, strings and labels in one answer
MAX_DEPTH = 40               # nesting of lists and dicts in one answer
MAX_TEXT = 1_000_000         # characters of one string in an answer
ESTIMATOR_MODULES = ("sklearn.",)  # where an input's estimator class may come from


class NotData(TypeError):
    """A value that cannot be written as data (numbers, text, tables, arrays and containers of them)."""


def describe_type(value: Any) -> str:
    kind = type(value).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


# --- answers: kernel -> grader ------------------------------------------------------------------------------------

class _Budget:
    def __init__(self):
        self.items = 0

    def spend(self, count: int = 1) -> None:
        self.items += count
        if self.items > MAX_ITEMS:
            raise NotData(f"the answer holds more than {MAX_ITEMS:,} values")


def encode(value: Any) -> Any:
    """``value`` as plain JSON-ready data; :class:`NotData` if it is not data."""
    return _encode(value, 0, _Budget())


def _scalar(value: Any) -> Any:
    """A Python scalar for NumPy and pandas scalars; the value itself otherwise."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


def _encode(value: Any, depth: int, budget: _Budget) -> Any:
    if depth > MAX_DEPTH:
        raise NotData(f"the answer is nested more than {MAX_DEPTH} levels deep")
    budget.spend()
    value = _scalar(value)
    if value is None or type(value) is bool:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise NotData(f"a text of more than {MAX_TEXT:,} characters")
        return str(value)
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        budget.spend(value.size)
        return {"!frame": {
            "columns": _items(value.columns, depth + 1, budget),
            "index": _items(value.index, depth + 1, budget),
            "data": [_items(value.iloc[:, position], depth + 2, budget) for position in range(value.shape[1])],
            "dtypes": [str(dtype) for dtype in value.dtypes]}}
    if isinstance(value, pd.Series):
        budget.spend(value.size)
        return {"!series": {"index": _items(value.index, depth + 1, budget), "data": _items(value, depth + 1, budget),
                            "name": _encode(value.name, depth + 1, budget), "dtype": str(value.dtype)}}
    if isinstance(value, np.ndarray):
        budget.spend(value.size)
        if value.dtype.kind not in "biufUSO":
            raise NotData(f"an array of {value.dtype}")
        return {"!array": {"dtype": str(value.dtype) if value.dtype.kind != "O" else "object",
                           "shape": list(value.shape), "data": _items(value.ravel(), depth + 1, budget)}}
    if isinstance(value, (pd.Index, pd.Categorical)):
        return [_encode(item, depth + 1, budget) for item in list(value)]
    if isinstance(value, tuple):
        return {"!tuple": [_encode(item, depth + 1, budget) for item in value]}
    if isinstance(value, list):
        return [_encode(item, depth + 1, budget) for item in value]
    if isinstance(value, dict):
        return {"!dict": [[_encode(key, depth + 1, budget), _encode(item, depth + 1, budget)]
                          for key, item in value.items()]}
    raise NotData(f"{describe_type(value)} cannot be written as data")


def _items(values, depth: int, budget: _Budget) -> list:
    """The values of an array, Series or Index as JSON-ready items.

    Numbers and True/False come out of ``tolist()`` as Python's own (the fast path: no check per item is needed);
    anything else -- text, objects, a categorical's values -- is encoded item by item.
    """
    import numpy as np

    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":  # NumPy's own dtypes: no pandas NA among the values
        items = values.tolist()
        if not getattr(values, "ndim", 1) > 1:
            return items
    return [_encode(item, depth, budget) for item in list(values)]


def decode(data: Any) -> Any:
    """Rebuild the value :func:`encode` wrote (grader side; accepts nothing but data tags)."""
    return _decode(data, 0)


def _decode(data: Any, depth: int) -> Any:
    if depth > MAX_DEPTH + 4:
        raise ValueError("answer data nested too deep")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [_decode(item, depth + 1) for item in data]
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("answer data holds an object that is not a known tag")
    (tag, body), = data.items()
    import numpy as np
    import pandas as pd

    if tag == "!tuple":
        return tuple(_decode(item, depth + 1) for item in body)
    if tag == "!dict":
        return {_hashable(_decode(key, depth + 1)): _decode(item, depth + 1) for key, item in body}
    if tag == "!array":
        items = [_decode(item, depth + 1) for item in body["data"]]
        dtype = None if body["dtype"] == "object" else np.dtype(body["dtype"])
        if dtype is not None and dtype.kind not in "biufUS":
            raise ValueError(f"answer data holds an array of {dtype}")
        array = np.array(items, dtype=dtype if dtype is not None else object)
        return array.reshape([int(size) for size in body["shape"]])
    if tag == "!series":
        index = _index([_decode(label, depth + 1) for label in body["index"]])
        return pd.Series([_decode(item, depth + 1) for item in body["data"]], index=index,
                         name=_hashable(_decode(body["name"], depth + 1)), dtype=_dtype(body["dtype"]))
    if tag == "!frame":
        columns = [_hashable(_decode(label, depth + 1)) for label in body["columns"]]
        index = _index([_decode(label, depth + 1) for label in body["index"]])
        data = [[_decode(item, depth + 2) for item in column] for column in body["data"]]
        if len(data) != len(columns) or any(len(column) != len(index) for column in data):
            raise ValueError("answer data holds a table whose columns and rows do not match")
        frame = pd.DataFrame({position: column for position, column in enumerate(data)}, index=index)
        for position, dtype in enumerate(body["dtypes"]):
            try:
                frame[position] = frame[position].astype(_dtype(dtype) or object)
            except (TypeError, ValueError):
                pass  # a dtype these values do not fit: keep what pandas inferred
        frame.columns = _index(columns)
        return frame
    raise ValueError(f"answer data holds an unknown tag {tag!r}")


def _hashable(value: Any) -> Any:
    return tuple(_hashable(item) for item in value) if isinstance(value, (list, tuple)) else value


def _index(labels: list):
    import pandas as pd

    labels = [_hashable(label) for label in labels]
    if labels and all(isinstance(label, tuple) for label in labels):
        return pd.MultiIndex.from_tuples(labels)
    return pd.Index(labels, dtype=object if any(isinstance(label, str) for label in labels) else None)


_SAFE_DTYPES = ("bool", "int", "uint", "float", "object", "category", "str", "string")


def _dtype(name: str | None):
    """A dtype an answer may name; anything unusual is left as pandas infers it."""
    if not name or not str(name).startswith(_SAFE_DTYPES):
        return None
    return "object" if str(name).startswith(("str", "string")) else str(name)


# --- inputs: grader -> kernel ---------------------------------------------------------------------------------------

def write_value(value: Any, folder: Path, stem: str) -> Any:
    """JSON for one input value; tables and arrays go to files in ``folder`` named from ``stem``."""
    import numpy as np
    import pandas as pd

    folder = Path(folder)
    if isinstance(value, pd.DataFrame):
        return {"!frame": _frame_document(value, folder, stem)}
    if isinstance(value, pd.Series):
        return {"!series": {**_frame_document(value.to_frame("values"), folder, stem), "name": encode(value.name)}}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            raise NotData("an input array of Python objects: give it a NumPy dtype (str, float, ...)")
        name = f"{stem}.npy"
        np.save(folder / name, value, allow_pickle=False)
        return {"!array": {"file": name}}
    if _is_estimator(value):
        return _estimator_recipe(value, folder, stem)
    if isinstance(value, tuple):
        return {"!tuple": [write_value(item, folder, f"{stem}-{i}") for i, item in enumerate(value)]}
    if isinstance(value, list):
        return [write_value(item, folder, f"{stem}-{i}") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {"!dict": [[encode(key), write_value(item, folder, f"{stem}-{i}")]
                          for i, (key, item) in enumerate(value.items())]}
    return encode(value)


def read_value(data: Any, folder: Path) -> Any:
    """Rebuild one input value written by :func:`write_value` (both sides read the same files)."""
    import numpy as np

    if isinstance(data, list):
        return [read_value(item, folder) for item in data]
    if not isinstance(data, dict):
        return data
    (tag, body), = data.items()
    if tag == "!frame" and "file" in body:
        return _frame_from_document(body, folder)
    if tag == "!series" and "file" in body:
        series = _frame_from_document(body, folder).iloc[:, 0]
        series.name = decode(body["name"])
        return series
    if tag == "!array" and "file" in body:
        return np.load(Path(folder) / body["file"], allow_pickle=False)
    if tag == "!estimator":
        return _build_estimator(body, folder)
    if tag == "!fitted":
        estimator = read_value(body["estimator"], folder)
        arguments = [read_value(item, folder) for item in body["args"]]
        keywords = {key: read_value(item, folder) for key, item in body["kwargs"]}
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # the same arithmetic as in a one-core sandbox, bit for bit
            return estimator.fit(*arguments, **keywords)
    if tag == "!tuple":
        return tuple(read_value(item, folder) for item in body)
    if tag == "!dict":
        return {_hashable(decode(key)): read_value(item, folder) for key, item in body}
    return decode(data)


class _Fitted:
    def __init__(self, estimator, args, kwargs):
        self.estimator, self.args, self.kwargs = estimator, args, kwargs


def fitted(estimator, *args, **kwargs) -> _Fitted:
    """An input that is ``estimator`` fitted on ``args`` where it is read: ``fitted(LogisticRegression(), X, y)``.

    A fitted model cannot travel as data; its recipe can, and fitting it again gives the same model.
    """
    return _Fitted(estimator, args, kwargs)


def _is_estimator(value: Any) -> bool:
    return isinstance(value, _Fitted) or (hasattr(value, "get_params") and hasattr(value, "fit")
                                          and type(value).__module__.startswith(ESTIMATOR_MODULES))


def _estimator_recipe(value: Any, folder: Path, stem: str) -> dict:
    if isinstance(value, _Fitted):
        return {"!fitted": {"estimator": _estimator_recipe(value.estimator, folder, f"{stem}-e"),
                            "args": [write_value(item, folder, f"{stem}-a{i}") for i, item in enumerate(value.args)],
                            "kwargs": [[key, write_value(item, folder, f"{stem}-k{key}")]
                                       for key, item in value.kwargs.items()]}}
    if hasattr(value, "n_features_in_"):
        raise NotData(f"{describe_type(value)} is already fitted: pass fitted(estimator, X, y) so it is fitted where "
                      "it is read")
    params = value.get_params(deep=False)
    return {"!estimator": {"class": f"{type(value).__module__}.{type(value).__qualname__}",
                           "params": [[key, write_value(item, folder, f"{stem}-{key}")]
                                      for key, item in sorted(params.items())]}}


def _build_estimator(body: dict, folder: Path):
    module_name, _, class_name = body["class"].rpartition(".")
    if not module_name.startswith(ESTIMATOR_MODULES):
        raise ValueError(f"an input estimator from {module_name!r}: only scikit-learn's are built")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**{key: read_value(item, folder) for key, item in body["params"]})


def _frame_document(frame, folder: Path, stem: str) -> dict:
    """A table as Parquet (typed columns and the index) plus JSON (columns of Python objects).

    Parquet keeps numbers, True/False, categories and the index exactly; a column of Python objects (text with
    gaps, a mix of True/False and NaN) it would change -- NaN read back as None, which scikit-learn's imputers
    then treat as a category -- so those columns travel as JSON values, exactly.
    """
    objects = [position for position, dtype in enumerate(frame.dtypes) if dtype == object]
    typed = frame.iloc[:, [position for position in range(frame.shape[1]) if position not in objects]]
    name = f"{stem}.parquet"
    _write_frame(typed, folder / name)
    return {"file": name, "columns": encode(list(frame.columns)), "index_names": encode(list(frame.index.names)),
            "objects": [[position, encode(frame.iloc[:, position].tolist())] for position in objects]}


def _frame_from_document(body: dict, folder: Path):
    import pandas as pd

    typed = _read_frame(Path(folder) / body["file"])
    columns = [_hashable(label) for label in decode(body["columns"])]
    objects = {int(position): decode(values) for position, values in body.get("objects", [])}
    parts, typed_position = [], 0
    for position in range(len(columns)):
        if position in objects:
            parts.append(pd.Series(objects[position], index=typed.index, dtype=object))
        else:
            parts.append(typed.iloc[:, typed_position])
            typed_position += 1
    frame = pd.concat(parts, axis=1) if parts else typed
    frame.columns = _index(columns) if columns else frame.columns
    frame.index.names = decode(body["index_names"])
    return frame


def _write_frame(frame, path: Path) -> None:
    frame = frame.copy()
    frame.columns = [str(position) for position in range(frame.shape[1])]  # labels travel in the JSON
    frame.to_parquet(path, engine="fastparquet", index=True)


def _read_frame(path: Path):
    import pandas as pd

    frame = pd.read_parquet(path, engine="fastparquet")
    for column in frame.columns[[isinstance(dtype, pd.CategoricalDtype) for dtype in frame.dtypes]]:
        # fastparquet's categorical dtype reads back with placeholder categories; rebuild it as pandas makes it
        values = frame[column]
        frame[column] = values.astype(pd.CategoricalDtype(list(values.cat.categories), ordered=values.cat.ordered))
    return frame


def read_json_file(path: Path, limit: int, dir_fd: int | None = None) -> Any:
    """Read a JSON file the sandbox wrote: a regular file (no link, no pipe), at most ``limit`` bytes."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    with os.fdopen(descriptor, "rb") as handle:
        if not _is_regular(os.fstat(descriptor)):
            raise ValueError("not a regular file")
        text = handle.read(limit + 1)
    if len(text) > limit:
        raise ValueError(f"more than {limit:,} bytes")
    return json.loads(text)  # NaN and Infinity included, as Python's JSON writes them


def _is_regular(status) -> bool:
    import stat

    return stat.S_ISREG(status.st_mode)
