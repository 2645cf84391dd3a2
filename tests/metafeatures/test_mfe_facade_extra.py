"""The rest of pymfe's ``MFE`` in ``metafeatures.MFE``: ``extract_with_confidence``,
``extract_from_model``, ``metafeature_description``, ``parse_by_group`` (and ``measure_time``),
against pymfe 0.4.4 run here where pymfe has the same behaviour.

pymfe's bootstrap is reproducible exactly: resample ``i`` takes the rows
``RandomState(random_state + i).randint(n, size=n)`` and the extractor's seed is
``random_state or 1234``; our extraction of each resample equals pymfe's to 1e-7 except for
the documented differences of ``test_golden_pymfe.KNOWN`` (their tolerance) and ``DIFFERENT``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from test_golden_pymfe import KNOWN

import metafeatures
from metafeatures.errors import ArgumentError, DataError, DataTypeError, NotFittedError

pymfe_mfe = pytest.importorskip("pymfe.mfe")

#: pymfe's sd_ratio pairs the class weights with the class covariance matrices in reverse
#: order (test_golden_pymfe.DIFFERENT): equal only with equal class sizes, which iris has (its
#: point value is compared in test_golden_pymfe) and the bootstrap resamples and wine do not
RESAMPLE_DIFFERENT = ("sd_ratio",)


def _rel(name: str) -> float:
    return KNOWN.get(name.split(".")[0], (1e-7, ""))[0]


def _pymfe_confidence(X, y, **kwargs):  # type: ignore[no-untyped-def]
    init = {k: kwargs.pop(k) for k in ("random_state", "groups") if k in kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pymfe_mfe.MFE(**init).fit(X, y, suppress_warnings=True).extract_with_confidence(
            arguments_extract={"suppress_warnings": True}, **kwargs)


def _assert_confidence_equal(ours, theirs) -> int:  # type: ignore[no-untyped-def]
    names, values, intervals = ours
    assert names == list(theirs[0])
    assert isinstance(intervals, np.ndarray) and intervals.shape == np.shape(theirs[2])
    compared = 0
    for k, name in enumerate(names):
        if name.split(".")[0] in RESAMPLE_DIFFERENT:
            continue
        rel = _rel(name)
        expected = float(theirs[1][k])
        if math.isnan(expected):
            assert math.isnan(values[k]), name
        else:
            assert values[k] == pytest.approx(expected, rel=rel, abs=1e-10), name
        np.testing.assert_allclose(intervals[k], np.asarray(theirs[2][k], dtype=float),
                                   rtol=rel, atol=1e-10, equal_nan=True, err_msg=name)
        compared += 1
    return compared


# -- extract_with_confidence ----------------------------------------------------------------------
def test_confidence_equals_pymfe_on_iris() -> None:
    """Default groups, random_state=0 (pymfe's extractor seed 1234, bootstrap seeds 0, 1, 2),
    two confidence levels: lower bounds of both levels, then upper bounds."""
    X, y = load_iris(return_X_y=True)
    ours = metafeatures.MFE(random_state=0).fit(X, y).extract_with_confidence(
        sample_num=3, confidence=[0.9, 0.5])
    theirs = _pymfe_confidence(X, y, random_state=0, sample_num=3, confidence=[0.9, 0.5])
    assert ours[2].shape == (len(ours[0]), 4)
    assert _assert_confidence_equal(ours, theirs) == len(ours[0]) - 1  # all but sd_ratio
    lo90, lo50, hi50, hi90 = ours[2][:, 0], ours[2][:, 1], ours[2][:, 3], ours[2][:, 2]
    ok = ~np.isnan(lo90)
    assert np.all(lo90[ok] <= lo50[ok] + 1e-12) and np.all(hi50[ok] <= hi90[ok] + 1e-12)


def test_confidence_equals_pymfe_on_wine_with_a_seed() -> None:
    X, y = load_wine(return_X_y=True)
    groups = ["general", "statistical", "model-based"]
    ours = metafeatures.MFE(random_state=7, groups=groups).fit(X, y).extract_with_confidence(
        sample_num=2, confidence=0.8)
    theirs = _pymfe_confidence(X, y, random_state=7, groups=groups, sample_num=2,
                               confidence=0.8)
    assert _assert_confidence_equal(ours, theirs) == len(ours[0]) - 1


def test_confidence_procedure_by_hand() -> None:
    """freq_class on iris: resample i holds the rows RandomState(5 + i).randint(150, size=150);
    the interval is [M - q(0.95), M - q(0.05)] of the differences (90 %)."""
    X, y = load_iris(return_X_y=True)
    mfe = metafeatures.MFE(groups=["general"], features=["freq_class"], summary=["max", "sd"],
                           random_state=5)
    names, values, ci = mfe.fit(X, y).extract_with_confidence(sample_num=20, confidence=0.9)
    assert names == ["freq_class.max", "freq_class.sd"]
    boot = []
    for i in range(20):
        freq = np.bincount(y[np.random.RandomState(5 + i).randint(150, size=150)]) / 150
        boot.append([freq.max(), freq.std(ddof=1)])
    point = np.array([1 / 3, 0.0])
    np.testing.assert_allclose(values, point, atol=1e-15)
    q = np.quantile(np.array(boot).T - point[:, None], [0.95, 0.05], axis=1).T
    np.testing.assert_allclose(ci, point[:, None] - q, rtol=1e-12, atol=1e-15)
    assert np.all(ci[:, 1] - ci[:, 0] > 0)  # the resamples do vary


def test_confidence_same_seed_same_output_and_pymfe_seed_rule() -> None:
    X, y = load_iris(return_X_y=True)

    def run(rs):  # type: ignore[no-untyped-def]
        return metafeatures.MFE(groups=["general", "statistical"], random_state=rs).fit(
            X, y).extract_with_confidence(sample_num=4)

    a, b, c = run(3), run(3), run(4)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])  # NaN equal NaN here
    np.testing.assert_array_equal(a[2], b[2])
    assert not np.allclose(a[2], c[2], equal_nan=True)
    # pymfe's rule: the point values come from an extractor seeded with random_state or 1234
    free = metafeatures.MFE(random_state=None, groups=["landmarking"]).fit(X, y)
    seeded = metafeatures.MFE(random_state=1234, groups=["landmarking"]).fit(X, y)
    got = free.extract_with_confidence(sample_num=1, arguments_extract={"out_type": dict})
    assert list(got) == ["mtf_names", "mtf_vals", "confidence"]
    names, values = seeded.extract()
    assert got["mtf_names"] == names
    np.testing.assert_array_equal(got["mtf_vals"], values)
    assert got["confidence"].shape == (len(got["mtf_names"]), 2)


def test_confidence_reuses_the_fit_arguments() -> None:
    """arguments_fit=None refits every resample as fit() was called (pymfe falls back to
    fit's defaults); arguments_fit replaces them."""
    X, y = load_iris(return_X_y=True)
    mfe = metafeatures.MFE(groups=["general"], features=["nr_cat", "nr_num"]).fit(
        X, y, cat_cols=[0])
    names, values, ci = mfe.extract_with_confidence(sample_num=2)
    assert names == ["nr_cat", "nr_num"] and values == [1, 3]
    np.testing.assert_array_equal(ci, [[1, 1], [3, 3]])
    names, values, ci = mfe.extract_with_confidence(sample_num=2,
                                                    arguments_fit={"cat_cols": None})
    assert values == [0, 4]
    np.testing.assert_array_equal(ci, [[0, 0], [4, 4]])


@pytest.mark.parametrize("kwargs, match", [
    ({"sample_num": 0}, "sample_num must be an integer >= 1"),
    ({"sample_num": 2.5}, "sample_num must be an integer >= 1"),
    ({"sample_num": True}, "sample_num must be an integer >= 1"),
    ({"confidence": 1.0}, r"confidence must be a level in \(0, 1\)"),
    ({"confidence": 0}, r"confidence must be a level in \(0, 1\)"),
    ({"confidence": [0.9, 1.5]}, r"confidence must be a level in \(0, 1\)"),
    ({"confidence": "high"}, r"confidence must be a level in \(0, 1\)"),
    ({"confidence": []}, r"confidence must be a level in \(0, 1\)"),
    ({"arguments_fit": [1]}, "arguments_fit must be None or a dict"),
    ({"arguments_extract": {"out_type": pd.DataFrame}}, "out_type.* must be tuple or dict"),
])
def test_confidence_bad_arguments(kwargs, match) -> None:
    X, y = load_iris(return_X_y=True)
    mfe = metafeatures.MFE(groups=["general"]).fit(X, y)
    with pytest.raises(ArgumentError, match=match):
        mfe.extract_with_confidence(**{"sample_num": 1, **kwargs})


def test_confidence_not_fitted_and_a_resample_of_one_class() -> None:
    with pytest.raises(NotFittedError, match=r"call mfe.fit\(X, y\) before"):
        metafeatures.MFE().extract_with_confidence(sample_num=1)
    X = np.c_[np.arange(6.0), np.arange(6.0) ** 2]
    y = np.array([0, 0, 0, 0, 0, 1])
    # a seed whose first resample leaves out the only row of class 1
    seed = next(s for s in range(100)
                if 5 not in np.random.RandomState(s).randint(6, size=6))
    mfe = metafeatures.MFE(groups=["statistical"], random_state=seed).fit(X, y)
    with pytest.raises(DataError, match=rf"bootstrap resample 0 \(rows numpy.random."
                                        rf"RandomState\({seed}\).*single class"):
        mfe.extract_with_confidence(sample_num=2)


# -- extract_from_model ---------------------------------------------------------------------------
ALL_BUT_QUANTILES = [s for s in metafeatures.MFE.valid_summary() if "quantiles" not in s]


@pytest.mark.parametrize("load, params", [(load_iris, {}), (load_iris, {"max_depth": 1}),
                                          (load_wine, {}), (load_wine, {"max_depth": 3})],
                         ids=["iris", "iris-stump", "wine", "wine-depth3"])
@pytest.mark.parametrize("init", [{}, {"summary": ALL_BUT_QUANTILES},
                                  {"groups": "all", "features": ["leaves", "tree_depth",
                                                                 "attr_ent"]}],
                         ids=["default", "summaries", "features"])
def test_extract_from_model_equals_pymfe(load, params, init) -> None:
    """pymfe 0.4.4's quantiles summary is one NaN under numpy 2 (docs/metafeatures.md), hence
    every other summary."""
    X, y = load(return_X_y=True)
    model = DecisionTreeClassifier(random_state=1, **params).fit(X, y)
    ours = metafeatures.MFE(**init).extract_from_model(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pymfe_mfe.MFE(**init).extract_from_model(
            model, arguments_extract={"suppress_warnings": True})
    assert ours[0] == list(theirs[0])
    np.testing.assert_allclose(np.asarray(ours[1], dtype=float),
                               np.asarray(theirs[1], dtype=float),
                               rtol=1e-7, atol=1e-12, equal_nan=True)


def test_extract_from_model_out_types_and_string_labels() -> None:
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = DecisionTreeClassifier(random_state=0).fit(X, labels)
    mfe = metafeatures.MFE(groups=["model-based"])  # not fitted: no data is needed
    names, values = mfe.extract_from_model(model)
    assert values[names.index("leaves")] == model.get_n_leaves()
    assert values[names.index("nodes_per_attr")] == pytest.approx(
        (model.tree_.node_count - model.get_n_leaves()) / 4)
    got = mfe.extract_from_model(model, arguments_extract={"out_type": dict})
    assert got == {"mtf_names": names, "mtf_vals": values}
    frame = mfe.extract_from_model(model, arguments_extract={"out_type": pd.DataFrame})
    assert list(frame.columns) == names and frame.shape == (1, len(names))


def test_extract_from_model_errors() -> None:
    X, y = load_iris(return_X_y=True)
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    with pytest.raises(ArgumentError, match="needs the 'model-based' group.*groups=\\['model-b"):
        metafeatures.MFE(groups=["general"]).extract_from_model(model)
    with pytest.raises(DataTypeError, match="fitted sklearn.tree.DecisionTreeClassifier.*got "
                                            "RandomForestClassifier"):
        metafeatures.MFE().extract_from_model(
            RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y))
    with pytest.raises(DataTypeError, match="got DecisionTreeRegressor"):
        metafeatures.MFE().extract_from_model(DecisionTreeRegressor().fit(X, y))
    with pytest.raises(NotFittedError, match=r"model is not fitted: call model.fit\(X, y\)"):
        metafeatures.MFE().extract_from_model(DecisionTreeClassifier())
    with pytest.raises(ArgumentError, match="model has 2 outputs"):
        metafeatures.MFE().extract_from_model(
            DecisionTreeClassifier(random_state=0).fit(X, np.c_[y, y]))
    with pytest.raises(ArgumentError, match="hold no model-based meta-feature"):
        metafeatures.MFE(groups="all", features=["attr_ent"]).extract_from_model(model)
    with pytest.raises(ArgumentError, match="must not hold 'dt_model'"):
        metafeatures.MFE().extract_from_model(model, arguments_fit={"dt_model": model})
    with pytest.raises(ArgumentError, match=r"unsupported argument\(s\) \['sd'\]"):
        metafeatures.MFE().extract_from_model(model, arguments_extract={"sd": {"ddof": 2}})
    with pytest.raises(ArgumentError, match="out_type must be tuple, dict or pandas.DataFrame"):
        metafeatures.MFE().extract_from_model(model, arguments_extract={"out_type": list})


# -- metafeature_description / parse_by_group -----------------------------------------------------
def test_metafeature_description_covers_every_name_in_our_words(capsys) -> None:
    rows, text = metafeatures.MFE.metafeature_description(print_table=False)
    assert rows[0] == ["Group", "Meta-feature name", "Description"]
    body = rows[1:]
    assert all(len(r) == 3 and r[2].strip() for r in body)  # every one described
    assert sorted(r[1] for r in body) == sorted(metafeatures.MFE.valid_metafeatures())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, _ = pymfe_mfe.MFE.metafeature_description(print_table=False)
    assert {(r[0], r[1]) for r in body} == {(r[0], r[1]) for r in theirs[1:]}
    pymfe_text = {r[1]: r[2] for r in theirs[1:]}
    assert not any(r[2] == pymfe_text[r[1]] for r in body)  # our own descriptions
    assert all(r[1] in text for r in body)
    # every name an extraction produces has a description
    X, y = load_iris(return_X_y=True)
    names, _ = metafeatures.MFE(groups="all", summary=["mean"]).fit(X, y).extract()
    described = {r[1] for r in body}
    assert all(n.split(".")[0] in described for n in names)
    # relative ranks landmarking: listed under landmarking, as pymfe
    rel, _ = metafeatures.MFE.metafeature_description("relative", print_table=False)
    assert {r[0] for r in rel[1:]} == {"landmarking"} and len(rel) == 8
    by_name, _ = metafeatures.MFE.metafeature_description(["general", "clustering"],
                                                           sort_by_mtf=True, print_table=False)
    assert [r[1] for r in by_name[1:]] == sorted(r[1] for r in by_name[1:])
    assert metafeatures.MFE.metafeature_description("general") is None
    assert "nr_inst" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, match", [
    ({"include_references": True}, "include_references=True is not supported"),
    ({"sort_by_group": "yes"}, "sort_by_group must be True or False"),
    ({"groups": ["stats"]}, "unknown meta-feature group 'stats'"),
])
def test_metafeature_description_errors(kwargs, match) -> None:
    with pytest.raises(ArgumentError, match=match):
        metafeatures.MFE.metafeature_description(print_table=False, **kwargs)


