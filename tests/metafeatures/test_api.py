"""The public API of metafeatures: views, groups, options, policies, determinism."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, make_classification

import metafeatures
from metafeatures import (
    AUTOSKLEARN_NAMES,
    OPENML_NAMES,
    ArgumentError,
    DataError,
    MeasureError,
    MetaFeatureWarning,
)


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def mixed() -> tuple[pd.DataFrame, pd.Series]:
    """A frame with numeric, categorical and boolean columns and missing values."""
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.exponential(size=n),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], size=n)),
        "flag": rng.random(n) > 0.3,
    })
    frame.loc[rng.choice(n, 20, replace=False), "a"] = np.nan
    frame.loc[rng.choice(n, 15, replace=False), "colour"] = np.nan
    y = pd.Series(np.where(frame["b"] > 1.0, "big", "small"))
    return frame, y


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


def test_autosklearn_view_has_the_46_pmf_columns(iris) -> None:
    X, y = iris
    out = metafeatures.extract(X, y, names="autosklearn", groups="all")
    assert tuple(out) == AUTOSKLEARN_NAMES
    assert len(AUTOSKLEARN_NAMES) == 46
    assert all(isinstance(v, float) and np.isfinite(v) for v in out.values())
    assert out["NumberOfInstances"] == 150 and out["NumberOfClasses"] == 3


def test_autosklearn_view_on_a_frame_with_categoricals_and_missing(mixed) -> None:
    X, y = mixed
    out = metafeatures.extract(X, y, names="autosklearn")
    assert tuple(out) == AUTOSKLEARN_NAMES
    assert out["NumberOfCategoricalFeatures"] == 2  # colour and the boolean flag
    assert out["NumberOfNumericFeatures"] == 2
    assert out["NumberOfMissingValues"] == 35
    assert out["NumberOfFeaturesWithMissingValues"] == 2
    assert out["SymbolsSum"] == 5  # 3 colours + 2 flag values
    assert all(np.isfinite(v) for v in out.values())


def test_regression_target_gives_nan_for_class_measures(mixed) -> None:
    X, _ = mixed
    y = X["b"].to_numpy() * 2.5 + 0.1
    out = metafeatures.extract(X.drop(columns="b"), y, names="autosklearn")
    assert math.isnan(out["ClassEntropy"]) and math.isnan(out["Landmark1NN"])
    assert out["NumberOfInstances"] == 300
    report = metafeatures.extract_report(X.drop(columns="b"), y)
    assert "class_ent" in report.skipped and "regression" in report.skipped["class_ent"]
    assert not any(k.startswith("class_ent") for k in report.values)  # pymfe view omits them


def test_pymfe_view_names_and_summaries(iris) -> None:
    X, y = iris
    out = metafeatures.extract(X, y, groups=["statistical"], summary=["mean", "quantiles"])
    assert "skewness.mean" in out and "skewness.quantiles.4" in out and "skewness.sd" not in out
    assert list(out) == sorted(out)
    full = metafeatures.extract(X, y, groups="general", summary="all")
    assert "freq_class.histogram.9" in full and "freq_class.kurtosis" in full


def test_openml_view_names(iris) -> None:
    X, y = iris
    out = metafeatures.extract(X, y, names="openml")
    assert set(out) <= set(OPENML_NAMES)
    assert out["NumberOfFeatures"] == 5  # OpenML counts the target
    assert out["MajorityClassSize"] == 50 and out["AutoCorrelation"] == pytest.approx(147 / 149)


def test_unsupervised_extraction_without_y(iris) -> None:
    X, _ = iris
    out = metafeatures.extract(X)
    assert "mean.mean" in out and "attr_ent.mean" in out
    assert "class_ent" not in out and "one_nn.mean" not in out
    view = metafeatures.extract(X, names="autosklearn")
    assert math.isnan(view["ClassEntropy"]) and view["NumberOfInstances"] == 150


def test_same_seed_same_output_and_seed_matters(mixed) -> None:
    X, y = mixed
    a = metafeatures.extract(X, y, groups="all", random_state=7)
    b = metafeatures.extract(X, y, groups="all", random_state=7)
    assert _same(a, b)
    c = metafeatures.extract(X, y, groups="all", random_state=8)
    assert any(a[k] != c[k] for k in a if not math.isnan(a[k]))
    g1 = metafeatures.extract(X, y, names="autosklearn", random_state=np.random.default_rng(5))
    g2 = metafeatures.extract(X, y, names="autosklearn", random_state=np.random.default_rng(5))
    assert _same(g1, g2)


def test_subsampling_is_seeded_and_bounded() -> None:
    X, y = make_classification(3000, 8, random_state=0)
    small = {"landmarking": 500, "model-based": 400}
    a = metafeatures.extract(X, y, groups=["landmarking", "model-based"], sample_sizes=small)
    b = metafeatures.extract(X, y, groups=["landmarking", "model-based"], sample_sizes=small)
    assert _same(a, b)
    full = metafeatures.extract(X, y, groups=["model-based"])
    assert a["leaves"] < full["leaves"]  # the tree saw 400 rows, not 3000


def test_groups_options(iris) -> None:
    X, y = iris
    a = metafeatures.extract(X, y, groups=["info_theory"])
    b = metafeatures.extract(X, y, groups="info-theory")
    assert _same(a, b) and "mut_inf.mean" in a
    with pytest.raises(ArgumentError, match="unknown meta-feature group 'bogus'"):
        metafeatures.extract(X, y, groups=["bogus"])
    with pytest.raises(ArgumentError, match="groups is empty"):
        metafeatures.extract(X, y, groups=[])


def test_summary_all_inside_a_list_expands(iris) -> None:
    X, y = iris
    every = metafeatures.extract(X, y, groups=["statistical"], summary="all")
    assert _same(metafeatures.extract(X, y, groups=["statistical"], summary=["all"]), every)
    both = metafeatures.extract(X, y, groups=["statistical"], summary=["all", "nanmean"])
    assert set(both) - set(every) == {k.replace(".mean", ".nanmean") for k in every
                                      if k.endswith(".mean")}


def test_default_and_all_inside_a_list_expand(iris) -> None:
    # was: "unknown meta-feature group 'default'; expected 'default', 'all' or ..."
    X, y = iris
    every = metafeatures.extract(X, y, groups="all")
    rest = [g for g in metafeatures.GROUPS if g not in metafeatures.DEFAULT_GROUPS]
    assert _same(metafeatures.extract(X, y, groups=["default", *rest]), every)
    assert _same(metafeatures.extract(X, y, groups=["all", "general"]), every)
    # expanded groups are not 'requested one by one': a regression target skips landmarking
    # silently, as with groups='default', while a named group that cannot apply still says so
    y_reg = X[:, 0] * 1.37
    assert _same(metafeatures.extract(X[:, 1:], y_reg, groups=["default", "general"]),
                 metafeatures.extract(X[:, 1:], y_reg, groups="default"))
    with pytest.raises(DataError, match="group 'landmarking' was requested"):
        metafeatures.extract(X[:, 1:], y_reg, groups=["default", "landmarking"])


def test_option_errors(iris) -> None:
    X, y = iris
    with pytest.raises(ArgumentError, match="names must be one of"):
        metafeatures.extract(X, y, names="weka")
    with pytest.raises(ArgumentError, match="on_error must be one of"):
        metafeatures.extract(X, y, on_error="skip")
    with pytest.raises(ArgumentError, match="unknown summary"):
        metafeatures.extract(X, y, summary=["average"])
    with pytest.raises(ArgumentError, match="summary applies to names='pymfe' only"):
        metafeatures.extract(X, y, names="autosklearn", summary="mean")
    with pytest.raises(ArgumentError, match="random_state must be"):
        metafeatures.extract(X, y, random_state=-1)
    with pytest.raises(ArgumentError, match="unknown sample size 'trees'"):
        metafeatures.extract(X, y, sample_sizes={"trees": 100})
    with pytest.raises(ArgumentError, match="unknown pymfe meta-feature name"):
        metafeatures.extract(X, y, features=["ClassEntropy"])
    with pytest.raises(ArgumentError, match="task must be None"):
        metafeatures.extract(X, y, task="ranking")


def test_option_of_the_wrong_type_is_an_argument_error(iris) -> None:
    # a scalar where a list (or a mapping) belongs: no TypeError from deep inside
    X, y = iris
    with pytest.raises(ArgumentError, match=r"groups must be 'default', 'all', a group name or "
                                            r"a list of group names; got None"):
        metafeatures.extract(X, y, groups=None)
    with pytest.raises(ArgumentError, match=r"groups must be .*; got 3"):
        metafeatures.extract(X, y, groups=3)
    with pytest.raises(ArgumentError, match=r"summary must be .*; got 1"):
        metafeatures.extract(X, y, summary=1)
    with pytest.raises(ArgumentError, match=r"summary is empty; pass None \(mean, sd\)"):
        metafeatures.extract(X, y, summary=[])
    with pytest.raises(ArgumentError, match=r"features must be .*; got 1"):
        metafeatures.extract(X, y, features=1)
    with pytest.raises(ArgumentError, match=r"sample_sizes must be a mapping .*; got \["):
        metafeatures.extract(X, y, sample_sizes=[("landmarking", 100)])
    with pytest.raises(ArgumentError, match=r"categorical must be None, 'auto', column names/"
                                            r"positions or a boolean mask; got True"):
        metafeatures.extract(X, y, categorical=True)
    with pytest.raises(ArgumentError, match=r"categorical must be .*; got 1.5"):
        metafeatures.extract(X, y, categorical=1.5)
    # n_threads: numpy integers are integers (as for sample_sizes), booleans are not
    assert metafeatures.extract(X, y, groups=["general"], n_threads=np.int64(2))["nr_inst"] == 150
    with pytest.raises(ArgumentError, match="n_threads must be a positive integer or None; got "
                                            "True"):
        metafeatures.extract(X, y, n_threads=True)


def test_group_without_names_in_the_view_is_an_error(iris) -> None:
    # the auto-sklearn and OpenML tables have no model-based or complexity entry: asking for
    # those groups under them gave an empty dict
    X, y = iris
    with pytest.raises(ArgumentError, match=r"the 'autosklearn' view has no meta-feature from "
                                            r"group\(s\) \['complexity'\]; its names come "
                                            r"from .*; use names='pymfe'"):
        metafeatures.extract(X, y, names="autosklearn", groups=["complexity"])
    with pytest.raises(ArgumentError, match=r"'openml' view has no meta-feature from group\(s\) "
                                            r"\['landmarking', 'model-based'\]"):
        metafeatures.extract(X, y, names="openml", groups=["general", "landmarking",
                                                           "model-based"])
    assert len(metafeatures.extract(X, y, names="autosklearn", groups=["landmarking"])) == 6


def test_unknown_feature_names_point_at_the_view_names(iris) -> None:
    X, y = iris
    with pytest.raises(ArgumentError, match=r"unknown autosklearn meta-feature name\(s\) "
                                            r"\['nr_inst'\]; the names of this view are in "
                                            r"metafeatures.AUTOSKLEARN_NAMES"):
        metafeatures.extract(X, y, names="autosklearn", features=["nr_inst"])
    with pytest.raises(ArgumentError, match="are in metafeatures.OPENML_NAMES"):
        metafeatures.extract(X, y, names="openml", features=["ClassEntropyy"])
    with pytest.raises(ArgumentError, match=r"\['1'\]; .* metafeatures.list_measures\(\)"):
        metafeatures.extract(X, y, features=[1])


def test_features_subset(iris) -> None:
    X, y = iris
    assert metafeatures.extract(X, y, features=["nr_inst", "attr_ent"]) == pytest.approx(
        {"nr_inst": 150.0, **{k: v for k, v in metafeatures.extract(X, y).items()
                              if k.startswith("attr_ent.")}}
    )
    out = metafeatures.extract(X, y, names="autosklearn", features=["ClassEntropy"])
    assert list(out) == ["ClassEntropy"]


def test_requests_that_cannot_apply_say_so(iris) -> None:
    X, y = iris
    y_reg = X[:, 0] * 1.37
    with pytest.raises(DataError, match="group .landmarking. was requested but none of its "
                                        "meta-features applies: each needs class labels"):
        metafeatures.extract(X[:, 1:], y_reg, groups=["landmarking"])
    with pytest.raises(DataError, match="cannot be computed: needs class labels in y; y is None"):
        metafeatures.extract(X, features=["class_ent"])
    with pytest.raises(DataError, match="single class .* need at least two classes"):
        metafeatures.extract(X, np.zeros(150))
    # a single class is fine for the measures that do not need two
    out = metafeatures.extract(X, np.zeros(150), groups=["general"])
    assert out["nr_class"] == 1.0


def _one_rare_class() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.zeros(60, dtype=int)
    y[0] = 1  # the training fold that leaves this row out has one class: LDA cannot fit
    return X, y


def test_on_error_raise_names_the_measure() -> None:
    X, y = _one_rare_class()
    with pytest.raises(MeasureError, match="'linear_discr' .* two classes in every training fold"):
        metafeatures.extract(X, y, groups=["landmarking"])


def test_on_error_warn_and_ignore_give_nan_by_name() -> None:
    X, y = _one_rare_class()
    with pytest.warns(MetaFeatureWarning, match="linear_discr"):
        out = metafeatures.extract(X, y, groups=["landmarking"], on_error="warn")
    assert math.isnan(out["linear_discr.mean"]) and np.isfinite(out["one_nn.mean"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", MetaFeatureWarning)
        report = metafeatures.extract_report(X, y, groups=["landmarking"], on_error="ignore")
    assert set(report.failed) == {"linear_discr"}
    assert math.isnan(report.values["linear_discr.sd"])


def test_warning_points_at_the_callers_line() -> None:
    # extract_report's warning named the line that called the caller
    X, y = _one_rare_class()
    for fn in (metafeatures.extract, metafeatures.extract_report):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MetaFeatureWarning)
            line = sys._getframe().f_lineno + 1
            fn(X, y, groups=["landmarking"], on_error="warn")
        assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)], fn.__name__


def test_programming_errors_are_not_swallowed(iris) -> None:
    X, y = iris
    registry = metafeatures._registry.Registry()

    @registry.measure("nr_inst", group="general", requires=("data",))
    def broken(data):
        raise KeyError("a bug")

    with pytest.raises(KeyError, match="a bug"):
        metafeatures.extract_report(X, y, groups=["general"], on_error="ignore",
                                    registry=registry)


def test_list_measures_covers_every_group() -> None:
    measures = metafeatures.list_measures()
    # a post-processing group (relative) lists the measures it ranks, as pymfe does
    post = {p.group for p in metafeatures.REGISTRY.postprocessors()}
    assert post == {"relative"}
    assert {m["group"] for m in measures} == set(metafeatures.GROUPS)
    assert all(m["doc"] for m in measures)
    relative = {m["name"] for m in metafeatures.list_measures("relative")}
    pymfe_mfe = pytest.importorskip("pymfe.mfe")
    assert relative == set(pymfe_mfe.MFE.valid_metafeatures(groups=["relative"]))
    assert relative == {m["name"] for m in metafeatures.list_measures("landmarking") if m["pymfe"]}
    metafeatures.REGISTRY.check()
    for name in AUTOSKLEARN_NAMES:
        entry = metafeatures.views.AUTOSKLEARN[name]
        assert all(metafeatures.REGISTRY.has_measure(m) for m in entry.measures)
    for entry in metafeatures.views.OPENML.values():
        assert all(metafeatures.REGISTRY.has_measure(m) for m in entry.measures)


def test_list_measures_group_names_as_extract_takes_them() -> None:
    # 'info_theory' is accepted by extract(groups=...) and gave [] here; a typo gave [] too
    assert metafeatures.list_measures("info_theory") == metafeatures.list_measures("info-theory")
    assert len(metafeatures.list_measures("Model_Based")) == 14
    with pytest.raises(ArgumentError, match="unknown meta-feature group 'bogus'"):
        metafeatures.list_measures("bogus")
