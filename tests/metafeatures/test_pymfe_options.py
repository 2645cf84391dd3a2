"""pymfe's options beyond the defaults, against pymfe 0.4.4 run here.

* ``transform_cat`` ("gray" = pymfe's default, "one-hot", None), ``transform_num`` and
  ``rescale`` on real categorical data: OpenML anneal (32 categorical attributes) and OpenML
  dataset 30 of the shared cache (abalone: the rings as one categorical attribute of 28 levels,
  the sex as the class), 150-row seeded subsamples (pymfe is slow).
* the landmarking / model-based options ``score``, ``num_cv_folds``, ``shuffle_cv_folds``,
  ``lm_sample_frac``, ``hypparam_model_dt`` on wine.
* the facade ``metafeatures.MFE`` against ``pymfe.mfe.MFE`` on iris.

Every name both produce is compared to 1e-7 relative; the documented differences of
``test_golden_pymfe.KNOWN`` / ``DIFFERENT`` keep their tolerance (see docs/metafeatures.md).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from mf_golden_data import load_anneal
from sklearn.datasets import load_iris, load_wine
from test_golden_pymfe import DIFFERENT, KNOWN

import metafeatures
from metafeatures.errors import ArgumentError, DataTypeError, NotFittedError

pymfe_mfe = pytest.importorskip("pymfe.mfe")

#: the groups that read N or C (complexity and relative left out to keep the test short: they
#: read the same N as landmarking and clustering)
CAT_GROUPS = ["general", "statistical", "info-theory", "landmarking", "model-based",
              "clustering", "concept", "itemset"]

#: pymfe adds 1e-8 to every cell of its tables: for an attribute with a single level the
#: concentration is 0/0 (NaN here), a finite artefact in pymfe
CONSTANT_NAN = ("attr_conc", "class_conc")

#: with a canonical correlation of 1 up to rounding (collinear coded columns), rho^2 / (1 - rho^2)
#: divides by rounding noise: inf or 1e6-1e15 in pymfe's iterative CCA and in our eigenvalues
INF_TRACES = ("lh_trace", "roy_root")


def _subsample(X: pd.DataFrame, y: pd.Series, n: int) -> tuple[pd.DataFrame, pd.Series]:
    idx = np.sort(np.random.RandomState(1).choice(len(X), n, replace=False))
    return X.iloc[idx].reset_index(drop=True), y.iloc[idx].reset_index(drop=True)


@pytest.fixture(scope="module")
def anneal(shared_data) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """Anneal, 150 rows, missing categorical values as a level "?" (pymfe's gray coding
    refuses missing values)."""
    X, y = load_anneal(shared_data)
    cat = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    X = X.copy()
    for c in cat:
        X[c] = X[c].astype(object).where(X[c].notna(), "?").astype(str)
    X, y = _subsample(X, y.astype(str), 150)
    return X, y, cat


@pytest.fixture(scope="module")
def abalone(shared_data) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    path = shared_data / "openml-cache/org/openml/test/datasets/30/dataset_30.pq"
    frame = pd.read_parquet(path)
    y = frame.pop("Sex").astype(str)
    frame["Class_number_of_rings"] = frame["Class_number_of_rings"].astype(str)
    X, y = _subsample(frame, y, 150)
    return X, y, ["Class_number_of_rings"]


def _pymfe(X: pd.DataFrame, y: pd.Series, cat: list[str], groups: list[str],
           fit: dict, **init: object) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mfe = pymfe_mfe.MFE(groups=groups, random_state=0, **init)
        mfe.fit(X.to_numpy(dtype=object), y.to_numpy(), suppress_warnings=True,
                cat_cols=[X.columns.get_loc(c) for c in cat], **fit)
        names, values = mfe.extract(suppress_warnings=True)
    return {n: float(v) for n, v in zip(names, values)}


def _assert_same(ours: dict[str, float], theirs: dict[str, float], dataset: str = "",
                 constant_ok: bool = False) -> int:
    """Same names; every value equal to 1e-7 (documented differences: their tolerance)."""
    assert set(ours) == set(theirs)
    compared = 0
    for key, expected in theirs.items():
        base = key.split(".")[0]
        if dataset in DIFFERENT.get(base, ()):
            continue
        got = ours[key]
        if constant_ok and base in CONSTANT_NAN and math.isnan(got):
            continue
        if math.isnan(expected):
            assert math.isnan(got), key
            continue
        if base in INF_TRACES and max(got, expected) > 1e5:
            assert min(got, expected) > 1e5, key  # a canonical correlation of 1 +- rounding
            continue
        rel = KNOWN.get(base, (1e-7, ""))[0]
        tiny = 1e-7 if base == "w_lambda" else 1e-10  # prod(1 - rho^2) with a rho of 1: ~0
        assert got == pytest.approx(expected, rel=rel, abs=tiny), key
        compared += 1
    return compared


# -- transform_cat / transform_num / rescale ------------------------------------------------------
#: N-reading groups (C, read by info-theory and itemset, depends on transform_num only: those
#: two groups, slow in pymfe, run where C changes and once with a rescaled N; abalone has them
#: with gray + standard)
N_GROUPS = [g for g in CAT_GROUPS if g not in ("info-theory", "itemset")]
CAT_OPTIONS = [
    ({"transform_cat": "gray"}, CAT_GROUPS),
    ({"transform_cat": "one-hot", "transform_num": False}, CAT_GROUPS),
    ({"transform_cat": None, "rescale": "min-max"}, N_GROUPS),
    ({"transform_cat": "gray", "rescale": "robust"}, N_GROUPS),
    # our default coding; its clustering, concept and itemset values are compared in
    # test_golden_pymfe.py (pymfe's statistical and landmarking groups take ~8 s on the
    # collinear one-hot-full N)
    ({"transform_cat": "one-hot-full"}, ["general", "model-based"]),
]


@pytest.mark.shared_data
@pytest.mark.parametrize("options, groups", CAT_OPTIONS,
                         ids=lambda o: "-".join(map(str, o.values())) if isinstance(o, dict) else "")
def test_categorical_codings_equal_pymfe_on_anneal(anneal, options, groups) -> None:
    X, y, cat = anneal
    if options["transform_cat"] == "one-hot":
        # pymfe's "one-hot" refuses an attribute with a single level (we give it no column)
        const = [c for c in cat if X[c].nunique() < 2]
        assert const
        X, cat = X.drop(columns=const), [c for c in cat if c not in const]
    ours = metafeatures.extract(X, y, groups=groups, categorical=cat, random_state=0, **options)
    theirs = _pymfe(X, y, cat, groups, options, shuffle_cv_folds=True)
    assert _assert_same(ours, theirs, constant_ok=True) >= {8: 100, 6: 70, 2: 20}[len(groups)]


@pytest.mark.shared_data
def test_gray_coding_equals_pymfe_on_abalone(abalone) -> None:
    """Gray coding with standard rescaling. One categorical attribute of 28 levels ("10" sorts before "2": patsy's order decides the
    tree's column order); gray keeps every level of the first categorical attribute."""
    X, y, cat = abalone
    ours = metafeatures.extract(X, y, groups=CAT_GROUPS, categorical=cat, random_state=0,
                                transform_cat="gray", rescale="standard")
    theirs = _pymfe(X, y, cat, CAT_GROUPS, {"transform_cat": "gray", "rescale": "standard"},
                    shuffle_cv_folds=True)
    assert _assert_same(ours, theirs) >= 100
    def stats(coding: str) -> dict[str, float]:
        return metafeatures.extract(X, y, groups=["statistical"], categorical=cat,
                                    transform_cat=coding)

    gray = stats("gray")
    assert stats("one-hot-full") == pytest.approx(gray, nan_ok=True)  # one attribute: same N
    assert stats("one-hot")["mean.mean"] != gray["mean.mean"]


def test_gray_coding_columns_by_hand() -> None:
    """patsy's ``~ 0 + C0 + C1``: C0 full (levels a, b, c), C1 without its first level by
    ``str`` order ("10" < "2" < "x"), C1's columns in that order."""
    X = pd.DataFrame({"num": [1.0, 2.0, 3.0, 4.0], "C0": ["b", "a", "c", "b"],
                      "C1": ["2", "10", "x", "2"]})
    data = metafeatures.validate(X, categorical=["C0", "C1"])
    from metafeatures._resources import Encoded

    gray = Encoded(data, 100, "gray").take(np.arange(4))
    np.testing.assert_array_equal(gray, [[1, 0, 1, 0, 1, 0], [2, 1, 0, 0, 0, 0],
                                         [3, 0, 0, 1, 0, 1], [4, 0, 1, 0, 1, 0]])
    onehot = Encoded(data, 100, "one-hot").take(np.arange(4))
    assert onehot.shape == (4, 1 + 2 + 2)
    assert Encoded(data, 100, None).take(np.arange(4)).shape == (4, 1)


def test_gray_coding_with_missing_values_where_pymfe_refuses() -> None:
    """pymfe's gray coding refuses missing categorical values; here a missing value is an
    all-zero row of its attribute's columns (documented)."""
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                      "c": pd.Categorical(["x", None, "y", "x", "y", "z"])})
    y = np.array([0, 0, 0, 1, 1, 1])
    with warnings.catch_warnings(), pytest.raises(ValueError, match="missing values"):
        warnings.simplefilter("ignore")
        pymfe_mfe.MFE(groups=["statistical"]).fit(
            np.array([[1.0, "x"], [2.0, np.nan], [3.0, "y"], [4.0, "x"], [5.0, "y"], [6.0, "z"]],
                     dtype=object), y, cat_cols=[1], transform_cat="gray")
    mf = metafeatures.extract(X, y, groups=["statistical"], transform_cat="gray")
    # N = a, c[x], c[y], c[z]: the column means of the three indicator columns
    assert mf["max.mean"] == pytest.approx((6 + 1 + 1 + 1) / 4)


