"""scikit-learn estimators for the configurations of the Oboe pipeline space.

Oboe (Yang et al., KDD 2019) names its 219 pipelines as ``{'algorithm': 'kSVM', 'hyperparameters':
{'C': 4, 'kernel': 'rbf', 'coef0': 0}}``; the meta-database stores them flat, as
``{'algorithm': 'kSVM', 'kSVM:C': 4, 'kSVM:kernel': 'rbf', 'kSVM:coef0': 0}``
(:func:`warmnas.space.oboe_space`). Both forms are accepted. :func:`make_estimator` turns one such configuration into an
unfitted scikit-learn ``Pipeline`` that fits on a raw DataFrame: missing values imputed (median
for numbers, most frequent value for categories), numbers standardised, categories one-hot encoded
(unknown categories ignored at predict time), then the classifier with the configuration's
hyperparameters (scikit-learn defaults for everything else).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from warmnas.errors import ConfigSpaceError, InputTypeError

__all__ = ["OBOE_ALGORITHMS", "make_estimator", "make_classifier", "preprocessor"]

#: Oboe algorithm name -> scikit-learn class path
OBOE_ALGORITHMS: dict[str, str] = {
    "KNN": "sklearn.neighbors.KNeighborsClassifier",
    "DT": "sklearn.tree.DecisionTreeClassifier",
    "RF": "sklearn.ensemble.RandomForestClassifier",
    "GBT": "sklearn.ensemble.GradientBoostingClassifier",
    "AB": "sklearn.ensemble.AdaBoostClassifier",
    "lSVM": "sklearn.svm.LinearSVC",
    "kSVM": "sklearn.svm.SVC",
    "Logit": "sklearn.linear_model.LogisticRegression",
    "Perceptron": "sklearn.linear_model.Perceptron",
    "GNB": "sklearn.naive_bayes.GaussianNB",
    "MLP": "sklearn.neural_network.MLPClassifier",
    "ExtraTrees": "sklearn.ensemble.ExtraTreesClassifier",
}
_ALIASES = {"kNN": "KNN", "knn": "KNN", "ET": "ExtraTrees", "LR": "Logit"}


def _import(path: str) -> type:
    import importlib

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _split(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    if not isinstance(config, Mapping):
        raise InputTypeError(
            "config must be a mapping like {'algorithm': 'RF', 'hyperparameters': {...}}, got "
            f"{type(config).__name__}."
        )
    if "algorithm" not in config:
        raise ConfigSpaceError(
            f"config has no 'algorithm' key (keys: {sorted(config)}); an Oboe configuration "
            "looks like {'algorithm': 'RF', 'hyperparameters': {'min_samples_split': 2, ...}}."
        )
    algo = _ALIASES.get(str(config["algorithm"]), str(config["algorithm"]))
    if "hyperparameters" in config:
        hp = dict(config["hyperparameters"] or {})
    else:  # flat: {"algorithm": "RF", "RF:criterion": "gini", ...} (warmnas.space.oboe_space)
        prefix = f"{config['algorithm']}:"
        hp = {
            (k[len(prefix):] if str(k).startswith(prefix) else k): v
            for k, v in config.items()
            if k != "algorithm"
        }
    if algo not in OBOE_ALGORITHMS:
        raise ConfigSpaceError(
            f"unknown Oboe algorithm {config['algorithm']!r}; known: {sorted(OBOE_ALGORITHMS)}."
        )
    return algo, hp


def _check_seed(random_state: Any) -> int | None:
    """A seed scikit-learn takes: None or an int in [0, 2**32) (checked now, not in ``fit``)."""
    if random_state is None:
        return None
    if (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))
            or not 0 <= random_state < 2**32):
        raise InputTypeError(
            f"random_state must be None or an int seed in [0, 2**32), got {random_state!r} "
            f"({type(random_state).__name__}); pass e.g. random_state=0"
        )
    return int(random_state)


def make_classifier(config: Mapping[str, Any], random_state: int | None = 0) -> Any:
    """The unfitted scikit-learn classifier of one Oboe configuration (no preprocessing).

    Args:
        config: ``{'algorithm': name, 'hyperparameters': {...}}`` (or the hyperparameters
            flat beside ``'algorithm'``).
        random_state: passed to classifiers that take one.

    Returns:
        An unfitted classifier.

    Raises:
        ConfigSpaceError: unknown algorithm or a hyperparameter the class does not take.
        InputTypeError: ``random_state`` is not None or an int in [0, 2**32).
    """
    random_state = _check_seed(random_state)
    algo, hp = _split(config)
    cls = _import(OBOE_ALGORITHMS[algo])
    params = inspect.signature(cls).parameters
    kwargs = dict(hp)
    if algo == "Logit" and "penalty" in kwargs and params["penalty"].default == "deprecated":
        # scikit-learn >= 1.8: penalty='l1'/'l2' is spelled l1_ratio=1/0
        kwargs["l1_ratio"] = {"l1": 1.0, "l2": 0.0}.get(kwargs.pop("penalty"), 0.0)
    unknown = [k for k in kwargs if k not in params]
    if unknown:
        raise ConfigSpaceError(
            f"{algo} ({cls.__name__}) does not take hyperparameters {unknown}; it takes "
            f"{sorted(params)}."
        )
    if "random_state" in params and "random_state" not in kwargs:
        kwargs["random_state"] = random_state
    if algo in ("Logit", "MLP", "lSVM") and "max_iter" in params and "max_iter" not in kwargs:
        kwargs["max_iter"] = 1000
    clf = cls(**kwargs)
    if algo == "Logit" and kwargs.get("solver") == "liblinear":
        # liblinear is binary-only in recent scikit-learn; Oboe's runs used one-vs-rest
        from sklearn.multiclass import OneVsRestClassifier

        return OneVsRestClassifier(clf)
    return clf


def preprocessor() -> Any:
    """Impute + scale numbers, impute + one-hot categories (a ``ColumnTransformer``)."""
    import numpy as np
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, make_column_selector(dtype_include=np.number)),
            ("categorical", categorical, make_column_selector(dtype_exclude=np.number)),
        ],
        sparse_threshold=0.0,
    )


def make_estimator(config: Mapping[str, Any], random_state: int | None = 0) -> Any:
    """An unfitted ``Pipeline(preprocess, classifier)`` that fits on a raw DataFrame.

    Args:
        config: an Oboe configuration (see :func:`make_classifier`).
        random_state: passed to the classifier.

    Returns:
        ``sklearn.pipeline.Pipeline`` with steps ``"preprocess"`` and ``"classifier"``.
    """
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [("preprocess", preprocessor()), ("classifier", make_classifier(config, random_state))]
    )
