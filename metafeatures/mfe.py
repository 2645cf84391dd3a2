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

import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from metafeatures._extract import Extraction, _check_groups, extract_report
from metafeatures._input import prepare
from metafeatures._registry import GROUPS, REGISTRY
from metafeatures._summary import SUMMARIES
from metafeatures.errors import (
    ArgumentError,
    DataTypeError,
    MetaFeatureError,
    NotFittedError,
)

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

#: pymfe's ``measure_time`` options.
MEASURE_TIME = ("avg", "avg_summ", "total", "total_summ")


class MFE:
    """pymfe's ``MFE`` on top of :func:`metafeatures.extract`.

    Args (as ``pymfe.mfe.MFE``; stored unchanged, checked in :meth:`fit`):
        groups: ``"default"``, ``"all"``, a group name or a list of them
            (:meth:`valid_groups`).
        features: ``"all"`` or meta-feature names (:meth:`valid_metafeatures`); each must
            belong to a selected group.
        summary: summary names (:meth:`valid_summary`) or ``"all"``; default
            ``("mean", "sd")``.
        measure_time: None, or pymfe's ``"avg"``, ``"avg_summ"``, ``"total"``,
            ``"total_summ"``: :meth:`extract` also returns the seconds of each meta-feature
            (see :meth:`extract`).
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
    ``fit_options_`` (the extraction options), ``fit_args_`` (the keyword arguments ``fit``
    was given, reused by :meth:`extract_with_confidence`).
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

    @classmethod
    def parse_by_group(cls, groups: str | Iterable[str], extracted_results: Any) -> Any:
        """The part of an :meth:`extract` result that belongs to ``groups`` (pymfe's
        ``MFE.parse_by_group``).

        A name belongs to a group when its part before the first dot is one of the group's
        meta-features (:meth:`valid_metafeatures`); ``"relative"`` selects the landmarking
        names (its values are ranks of them), as in pymfe.

        Args:
            groups: a group name or a list of them (:meth:`valid_groups`).
            extracted_results: what :meth:`extract` or :meth:`extract_with_confidence`
                returned: a tuple of sequences whose first is the names (every sequence is
                filtered by position), a dict with ``"mtf_names"`` (every value is filtered),
                or a DataFrame (its columns are filtered).

        Returns:
            The same shape: a tuple of lists (pymfe's type), a dict of lists, or a DataFrame.

        Raises:
            ArgumentError: an unknown group, or ``extracted_results`` of another shape.
        """
        chosen = set(cls.valid_metafeatures(groups))
        if isinstance(extracted_results, pd.DataFrame):
            keep = [c for c in extracted_results.columns if str(c).split(".")[0] in chosen]
            return extracted_results.loc[:, keep]
        if isinstance(extracted_results, Mapping) and "mtf_names" in extracted_results:
            names = list(extracted_results["mtf_names"])
            idx = [i for i, n in enumerate(names) if str(n).split(".")[0] in chosen]
            return {k: [v[i] for i in idx] for k, v in extracted_results.items()}
        if (isinstance(extracted_results, (tuple, list)) and extracted_results
                and isinstance(extracted_results[0], (list, tuple))):
            idx = [i for i, n in enumerate(extracted_results[0])
                   if str(n).split(".")[0] in chosen]
            return tuple([seq[i] for i in idx] for seq in extracted_results)
        raise ArgumentError("extracted_results must be what MFE.extract returned: a tuple "
                            "(names, values, ...), a dict with 'mtf_names' or a DataFrame; got "
                            f"{type(extracted_results).__name__}")

    @classmethod
    def metafeature_description(
        cls,
        groups: str | Iterable[str] | None = None,
        sort_by_group: bool = False,
        sort_by_mtf: bool = False,
        print_table: bool = True,
        include_references: bool = False,
    ) -> tuple[list[list[str]], str] | None:
        """A table of the meta-features of ``groups``: group, name and a one-line description
        (pymfe's ``MFE.metafeature_description``; the descriptions are this package's own, the
        first paragraph of each measure's docstring).

        Args:
            groups: a group name, a list of them, or None (every group). ``"relative"`` lists
                the landmarking meta-features it ranks, under ``"landmarking"`` (as pymfe).
            sort_by_group: sort the rows by group name (stable). Without either sort, rows
                follow :meth:`valid_groups`' order, names sorted within each group.
            sort_by_mtf: sort the rows by meta-feature name (before ``sort_by_group``).
            print_table: print the table and return None; False returns it.
            include_references: only False: the registry holds no bibliographic references
                (pymfe's docstrings have them).

        Returns:
            None, or ``(rows, text)``: ``rows`` a list of ``[group, name, description]``
            lists whose first is the header ``["Group", "Meta-feature name",
            "Description"]``; ``text`` the drawn table.

        Raises:
            ArgumentError: an unknown group, a flag that is not a bool, or
                ``include_references=True``.
        """
        for flag, value in (("sort_by_group", sort_by_group), ("sort_by_mtf", sort_by_mtf),
                            ("print_table", print_table),
                            ("include_references", include_references)):
            if not isinstance(value, (bool, np.bool_)):
                raise ArgumentError(f"{flag} must be True or False; got {value!r}")
        if include_references:
            raise ArgumentError("include_references=True is not supported: the meta-feature "
                                "registry holds one-line descriptions, no references (see "
                                "docs/metafeatures.md for the sources); pass "
                                "include_references=False")
        names = set(cls.valid_metafeatures(groups))
        rank = {g: i for i, g in enumerate(_PYMFE_GROUP_ORDER)}
        body = sorted(([m.group, m.name, _description(m.func)] for m in REGISTRY.measures()
                       if m.pymfe and m.name in names), key=lambda r: (rank[r[0]], r[1]))
        if sort_by_mtf:
            body.sort(key=lambda r: r[1])
        if sort_by_group:
            body.sort(key=lambda r: r[0])
        rows = [["Group", "Meta-feature name", "Description"], *body]
        text = _draw_table(rows)
        if print_table:
            print(text)
            return None
        return rows, text

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
        self._measure_time()
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
        self.fit_args_ = dict(
            transform_num=transform_num, transform_cat=transform_cat, rescale=rescale,
            rescale_args=rescale_args,
            cat_cols=cat_cols if cat_cols is None or isinstance(cat_cols, str)
            else list(self.cat_cols_),
            check_bool=check_bool, precomp_groups=precomp_groups, wildcard=wildcard,
            suppress_warnings=suppress_warnings, verbose=verbose)
        return self

    def extract(self, verbose: int = 0, enable_parallel: bool = False,
                suppress_warnings: bool = False, out_type: Any = tuple, **kwargs: Any) -> Any:
        """Compute the meta-features of the fitted data (pymfe's ``MFE.extract``).

        With ``measure_time`` set, a third output holds each meta-feature's seconds, as
        pymfe: the time of its own function (``"total"``), divided by the number of values it
        returned before summaries (``"avg"``); the ``*_summ`` options add the time of the
        summary that produced the name. The extra names of a multi-valued summary
        (``histogram.1`` ...) get 0, and a ``.relative`` name its landmarking name's time plus
        its share of the ranking time (pymfe's rules). Shared precomputations (the fitted tree,
        the discretised attributes, the distance matrices, ...) are not in any meta-feature's
        time, as pymfe's precomputations are not; which work counts as shared differs between
        the packages, so per-name times are comparable in size, not one to one.

        Args:
            out_type: ``tuple`` -> ``(names, values)`` (two lists; ``(names, values,
                times)`` with ``measure_time``); ``dict`` -> ``{"mtf_names": names,
                "mtf_vals": values}`` (and ``"mtf_time"``); ``pandas.DataFrame`` -> one row, a
                column per name (with ``measure_time``, rows ``"values"`` and ``"time"``).
                Names sorted (pymfe's order).
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
        self._check_out_type(out_type)
        mask = np.zeros(self.X_.shape[1], dtype=bool)
        mask[list(self.cat_cols_)] = True
        report = extract_report(
            self.X_, self.y_, names="pymfe", categorical=mask,
            task=None if self.y_ is None else "classification", on_error="ignore",
            **self.fit_options_,
        )
        opt = self._measure_time()
        times = None if opt is None else _times(report, opt)
        return self._output(report.values, out_type, times)

    # -- bootstrap confidence intervals ---------------------------------------------------------
    def extract_with_confidence(
        self,
        sample_num: int = 128,
        confidence: float | Iterable[float] = 0.95,
        arguments_fit: Mapping[str, Any] | None = None,
        arguments_extract: Mapping[str, Any] | None = None,
        verbose: int = 0,
    ) -> Any:
        """Meta-features with empirical-bootstrap confidence intervals (pymfe's
        ``MFE.extract_with_confidence``, the same procedure and seeds).

        1. The point values ``M`` are extracted from the fitted data by a copy of this
           extractor whose ``random_state`` is ``self.random_state or 1234`` (pymfe's rule:
           0 and None both become 1234).
        2. Resample ``i`` (0-based) takes the rows
           ``numpy.random.RandomState(s + i).randint(n, size=n)`` (with replacement), where
           ``s = random_state`` (fresh entropy when None), refits that copy on them (the
           categorical coding, discretisation and rescaling are refitted on the resample, as
           in pymfe) and extracts ``M_i``.
        3. With ``a = 1 - confidence``, the interval is the basic (reverse-percentile)
           bootstrap interval ``[M - q(1 - a/2), M - q(a/2)]``, ``q`` the
           ``numpy.quantile`` (linear) of the differences ``M_i - M``.

        Args:
            sample_num: number of bootstrap resamples (>= 1).
            confidence: a level in (0, 1) or a sequence of them.
            arguments_fit: keyword arguments of :meth:`fit` for the point extraction and every
                resample; None reuses those this extractor was fitted with (pymfe falls back
                to ``fit``'s defaults).
            arguments_extract: keyword arguments of :meth:`extract`; ``out_type`` tuple
                (default) or dict.
            verbose: > 0 shows a progress bar over the resamples (also shown when stderr is
                a terminal).

        Returns:
            ``(names, values, intervals)`` (``out_type=tuple``) or ``{"mtf_names": ...,
            "mtf_vals": ..., "confidence": ...}``; with ``measure_time``, the point
            extraction's times too, as pymfe: ``(names, values, times, intervals)`` or the
            key ``"mtf_time"``; ``intervals`` is a float array of shape
            (n_meta_features, 2 * C) for C confidence levels: the C lower bounds (in the
            order of ``confidence``), then the C upper bounds. NaN where a resample's value
            is NaN.

        Raises:
            NotFittedError: called before :meth:`fit`.
            ArgumentError: ``sample_num`` not an integer >= 1, a confidence level outside
                (0, 1), bad ``arguments_fit`` / ``arguments_extract``.
            DataError: a resample cannot be extracted (named with its seed), e.g. all its
                rows are of one class.
        """
        if not hasattr(self, "fit_options_"):
            raise NotFittedError("this MFE is not fitted yet: call mfe.fit(X, y) before "
                                 "mfe.extract_with_confidence()")
        if (not isinstance(sample_num, (int, np.integer)) or isinstance(sample_num, bool)
                or sample_num < 1):
            raise ArgumentError(f"sample_num must be an integer >= 1 (the number of bootstrap "
                                f"resamples, pymfe's default 128); got {sample_num!r}")
        levels = _confidence_levels(confidence)
        fit_args = dict(self.fit_args_ if arguments_fit is None
                        else _mapping(arguments_fit, "arguments_fit"))
        ext_args = dict(_mapping(arguments_extract, "arguments_extract"))
        out_type = ext_args.pop("out_type", tuple)
        if out_type not in (tuple, dict):
            raise ArgumentError(f"arguments_extract['out_type'] must be tuple or dict for "
                                f"extract_with_confidence (as pymfe); got {out_type!r}")
        rs = self._random_state()
        extractor = self._copy(random_state=rs if rs else 1234)
        names, point, *point_times = extractor.fit(self.X_, self.y_, **fit_args).extract(
            out_type=tuple, **ext_args)
        M = np.asarray(point, dtype=np.float64)
        seed = rs if rs is not None else int(np.random.SeedSequence().generate_state(1)[0])
        n = len(self.X_)
        index = {k: i for i, k in enumerate(names)}
        boot = np.full((len(names), sample_num), np.nan)
        from tqdm.auto import tqdm

        for i in tqdm(range(sample_num), desc="bootstrap", unit="resample", leave=False,
                      disable=not (verbose > 0 or sys.stderr.isatty())):
            s = (seed + i) % 2**32
            rows = np.random.RandomState(s).randint(n, size=n)
            X = self.X_.iloc[rows] if isinstance(self.X_, pd.DataFrame) else self.X_[rows]
            y = None if self.y_ is None else self.y_[rows]
            try:
                got = extractor.fit(X, y, **fit_args).extract(out_type=tuple, **ext_args)
            except MetaFeatureError as exc:
                raise type(exc)(
                    f"bootstrap resample {i} (rows numpy.random.RandomState({s}).randint({n}, "
                    f"size={n})) could not be extracted: {exc}. Small classes can vanish from "
                    "a resample: use more rows per class or fewer groups") from exc
            for k, v in zip(got[0], got[1]):
                j = index.get(k)
                if j is not None:
                    boot[j, i] = v
        half = 0.5 * (1.0 - levels)
        with np.errstate(invalid="ignore"):
            q = np.quantile(boot - M[:, None], np.concatenate([1.0 - half, half]), axis=1).T
        intervals = M[:, None] - q
        if out_type is dict:
            return {"mtf_names": names, "mtf_vals": point, "confidence": intervals,
                    **({"mtf_time": point_times[0]} if point_times else {})}
        return (names, point, *point_times, intervals)

    # -- model-based meta-features of a fitted tree ---------------------------------------------
    def extract_from_model(
        self,
        model: Any,
        arguments_fit: Mapping[str, Any] | None = None,
        arguments_extract: Mapping[str, Any] | None = None,
        verbose: int = 0,
    ) -> Any:
        """The model-based meta-features of an already fitted decision tree (pymfe's
        ``MFE.extract_from_model``); no data is needed and this extractor need not be fitted.

        The meta-features are those of this extractor's ``features`` that belong to the
        model-based group (all of them with ``features="all"``), summarised with its
        ``summary``.

        Args:
            model: a fitted single-output ``sklearn.tree.DecisionTreeClassifier`` (or a
                subclass such as ``ExtraTreeClassifier``).
            arguments_fit: accepted for compatibility: keyword arguments of :meth:`fit`;
                they change nothing here (no data is transformed). ``dt_model`` is refused,
                as in pymfe.
            arguments_extract: keyword arguments of :meth:`extract` (``out_type``).
            verbose: accepted for compatibility.

        Returns:
            As :meth:`extract`: ``(names, values)``, a dict or a one-row DataFrame (with
            ``measure_time``, the times too; building the tree's tables is the shared
            precomputation, in no name's time).

        Raises:
            ArgumentError: ``groups`` without ``"model-based"``, no model-based name in
                ``features``, a multi-output tree, bad ``arguments_fit`` /
                ``arguments_extract``.
            DataTypeError: ``model`` is not a ``DecisionTreeClassifier``.
            NotFittedError: ``model`` is not fitted.
        """
        groups = self._groups()
        if "model-based" not in groups:
            raise ArgumentError(f"extract_from_model needs the 'model-based' group, but this "
                                f"MFE has groups {groups}; create it with "
                                "MFE(groups=['model-based'], ...) (or 'default' / 'all')")
        from sklearn.tree import DecisionTreeClassifier

        if not isinstance(model, DecisionTreeClassifier):
            raise DataTypeError(f"model must be a fitted sklearn.tree.DecisionTreeClassifier "
                                f"(the only model pymfe supports); got "
                                f"{type(model).__name__}")
        if not hasattr(model, "tree_"):
            raise NotFittedError("model is not fitted: call model.fit(X, y) before "
                                 "mfe.extract_from_model(model)")
        if getattr(model, "n_outputs_", 1) != 1:
            raise ArgumentError(f"model has {model.n_outputs_} outputs; pass a tree fitted to "
                                "one target column")
        fit_args = _mapping(arguments_fit, "arguments_fit")
        if "dt_model" in fit_args:
            raise ArgumentError("arguments_fit must not hold 'dt_model': the model is the "
                                "first argument of extract_from_model")
        ext_args = dict(_mapping(arguments_extract, "arguments_extract"))
        out_type = ext_args.pop("out_type", tuple)
        unknown = sorted(set(ext_args) - {"verbose", "enable_parallel", "suppress_warnings"})
        if unknown:
            raise ArgumentError(f"arguments_extract got unsupported argument(s) {unknown}; "
                                "only out_type, verbose, enable_parallel and "
                                "suppress_warnings are accepted")
        self._check_out_type(out_type)
        features = self._features()
        from metafeatures._extract import CAUGHT, _check_summary, _normalise, _pymfe_view
        from metafeatures.model_based import tree_from_model

        summaries = _check_summary(self._summary(), "pymfe")
        measures = [m for m in REGISTRY.measures() if m.pymfe and m.group == "model-based"
                    and (features is None or m.name in features)]
        if not measures:
            raise ArgumentError(f"features {features} hold no model-based meta-feature; pass "
                                f"features='all' or names from "
                                f"MFE.valid_metafeatures('model-based')")
        opt = self._measure_time()
        t0 = time.perf_counter()
        tree = tree_from_model(model)
        timing = Extraction({}, resource_seconds={"tree": time.perf_counter() - t0})
        values: dict[str, Any] = {}
        for m in measures:
            if m.requires != ("tree",):  # every model-based measure reads the tree alone
                raise AssertionError(f"model-based measure {m.name} needs {m.requires}")
            t0 = time.perf_counter()
            try:
                with np.errstate(all="ignore"):
                    values[m.name] = _normalise(m.func(tree), m)
                timing.measure_sizes[m.name] = int(np.size(values[m.name]))
            except CAUGHT:
                pass  # NaN, as extract(): on_error="ignore"
            timing.measure_seconds[m.name] = time.perf_counter() - t0
        with np.errstate(all="ignore"):
            timing.values = _pymfe_view(measures, values, {}, summaries,
                                        timing.summary_seconds)
        return self._output(timing.values, out_type,
                            None if opt is None else _times(timing, opt))

    def _check_out_type(self, out_type: Any) -> None:
        if out_type not in (tuple, dict, pd.DataFrame):
            raise ArgumentError(f"out_type must be tuple, dict or pandas.DataFrame (as pymfe); "
                                f"got {out_type!r}")

    @staticmethod
    def _output(values: Mapping[str, float], out_type: Any,
                times: Mapping[str, float] | None = None) -> Any:
        names = sorted(values)
        vals = [values[k] for k in names]
        if times is None:
            if out_type is tuple:
                return names, vals
            if out_type is dict:
                return {"mtf_names": names, "mtf_vals": vals}
            return pd.DataFrame(data=(vals,), columns=names)
        secs = [times[k] for k in names]
        if out_type is tuple:
            return names, vals, secs
        if out_type is dict:
            return {"mtf_names": names, "mtf_vals": vals, "mtf_time": secs}
        return pd.DataFrame(data=(vals, secs), columns=names, index=("values", "time"))

    def _measure_time(self) -> str | None:
        opt = self.measure_time
        if opt is not None and opt not in MEASURE_TIME:
            raise ArgumentError(f"measure_time must be None or one of {MEASURE_TIME} (pymfe's "
                                f"options); got {opt!r}")
        return opt

    def _copy(self, **changes: Any) -> MFE:
        params = {k: getattr(self, k) for k in (
            "groups", "features", "summary", "measure_time", "wildcard", "score",
            "num_cv_folds", "shuffle_cv_folds", "lm_sample_frac", "hypparam_model_dt",
            "suppress_warnings", "random_state", "sample_sizes")}
        return MFE(**{**params, **changes})

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


def _times(report: Extraction, option: str) -> dict[str, float]:
    """pymfe's per-name times (``measure_time``) from an extraction's timings."""
    avg, summ = option.startswith("avg"), option.endswith("summ")
    relative = [k for k in report.values if k.endswith(".relative")]
    # pymfe spreads the ranking time over the summaries it ranks
    ranked = {k.split(".", 1)[1].rsplit(".relative", 1)[0] for k in relative}
    rank_share = report.seconds.get("relative", 0.0) / max(1, len(ranked))
    out: dict[str, float] = {}
    for name in report.values:
        key = name[: -len(".relative")] if name.endswith(".relative") else name
        base = key.split(".")[0]
        own = report.measure_seconds.get(base, 0.0)
        if REGISTRY.has_measure(base) and REGISTRY.get_measure(base).summarised \
                and key != base:
            if avg:
                own /= max(1, report.measure_sizes.get(base, 1))
            if key in report.summary_seconds:
                t = own + (report.summary_seconds[key] if summ else 0.0)
            elif base in report.measure_sizes:
                t = 0.0  # the further values of a multi-valued summary (pymfe's rule)
            else:
                t = own  # the measure failed: no summary ran
        else:
            t = own
        out[name] = t + (rank_share if name != key else 0.0)
    return out


def _description(func: Any) -> str:
    """The first paragraph of a measure's docstring, on one line."""
    import inspect

    doc = inspect.getdoc(func) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _draw_table(rows: list[list[str]], width: int = 60) -> str:
    """A plain-text table; the last column wrapped at ``width`` characters."""
    import textwrap

    cells = [[r[0], r[1], textwrap.wrap(r[2], width) or [""]] for r in rows]
    w0 = max(len(c[0]) for c in cells)
    w1 = max(len(c[1]) for c in cells)
    w2 = max(len(line) for c in cells for line in c[2])
    rule = f"+-{'-' * w0}-+-{'-' * w1}-+-{'-' * w2}-+"
    out = [rule]
    for k, (g, n, lines) in enumerate(cells):
        for i, line in enumerate(lines):
            out.append(f"| {(g if i == 0 else ''):<{w0}} | {(n if i == 0 else ''):<{w1}} | "
                       f"{line:<{w2}} |")
        out.append(rule.replace("-", "=") if k == 0 else rule)
    return "\n".join(out)


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ArgumentError(f"{name} must be None or a dict of keyword arguments; got "
                            f"{value!r}")
    return value


def _confidence_levels(confidence: Any) -> np.ndarray:
    """pymfe's ``confidence``: a level or a sequence of levels, each in (0, 1)."""
    try:
        levels = np.atleast_1d(np.asarray(confidence, dtype=np.float64))
    except (TypeError, ValueError):
        levels = np.array([np.nan])
    if levels.ndim != 1 or levels.size == 0 or not np.all((levels > 0.0) & (levels < 1.0)):
        raise ArgumentError(f"confidence must be a level in (0, 1), such as 0.95, or a list "
                            f"of them; got {confidence!r}")
    return levels


def _groups(groups: str | Iterable[str], wildcard: str) -> tuple[str, ...]:
    """pymfe's group argument -> our group names (``"default"``, the wildcard, names): the
    wildcard read as ``"all"``, then :func:`~metafeatures._extract._check_groups`."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, Iterable):
        raise ArgumentError(f"groups must be 'default', {wildcard!r}, a group name or a list of "
                            f"them (MFE.valid_groups()); got {groups!r}")
    named = ["all" if g == wildcard else g for g in groups]
    if not named:
        raise ArgumentError("groups is empty; pass 'default', 'all' or group names "
                            "(MFE.valid_groups())")
    return _check_groups(named)[0]
