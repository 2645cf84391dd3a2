"""Probabilistic matrix factorisation warm starter (Fusi, Sheth & Elibol, NeurIPS 2018).

The model, fitted on the tasks x configurations matrix (missing entries allowed):

* each task's row is standardised (its observed mean and standard deviation; lower is better);
  ``m`` is each configuration's mean standardised value over the tasks;
* configuration ``c`` gets a latent position ``x_c`` in ``R^Q`` (PCA initialisation); the residual
  row of every task is a draw of one Gaussian process over those positions,
  ``z_t - m ~ N(0, K + noise * I)``, ``K = outputscale * RBF_ARD(x_c, x_c')`` (gpytorch kernels,
  float64), with a standard-normal prior on the positions (the GP-LVM);
* positions, kernel and noise are learnt by maximising the marginal likelihood of the observed
  entries (Adam, full batch; tasks with missing entries are handled exactly by masking, in
  mini-batches).

For a new task, after ``n`` results ``y_O``, its values are modelled as
``y = mu + s * (prior_mean + g)``, ``g ~ N(0, residual_scale * (K + noise * I))``, with a flat prior on
the offset ``mu`` (integrated out analytically), a log-normal prior on the scale ``s`` fitted to the
training tasks (integrated on a grid) and, with ``prior_mean="neighbors"``, a mixture over the
nearest database tasks in meta-feature space (each one's standardised row as the prior mean,
weighted by ``exp(-distance / (temperature * median distance of the 10 nearest))`` times how well it
explains ``y_O``). The posterior over every configuration is a Gaussian mixture; the next
configuration maximises its log expected improvement
(:mod:`warmnas.warmstart.acquisition`). The first ``n_init`` configurations come from the kNN
starter (as in the paper), or from the greedy portfolio when there are no meta-features.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from warmnas._random import check_random_state
from warmnas.errors import InputError
from warmnas.warmstart.acquisition import mixture_log_expected_improvement
from warmnas.warmstart.base import Context, WarmStarter
from warmnas.warmstart.knn import KNNWarmStarter
from warmnas.warmstart.portfolio import greedy_portfolio, normalized_regret_matrix

if TYPE_CHECKING:
    from warmnas.warmstart._persist import StateReader

logger = logging.getLogger(__name__)

__all__ = ["PMFWarmStarter", "GPLVM", "standardize_rows"]

_DTYPE = torch.float64
_MAX_COMPONENTS = 512


def standardize_rows(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardise each row of ``Y`` over its observed entries.

    Args:
        Y: ``n_tasks x n_configs`` (NaN missing).

    Returns:
        ``(Z, mean, std)``: ``Z`` like ``Y``; ``mean`` and ``std`` of length ``n_tasks`` (a row
        with zero spread gets std 1).
    """
    with np.errstate(all="ignore"):
        mean = np.nanmean(Y, axis=1)
        std = np.nanstd(Y, axis=1)
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
    return (Y - mean[:, None]) / std[:, None], mean, std


