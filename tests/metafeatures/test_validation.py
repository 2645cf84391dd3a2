"""Bad input gets a clear error naming the argument and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

import metafeatures
from metafeatures import ArgumentError, DataError, DataTypeError, _input


def _xy(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)


def test_empty_data() -> None:
    with pytest.raises(DataError, match=r"X is empty: got shape \(0, 3\)"):
        metafeatures.extract(np.empty((0, 3)))
    with pytest.raises(DataError, match=r"X is empty: got shape \(5, 0\)"):
        metafeatures.extract(np.empty((5, 0)))
    with pytest.raises(DataError, match=r"X is empty"):
        metafeatures.extract(pd.DataFrame())


def test_x_must_be_2d() -> None:
    with pytest.raises(DataError, match=r"X must be 2-D .* X.reshape\(-1, 1\)"):
        metafeatures.extract(np.arange(5.0))
    with pytest.raises(DataTypeError, match="got a pandas Series. Use X.to_frame"):
        metafeatures.extract(pd.Series([1.0, 2.0]))
    # not an array at all: the message names what arrived
    with pytest.raises(DataError, match=r"X must be 2-D .*; got None"):
        metafeatures.extract(None)
    with pytest.raises(DataError, match=r"X must be 2-D .*; got a str \('data.csv'\)"):
        metafeatures.extract("data.csv")
    with pytest.raises(DataError, match=r"X must be 2-D .*; got a dict"):
        metafeatures.extract({"a": [1.0, 2.0]})


def test_sparse_target_is_densified() -> None:
    X, y = _xy()
    dense = metafeatures.extract(X, y, groups=["general"])
    for sparse_y in (scipy.sparse.csr_matrix(y.reshape(-1, 1)),
                     scipy.sparse.csc_array(y.reshape(-1, 1))):
        out = metafeatures.extract(X, sparse_y, groups=["general"])
        assert out == pytest.approx(dense, nan_ok=True) and out["nr_class"] == 2
    with pytest.raises(DataError, match=r"y must be 1-D .*; got shape \(40, 2\)"):
        metafeatures.extract(X, scipy.sparse.csr_matrix(np.c_[y, y]))


def test_length_mismatch() -> None:
    X, y = _xy()
    with pytest.raises(DataError, match="X has 40 rows but y has 39 values"):
        metafeatures.extract(X, y[:-1])


def test_infinite_values_name_the_column() -> None:
    X, y = _xy()
    X[3, 1] = np.inf
    with pytest.raises(DataError, match=r"infinite values in column\(s\) \['x1'\]"):
        metafeatures.extract(X, y)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(DataError, match=r"\['b'\]; replace them"):
        metafeatures.extract(frame, y)


def test_all_nan_column() -> None:
    X, y = _xy()
    X[:, 2] = np.nan
    with pytest.raises(DataError, match=r"column\(s\) \['x2'\] of X are entirely missing .* drop"):
        metafeatures.extract(X, y)
    frame = pd.DataFrame({"a": X[:, 0], "s": [None] * 40}, dtype=object)
    frame["a"] = frame["a"].astype(float)
    with pytest.raises(DataError, match="'s' of X is entirely missing"):
        metafeatures.extract(frame, y, categorical=["s"])


def test_declared_categorical_may_be_all_missing() -> None:
    X, y = _xy()
    frame = pd.DataFrame({"a": X[:, 0], "c": pd.Categorical([None] * 40, categories=["u", "v"])})
    out = metafeatures.extract(frame, y, names="openml", groups=["general"])
    assert out["NumberOfMissingValues"] == 40 and out["MaxNominalAttDistinctValues"] == 2


def test_no_observed_value_at_all() -> None:
    # declared categoricals may be all missing, but not every column: nothing left to describe
    frame = pd.DataFrame({"c": pd.Categorical([None] * 6, categories=["u", "v"]),
                          "d": pd.Categorical([None] * 6, categories=["w"])})
    with pytest.raises(DataError, match=r"X holds no observed value: every column \(c, d\) is "
                                        "entirely missing"):
        metafeatures.extract(frame, [0, 1] * 3, groups="all", on_error="ignore")


def test_single_class() -> None:
    X, _ = _xy()
    with pytest.raises(DataError, match=r"y has a single class \('a'\)"):
        metafeatures.extract(X, ["a"] * 40)


def test_strings_must_be_declared_categorical() -> None:
    X, y = _xy()
    frame = pd.DataFrame({"a": X[:, 0], "city": np.where(y > 0, "Paris", "Lima")})
    with pytest.raises(DataTypeError, match=r"column 'city' of X holds non-numeric values .*"
                                            r"categorical=\['city'\]"):
        metafeatures.extract(frame, y)
    ok = metafeatures.extract(frame, y, categorical=["city"], groups=["general"])
    assert ok["nr_cat"] == 1
    ok = metafeatures.extract(frame, y, categorical="auto", groups=["general"])
    assert ok["nr_cat"] == 1
    arr = np.array([["1.5", "x"], ["2.0", "y"], ["3", "x"]], dtype=object)
    with pytest.raises(DataTypeError, match="column 'x1' of X holds non-numeric values"):
        metafeatures.extract(arr)
    assert metafeatures.extract(arr, categorical=[1], groups=["general"])["nr_num"] == 1


def test_numeric_strings_are_numbers() -> None:
    frame = pd.DataFrame({"a": ["1", "2.5", "3"], "b": [1, 2, 3]})
    assert metafeatures.extract(frame, groups=["general"])["nr_num"] == 2


def test_bad_target_values() -> None:
    X, y = _xy()
    y = y.astype(float)
    y[4] = np.nan
    with pytest.raises(DataError, match=r"y has 1 missing value\(s\); drop those rows"):
        metafeatures.extract(X, y)
    with pytest.raises(DataError, match="y must be one column"):
        metafeatures.extract(X, pd.DataFrame({"a": range(40), "b": range(40)}))
    with pytest.raises(DataError, match="task='regression' needs a numeric y"):
        metafeatures.extract(X, ["u", "v"] * 20, task="regression")
    with pytest.raises(ArgumentError, match="task='classification' was given but y is None"):
        metafeatures.extract(X, task="classification")


def test_target_of_dates_or_complex_numbers() -> None:
    # as for X: refused with the fix, not read as 40 class labels (then a landmarking error)
    X, _ = _xy()
    dates = pd.date_range("2020-01-01", periods=40)
    for y in (dates, pd.Series(dates), pd.Series(dates.tz_localize("UTC")), dates.to_numpy(),
              pd.Series(dates - dates[0])):
        with pytest.raises(DataTypeError, match=r"y holds dates/times \(.*\); convert them to "
                                                r"numbers .* or to strings for class labels"):
            metafeatures.extract(X, y)
    with pytest.raises(DataTypeError, match=r"y holds complex numbers; pass real values"):
        metafeatures.extract(X, np.arange(40) + 1j)


def test_unsupported_types() -> None:
    frame = pd.DataFrame({"t": pd.date_range("2020-01-01", periods=5), "a": range(5)})
    with pytest.raises(DataTypeError, match="column 't' of X holds dates/times"):
        metafeatures.extract(frame)
    with pytest.raises(DataTypeError, match="complex numbers"):
        metafeatures.extract(np.ones((4, 2), dtype=complex))
    with pytest.raises(DataError, match="duplicate column names"):
        metafeatures.extract(pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]))


def test_categorical_option_errors() -> None:
    X, y = _xy()
    with pytest.raises(ArgumentError, match="categorical names column 'zz'"):
        metafeatures.extract(pd.DataFrame(X, columns=list("abc")), y, categorical=["zz"])
    with pytest.raises(ArgumentError, match="column position 7 is out of range for 3"):
        metafeatures.extract(X, y, categorical=[7])
    with pytest.raises(ArgumentError, match="wrap a single column name in a list"):
        metafeatures.extract(X, y, categorical="a")


def test_categorical_by_integer_column_label() -> None:
    # a DataFrame with integer column labels: an int that is a label means that column (as
    # frame[6] does), not the column at that position
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({2: rng.normal(size=30), 6: rng.integers(0, 3, 30),
                          0: rng.normal(size=30)})
    assert metafeatures.validate(frame, categorical=[6]).categorical_names == ("6",)
    assert metafeatures.validate(frame, categorical=[0]).categorical_names == ("0",)
    assert metafeatures.validate(frame, categorical=[1]).categorical_names == ("6",)  # position
    with pytest.raises(ArgumentError, match="column position 5 is out of range for 3 columns"):
        metafeatures.validate(frame, categorical=[5])


def test_categorical_positions_on_a_wide_frame() -> None:
    # pd.DataFrame(array): integer labels 0..p-1, thousands of categorical positions; each one
    # scanned every column label (10 s for 5,000 columns, quadratic in the width)
    rng = np.random.default_rng(0)
    p = 5000
    frame = pd.DataFrame(rng.integers(0, 3, size=(4, p)))
    frame[p + 7] = rng.normal(size=4)  # a label beyond the positions: that column
    chosen = [*range(0, p, 2), p + 7, -1]  # -1: a position (no such label), the last column
    info = metafeatures.validate(frame, categorical=chosen)
    assert info.categorical_names == tuple(str(j) for j in range(0, p, 2)) + (str(p + 7),)


def test_sparse_input_matches_dense() -> None:
    X, y = _xy(60)
    X[X < 0.3] = 0.0
    dense = metafeatures.extract(X, y, groups=["general", "statistical"])
    sparse = metafeatures.extract(scipy.sparse.csr_matrix(X), y, groups=["general", "statistical"])
    assert sparse == pytest.approx(dense, nan_ok=True)


def test_sparse_input_too_large_for_dense(monkeypatch) -> None:
    monkeypatch.setattr(_input, "MAX_SPARSE_DENSE_BYTES", 1000)
    X = scipy.sparse.random(100, 50, density=0.01, format="csr", random_state=0)
    with pytest.raises(DataError, match=r"sparse X of shape \(100, 50\) needs .* row subsample"):
        metafeatures.extract(X)


def test_target_type_inference() -> None:
    X, _ = _xy(200)
    rng = np.random.default_rng(1)
    assert metafeatures.validate(X, rng.integers(0, 3, 200)).task == "classification"
    assert metafeatures.validate(X, rng.integers(0, 3, 200).astype(float)).task == "classification"
    assert metafeatures.validate(X, rng.normal(size=200)).task == "regression"
    assert metafeatures.validate(X, rng.integers(0, 1000, 200)).task == "regression"
    assert metafeatures.validate(X, rng.integers(0, 1000, 200),
                                 task="classification").task == "classification"
    cat = pd.Categorical(rng.choice(["a", "b"], 200), categories=["a", "b", "c"])
    target = metafeatures.validate(X, cat).target
    assert target.n_classes == 2 and target.declared_counts.tolist()[2] == 0