def test_transform_num_and_rescale_by_hand() -> None:
    X = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [5.0, 50.0],
                  [6.0, 60.0], [7.0, 70.0], [8.0, 80.0]])
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    with_num = metafeatures.extract(X, y, groups=["info-theory"])
    assert with_num["attr_ent.mean"] == pytest.approx(1.0)  # 2 equal-frequency bins
    without = metafeatures.extract(X, y, groups=["info-theory"], transform_num=False)
    assert math.isnan(without["attr_ent.mean"])  # C is empty
    mm = metafeatures.extract(X, y, groups=["statistical"], rescale="min-max")
    assert (mm["min.mean"], mm["max.mean"]) == (0.0, 1.0)
    st = metafeatures.extract(X, y, groups=["statistical"], rescale="standard")
    assert st["mean.mean"] == pytest.approx(0.0, abs=1e-15)
    assert st["sd.mean"] == pytest.approx(np.sqrt(8 / 7))  # ddof=1 of a ddof=0-scaled column
    rb = metafeatures.extract(X, y, groups=["statistical"], rescale="robust")
    assert rb["median.mean"] == pytest.approx(0.0, abs=1e-15)
    assert rb["iq_range.mean"] == pytest.approx(1.0)
    # nr_bin counts binary attributes of the raw X, also when N is rescaled
    Xb = np.column_stack([X, [0, 1] * 4])
    assert metafeatures.extract(Xb, y, groups=["general"], rescale="standard")["nr_bin"] == 1