class GPLVM(torch.nn.Module):
    """Latent configuration positions with a shared GP over them (one draw per task).

    Args:
        latent: initial positions, ``n_configs x Q`` (float64).
        noise_floor: lower bound of the white-noise variance.
    """

    def __init__(self, latent: torch.Tensor, noise_floor: float = 1e-4) -> None:
        super().__init__()
        import gpytorch

        q = latent.shape[1]
        self.latent = torch.nn.Parameter(latent.clone())
        self.kernel = gpytorch.kernels.ScaleKernel(
            gpytorch.kernels.RBFKernel(ard_num_dims=q)
        ).to(device=latent.device, dtype=latent.dtype)
        self.kernel.base_kernel.lengthscale = torch.full(
            (1, q), math.sqrt(q), dtype=latent.dtype, device=latent.device
        )
        self.kernel.outputscale = torch.tensor(0.8, dtype=latent.dtype, device=latent.device)
        self.noise_module = gpytorch.likelihoods.GaussianLikelihood(
            noise_constraint=gpytorch.constraints.GreaterThan(noise_floor)
        ).to(device=latent.device, dtype=latent.dtype)
        self.noise_module.noise = torch.tensor(0.2, dtype=latent.dtype, device=latent.device)

    @property
    def noise(self) -> torch.Tensor:
        return self.noise_module.noise.reshape(())

    def covariance(self) -> torch.Tensor:
        """``K + noise * I``, ``n_configs x n_configs``."""
        K = self.kernel(self.latent).to_dense()
        eye = torch.eye(K.shape[0], dtype=K.dtype, device=K.device)
        return K + self.noise * eye

    def negative_log_likelihood(
        self,
        scatter: torch.Tensor | None,
        n_dense: int,
        masked: torch.Tensor | None,
        masks: torch.Tensor | None,
        weight: float,
    ) -> torch.Tensor:
        """Negative log marginal likelihood of the observed residuals (plus the latent prior).

        Args:
            scatter: ``R_d^T R_d`` of the ``n_dense`` complete rows (``n_configs^2``), or None.
            n_dense: number of complete rows.
            masked: residual rows with missing entries set to 0, ``b x n_configs``, or None.
            masks: their observed masks (bool, same shape).
            weight: factor applied to the masked rows' term (to unbias a mini-batch).
        """
        C = self.covariance()
        nll = 0.5 * (self.latent**2).sum()
        if scatter is not None and n_dense:
            L = torch.linalg.cholesky(C)
            logdet = 2.0 * torch.log(torch.diagonal(L)).sum()
            nll = nll + 0.5 * n_dense * logdet + 0.5 * torch.trace(torch.cholesky_solve(scatter, L))
        if masked is not None and masks is not None and masked.shape[0]:
            mf = masks.to(C.dtype)
            # decouple the missing entries: identity rows/cols, value 0 -> contributes nothing
            Cb = C * (mf[:, :, None] * mf[:, None, :])
            Cb = Cb + torch.diag_embed(1.0 - mf)
            Lb = torch.linalg.cholesky(Cb)
            logdet = 2.0 * torch.log(torch.diagonal(Lb, dim1=-2, dim2=-1)).sum(-1)
            alpha = torch.cholesky_solve(masked.unsqueeze(-1), Lb).squeeze(-1)
            quad = (masked * alpha).sum(-1)
            nll = nll + weight * 0.5 * (logdet + quad).sum()
        return nll