@pytest.fixture(scope="module")
def iris_all() -> tuple[list[str], list[float]]:
    X, y = load_iris(return_X_y=True)
    return metafeatures.MFE(groups="all", random_state=0).fit(X, y).extract()


@pytest.mark.parametrize("groups", ["general", ["statistical", "info-theory"], "landmarking",
                                    "relative", "model-based", ["complexity", "itemset"]])
def test_parse_by_group_equals_pymfe(iris_all, groups) -> None:
    ours = metafeatures.MFE.parse_by_group(groups, iris_all)
    theirs = pymfe_mfe.MFE.parse_by_group(groups, iris_all)
    assert isinstance(ours, tuple) and len(ours) == 2 and ours[0]
    assert ours[0] == list(theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_parse_by_group_shapes(iris_all) -> None:
    names, values = iris_all
    general = metafeatures.MFE.parse_by_group("general", iris_all)
    as_dict = metafeatures.MFE.parse_by_group(
        "general", {"mtf_names": names, "mtf_vals": values})
    assert as_dict == {"mtf_names": general[0], "mtf_vals": general[1]}
    frame = metafeatures.MFE.parse_by_group(
        "general", pd.DataFrame([values], columns=names))
    assert list(frame.columns) == general[0] and frame.shape == (1, len(general[0]))
    # extract_with_confidence's third output (an array) is filtered by row, as pymfe
    X, y = load_iris(return_X_y=True)
    res = metafeatures.MFE(groups=["general", "statistical"]).fit(X, y) \
        .extract_with_confidence(sample_num=1)
    part = metafeatures.MFE.parse_by_group("general", res)
    assert len(part) == 3 and len(part[2]) == len(part[0]) and part[0] == general[0]
    theirs = pymfe_mfe.MFE.parse_by_group("general", res)
    np.testing.assert_array_equal(np.array(part[2]), np.array(theirs[2]))
    with pytest.raises(ArgumentError, match="unknown meta-feature group 'generl'"):
        metafeatures.MFE.parse_by_group("generl", iris_all)
    with pytest.raises(ArgumentError, match="extracted_results must be what MFE.extract "
                                            "returned.*got str"):
        metafeatures.MFE.parse_by_group("general", "nr_inst")


# -- measure_time ---------------------------------------------------------------------------------
def test_measure_time_rules_by_hand() -> None:
    """pymfe's rules on known timings: own time / values (avg), + the summary's time (_summ),
    0 for the further values of a multi-valued summary, ranking share on .relative names."""
    from metafeatures._extract import Extraction
    from metafeatures.mfe import _times

    report = Extraction(
        values={"cor.mean": 0.5, "cor.histogram.0": 0.1, "cor.histogram.1": 0.9,
                "nr_inst": 150.0, "best_node.mean": 0.6, "best_node.mean.relative": 1.0,
                "best_node.sd.relative": 2.0, "one_nn.mean.relative": 1.0},
        seconds={"relative": 0.2},
        measure_seconds={"cor": 4.0, "nr_inst": 0.5, "best_node": 3.0, "one_nn": 1.0},
        measure_sizes={"cor": 8, "best_node": 10, "one_nn": 10},
        summary_seconds={"cor.mean": 0.25, "cor.histogram.0": 0.75, "best_node.mean": 0.5,
                         "best_node.sd": 0.125, "one_nn.mean": 0.0625},
    )
    share = 0.2 / 2  # two ranked summaries: mean and sd
    assert _times(report, "total") == {
        "cor.mean": 4.0, "cor.histogram.0": 4.0, "cor.histogram.1": 0.0, "nr_inst": 0.5,
        "best_node.mean": 3.0, "best_node.mean.relative": 3.0 + share,
        "best_node.sd.relative": 3.0 + share, "one_nn.mean.relative": 1.0 + share}
    assert _times(report, "avg_summ") == pytest.approx({
        "cor.mean": 0.5 + 0.25, "cor.histogram.0": 0.5 + 0.75, "cor.histogram.1": 0.0,
        "nr_inst": 0.5, "best_node.mean": 0.3 + 0.5, "best_node.mean.relative": 0.8 + share,
        "best_node.sd.relative": 0.3 + 0.125 + share,
        "one_nn.mean.relative": 0.1 + 0.0625 + share})


@pytest.mark.parametrize("option", ["avg", "total_summ"])
def test_measure_time_shapes_equal_pymfe(option) -> None:
    X, y = load_iris(return_X_y=True)
    init = {"groups": ["general", "statistical", "relative"], "random_state": 0,
            "summary": ["mean", "histogram"], "measure_time": option}
    names, values, times = metafeatures.MFE(**init).fit(X, y).extract()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pymfe_mfe.MFE(**init).fit(X, y, suppress_warnings=True).extract(
            suppress_warnings=True)
    assert names == list(theirs[0]) and len(times) == len(names)
    t, t_pymfe = np.asarray(times), np.asarray(theirs[2], dtype=float)
    assert np.all(np.isfinite(t)) and np.all(t >= 0)
    np.testing.assert_array_equal(t == 0, t_pymfe == 0)  # the same filler names
    assert np.all(t[[n.endswith(".relative") for n in names]] > 0)


def test_measure_time_in_every_output() -> None:
    X, y = load_iris(return_X_y=True)
    mfe = metafeatures.MFE(groups=["general", "model-based"], measure_time="total",
                           random_state=0).fit(X, y)
    got = mfe.extract(out_type=dict)
    assert list(got) == ["mtf_names", "mtf_vals", "mtf_time"]
    assert len(got["mtf_time"]) == len(got["mtf_names"])
    frame = mfe.extract(out_type=pd.DataFrame)
    assert list(frame.index) == ["values", "time"] and list(frame.columns) == got["mtf_names"]
    names, values, times, ci = mfe.extract_with_confidence(sample_num=1)
    assert names == got["mtf_names"] and len(times) == len(names) == len(ci)
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    names, values, times = mfe.extract_from_model(model)
    assert len(times) == len(names) and all(x >= 0 for x in times)
    with pytest.raises(ArgumentError, match=r"measure_time must be None or one of \('avg'"):
        metafeatures.MFE(measure_time="avg_sum").fit(X, y)
