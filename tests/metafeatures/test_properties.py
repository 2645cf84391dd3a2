"""Property-based tests: random frames never crash the extractor with anything but the
documented errors, and the same seed gives the same output."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metafeatures
from metafeatures import ArgumentError, DataError, DataTypeError, MeasureError

DOCUMENTED = (DataError, DataTypeError, ArgumentError, MeasureError)
KINDS = ("float", "int", "category", "bool", "string", "constant", "all_nan", "with_inf",
         "huge", "tiny", "huge300", "tiny300")


@st.composite
def datasets(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(min_value=1, max_value=60))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    missing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 0.95]))
    rng = np.random.default_rng(seed)
    cols = {}
    for j, kind in enumerate(kinds):
        if kind == "float":
            col = pd.Series(rng.normal(size=n))
        elif kind == "int":
            col = pd.Series(rng.integers(-3, 4, size=n).astype(float))
        elif kind == "category":
            col = pd.Series(pd.Categorical(rng.choice(["a", "b", "c", "d"], size=n),
                                           categories=["a", "b", "c", "d", "e"]))
        elif kind == "bool":
            col = pd.Series(rng.random(n) > 0.5)
        elif kind == "string":
            col = pd.Series(rng.choice(["x", "y", "z"], size=n), dtype=object)
        elif kind == "constant":
            col = pd.Series(np.full(n, 7.5))
        elif kind == "all_nan":
            col = pd.Series(np.full(n, np.nan))
        elif kind == "with_inf":
            col = pd.Series(np.where(rng.random(n) < 0.2, np.inf, rng.normal(size=n)))
        elif kind == "huge":
            col = pd.Series(rng.normal(size=n) * 1e150)
        elif kind == "huge300":
            col = pd.Series(rng.normal(size=n) * 1e300)
        elif kind == "tiny300":
            col = pd.Series(rng.normal(size=n) * 1e-300)
        else:
            col = pd.Series(rng.normal(size=n) * 1e-150)
        if missing and kind not in ("bool", "all_nan"):
            col = col.mask(rng.random(n) < missing)
        cols[f"c{j}"] = col
    frame = pd.DataFrame(cols)
    target = draw(st.sampled_from(["none", "binary", "multiclass", "single", "regression",
                                   "labels"]))
    if target == "none":
        y = None
    elif target == "binary":
        y = rng.integers(0, 2, size=n)
    elif target == "multiclass":
        y = rng.integers(0, 5, size=n)
    elif target == "single":
        y = np.zeros(n, dtype=int)
    elif target == "regression":
        y = rng.normal(size=n)
    else:
        y = rng.choice(["spam", "ham", "eggs"], size=n)
    categorical = draw(st.sampled_from([None, "auto"]))
    return frame, y, categorical


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.sampled_from(metafeatures.VIEW_NAMES))
def test_random_frames_raise_only_documented_errors(data, names) -> None:
    frame, y, categorical = data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metafeatures.MetaFeatureWarning)
            out = metafeatures.extract(frame, y, groups="all", names=names,
                                       categorical=categorical, on_error="warn",
                                       sample_sizes={"landmarking": 40, "complexity": 40})
    except DOCUMENTED as exc:
        assert str(exc)  # a message that says something
        return
    assert all(isinstance(k, str) and isinstance(v, float) for k, v in out.items())
    if names == "autosklearn":
        assert tuple(out) == metafeatures.AUTOSKLEARN_NAMES


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_same_seed_same_output(data) -> None:
    frame, y, categorical = data
    kwargs = dict(groups="all", categorical=categorical, on_error="ignore", random_state=123)
    try:
        a = metafeatures.extract(frame, y, **kwargs)
    except DOCUMENTED:
        return
    b = metafeatures.extract(frame, y, **kwargs)
    assert a.keys() == b.keys()
    assert all((math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.sampled_from((*metafeatures.TRANSFORM_CAT, None)),
       st.sampled_from((*metafeatures.RESCALE, None)), st.booleans(),
       st.sampled_from(metafeatures.SCORES), st.sampled_from((None, 0.7)))
def test_pymfe_options_raise_only_documented_errors(data, coding, rescale, transform_num,
                                                    score, frac) -> None:
    frame, y, categorical = data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metafeatures.MetaFeatureWarning)
            out = metafeatures.extract(frame, y, groups="all", categorical=categorical,
                                       on_error="warn", transform_cat=coding, rescale=rescale,
                                       transform_num=transform_num, score=score,
                                       shuffle_cv_folds=False, lm_sample_frac=frac,
                                       sample_sizes={"landmarking": 40, "complexity": 40})
    except DOCUMENTED as exc:
        assert str(exc)
        return
    assert all(isinstance(k, str) and isinstance(v, float) for k, v in out.items())
