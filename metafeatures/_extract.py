"""The extractor: options -> measures to compute -> shared precomputations -> named values."""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from metafeatures._input import Prepared, prepare
from metafeatures._registry import GROUPS, REGISTRY, Measure, PostProcessor, Registry
from metafeatures._resources import RESCALE, SAMPLE_SIZES, TRANSFORM_CAT, Config
from metafeatures._summary import DEFAULT_SUMMARY, SUMMARIES, summarise
from metafeatures.errors import (
    ArgumentError,
    DataError,
    MeasureError,
    MetaFeatureWarning,
)
from metafeatures.views import VIEWS, ViewEntry

__all__ = ["DEFAULT_GROUPS", "Extraction", "VIEW_NAMES", "extract", "extract_report"]

logger = logging.getLogger(__name__)

#: pymfe's default groups (``MFE().groups`` of pymfe 0.4.4); "all" adds the others (complexity,
#: clustering, ...), as pymfe's "all".
DEFAULT_GROUPS: tuple[str, ...] = ("general", "statistical", "info-theory", "landmarking",
                                   "model-based")
VIEW_NAMES: tuple[str, ...] = ("pymfe", "autosklearn", "openml")
ON_ERROR = ("raise", "warn", "ignore")

#: The exceptions a measure may raise for a numerical or definitional reason. Anything else is a
#: bug and propagates.
CAUGHT: tuple[type[BaseException], ...] = (MeasureError, np.linalg.LinAlgError, FloatingPointError)

#: Summaries that produce several values (their keys end in ``.0``, ``.1``, ...).
_MULTI = {"quantiles": 5, "histogram": 10, "nanquantiles": 5, "nanhistogram": 10}


@dataclass
class Extraction:
    """What :func:`extract_report` returns.

    Attributes:
        values: output name -> value (NaN where undefined or not computed).
        failed: measure name -> why it could not be computed (``on_error`` "warn"/"ignore").
        skipped: measure name -> why it does not apply (e.g. it needs class labels).
        seconds: group -> wall-clock seconds spent on its measures (shared precomputations are
            charged to the group that needed them first).
        measure_seconds: measure name -> seconds in the measure's own function (shared
            precomputations excluded; they are in ``resource_seconds``).
        measure_sizes: measure name -> number of values it returned (before summaries).
        summary_seconds: pymfe-view output name -> seconds of the summary that produced it
            (a multi-valued summary's time is on its ``.0`` name only).
        resource_seconds: shared precomputation name -> seconds in its own function.
    """

    values: dict[str, float]
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    measure_seconds: dict[str, float] = field(default_factory=dict)
    measure_sizes: dict[str, int] = field(default_factory=dict)
    summary_seconds: dict[str, float] = field(default_factory=dict)
    resource_seconds: dict[str, float] = field(default_factory=dict)