class PMFWarmStarter(WarmStarter):
    """PMF (GP-LVM) warm starter with log expected improvement, kNN-seeded.

    The defaults were chosen on the Oboe matrix with grouped 10-fold cross-validation over tasks
    (never on TabRepo or ASlib): 10 latent dimensions (the paper's 20 gave a mean regret at 10
    evaluations 9 % higher, within the noise) and 2 kNN seeds (the least that pins the new
    task's offset and scale; 3 seeds were on par, 5 worse).

    Args:
        n_latent: latent dimensions ``Q`` of the configuration embedding (10 suits Oboe's 219
            configurations; on spaces of about 100 or fewer, 5 did better in a post-hoc check,
            see docs/warmstart.md).
        n_init: configurations taken from the seed order (kNN, or the greedy portfolio without
            meta-features) before the posterior takes over.
        n_iter: Adam steps of the marginal-likelihood fit.
        lr: Adam learning rate.
        prior_mean: ``"neighbors"`` (mixture over the nearest tasks; needs meta-features, else
            falls back) or ``"global"`` (each configuration's mean over all tasks, as in the
            paper's zero-mean GP on centred rows).
        n_mixture_tasks: nearest tasks in the ``"neighbors"`` mixture.
        temperature: distance temperature of the mixture prior (in units of the median
            distance of the 10 nearest tasks).
        residual_scale: variance of the new task's residual around a prior mean, relative to
            the fitted GP covariance.
        n_scales: grid points for the new task's unknown scale.
        batch_size: tasks with missing entries per Adam step (complete rows always all count).
        noise_floor: lower bound of the GP's white-noise variance (standardised units).
        knn: the seeding kNN starter (copied at fit); default ``KNNWarmStarter()``.
        device: torch device of the fit and the posterior.
        random_state: seed of the mini-batches.

    Fitted attributes:
        latent_: ``n_configs x n_latent`` learnt configuration embedding (numpy).
        covariance_: ``n_configs x n_configs`` GP covariance ``K + noise I`` (numpy).
        config_mean_: ``n_configs`` mean standardised value of each configuration.
        noise_, outputscale_, lengthscale_: kernel hyperparameters.
        nll_: per-entry negative log likelihood at the end of the fit.
        knn_: the fitted seeding kNN starter, or None without meta-features.
    """

    name = "pmf"

    def __init__(
        self,
        n_latent: int = 10,
        n_init: int = 2,
        n_iter: int = 500,
        lr: float = 0.05,
        prior_mean: str = "neighbors",
        n_mixture_tasks: int = 100,
        temperature: float = 3.0,
        residual_scale: float = 0.5,
        n_scales: int = 11,
        batch_size: int = 64,
        noise_floor: float = 1e-4,
        knn: KNNWarmStarter | None = None,
        device: str | torch.device = "cpu",
        random_state: Any = 0,
    ) -> None:
        self.n_latent = n_latent
        self.n_init = n_init
        self.n_iter = n_iter
        self.lr = lr
        self.prior_mean = prior_mean
        self.n_mixture_tasks = n_mixture_tasks
        self.temperature = temperature
        self.residual_scale = residual_scale
        self.n_scales = n_scales
        self.batch_size = batch_size
        self.noise_floor = noise_floor
        self.knn = knn
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------------------------------ fit
    def _check_params(self) -> None:
        def positive_int(name: str, minimum: int = 1) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
                raise InputError(f"{name} must be an int >= {minimum}, got {v!r}.")

        positive_int("n_latent")
        positive_int("n_init", 0)
        positive_int("n_iter", 0)
        positive_int("n_mixture_tasks")
        positive_int("n_scales")
        positive_int("batch_size")
        for name in ("lr", "temperature", "residual_scale", "noise_floor"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise InputError(f"{name} must be a positive number, got {v!r}.")
        if self.prior_mean not in ("neighbors", "global"):
            raise InputError(
                f"prior_mean must be 'neighbors' or 'global', got {self.prior_mean!r}."
            )

    def _fit(self) -> None:
        self._check_params()
        Y = self._Y
        n_tasks, n_configs = Y.shape
        Z, _, row_std = standardize_rows(Y)
        m = np.nanmean(Z, axis=0)
        R = Z - m
        obs = ~np.isnan(R)
        log_std = np.log(row_std[np.nanstd(Y, axis=1) > 0]) if n_tasks else np.zeros(0)
        self._log_scale_mean = float(np.mean(log_std)) if len(log_std) else 0.0
        self._log_scale_sd = float(np.std(log_std)) if len(log_std) > 1 else 1.0
        self._log_scale_sd = max(self._log_scale_sd, 0.1)

        q = int(min(self.n_latent, n_configs))
        latent0 = self._pca_init(np.where(obs, R, 0.0), q)
        device = torch.device(self.device)
        model = GPLVM(torch.as_tensor(latent0, dtype=_DTYPE, device=device), self.noise_floor)
        dense = obs.all(axis=1)
        Rd = torch.as_tensor(R[dense], dtype=_DTYPE, device=device)
        scatter = Rd.T @ Rd if dense.any() else None
        Rm = torch.as_tensor(np.where(obs, R, 0.0)[~dense], dtype=_DTYPE, device=device)
        Mm = torch.as_tensor(obs[~dense], device=device)
        n_obs = int(obs.sum())
        rng = check_random_state(self.random_state)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        n_masked = Rm.shape[0]
        nll = torch.tensor(float("nan"))
        for _ in range(int(self.n_iter)):
            opt.zero_grad()
            if n_masked > self.batch_size:
                idx = torch.as_tensor(
                    rng.choice(n_masked, self.batch_size, replace=False), device=device
                )
                batch, bmask, weight = Rm[idx], Mm[idx], n_masked / self.batch_size
            else:
                batch, bmask, weight = Rm, Mm, 1.0
            nll = model.negative_log_likelihood(scatter, int(dense.sum()), batch, bmask, weight)
            (nll / n_obs).backward()
            opt.step()
        with torch.no_grad():
            self._C = model.covariance().detach()
            self.nll_ = float(nll.detach()) / max(n_obs, 1)
            self.latent_ = model.latent.detach().cpu().numpy()
            self.noise_ = float(model.noise)
            self.outputscale_ = float(model.kernel.outputscale)
            self.lengthscale_ = model.kernel.base_kernel.lengthscale.detach().cpu().numpy().ravel()
        self.covariance_ = self._C.cpu().numpy()
        self.config_mean_ = m
        self._Zfill = torch.as_tensor(np.where(obs, Z, m[None, :]), dtype=_DTYPE, device=device)
        self._m = torch.as_tensor(m, dtype=_DTYPE, device=device)
        self._device = device
        if self.meta_features_ is not None:
            base = self.knn if self.knn is not None else KNNWarmStarter()
            self.knn_: KNNWarmStarter | None = copy.deepcopy(base).fit(
                self.performance_, self.meta_features_, direction=self.direction_
            )
        else:
            self.knn_ = None
        self._portfolio = greedy_portfolio(normalized_regret_matrix(Y))
        logger.info("PMF fitted: %d tasks x %d configs, Q=%d, noise=%.3g, nll/entry=%.4f",
                    n_tasks, n_configs, q, self.noise_, self.nll_)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from warmnas.warmstart._persist import params_to_json

        state: dict[str, Any] = {
            "pmf": {
                "log_scale_mean": float(self._log_scale_mean),
                "log_scale_sd": float(self._log_scale_sd),
                "nll": float(self.nll_),
                "noise": float(self.noise_),
                "outputscale": float(self.outputscale_),
            },
            "knn_": None,
        }
        arrays = {
            "pmf.latent": np.asarray(self.latent_, dtype=np.float64),
            "pmf.covariance": np.asarray(self.covariance_, dtype=np.float64),
            "pmf.config_mean": np.asarray(self.config_mean_, dtype=np.float64),
            "pmf.lengthscale": np.asarray(self.lengthscale_, dtype=np.float64),
            "pmf.zfill": self._Zfill.detach().cpu().numpy().astype(np.float64, copy=False),
            "pmf.portfolio": np.asarray(self._portfolio, dtype=np.int64),
        }
        if self.knn_ is not None:
            knn_state, knn_arrays = self.knn_._get_state()
            state["knn_"] = {"class": type(self.knn_).__name__,
                             "params": params_to_json(self.knn_), **knn_state}
            arrays.update({f"knn_.{k}": v for k, v in knn_arrays.items()})
        return state, arrays

    def _set_state(self, reader: StateReader) -> None:
        from warmnas.warmstart._persist import build, share_base

        n_tasks, n_configs = self._Y.shape
        q = int(min(self.n_latent, n_configs))
        own = reader.nested("pmf")
        device = torch.device(self.device)
        self._log_scale_mean = own.number("log_scale_mean")
        self._log_scale_sd = own.number("log_scale_sd")
        self.nll_ = own.number("nll")
        self.noise_ = own.number("noise")
        self.outputscale_ = own.number("outputscale")
        self.latent_ = reader.array("pmf.latent", (n_configs, q))
        self.covariance_ = reader.array("pmf.covariance", (n_configs, n_configs))
        self.config_mean_ = reader.array("pmf.config_mean", (n_configs,))
        self.lengthscale_ = reader.array("pmf.lengthscale", (q,))
        zfill = reader.array("pmf.zfill", (n_tasks, n_configs))
        self._portfolio = reader.permutation("pmf.portfolio", n_configs)
        self._C = torch.as_tensor(self.covariance_, dtype=_DTYPE, device=device)
        self._Zfill = torch.as_tensor(zfill, dtype=_DTYPE, device=device)
        self._m = torch.as_tensor(self.config_mean_, dtype=_DTYPE, device=device)
        self._device = device
        knn_state = reader.state.get("knn_")
        if (knn_state is None) != (self.meta_features_ is None):
            reader.fail("the seeding kNN ('knn_') does not match the stored meta-features")
        self.knn_ = None
        if knn_state is not None:
            nested = reader.nested("knn_")
            knn = build(reader.path, nested.value("class", str), nested.value("params", dict))
            if not isinstance(knn, KNNWarmStarter):
                reader.fail(f"the seeding kNN is a {type(knn).__name__}")
            knn._check_params()
            share_base(knn, self.direction_, self.performance_, self.meta_features_, self._Y)
            knn._set_state(nested)
            self.knn_ = knn

    @staticmethod
    def _pca_init(R: np.ndarray, q: int) -> np.ndarray:
        """PCA of the configurations (columns of ``R``) to ``q`` dims, unit overall variance."""
        C = R.T - R.T.mean(axis=0, keepdims=True)
        U, S, _ = np.linalg.svd(C, full_matrices=False)
        X = U[:, :q] * S[:q]
        if X.shape[1] < q:
            X = np.pad(X, ((0, 0), (0, q - X.shape[1])))
        sd = X.std()
        return X / sd if sd > 0 else X

    # ------------------------------------------------------------------------------ new tasks
    def _context(self, query: Any, nan_policy: str) -> Context:
        if query is None:
            return Context(data={"seed": self._portfolio, "rows": None})
        if self.knn_ is None:
            raise InputError(
                "this PMF warm starter was fitted without meta-features, so it cannot use the "
                "new task's meta-features; fit it with meta_features=... or pass none."
            )
        kctx = self.knn_._context(query, nan_policy)
        data: dict[str, Any] = {"seed": self.knn_.neighbor_order(kctx), "rows": None}
        if self.prior_mean == "neighbors" and kctx.neighbors is not None:
            nb = kctx.neighbors.iloc[: self.n_mixture_tasks]
            d = nb.to_numpy()
            ref = float(np.median(d[: min(10, len(d))]))
            h = self.temperature * (ref if ref > 0 else 1.0)
            data["rows"] = torch.as_tensor(
                self.task_ids_.get_indexer(nb.index), device=self._device
            )
            data["log_prior"] = torch.as_tensor(-d / h, dtype=_DTYPE, device=self._device)
        return Context(query=kctx.query, neighbors=kctx.neighbors, data=data)

    def _components(self, ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
        """Prior means (``T x n_configs``, standardised) and their log weights (``T``)."""
        rows = ctx.data.get("rows")
        if rows is None:
            return self._m[None, :], torch.zeros(1, dtype=_DTYPE, device=self._device)
        lp = ctx.data["log_prior"]
        return self._Zfill[rows], lp - torch.logsumexp(lp, 0)

    def posterior(
        self, ctx: Context, observed: np.ndarray, values: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gaussian-mixture posterior over all configurations given the new task's results.

        Args:
            ctx: from :meth:`start` (``search.context``).
            observed: positions told (int array, ``n >= 1``), without failed runs.
            values: their values, lower is better.

        Returns:
            ``(means, stds, log_weights)``: ``n_components x n_configs`` twice and
            ``n_components``; values in the new task's own scale (lower is better).
        """
        dev = self._device
        idx = torch.as_tensor(np.asarray(observed, dtype=np.int64), device=dev)
        y = torch.as_tensor(np.asarray(values, dtype=np.float64), dtype=_DTYPE, device=dev)
        n = int(idx.numel())
        C = self._C
        lam = float(self.residual_scale)
        Coo = C[idx][:, idx] + 1e-9 * torch.eye(n, dtype=_DTYPE, device=dev)
        L = torch.linalg.cholesky(Coo)
        CuO = C[:, idx]  # n_configs x n
        W = torch.cholesky_solve(CuO.T, L).T  # n_configs x n  (C_uO C_OO^-1)
        one = torch.ones(n, dtype=_DTYPE, device=dev)
        Cinv_one = torch.cholesky_solve(one[:, None], L).squeeze(-1)
        a = one @ Cinv_one
        c = 1.0 - W @ one
        var_g = (torch.diagonal(C) - (W * CuO).sum(-1)).clamp_min(1e-12)
        logdet = 2.0 * torch.log(torch.diagonal(L)).sum()

        means0, log_prior = self._components(ctx)  # T x n_configs, T
        grid = torch.linspace(-3.0, 3.0, int(self.n_scales), dtype=_DTYPE, device=dev)
        if int(self.n_scales) == 1:
            grid = torch.zeros(1, dtype=_DTYPE, device=dev)
        log_s = self._log_scale_mean + self._log_scale_sd * grid  # S
        log_ps = -0.5 * grid**2
        log_ps = log_ps - torch.logsumexp(log_ps, 0)
        s = torch.exp(log_s)
        r = y[None, None, :] - s[None, :, None] * means0[:, idx][:, None, :]  # T, S, n
        mu = (r @ Cinv_one) / a  # T, S
        e = r - mu[..., None]
        Cinv_e = torch.cholesky_solve(e.reshape(-1, n).T, L).T.reshape(e.shape)
        quad = (e * Cinv_e).sum(-1) / (lam * s[None, :] ** 2)
        # restricted (REML) log likelihood of y under the component, offset integrated out
        ll = (
            -0.5 * quad
            - 0.5 * (logdet + n * math.log(lam) + 2.0 * n * log_s[None, :])
            - 0.5 * (torch.log(a) - 2.0 * log_s[None, :] - math.log(lam))
        )
        lw = (ll + log_ps[None, :] + log_prior[:, None]).reshape(-1)
        lw = lw - torch.logsumexp(lw, 0)
        # keep the components that matter (weight above e^-15 of the largest, at most 512)
        keep = torch.nonzero(lw > lw.max() - 15.0).squeeze(-1)
        if keep.numel() > _MAX_COMPONENTS:
            keep = torch.topk(lw, _MAX_COMPONENTS).indices
        lw = lw[keep] - torch.logsumexp(lw[keep], 0)
        n_s = s.shape[0]
        ti, si = keep // n_s, keep % n_s
        sk = s[si]
        means = mu[ti, si][:, None] + sk[:, None] * means0[ti] + e[ti, si] @ W.T  # K, n_c
        stds = torch.sqrt(lam * (sk**2)[:, None] * (var_g + c**2 / a)[None, :])
        return means, stds, lw

    def _with_believed(
        self, ctx: Context, observed: np.ndarray, values: np.ndarray, pending: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        ok = ~np.isnan(values)
        obs, vals = observed[ok], values[ok]
        for p in pending:  # kriging believer: a pending proposal scores its posterior mean
            if len(obs) == 0:
                break
            means, _, lw = self.posterior(ctx, obs, vals)
            guess = float((torch.exp(lw)[:, None] * means[:, int(p)][:, None]).sum())
            obs, vals = np.append(obs, p), np.append(vals, guess)
        return obs, vals

    def _next(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        rng: np.random.Generator,
    ) -> int:
        return self._next_scored(ctx, observed, values, pending, available, None)

    def _next_cost_aware(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        rng: np.random.Generator,
        log_cost: np.ndarray,
    ) -> int:
        """Expected improvement per predicted second (Snoek et al. 2012): ``log EI - log cost``
        over the configurations that fit; the kNN seeds in their order among those."""
        return self._next_scored(ctx, observed, values, pending, available, log_cost)

    def _next_scored(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        log_cost: np.ndarray | None,
    ) -> int:
        if len(observed) + len(pending) < self.n_init:
            seed = ctx.data["seed"]
            return int(seed[available[seed]][0])
        obs, vals = self._with_believed(ctx, observed, values, pending)
        mask = torch.as_tensor(available, device=self._device)
        if len(obs) == 0:
            means0, log_prior = self._components(ctx)
            score = -(torch.exp(log_prior)[:, None] * means0).sum(0)
        else:
            means, stds, lw = self.posterior(ctx, obs, vals)
            score = mixture_log_expected_improvement(means, stds, lw, float(np.min(vals)))
            if log_cost is not None:
                score = score - torch.as_tensor(log_cost, dtype=_DTYPE, device=self._device)
        score = torch.where(mask, score, torch.full_like(score, -math.inf))
        return int(torch.argmax(score))

    def _predict(
        self, ctx: Context, observed: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        ok = ~np.isnan(values)
        obs, vals = observed[ok], values[ok]
        if len(obs) == 0:
            # no result yet: the prior tasks' own values (raw scale), mixed by their weights
            rows = ctx.data.get("rows")
            if rows is None:
                rows_np = np.arange(self._Y.shape[0])
                w = np.full(len(rows_np), 1.0 / len(rows_np))
            else:
                rows_np = rows.cpu().numpy()
                lp = ctx.data["log_prior"].cpu().numpy()
                w = np.exp(lp - lp.max())
                w /= w.sum()
            Z, mean, std = standardize_rows(self._Y[rows_np])
            Zf = np.where(np.isnan(Z), self.config_mean_[None, :], Z)
            raw = mean[:, None] + std[:, None] * Zf
            mu = w @ raw
            var = w @ (raw**2 + (std[:, None] ** 2) * np.diag(self.covariance_)[None, :])
            return mu, np.sqrt(np.maximum(var - mu**2, 0.0))
        means, stds, lw = self.posterior(ctx, obs, vals)
        wt = torch.exp(lw)[:, None]
        mean_t = (wt * means).sum(0)
        var_t = (wt * (stds**2 + means**2)).sum(0) - mean_t**2
        return mean_t.cpu().numpy(), torch.sqrt(var_t.clamp_min(0.0)).cpu().numpy()