# -- landmarking / model-based options ---------------------------------------------------------------
LM_OPTIONS = [
    {"shuffle_cv_folds": False},
    {"shuffle_cv_folds": True, "score": "balanced-accuracy"},
    {"shuffle_cv_folds": True, "score": "f1", "num_cv_folds": 5},
    {"shuffle_cv_folds": False, "lm_sample_frac": 0.7},
    {"shuffle_cv_folds": True, "hypparam_model_dt": {"max_depth": 3, "criterion": "entropy"}},
]


@pytest.mark.parametrize("options", LM_OPTIONS, ids=lambda o: "-".join(map(str, o.values())))
def test_landmarking_options_equal_pymfe(options) -> None:
    X, y = load_wine(return_X_y=True)
    groups = ["landmarking", "model-based"]
    ours = metafeatures.extract(X, y, groups=groups, random_state=0, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mfe = pymfe_mfe.MFE(groups=groups, random_state=0, **options)
        names, values = mfe.fit(X, y, suppress_warnings=True).extract(suppress_warnings=True)
    theirs = {n: float(v) for n, v in zip(names, values)}
    assert _assert_same(ours, theirs) == len(theirs)
    default = metafeatures.extract(X, y, groups=groups, random_state=0)
    assert any(default[k] != ours[k] for k in ours)  # the option changed something


def test_kappa_score_per_fold_is_cohens_kappa() -> None:
    """pymfe 0.4.4 raises NotImplementedError for "kappa": checked against scikit-learn."""
    from sklearn.metrics import cohen_kappa_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.naive_bayes import GaussianNB

    X, y = load_iris(return_X_y=True)
    y = np.where(y == 2, 1, y)  # unbalanced: kappa differs from accuracy
    mf = metafeatures.extract(X, y, features=["naive_bayes"], summary=["mean", "min"],
                              score="kappa", shuffle_cv_folds=False)
    want = [cohen_kappa_score(y[te], GaussianNB().fit(X[tr], y[tr]).predict(X[te]))
            for tr, te in StratifiedKFold(10).split(X, y)]
    assert mf["naive_bayes.mean"] == pytest.approx(np.mean(want), rel=1e-12)
    assert mf["naive_bayes.min"] == pytest.approx(np.min(want), rel=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"transform_cat": "binary"}, "transform_cat must be one of"),
    ({"transform_num": "yes"}, "transform_num must be True or False"),
    ({"rescale": "zscore"}, "rescale must be None or one of"),
    ({"score": "auc"}, "score='auc' is not available"),
    ({"score": "precision"}, "score must be one of"),
    ({"num_cv_folds": 1}, "num_cv_folds must be an integer >= 2"),
    ({"shuffle_cv_folds": 1}, "shuffle_cv_folds must be True or False"),
    ({"lm_sample_frac": 0.2}, r"lm_sample_frac must be None or a fraction in \[0.5, 1\]"),
    ({"hypparam_model_dt": {"depth": 3}}, r"unknown DecisionTreeClassifier argument\(s\) \['depth'\]"),
    ({"hypparam_model_dt": 3}, "hypparam_model_dt must be None or a dict"),
    ({"names": "autosklearn", "transform_cat": "gray"}, "transform_cat must be left at its default with names='autosklearn'"),
])
def test_bad_pymfe_options(kwargs, match) -> None:
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ArgumentError, match=match):
        metafeatures.extract(X, y, groups=["general"], **kwargs)


