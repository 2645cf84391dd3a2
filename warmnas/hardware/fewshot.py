"""Few-shot latency prediction for a new device (HELP-style transfer from known devices).

Given the latencies of every architecture of a benchmark on several *reference* devices, and
about ten latencies measured on a new device, predict the new device's latency of every
architecture. Two transfer models, both in log-latency space, and their ensemble:

* ``"reference"``: the new device's (log) latency profile as a non-negative combination of the
  reference devices' standardised profiles plus an offset (non-negative least squares on the
  samples). Devices of the same kind (GPUs, CPUs, phones) share most of their ranking, so a few
  samples suffice to pick and weight the closest ones.
* ``"op-prior"``: a Bayesian additive model (one cost per ``(edge, op)``) whose prior mean and
  covariance are meta-learned from the reference devices' own additive fits (a Gaussian over
  "op cost vectors" of devices); the samples give the posterior. The noise level is chosen by
  leave-one-out on the samples.
* ``"ensemble"`` (default): the mean of both log predictions.

This follows the idea of HELP (Lee et al., NeurIPS 2021): the known devices form the meta-training
set and the few measured architectures on the new device play the role of its "hardware
embedding". The models here are closed-form (no meta-training loop), fast, and deterministic.

Example:
    >>> pred = FewShotLatencyPredictor().fit(reference, sample_index, sample_ms, ops=ops)  # doctest: +SKIP
    >>> pred.predict()   # (n_archs,) ms                                                  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.stats import kendalltau, spearmanr

from warmnas._random import RandomState, check_random_state
from warmnas.errors import InputError, InputTypeError, NotFittedError

__all__ = ["FewShotLatencyPredictor", "leave_one_device_out", "FEWSHOT_METHODS"]

logger = logging.getLogger(__name__)

FEWSHOT_METHODS = ("ensemble", "reference", "op-prior")


def _as_matrix(reference: Any) -> np.ndarray:
    try:
        ref = np.asarray(reference, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"reference must be a numeric (n_archs, n_devices) array: {exc}") from exc
    if ref.ndim != 2 or ref.shape[0] < 2 or ref.shape[1] < 1:
        raise InputError(f"reference must be a 2-d (n_archs, n_devices) array with at least 2 archs "
                         f"and 1 device, got shape {ref.shape}")
    if not np.isfinite(ref).all() or (ref <= 0).any():
        raise InputError("reference latencies must be finite and positive (ms)")
    return ref


class FewShotLatencyPredictor:
    """Predict a new device's latencies from a few samples and the known devices' tables.

    Args:
        method: ``"ensemble"`` (default), ``"reference"`` or ``"op-prior"`` (see the module doc).
        noise_grid: candidate noise variances (log-ms^2) of the ``op-prior`` model; chosen by
            leave-one-out on the samples.

    Attributes (after ``fit``):
        log_pred_: ``(n_archs,)`` predicted log-latency.
        weights_: non-negative weight of each reference device (``reference`` part).
        noise_: chosen noise variance (``op-prior`` part).
        method_: the method used (``op-prior`` falls back to ``reference`` without ``ops``).
    """

    def __init__(self, method: str = "ensemble", noise_grid: Sequence[float] = tuple(np.logspace(-4, 0, 9))) -> None:
        self.method = method
        self.noise_grid = noise_grid

    def fit(self, reference: Any, sample_index: Any, sample_latency: Any, *, ops: Any = None,
            n_ops: int | None = None) -> FewShotLatencyPredictor:
        """Fit on the samples of the new device.

        Args:
            reference: ``(n_archs, n_devices)`` latencies (ms) of the known devices.
            sample_index: ``(k,)`` distinct architecture indices measured on the new device
                (``k >= 3``; about 10 is the intended use).
            sample_latency: ``(k,)`` their latencies on the new device (ms, positive).
            ops: ``(n_archs, n_edges)`` op index of each edge (needed by ``op-prior``; without it
                ``ensemble`` reduces to ``reference``).
            n_ops: number of candidate ops (default ``ops.max() + 1``).

        Returns:
            self.

        Raises:
            InputError / InputTypeError: bad shapes, NaN/inf, non-positive latencies, duplicate or
                out-of-range indices, fewer than 3 samples, unknown method.
        """
        if self.method not in FEWSHOT_METHODS:
            raise InputError(f"method must be one of {FEWSHOT_METHODS}, got {self.method!r}")
        ref = _as_matrix(reference)
        n = ref.shape[0]
        try:
            idx = np.asarray(sample_index)
            y = np.asarray(sample_latency, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(f"sample_latency must be numeric: {exc}") from exc
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise InputTypeError(f"sample_index must be a 1-d array of integer arch indices, got "
                                 f"dtype {idx.dtype}, shape {idx.shape}")
        if y.shape != idx.shape:
            raise InputError(f"sample_index and sample_latency must have the same length, got "
                             f"{idx.shape[0]} and {y.shape}")
        if len(idx) < 3:
            raise InputError(f"need at least 3 measured architectures on the new device, got "
                             f"{len(idx)}; measure about 10")
        if idx.min() < 0 or idx.max() >= n:
            hint = ""
            if 0 <= idx.min() and idx.max() < ref.shape[1]:
                hint = (f"; reference has shape {ref.shape}, read as (n_archs, n_devices): if it "
                        "holds one row per device, pass reference.T")
            raise InputError(f"sample_index must be in 0..{n - 1}, got {idx.min()}..{idx.max()}"
                             f"{hint}")
        if len(np.unique(idx)) != len(idx):
            raise InputError("sample_index holds duplicates; give each measured architecture once")
        if not np.isfinite(y).all() or (y <= 0).any():
            raise InputError("sample_latency must be finite and positive (ms)")
        X = None
        if ops is not None:
            ops_arr = np.asarray(ops)
            if ops_arr.ndim != 2 or ops_arr.shape[0] != n or not np.issubdtype(ops_arr.dtype, np.integer):
                raise InputError(f"ops must be an integer (n_archs={n}, n_edges) array, got "
                                 f"shape {ops_arr.shape}, dtype {ops_arr.dtype}")
            k = int(ops_arr.max()) + 1 if n_ops is None else int(n_ops)
            X = np.zeros((n, ops_arr.shape[1] * k + 1))
            X[:, 0] = 1.0
            X[np.arange(n)[:, None], 1 + np.arange(ops_arr.shape[1])[None, :] * k + ops_arr] = 1.0
        method = self.method
        if method in ("ensemble", "op-prior") and X is None:
            if method == "op-prior":
                raise InputError("method 'op-prior' needs ops (the op index of every edge)")
            method = "reference"
        ly = np.log(y)
        logref = np.log(ref)
        preds = []
        if method in ("ensemble", "reference"):
            preds.append(self._fit_reference(logref, idx, ly))
        if method in ("ensemble", "op-prior"):
            assert X is not None
            preds.append(self._fit_op_prior(logref, X, idx, ly))
        self.log_pred_ = np.mean(preds, axis=0)
        self.method_ = method
        self.n_samples_ = len(idx)
        return self

    def _fit_reference(self, logref: np.ndarray, idx: np.ndarray, ly: np.ndarray) -> np.ndarray:
        sd = logref.std(axis=0)
        sd[sd == 0] = 1.0
        Z = (logref - logref.mean(axis=0)) / sd
        n = Z.shape[0]
        F = np.c_[np.ones(n), -np.ones(n), Z]
        w, _ = nnls(F[idx], ly)
        self.weights_ = w[2:]
        return F @ w

    def _fit_op_prior(self, logref: np.ndarray, X: np.ndarray, idx: np.ndarray, ly: np.ndarray) -> np.ndarray:
        # ridge-regularised normal equations (near the min-norm least-squares fit, much faster)
        W = np.linalg.solve(X.T @ X + 1e-6 * np.eye(X.shape[1]), X.T @ logref)  # (p, n_devices)
        mu = W.mean(axis=1)
        if W.shape[1] > 1:
            C = np.cov(W) + 1e-6 * np.eye(W.shape[0])
        else:
            C = np.eye(W.shape[0]) * 1e-2
        Xs = X[idx]
        K = Xs @ C @ Xs.T
        r = ly - Xs @ mu
        best: tuple[float, float] | None = None
        for s2 in self.noise_grid:
            G = np.linalg.inv(K + float(s2) * np.eye(len(idx)))
            loo = (G @ r) / np.diag(G)
            err = float(np.mean(loo ** 2))
            if best is None or err < best[0]:
                best = (err, float(s2))
        assert best is not None
        self.noise_ = best[1]
        alpha = np.linalg.solve(K + self.noise_ * np.eye(len(idx)), r)
        return X @ mu + X @ (C @ (Xs.T @ alpha))

    def predict(self, index: Any = None) -> np.ndarray:
        """Predicted latency (ms) of the architectures ``index`` (all when ``None``).

        Raises:
            NotFittedError: before ``fit``.
            InputTypeError / InputError: ``index`` not integers / outside ``0..n_archs-1``.
        """
        if not hasattr(self, "log_pred_"):
            raise NotFittedError("FewShotLatencyPredictor is not fitted; call fit() first")
        pred = np.exp(self.log_pred_)
        if index is None:
            return pred
        idx = np.asarray(index)
        if idx.dtype == np.bool_ or not np.issubdtype(idx.dtype, np.integer):
            raise InputTypeError(f"index must be integer arch indices, got dtype {idx.dtype}")
        bad = idx[(idx < 0) | (idx >= len(pred))]
        if bad.size:
            raise InputError(f"index must hold arch indices in 0..{len(pred) - 1}, got "
                             f"{int(bad.flat[0])}")
        return pred[idx]


def leave_one_device_out(latencies: Any, devices: Sequence[str], *, ops: Any = None,
                         n_samples: int = 10, n_repeats: int = 5, method: str = "ensemble",
                         sample_index: Any = None, groups: Sequence[str] | None = None,
                         random_state: RandomState = 0) -> pd.DataFrame:
    """Leave-one-device-out evaluation of :class:`FewShotLatencyPredictor`.

    For each device: the other devices are the reference (with ``groups``, all devices of the
    held-out device's group are left out, e.g. every batch size of one GPU); ``n_samples``
    architectures are drawn at random (``n_repeats`` times) or taken from ``sample_index``;
    Spearman's rho and Kendall's tau are computed on all *other* architectures.

    Args:
        latencies: ``(n_archs, n_devices)`` ms.
        devices: the device names (columns).
        ops: ``(n_archs, n_edges)`` op indices (for ``op-prior`` / ``ensemble``).
        n_samples: measured architectures on the held-out device.
        n_repeats: random draws per device (ignored with ``sample_index``).
        method: see :class:`FewShotLatencyPredictor`.
        sample_index: a fixed set of sample indices (e.g. HELP's hardware-embedding archs).
        groups: a group name per device.
        random_state: seed of the draws.

    Returns:
        DataFrame with one row per device: ``device``, ``spearman`` (mean over repeats),
        ``spearman_std``, ``kendall``, ``n_reference``.
    """
    lat = _as_matrix(latencies)
    devices = list(devices)
    if len(devices) != lat.shape[1]:
        raise InputError(f"devices must name the {lat.shape[1]} columns, got {len(devices)} names")
    if groups is not None and len(groups) != len(devices):
        raise InputError(f"groups must give one group per device ({len(devices)}), got {len(groups)}")
    rng = check_random_state(random_state)
    n = lat.shape[0]
    rows = []
    for t, name in enumerate(devices):
        keep = [j for j in range(len(devices)) if j != t and (groups is None or groups[j] != groups[t])]
        if not keep:
            raise InputError(f"no reference device left when holding out {name!r}")
        ref = lat[:, keep]
        draws = ([np.asarray(sample_index)] if sample_index is not None
                 else [rng.choice(n, n_samples, replace=False) for _ in range(n_repeats)])
        rhos, taus = [], []
        for idx in draws:
            model = FewShotLatencyPredictor(method=method).fit(ref, idx, lat[idx, t], ops=ops)
            mask = np.ones(n, bool)
            mask[idx] = False
            pred = model.log_pred_[mask]
            rhos.append(float(spearmanr(pred, lat[mask, t])[0]))
            taus.append(float(kendalltau(pred, lat[mask, t])[0]))
        rows.append({"device": name, "spearman": float(np.mean(rhos)),
                     "spearman_std": float(np.std(rhos)), "kendall": float(np.mean(taus)),
                     "n_reference": len(keep)})
        logger.info("few-shot %s: rho=%.3f", name, rows[-1]["spearman"])
    return pd.DataFrame(rows)