def extract(
    X: Any,
    y: Any = None,
    *,
    groups: str | Iterable[str] = "default",
    names: str = "pymfe",
    categorical: Any = None,
    task: str | None = None,
    summary: str | Iterable[str] | None = None,
    on_error: str = "raise",
    random_state: Any = 0,
    features: Iterable[str] | None = None,
    sample_sizes: Mapping[str, int] | None = None,
    progress: bool | None = None,
    n_threads: int | None = 1,
    transform_cat: str | None = "one-hot-full",
    transform_num: bool = True,
    rescale: str | None = None,
    score: str = "accuracy",
    num_cv_folds: int = 10,
    shuffle_cv_folds: bool = True,
    lm_sample_frac: float | None = None,
    hypparam_model_dt: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Compute the meta-features of a dataset.

    Args:
        X: (n_samples, n_features) numpy array, pandas DataFrame (categorical and missing values
            allowed) or scipy.sparse matrix (expanded to dense, up to 2 GiB).
        y: (n_samples,) target, or None for the unsupervised measures only.
        groups: ``"default"`` (pymfe's defaults: general, statistical, info-theory,
            landmarking, model-based), ``"all"`` (every group of :data:`metafeatures.GROUPS`,
            as pymfe's "all") or a list of group names
            (in which ``"default"`` and ``"all"`` expand).
        names: the naming view: ``"pymfe"`` (``attr_ent.mean``), ``"autosklearn"`` (the 46
            PMF columns, :data:`metafeatures.AUTOSKLEARN_NAMES`) or ``"openml"`` (OpenML data
            quality names, :data:`metafeatures.OPENML_NAMES`).
        categorical: which columns are categorical: None (pandas ``category``/``bool``
            columns), ``"auto"`` (also string columns), or names/positions/a boolean mask.
        task: None (inferred from y), ``"classification"`` or ``"regression"``.
        summary: pymfe view only: summaries of multi-valued measures (default ``("mean",
            "sd")``; ``"all"`` for every summary; see :data:`metafeatures.SUMMARIES`).
        on_error: what happens when a measure cannot be computed: ``"raise"`` a
            :class:`~metafeatures.errors.MeasureError`, ``"warn"`` (NaN and a
            :class:`~metafeatures.errors.MetaFeatureWarning` naming it) or ``"ignore"`` (NaN;
            the names are in :func:`extract_report`'s ``failed``).
        random_state: int seed (default 0), numpy Generator/RandomState, or None (fresh
            entropy). The same seed gives the same output.
        features: optional subset of output names (pymfe view: measure names such as
            ``"attr_ent"``).
        sample_sizes: overrides of :data:`metafeatures.SAMPLE_SIZES` (rows used by
            landmarking, model-based, complexity and the normality tests).
        progress: show a progress bar (default: when stderr is a terminal).
        n_threads: BLAS/OpenMP threads during the extraction (default 1: the work is chunked
            and memory-bound, and threaded BLAS slows down many-fold when other processes
            share the cores); None leaves the libraries' own setting.
        transform_cat: pymfe's ``fit(transform_cat=...)``: how categorical attributes enter
            the numeric view ``N``: ``"one-hot-full"`` (default: one column per observed
            level), ``"one-hot"`` (each attribute's first level dropped), ``"gray"`` (pymfe's
            default: patsy's ``~ 0 + C0 + C1 + ...``: every level of the first categorical
            attribute, each further one without its first level, levels sorted by ``str``) or
            None (categorical attributes left out of ``N``). pymfe view only.
        transform_num: pymfe's ``fit(transform_num=...)``: numeric attributes are discretised
            into the categorical view ``C`` of the info-theory and itemset measures; False
            leaves them out. pymfe view only.
        rescale: pymfe's ``fit(rescale=...)``: None, ``"standard"``, ``"min-max"`` or
            ``"robust"`` (scikit-learn's scalers, per column of ``N``). pymfe view only.
        score: pymfe's ``MFE(score=...)``: the pymfe landmarkers' score per fold,
            ``"accuracy"``, ``"balanced-accuracy"``, ``"f1"`` (weighted) or ``"kappa"``.
        num_cv_folds: folds of the landmarking cross-validation (pymfe's ``num_cv_folds``).
        shuffle_cv_folds: shuffle the pymfe landmarking folds (seeded; default True); False
            is pymfe's default (unshuffled ``StratifiedKFold``).
        lm_sample_frac: None (landmarking on the seeded stratified sample of
            ``sample_sizes``) or pymfe's fraction in [0.5, 1] of rows
            (``RandomState(seed).choice``, as pymfe).
        hypparam_model_dt: extra keyword arguments of the model-based decision tree (pymfe's
            ``hypparam_model_dt``, e.g. ``{"max_depth": 3}``).

    Returns:
        dict name -> float, NaN where a value is undefined.

    Raises:
        DataError, DataTypeError: invalid data (see :func:`metafeatures.validate`).
        ArgumentError: an invalid option.
        MeasureError: a measure could not be computed and ``on_error="raise"``.
    """
    return extract_report(
        X, y, groups=groups, names=names, categorical=categorical, task=task, summary=summary,
        on_error=on_error, random_state=random_state, features=features,
        sample_sizes=sample_sizes, progress=progress, n_threads=n_threads,
        transform_cat=transform_cat, transform_num=transform_num, rescale=rescale, score=score,
        num_cv_folds=num_cv_folds, shuffle_cv_folds=shuffle_cv_folds,
        lm_sample_frac=lm_sample_frac, hypparam_model_dt=hypparam_model_dt,
    ).values


def extract_report(
    X: Any,
    y: Any = None,
    *,
    groups: str | Iterable[str] = "default",
    names: str = "pymfe",
    categorical: Any = None,
    task: str | None = None,
    summary: str | Iterable[str] | None = None,
    on_error: str = "raise",
    random_state: Any = 0,
    features: Iterable[str] | None = None,
    sample_sizes: Mapping[str, int] | None = None,
    progress: bool | None = None,
    n_threads: int | None = 1,
    transform_cat: str | None = "one-hot-full",
    transform_num: bool = True,
    rescale: str | None = None,
    score: str = "accuracy",
    num_cv_folds: int = 10,
    shuffle_cv_folds: bool = True,
    lm_sample_frac: float | None = None,
    hypparam_model_dt: Mapping[str, Any] | None = None,
    registry: Registry = REGISTRY,
) -> Extraction:
    """Like :func:`extract`, but also return which measures failed or were skipped and the
    time spent per group (an :class:`Extraction`)."""
    group_list, explicit_groups = _check_groups(groups)
    post_groups = {p.group for p in registry.postprocessors()}
    if features is not None and isinstance(groups, str) and groups == "default":
        # named features select their own groups (a post-processing group only when named)
        group_list = tuple(g for g in GROUPS if g not in post_groups)
    if names not in VIEW_NAMES:
        raise ArgumentError(f"names must be one of {VIEW_NAMES}; got {names!r}")
    if on_error not in ON_ERROR:
        raise ArgumentError(f"on_error must be one of {ON_ERROR}; got {on_error!r}")
    summaries = _check_summary(summary, names)
    config = Config(
        seed=_seed(random_state), sample_sizes=_check_sample_sizes(sample_sizes),
        **_check_pymfe_options(names, transform_cat=transform_cat, transform_num=transform_num,
                               rescale=rescale, score=score, num_cv_folds=num_cv_folds,
                               shuffle_cv_folds=shuffle_cv_folds, lm_sample_frac=lm_sample_frac,
                               hypparam_model_dt=hypparam_model_dt),
    )
    wanted = None if features is None else _check_features(features, names, registry)
    # post-processing groups (pymfe view) need their source group's measures; a source that
    # was not requested is "inserted": its values are replaced by the derived ones
    posts = [p for p in registry.postprocessors() if p.group in group_list] if names == "pymfe" \
        else []
    inserted = {p.source for p in posts if p.source not in group_list}
    compute_groups = tuple(g for g in GROUPS if g in group_list or g in inserted)
    if wanted is not None:
        _check_feature_groups(wanted, names, compute_groups, registry)

    if n_threads is not None and (not isinstance(n_threads, (int, np.integer))
                                  or isinstance(n_threads, bool) or n_threads < 1):
        raise ArgumentError(f"n_threads must be a positive integer or None; got {n_threads!r}")
    n_threads = None if n_threads is None else int(n_threads)

    data = prepare(X, y, categorical=categorical, task=task)

    # which measures the request needs
    view = VIEWS.get(names)
    entries: list[ViewEntry] = []
    if view is None:
        needed = [m for m in registry.measures() if m.pymfe and m.group in compute_groups
                  and (wanted is None or m.name in wanted)]
    else:
        if explicit_groups and wanted is None:
            covered = {registry.get_measure(m).group for e in view.values() for m in e.measures}
            empty = [g for g in explicit_groups if g not in covered]
            if empty:
                raise ArgumentError(
                    f"the {names!r} view has no meta-feature from group(s) {empty}; its names "
                    f"come from {[g for g in GROUPS if g in covered]}; use names='pymfe' for "
                    "the others"
                )
        for entry in view.values():
            if wanted is not None and entry.name not in wanted:
                continue
            if all(registry.get_measure(m).group in group_list for m in entry.measures):
                entries.append(entry)
        keep = {m for e in entries for m in e.measures}
        needed = [m for m in registry.measures() if m.name in keep]

    skipped = _applicability(needed, data)
    _check_requests(needed, skipped, data, wanted, explicit_groups)
    _check_post_requests(posts, needed, skipped, explicit_groups)

    timing = Extraction({})
    with threadpool_limits(limits=n_threads):
        values, failed, seconds = _compute(
            [m for m in needed if m.name not in skipped], data, config, on_error, progress,
            registry, timing,
        )
    if failed and on_error == "warn":
        warnings.warn(
            "meta-features set to NaN because they could not be computed: "
            + "; ".join(f"{k}: {v}" for k, v in failed.items()),
            MetaFeatureWarning,
            # the user's line: called directly, or through extract()
            stacklevel=3 if sys._getframe(1).f_code is extract.__code__ else 2,
        )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # summaries of inf/NaN give NaN
        if view is None:
            out = _pymfe_view(needed, values, skipped, summaries, timing.summary_seconds)
            for post in posts:
                t0 = time.perf_counter()
                out = _post_process(post, out, needed, replace=post.source in inserted)
                seconds[post.group] = time.perf_counter() - t0
        else:
            out = _table_view(entries, values)
    return Extraction(out, failed, skipped, seconds, timing.measure_seconds,
                      timing.measure_sizes, timing.summary_seconds, timing.resource_seconds)


# -- options ----------------------------------------------------------------------------------
def _canonical_group(name: str) -> str:
    key = str(name).strip().lower().replace("_", "-")
    aliases = {"info-theory": "info-theory", "infotheory": "info-theory",
               "information-theoretic": "info-theory", "model-based": "model-based",
               "modelbased": "model-based"}
    key = aliases.get(key, key)
    if key not in GROUPS:
        raise ArgumentError(
            f"unknown meta-feature group {name!r}; expected 'default', 'all' or names from {GROUPS}"
        )
    return key


def _check_groups(groups: str | Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The groups to compute (registry order) and those named one by one (each of which must
    contribute something); ``"default"`` and ``"all"`` expand, also inside a list."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, Iterable):
        raise ArgumentError(f"groups must be 'default', 'all', a group name or a list of group "
                            f"names; got {groups!r}")
    chosen: list[str] = []
    explicit: list[str] = []
    for g in groups:
        if isinstance(g, str) and g in ("default", "all"):
            chosen.extend(DEFAULT_GROUPS if g == "default" else GROUPS)
        else:
            key = _canonical_group(g)
            chosen.append(key)
            explicit.append(key)
    if not chosen:
        raise ArgumentError("groups is empty; pass 'default', 'all' or at least one group name")
    return (tuple(g for g in GROUPS if g in chosen),
            tuple(g for g in GROUPS if g in explicit))


def _check_summary(summary: str | Iterable[str] | None, names: str) -> tuple[str, ...]:
    if summary is None:
        return DEFAULT_SUMMARY
    if names != "pymfe":
        raise ArgumentError(
            f"summary applies to names='pymfe' only; the {names!r} view has fixed names "
            "(drop summary= or use names='pymfe')"
        )
    if isinstance(summary, str):
        summary = [summary]
    if not isinstance(summary, Iterable):
        raise ArgumentError(f"summary must be None, 'all', a summary name or a list of them; "
                            f"got {summary!r}")
    every = tuple(s for s in SUMMARIES if not s.startswith("nan"))
    out = tuple(dict.fromkeys(  # "all" expands, also inside a list (the CLI's --summary all)
        x for s in summary for x in (every if isinstance(s, str) and s == "all" else (s,))))
    if not out:
        raise ArgumentError(f"summary is empty; pass None ({', '.join(DEFAULT_SUMMARY)}) or at "
                            "least one summary name")
    bad = [s for s in out if s not in SUMMARIES]
    if bad:
        raise ArgumentError(f"unknown summary {bad or out}; expected names from {tuple(SUMMARIES)}")
    return out


#: pymfe's landmarking scores (``MFE(score=...)``) that are computed here.
SCORES: tuple[str, ...] = ("accuracy", "balanced-accuracy", "f1", "kappa")

#: the defaults of the pymfe options of :func:`extract` (other views accept only these).
_PYMFE_DEFAULTS: dict[str, Any] = {
    "transform_cat": "one-hot-full", "transform_num": True, "rescale": None,
    "score": "accuracy", "num_cv_folds": 10, "shuffle_cv_folds": True, "lm_sample_frac": None,
    "hypparam_model_dt": None,
}


def _check_pymfe_options(names: str, **opts: Any) -> dict[str, Any]:
    """Validate pymfe's data-transformation and landmarking options; the :class:`Config`
    fields they set."""
    if names != "pymfe":
        changed = [k for k, v in opts.items() if v != _PYMFE_DEFAULTS[k]]
        if changed:
            others = "".join(f"; {c} must stay at its default too" for c in changed[1:])
            raise ArgumentError(
                f"{changed[0]} must be left at its default with names={names!r}: the option "
                f"applies to names='pymfe' only, and the {names!r} view follows its own "
                f"definitions (leave it at its default or use names='pymfe'){others}"
            )
    cat = opts["transform_cat"]
    if cat is not None and cat not in TRANSFORM_CAT:
        raise ArgumentError(f"transform_cat must be one of {TRANSFORM_CAT} or None (pymfe's "
                            f"options; 'gray' is pymfe's default); got {cat!r}")
    if not isinstance(opts["transform_num"], (bool, np.bool_)):
        raise ArgumentError(f"transform_num must be True or False (discretise the numeric "
                            f"attributes for the info-theory measures); got "
                            f"{opts['transform_num']!r}")
    if opts["rescale"] is not None and opts["rescale"] not in RESCALE:
        raise ArgumentError(f"rescale must be None or one of {RESCALE}; got {opts['rescale']!r}")
    score = opts["score"]
    if score == "auc":
        raise ArgumentError("score='auc' is not available: pymfe 0.4.4 raises "
                            "NotImplementedError for it, and a per-fold AUC needs class "
                            f"probabilities the landmarkers do not give; use one of {SCORES}")
    if score not in SCORES:
        raise ArgumentError(f"score must be one of {SCORES}; got {score!r}")
    folds = opts["num_cv_folds"]
    if not isinstance(folds, (int, np.integer)) or isinstance(folds, bool) or folds < 2:
        raise ArgumentError(f"num_cv_folds must be an integer >= 2; got {folds!r}")
    if not isinstance(opts["shuffle_cv_folds"], (bool, np.bool_)):
        raise ArgumentError(f"shuffle_cv_folds must be True or False; got "
                            f"{opts['shuffle_cv_folds']!r}")
    frac = opts["lm_sample_frac"]
    if frac is not None and (not isinstance(frac, (int, float, np.integer, np.floating))
                             or isinstance(frac, bool) or not 0.5 <= float(frac) <= 1.0):
        raise ArgumentError(f"lm_sample_frac must be None or a fraction in [0.5, 1] (pymfe's "
                            f"range); got {frac!r}")
    params = opts["hypparam_model_dt"]
    if params is not None and not isinstance(params, Mapping):
        raise ArgumentError(f"hypparam_model_dt must be None or a dict of DecisionTreeClassifier "
                            f"arguments such as {{'max_depth': 3}}; got {params!r}")
    if params is not None:
        from sklearn.tree import DecisionTreeClassifier

        bad = sorted(set(map(str, params)) - set(DecisionTreeClassifier().get_params()))
        if bad:
            raise ArgumentError(f"hypparam_model_dt has unknown DecisionTreeClassifier "
                                f"argument(s) {bad}; see sklearn.tree.DecisionTreeClassifier")
    return {
        "transform_cat": cat, "transform_num": bool(opts["transform_num"]),
        "rescale": opts["rescale"], "score": score, "n_folds": int(folds),
        "shuffle_folds": bool(opts["shuffle_cv_folds"]),
        "lm_sample_frac": None if frac is None or float(frac) >= 1.0 else float(frac),
        "tree_params": dict(params or {}),
    }


def _check_sample_sizes(sizes: Mapping[str, int] | None) -> dict[str, int]:
    out = dict(SAMPLE_SIZES)
    if sizes is not None and not isinstance(sizes, Mapping):
        raise ArgumentError(f"sample_sizes must be a mapping such as {{'landmarking': 5000}} or "
                            f"None; got {sizes!r}")
    for key, value in (sizes or {}).items():
        if key not in SAMPLE_SIZES:
            raise ArgumentError(f"unknown sample size {key!r}; expected keys from {tuple(SAMPLE_SIZES)}")
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 10:
            raise ArgumentError(f"sample_sizes[{key!r}] must be an integer >= 10; got {value!r}")
        out[key] = int(value)
    return out


def _check_features(features: Iterable[str], names: str, registry: Registry) -> set[str]:
    if isinstance(features, str):
        features = [features]
    if not isinstance(features, Iterable):
        raise ArgumentError(f"features must be None, an output name or a list of them; got "
                            f"{features!r}")
    wanted = set(features)
    if names == "pymfe":
        known = {m.name for m in registry.measures() if m.pymfe}
    else:
        known = set(VIEWS[names])
    bad = sorted(map(str, wanted - known))
    if bad:
        where = {"pymfe": "metafeatures.list_measures()",
                 "autosklearn": "metafeatures.AUTOSKLEARN_NAMES",
                 "openml": "metafeatures.OPENML_NAMES"}[names]
        raise ArgumentError(
            f"unknown {names} meta-feature name(s) {bad[:10]}; the names of this view are in "
            f"{where}"
        )
    return wanted


def _check_feature_groups(wanted: set[str], names: str, group_list: tuple[str, ...],
                          registry: Registry) -> None:
    outside = []
    for name in sorted(wanted):
        measures = (name,) if names == "pymfe" else VIEWS[names][name].measures
        groups = {registry.get_measure(m).group for m in measures}
        if not groups <= set(group_list):
            outside.append(f"{name} ({', '.join(sorted(groups))})")
    if outside:
        raise ArgumentError(
            f"features {outside} belong to groups that were not requested {list(group_list)}; "
            "add their groups or leave groups at 'default' to select them by name"
        )


def _seed(random_state: Any) -> int:
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**32 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**32 - 1))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if 0 <= int(random_state) < 2**32:
            return int(random_state)
    raise ArgumentError(
        f"random_state must be an int in [0, 2**32), a numpy Generator/RandomState or None; "
        f"got {random_state!r}"
    )


# -- applicability ----------------------------------------------------------------------------
def _applicability(needed: list[Measure], data: Prepared) -> dict[str, str]:
    task = data.task
    skipped: dict[str, str] = {}
    for m in needed:
        if m.target == "classes" and task != "classification":
            skipped[m.name] = ("needs class labels in y; y is None" if task is None else
                               "needs class labels in y; y is a regression target (pass "
                               "task='classification' if y holds class labels)")
        elif m.target == "any" and task is None:
            skipped[m.name] = "needs a target y"
    return skipped


def _check_requests(needed: list[Measure], skipped: dict[str, str], data: Prepared,
                    wanted: set[str] | None, explicit_groups: tuple[str, ...]) -> None:
    if wanted is not None:
        bad = sorted(m.name for m in needed if m.name in skipped and m.name in wanted)
        if bad:
            raise DataError(f"requested meta-feature(s) {bad} cannot be computed: "
                            f"{skipped[bad[0]]}")
    for g in explicit_groups:
        in_group = [m for m in needed if m.group == g]
        if in_group and all(m.name in skipped for m in in_group):
            raise DataError(f"group {g!r} was requested but none of its meta-features applies: "
                            f"each {skipped[in_group[0].name]}")
    target = data.target
    if target is not None and target.task == "classification":
        k = target.n_classes
        bad = sorted(m.name for m in needed if m.name not in skipped and m.min_classes > k)
        if bad:
            raise DataError(
                f"y has a single class ({target.classes[0]!r}) but the meta-features {bad[:8]}"
                f"{' ...' if len(bad) > 8 else ''} need at least two classes; pass a y with two "
                "or more classes, or request groups without them (e.g. groups=['general'])"
            )


def _check_post_requests(posts: list[PostProcessor], needed: list[Measure],
                         skipped: dict[str, str], explicit_groups: tuple[str, ...]) -> None:
    """A post-processing group named one by one needs a source measure that applies."""
    for post in posts:
        if post.group not in explicit_groups:
            continue
        source = [m for m in needed if m.group == post.source]
        if source and all(m.name in skipped for m in source):
            raise DataError(
                f"group {post.group!r} was requested but it is computed from the "
                f"{post.source} meta-features, none of which applies: each "
                f"{skipped[source[0].name]}"
            )


# -- computation ------------------------------------------------------------------------------
class _Context:
    """Lazily computed, cached resources; failures are cached too."""

    def __init__(self, registry: Registry, roots: dict[str, Any]) -> None:
        self._registry = registry
        self._values = dict(roots)
        self._errors: dict[str, MeasureError] = {}
        self.seconds: dict[str, float] = {}

    def get(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if name in self._errors:
            raise self._errors[name]
        res = self._registry.get_resource(name)
        try:
            args = [self.get(r) for r in res.requires]
            t0 = time.perf_counter()
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    value = res.func(*args)
            finally:
                self.seconds[name] = time.perf_counter() - t0
        except CAUGHT as exc:
            err = exc if isinstance(exc, MeasureError) else MeasureError(f"{name}: {exc}")
            self._errors[name] = err
            raise err from exc
        self._values[name] = value
        return value

    def drop(self, name: str) -> None:
        self._values.pop(name, None)


def _closure(m: Measure, registry: Registry) -> set[str]:
    out: set[str] = set()
    stack = list(m.requires)
    while stack:
        r = stack.pop()
        if r in out or not registry.has_resource(r):
            continue
        out.add(r)
        stack.extend(registry.get_resource(r).requires)
    return out


def _progress_bar(total: int, progress: bool | None) -> Any:
    enabled = sys.stderr.isatty() if progress is None else progress
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="meta-features", unit="measure", leave=False)


def _compute(measures: list[Measure], data: Prepared, config: Config, on_error: str,
             progress: bool | None, registry: Registry, timing: Extraction | None = None,
             ) -> tuple[dict[str, Any], dict[str, str], dict[str, float]]:
    """Compute ``measures``; with ``timing``, fill its ``measure_seconds``,
    ``measure_sizes`` and ``resource_seconds``."""
    ctx = _Context(registry, {"data": data, "config": config})
    if timing is not None:
        ctx.seconds = timing.resource_seconds
    uses: dict[str, int] = {}
    closures = {m.name: _closure(m, registry) for m in measures}
    for c in closures.values():
        for r in c:
            uses[r] = uses.get(r, 0) + 1
    values: dict[str, Any] = {}
    failed: dict[str, str] = {}
    seconds: dict[str, float] = {}
    bar = _progress_bar(len(measures), progress)
    try:
        for m in measures:
            t0 = time.perf_counter()
            try:
                args = [ctx.get(r) for r in m.requires]
                t1 = time.perf_counter()
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        raw = m.func(*args)
                finally:
                    if timing is not None:
                        timing.measure_seconds[m.name] = time.perf_counter() - t1
                values[m.name] = _normalise(raw, m)
                if timing is not None:
                    timing.measure_sizes[m.name] = int(np.size(values[m.name]))
            except CAUGHT as exc:
                if on_error == "raise":
                    raise MeasureError(
                        f"meta-feature {m.name!r} (group {m.group}) could not be computed: {exc}. "
                        "Pass on_error='warn' or 'ignore' to get NaN for it instead"
                    ) from exc
                failed[m.name] = str(exc)
                logger.info("meta-feature %s could not be computed: %s", m.name, exc)
            seconds[m.group] = seconds.get(m.group, 0.0) + time.perf_counter() - t0
            for r in closures[m.name]:
                uses[r] -= 1
                if uses[r] == 0:
                    ctx.drop(r)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return values, failed, seconds


def _normalise(raw: Any, m: Measure) -> Any:
    if m.summarised:
        return np.asarray(raw, dtype=np.float64).ravel()
    value = np.asarray(raw, dtype=np.float64)
    if value.size != 1:
        raise TypeError(f"measure {m.name!r} returned {value.size} values; declare summarised=True")
    return float(value.reshape(()))


# -- views ------------------------------------------------------------------------------------
def _pymfe_view(needed: list[Measure], values: dict[str, Any], skipped: dict[str, str],
                summaries: tuple[str, ...], summary_seconds: dict[str, float] | None = None,
                ) -> dict[str, float]:
    """Name and summarise the values; with ``summary_seconds``, record the seconds of each
    summary under the first output name it produced."""
    out: dict[str, float] = {}
    for m in sorted(needed, key=lambda m: m.name):
        if m.name in skipped:
            continue
        if m.name in values:
            if m.summarised and summary_seconds is not None:
                for s in summaries:
                    t0 = time.perf_counter()
                    part = summarise(m.name, values[m.name], (s,))
                    summary_seconds[next(iter(part))] = time.perf_counter() - t0
                    out.update(part)
            elif m.summarised:
                out.update(summarise(m.name, values[m.name], summaries))
            else:
                out[m.name] = values[m.name]
        else:  # failed
            if m.summarised:
                for s in summaries:
                    if s in _MULTI:
                        out.update({f"{m.name}.{s}.{i}": float("nan") for i in range(_MULTI[s])})
                    else:
                        out[f"{m.name}.{s}"] = float("nan")
            else:
                out[m.name] = float("nan")
    return dict(sorted(out.items()))


def _post_process(post: PostProcessor, out: dict[str, float], needed: list[Measure],
                  replace: bool) -> dict[str, float]:
    """Add (or, when ``replace``, substitute) the values ``post`` derives from the pymfe-view
    values of its source group's measures."""
    source = {m.name for m in needed if m.group == post.source}
    keys = [k for k in out if k.split(".", 1)[0] in source]
    derived = post.func({k: out[k] for k in keys})
    if replace:
        out = {k: v for k, v in out.items() if k not in set(keys)}
    out.update(derived)
    return dict(sorted(out.items()))


def _table_view(entries: list[ViewEntry], values: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for e in entries:
        if not all(m in values for m in e.measures):
            out[e.name] = float("nan")
            continue
        try:
            with np.errstate(all="ignore"):
                out[e.name] = float(e.combine(*(values[m] for m in e.measures)))
        except (ZeroDivisionError, ValueError, OverflowError):
            out[e.name] = float("nan")
    return out