# -- the MFE facade ------------------------------------------------------------------------------
@pytest.mark.parametrize("init", [{}, {"groups": "all"},
                                  {"groups": ["general", "info-theory"], "summary": ["max", "nanmin"]},
                                  {"features": ["attr_ent", "one_nn", "leaves"], "groups": "all"}],
                         ids=["default", "all", "summary", "features"])
def test_facade_equals_pymfe_on_iris(init) -> None:
    X, y = load_iris(return_X_y=True)
    names, values = metafeatures.MFE(random_state=0, **init).fit(X, y).extract()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pymfe_mfe.MFE(random_state=0, **init).fit(X, y, suppress_warnings=True) \
            .extract(suppress_warnings=True)
    assert names == list(theirs[0])  # same names, same (sorted) order
    _assert_same(dict(zip(names, values)), dict(zip(theirs[0], map(float, theirs[1]))), "iris")


def test_facade_out_types_and_class_methods() -> None:
    X, y = load_iris(return_X_y=True)
    mfe = metafeatures.MFE(groups=["general"]).fit(X, y)
    names, values = mfe.extract()
    as_dict = mfe.extract(out_type=dict)
    assert list(as_dict) == ["mtf_names", "mtf_vals"] and as_dict["mtf_names"] == names
    np.testing.assert_array_equal(as_dict["mtf_vals"], values)  # NaN equal NaN here
    frame = mfe.extract(out_type=pd.DataFrame)
    assert list(frame.columns) == names and frame.shape == (1, len(names))
    np.testing.assert_array_equal(frame.iloc[0].to_numpy(dtype=float), values)
    assert metafeatures.MFE.valid_groups() == pymfe_mfe.MFE.valid_groups()
    assert metafeatures.MFE.valid_summary() == pymfe_mfe.MFE.valid_summary()
    for groups in (None, "relative", ["general", "clustering"]):
        assert set(metafeatures.MFE.valid_metafeatures(groups)) == \
            set(pymfe_mfe.MFE.valid_metafeatures(groups))


