"""A pymfe-shaped facade: ``from metafeatures import MFE`` instead of ``from pymfe.mfe import MFE``.

>>> from metafeatures import MFE
>>> from sklearn.datasets import load_iris
>>> X, y = load_iris(return_X_y=True)
>>> names, values = MFE(groups=["general"]).fit(X, y).extract()
>>> names[:3]
['attr_to_inst', 'cat_to_num', 'freq_class']

The arguments keep pymfe 0.4.4's names and defaults (``transform_cat="gray"``,
``shuffle_cv_folds=False``, ``lm_sample_frac=1.0``, ...) and :meth:`MFE.extract` returns pymfe's
shapes, names sorted as pymfe sorts them. The values come from :func:`metafeatures.extract`
(see ``docs/metafeatures.md`` for the documented differences from pymfe and the seeded samples
above 2000 rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from metafeatures._extract import DEFAULT_GROUPS, extract_report
from metafeatures._input import prepare
from metafeatures._registry import GROUPS, REGISTRY
from metafeatures._summary import SUMMARIES
from metafeatures.errors import ArgumentError, DataTypeError, NotFittedError

__all__ = ["MFE"]

#: pymfe's order of :meth:`MFE.valid_groups`.
_PYMFE_GROUP_ORDER = ("landmarking", "general", "statistical", "model-based", "info-theory",
                      "relative", "clustering", "complexity", "itemset", "concept")

#: pymfe's order of :meth:`MFE.valid_summary` (each summary, then its nan variant).
_PYMFE_SUMMARY_ORDER = tuple(
    x for s in ("mean", "sd", "var", "count", "histogram", "iq_range", "kurtosis", "max",
                "median", "min", "quantiles", "range", "skewness", "sum")
    for x in (s, "nan" + s)) + ("powersum", "pnorm", "nanpowersum", "nanpnorm")

_NUMERIC_TYPES = (int, float, np.number)


class MFE:
    """pymfe's ``MFE`` on top of :func:`metafeatures.extract`.

    Args (as ``pymfe.mfe.MFE``; stored unchanged, checked in :meth:`fit`):
        groups: ``"default"``, ``"all"``, a group name or a list of them
            (:meth:`valid_groups`).
        features: ``"all"`` or meta-feature names (:meth:`valid_metafeatures`); each must
            belong to a selected group.
        summary: summary names (:meth:`valid_summary`) or ``"all"``; default
            ``("mean", "sd")``.
        measure_time: only None (timings are not reported; ``extract_report(...).seconds``
            has them per group).
        wildcard: the word that selects everything (pymfe's ``"all"``).
        score: landmarking score: ``"accuracy"``, ``"balanced-accuracy"``, ``"f1"``,
            ``"kappa"`` (pymfe 0.4.4 has no kappa or auc; ``"auc"`` is refused).
        num_cv_folds: landmarking folds. shuffle_cv_folds: shuffle them (pymfe's default
            False). lm_sample_frac: fraction in [0.5, 1] of rows for landmarking.
        hypparam_model_dt: keyword arguments of the model-based decision tree.
        suppress_warnings: accepted for compatibility (warnings are ``MetaFeatureWarning``s).
        random_state: None or an int; None draws fresh entropy (as pymfe, results then vary).
        sample_sizes: not pymfe's: overrides of :data:`metafeatures.SAMPLE_SIZES` (above 2000
            rows our landmarking, clustering, concept and complexity measures use seeded
            samples; pymfe uses every row).

    Fitted attributes: ``X_``, ``y_``, ``cat_cols_`` (indexes of the categorical columns),
    ``fit_options_``.
    """

    def __init__(
        self,
        groups: str | Iterable[str] = "default",
        features: str | Iterable[str] = "all",
        summary: str | Iterable[str] = ("mean", "sd"),
        measure_time: str | None = None,
        wildcard: str = "all",
        score: str = "accuracy",
        num_cv_folds: int = 10,
        shuffle_cv_folds: bool = False,
        lm_sample_frac: float = 1.0,
        hypparam_model_dt: Mapping[str, Any] | None = None,
        suppress_warnings: bool = False,
        random_state: int | None = None,
        sample_sizes: Mapping[str, int] | None = None,
    ) -> None:
        self.groups = groups
        self.features = features
        self.summary = summary
        self.measure_time = measure_time
        self.wildcard = wildcard
        self.score = score
        self.num_cv_folds = num_cv_folds
        self.shuffle_cv_folds = shuffle_cv_folds
        self.lm_sample_frac = lm_sample_frac
        self.hypparam_model_dt = hypparam_model_dt
        self.suppress_warnings = suppress_warnings
        self.random_state = random_state
        self.sample_sizes = sample_sizes

    # -- pymfe's class methods ----------------------------------------------------------------
    @classmethod
    def valid_groups(cls) -> tuple[str, ...]:
        """Every group name, in pymfe's order."""
        return _PYMFE_GROUP_ORDER

    @classmethod
    def valid_summary(cls) -> tuple[str, ...]:
        """Every summary name (pymfe's 32, in pymfe's order)."""
        assert set(_PYMFE_SUMMARY_ORDER) == set(SUMMARIES)
        return _PYMFE_SUMMARY_ORDER

    @classmethod
    def valid_metafeatures(cls, groups: str | Iterable[str] | None = None) -> tuple[str, ...]:
        """The pymfe meta-feature names of ``groups`` (None: all groups), sorted.

        Raises:
            ArgumentError: an unknown group.
        """
        chosen = GROUPS if groups is None else _groups(groups, "all")
        post = {p.group: p.source for p in REGISTRY.postprocessors()}
        sources = {post.get(g, g) for g in chosen}
        return tuple(sorted({m.name for m in REGISTRY.measures()
                             if m.pymfe and m.group in sources}))

    # -- fit / extract --------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        transform_num: bool = True,
        transform_cat: str | None = "gray",
        rescale: str | None = None,
        rescale_args: Mapping[str, Any] | None = None,
        cat_cols: str | Iterable[int] | None = "auto",
        check_bool: bool = False,
        precomp_groups: str | None = "all",
        wildcard: str = "all",
        suppress_warnings: bool = False,
        verbose: int = 0,
        **kwargs: Any,
    ) -> MFE:
        """Check the data and options (pymfe's ``MFE.fit``); nothing is computed yet.

        Args:
            X: (n, p) numpy array or list of rows (a pandas DataFrame is also accepted).
            y: (n,) class labels, or None (unsupervised measures only). Every value is a
                class label, as in pymfe.
            transform_num, transform_cat, rescale: as :func:`metafeatures.extract`
                (``transform_cat`` defaults to pymfe's ``"gray"``).
            rescale_args: only None or empty (the scalers' defaults).
            cat_cols: ``"auto"`` (columns holding a value that is not a number), None (no
                categorical column) or column indexes.
            check_bool: with ``cat_cols="auto"``, columns with exactly two distinct values
                are categorical too.
            precomp_groups, wildcard, suppress_warnings, verbose: accepted for compatibility.
            kwargs: refused (pymfe passes them to precomputations).

        Returns:
            self.

        Raises:
            ArgumentError: a bad option (named, with the accepted values).
            DataError, DataTypeError: bad data (as :func:`metafeatures.extract`).
        """
        if kwargs:
            raise ArgumentError(f"fit() got unsupported argument(s) {sorted(kwargs)}; the "
                                "precomputation arguments of pymfe are not used here")
        if rescale_args:
            raise ArgumentError("rescale_args is not supported (the scikit-learn scalers run "
                                "with their defaults); pass rescale_args=None")
        if self.measure_time is not None:
            raise ArgumentError(f"measure_time={self.measure_time!r} is not supported; pass "
                                "measure_time=None (metafeatures.extract_report(...).seconds "
                                "gives the time per group)")
        if isinstance(X, pd.DataFrame):
            frame = X
            X = X.to_numpy(dtype=object)
        else:
            frame = None
            if isinstance(X, (list, tuple)):
                X = np.array(X, dtype=object)
            elif not isinstance(X, np.ndarray):
                raise DataTypeError(f"X must be a numpy array, a list of rows or a pandas "
                                    f"DataFrame (as pymfe's fit); got {type(X).__name__}")
        if X.ndim == 1:
            X = X.reshape(-1, 1)  # pymfe reads a 1-D X as one column
        if y is not None:
            y = np.asarray(y, dtype=object if isinstance(y, (list, tuple)) else None)
            y = y.ravel() if y.ndim == 2 and 1 in y.shape else y
        mask = self._cat_mask(X, cat_cols, check_bool)
        features = self._features()
        groups = self._groups()
        if features is not None:  # pymfe drops the relative group when features are named
            groups = [g for g in groups if g != "relative"] or groups
        if y is None:  # pymfe computes the unsupervised measures and skips the rest silently
            unsupervised = {m.group for m in REGISTRY.measures()
                            if m.pymfe and m.target == "none"}
            groups = [g for g in groups if g in unsupervised]
            if not groups:
                raise ArgumentError(
                    f"every meta-feature of groups {self._groups()} needs a target; pass y to "
                    "fit() or choose groups with unsupervised measures (general, statistical, "
                    "info-theory, complexity, concept, itemset)")
        options: dict[str, Any] = dict(
            groups=groups, features=features, summary=self._summary(),
            transform_cat=transform_cat, transform_num=transform_num, rescale=rescale,
            score=self.score, num_cv_folds=self.num_cv_folds,
            shuffle_cv_folds=self.shuffle_cv_folds, lm_sample_frac=self.lm_sample_frac,
            hypparam_model_dt=self.hypparam_model_dt, random_state=self._random_state(),
            sample_sizes=self.sample_sizes,
        )
        data = frame if frame is not None else X
        # check the data now (pymfe's fit does); extract() computes
        prepare(data, y, categorical=mask, task=None if y is None else "classification")
        from metafeatures._extract import _check_pymfe_options

        _check_pymfe_options("pymfe", **{k: options[k] for k in (
            "transform_cat", "transform_num", "rescale", "score", "num_cv_folds",
            "shuffle_cv_folds", "lm_sample_frac", "hypparam_model_dt")})
        self.X_ = data
        self.y_ = y
        self.cat_cols_ = tuple(int(j) for j in np.flatnonzero(mask))
        self.fit_options_ = options
        return self

    def extract(self, verbose: int = 0, enable_parallel: bool = False,
                suppress_warnings: bool = False, out_type: Any = tuple, **kwargs: Any) -> Any:
        """Compute the meta-features of the fitted data (pymfe's ``MFE.extract``).

        Args:
            out_type: ``tuple`` -> ``(names, values)`` (two lists); ``dict`` ->
                ``{"mtf_names": names, "mtf_vals": values}``; ``pandas.DataFrame`` -> one row,
                a column per name. Names sorted (pymfe's order).
            verbose, enable_parallel, suppress_warnings: accepted for compatibility.
            kwargs: refused (pymfe's per-feature arguments such as ``sd={"ddof": 2}``).

        Raises:
            NotFittedError: called before :meth:`fit`.
            ArgumentError: an unsupported ``out_type`` or keyword argument.
        """
        if not hasattr(self, "fit_options_"):
            raise NotFittedError("this MFE is not fitted yet: call mfe.fit(X, y) before "
                                 "mfe.extract()")
        if kwargs:
            raise ArgumentError(f"extract() got unsupported argument(s) {sorted(kwargs)}; "
                                "pymfe's per-meta-feature arguments are not supported")
        if out_type not in (tuple, dict, pd.DataFrame):
            raise ArgumentError(f"out_type must be tuple, dict or pandas.DataFrame (as pymfe); "
                                f"got {out_type!r}")
        mask = np.zeros(self.X_.shape[1], dtype=bool)
        mask[list(self.cat_cols_)] = True
        report = extract_report(
            self.X_, self.y_, names="pymfe", categorical=mask,
            task=None if self.y_ is None else "classification", on_error="ignore",
            **self.fit_options_,
        )
        names = sorted(report.values)
        values = [report.values[k] for k in names]
        if out_type is tuple:
            return names, values
        if out_type is dict:
            return {"mtf_names": names, "mtf_vals": values}
        return pd.DataFrame(data=(values,), columns=names)

    # -- checks ---------------------------------------------------------------------------------
    def _groups(self) -> list[str]:
        return list(_groups(self.groups, self.wildcard))

    def _features(self) -> list[str] | None:
        f = self.features
        if isinstance(f, str) and f == self.wildcard:
            return None
        names = [f] if isinstance(f, str) else list(f) if isinstance(f, Iterable) else None
        if not names:
            raise ArgumentError(f"features must be {self.wildcard!r} or meta-feature names "
                                f"(MFE.valid_metafeatures()); got {f!r}")
        return names

    def _summary(self) -> list[str]:
        s = self.summary
        if isinstance(s, str):
            s = [s]
        if not isinstance(s, Iterable):
            raise ArgumentError(f"summary must be a summary name, a list of them or "
                                f"{self.wildcard!r} (MFE.valid_summary()); got {s!r}")
        # pymfe's wildcard selects all 32 summaries, the nan* variants included
        return list(dict.fromkeys(x for v in s for x in (
            SUMMARIES if v == self.wildcard else (v,))))

    def _random_state(self) -> int | None:
        rs = self.random_state
        if rs is not None and (not isinstance(rs, (int, np.integer)) or isinstance(rs, bool)):
            raise ArgumentError(f"random_state must be None or an integer (as pymfe); got {rs!r}")
        return rs

    @staticmethod
    def _cat_mask(X: np.ndarray, cat_cols: Any, check_bool: bool) -> np.ndarray:
        p = X.shape[1] if X.ndim == 2 else 0
        if cat_cols is None or (not isinstance(cat_cols, str) and isinstance(cat_cols, Iterable)
                                and len(list(cat_cols)) == 0):
            return np.zeros(p, dtype=bool)
        if isinstance(cat_cols, str):
            if cat_cols.lower() != "auto":
                raise ArgumentError(f"cat_cols must be 'auto', None or column indexes; got "
                                    f"{cat_cols!r}")
            if X.dtype.kind == "O":
                mask = np.array([not all(isinstance(v, _NUMERIC_TYPES) for v in X[:, j])
                                 for j in range(p)], dtype=bool)
            else:
                mask = np.full(p, X.dtype.kind not in "fiub", dtype=bool)
            if check_bool:
                mask |= np.array([pd.Series(X[:, j]).nunique(dropna=False) == 2
                                  for j in range(p)], dtype=bool)
            return mask
        if not isinstance(cat_cols, Iterable):
            raise ArgumentError(f"cat_cols must be 'auto', None or column indexes; got "
                                f"{cat_cols!r}")
        idx = list(cat_cols)
        bad = [j for j in idx if not isinstance(j, (int, np.integer)) or isinstance(j, bool)
               or not 0 <= int(j) < p]
        if bad:
            raise ArgumentError(f"cat_cols holds {bad[:5]}, which are not column indexes of X "
                                f"(0 to {p - 1}); pass integer positions")
        mask = np.zeros(p, dtype=bool)
        mask[[int(j) for j in idx]] = True
        return mask


def _groups(groups: str | Iterable[str], wildcard: str) -> tuple[str, ...]:
    """pymfe's group argument -> our group names (``"default"``, the wildcard, names)."""
    from metafeatures._extract import _canonical_group

    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, Iterable):
        raise ArgumentError(f"groups must be 'default', {wildcard!r}, a group name or a list of "
                            f"them (MFE.valid_groups()); got {groups!r}")
    out: list[str] = []
    for g in groups:
        if g == wildcard or g == "all":
            out.extend(GROUPS)
        elif g == "default":
            out.extend(DEFAULT_GROUPS)
        else:
            out.append(_canonical_group(g))
    if not out:
        raise ArgumentError("groups is empty; pass 'default', 'all' or group names "
                            "(MFE.valid_groups())")
    return tuple(g for g in GROUPS if g in out)