def test_facade_categorical_auto_and_gray(anneal) -> None:
    """cat_cols="auto" finds the text columns, transform_cat defaults to pymfe's gray."""
    X, y, cat = anneal
    arr = X.to_numpy(dtype=object)
    groups = ["statistical", "model-based"]
    mfe = metafeatures.MFE(groups=groups, random_state=0).fit(arr, y.to_numpy())
    assert mfe.cat_cols_ == tuple(X.columns.get_loc(c) for c in cat)
    names, values = mfe.extract()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pymfe_mfe.MFE(groups=groups, random_state=0).fit(
            arr, y.to_numpy(), suppress_warnings=True).extract(suppress_warnings=True)
    assert names == list(theirs[0])
    _assert_same(dict(zip(names, values)), dict(zip(theirs[0], map(float, theirs[1]))))


def test_facade_errors() -> None:
    X, y = load_iris(return_X_y=True)
    with pytest.raises(NotFittedError, match=r"call mfe.fit\(X, y\) before mfe.extract\(\)"):
        metafeatures.MFE().extract()
    mfe = metafeatures.MFE(groups=["general"]).fit(X, y)
    with pytest.raises(ArgumentError, match="out_type must be tuple, dict or pandas.DataFrame"):
        mfe.extract(out_type=list)
    with pytest.raises(ArgumentError, match=r"unsupported argument\(s\) \['sd'\]"):
        mfe.extract(sd={"ddof": 2})
    with pytest.raises(ArgumentError, match="transform_cat must be one of"):
        metafeatures.MFE().fit(X, y, transform_cat="ordinal")
    with pytest.raises(ArgumentError, match="cat_cols holds \\[7\\]"):
        metafeatures.MFE().fit(X, y, cat_cols=[7])
    with pytest.raises(ArgumentError, match="measure_time must be None or one of"):
        metafeatures.MFE(measure_time="fast").fit(X, y)
    with pytest.raises(ArgumentError, match=r"lm_sample_frac must be None or a fraction"):
        metafeatures.MFE(lm_sample_frac=0.1).fit(X, y)
    with pytest.raises(ArgumentError, match="random_state must be None or an integer"):
        metafeatures.MFE(random_state=1.5).fit(X, y)
    with pytest.raises(ArgumentError, match="unknown meta-feature group 'stats'"):
        metafeatures.MFE(groups=["stats"]).fit(X, y)
    with pytest.raises(DataTypeError, match="X must be a numpy array, a list of rows"):
        metafeatures.MFE().fit("iris.csv", y)
    with pytest.raises(ArgumentError, match="rescale_args is not supported"):
        metafeatures.MFE().fit(X, y, rescale="standard", rescale_args={"with_mean": False})


@pytest.mark.shared_data
def test_n3_differs_from_pymfe_only_on_tied_nearest_neighbours(anneal) -> None:
    """Anneal's numeric attributes alone (``transform_cat=None``) have duplicate rows: an
    instance whose nearest neighbours tie across classes is classified by scikit-learn's partial
    sort, which breaks the tie differently on pymfe's float32 Gower matrix and on our float64
    one (documented); every instance without such a tie agrees."""
    from pymfe.complexity import MFEComplexity
    from scipy.spatial.distance import cdist

    X, y, cat = anneal
    N = X.drop(columns=cat).to_numpy(dtype=np.float64)
    labels = y.to_numpy()
    theirs = MFEComplexity.ft_n3(N=N, y=labels)  # per instance
    ours = metafeatures.extract(N, labels, features=["n3"], groups=["complexity"],
                                summary=["sum"])["n3.sum"]
    lo, hi = N.min(axis=0), N.max(axis=0)
    D = cdist((N - lo) / np.where(hi > lo, hi - lo, 1.0), (N - lo) / np.where(hi > lo, hi - lo, 1.0),
              "cityblock") / N.shape[1]
    np.fill_diagonal(D, np.inf)
    nearest = [np.flatnonzero(np.isclose(D[i], D[i].min(), rtol=1e-6, atol=1e-7))
               for i in range(labels.size)]
    tied = np.array([np.unique(labels[nn]).size > 1 for nn in nearest])
    assert 0 < tied.sum() < 10
    wrong = np.array([labels[nn[0]] != labels[i] for i, nn in enumerate(nearest)])
    np.testing.assert_array_equal(theirs[~tied], wrong[~tied])
    assert abs(ours - theirs.sum()) <= tied.sum()


def test_concentration_of_a_single_level_attribute_is_nan() -> None:
    """A single-level attribute's concentration is 0/0: NaN here; pymfe's 1e-8 added to every
    table cell makes it finite (documented; anneal's all-missing attributes are such)."""
    X = np.array([["a", "x"], ["a", "y"], ["a", "x"], ["a", "y"], ["a", "x"], ["a", "y"]],
                 dtype=object)
    y = np.array([0, 0, 0, 1, 1, 1])
    ours = metafeatures.extract(X, y, features=["attr_conc", "class_conc"],
                                summary=["mean", "nanmean"], categorical="auto")
    theirs = _pymfe(pd.DataFrame(X), pd.Series(y), [0, 1], ["info-theory"], {},
                    features=["attr_conc", "class_conc"], summary=["mean", "nanmean"])
    assert math.isnan(ours["class_conc.mean"]) and math.isnan(ours["attr_conc.mean"])
    assert math.isfinite(theirs["class_conc.mean"]) and math.isfinite(theirs["attr_conc.mean"])
    # the other attribute alone: equal (to pymfe's 1e-8 tolerance), so the difference is the
    # single-level attribute's 0/0
    ours1 = metafeatures.extract(X[:, 1:], y, features=["class_conc"], categorical="auto")
    theirs1 = _pymfe(pd.DataFrame(X[:, 1:]), pd.Series(y), [0], ["info-theory"], {},
                     features=["class_conc"])
    assert ours1["class_conc.mean"] == pytest.approx(theirs1["class_conc.mean"], rel=1e-4)
    assert ours["class_conc.nanmean"] == ours1["class_conc.mean"]


def test_transform_cat_none_without_numeric_attributes() -> None:
    """N is empty: the measures that read it fail with a MeasureError that says so (NaN under
    on_error='ignore', as the facade uses); pymfe omits the model-based names and gives
    degenerate values for some (documented)."""
    from metafeatures.errors import MeasureError

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": pd.Categorical(rng.choice(list("xyz"), 60)),
                      "b": pd.Categorical(rng.choice(list("pq"), 60))})
    y = np.arange(60) % 2
    with pytest.raises(MeasureError, match="N has no column: X has no numeric attribute and "
                                           "transform_cat=None"):
        metafeatures.extract(X, y, transform_cat=None)
    report = metafeatures.extract_report(X, y, groups="all", transform_cat=None,
                                         on_error="ignore")
    assert {"leaves", "one_nn", "cov", "ch", "n1"} <= set(report.failed)
    assert report.values["attr_ent.mean"] > 0 and report.values["nr_cat"] == 2  # C and X
    assert math.isnan(report.values["one_nn.mean"])


def test_facade_without_target_equals_pymfe() -> None:
    """fit(X) without y: pymfe computes the unsupervised measures of the groups and skips the
    rest silently; so does the facade (extract() with an explicit list would refuse)."""
    X, _ = load_iris(return_X_y=True)
    names, values = metafeatures.MFE(groups="all", random_state=0).fit(X).extract()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pymfe_mfe.MFE(groups="all", random_state=0).fit(X).extract()
    assert names == list(theirs[0])
    _assert_same(dict(zip(names, values)), dict(zip(theirs[0], map(float, theirs[1]))), "iris")
    with pytest.raises(ArgumentError, match="needs a target; pass y to fit"):
        metafeatures.MFE(groups=["landmarking"]).fit(X)
