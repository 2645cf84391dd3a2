"""Saving and loading fitted warm starters: the loaded one suggests exactly as the original."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    MissingDataError,
    NotFittedError,
    SchemaVersionError,
)
from warmnas.warmstart import (
    KNNWarmStarter,
    PMFWarmStarter,
    PortfolioWarmStarter,
    RandomSearch,
    WarmStarter,
)

FAST_PMF = dict(n_latent=3, n_iter=150, lr=0.05)


def _check_same_suggestions(a: WarmStarter, b: WarmStarter, perf: pd.DataFrame,
                            query, row: pd.Series) -> None:
    """suggest(...) and a 10-step ask/tell loop give the same ids and values on ``a`` and ``b``."""
    told = {perf.columns[3]: float(row.iloc[3])}
    for observed in (None, told):
        sa = a.suggest(query, 8, observed=observed, random_state=3)
        sb = b.suggest(query, 8, observed=observed, random_state=3)
        assert sa.config_ids == sb.config_ids
        np.testing.assert_allclose(sb.scores, sa.scores, rtol=0, atol=1e-12)
        np.testing.assert_allclose(sb.stddev, sa.stddev, rtol=0, atol=1e-12)
        assert sa.method == sb.method and sa.direction == sb.direction
        if sa.neighbors is None:
            assert sb.neighbors is None
        else:
            assert sb.neighbors is not None
            assert sa.neighbors.index.tolist() == sb.neighbors.index.tolist()
            np.testing.assert_array_equal(sa.neighbors.to_numpy(), sb.neighbors.to_numpy())
    qa = a.start(query, random_state=5)
    qb = b.start(query, random_state=5)
    for _ in range(10):
        ca, cb = qa.ask(), qb.ask()
        assert ca == cb
        qa.tell(ca, float(row[ca]))
        qb.tell(cb, float(row[cb]))
    pd.testing.assert_frame_equal(qa.history, qb.history)


def _roundtrip(starter: WarmStarter, tmp_path) -> WarmStarter:
    path = starter.save(tmp_path / "starter.npz")
    assert path == tmp_path / "starter.npz"
    # a plain npz: every member loads without pickle
    with np.load(path, allow_pickle=False) as npz:
        for key in npz.files:
            npz[key]
    loaded = WarmStarter.load(path)
    assert type(loaded) is type(starter)
    return loaded


def _params(starter: WarmStarter) -> dict:
    import inspect

    names = [p for p in inspect.signature(type(starter).__init__).parameters
             if p not in ("self", "args", "kwargs")]
    return {n: getattr(starter, n) for n in names}


STARTERS = {
    "knn": lambda: KNNWarmStarter(),
    "knn-mean-l2-standard": lambda: KNNWarmStarter(n_neighbors=7, metric="l2",
                                                   scaling="standard", strategy="mean"),
    "portfolio": lambda: PortfolioWarmStarter(),
    "portfolio-rank": lambda: PortfolioWarmStarter(strategy="rank"),
    "random": lambda: RandomSearch(),
    "pmf": lambda: PMFWarmStarter(**FAST_PMF),
    "pmf-global-knn-l2": lambda: PMFWarmStarter(**FAST_PMF, prior_mean="global",
                                                knn=KNNWarmStarter(metric="l2")),
}


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("label", list(STARTERS))
def test_saved_starter_suggests_exactly_as_the_original(label, direction, planted_data,
                                                         tmp_path):
    perf, meta = planted_data
    if direction == "maximize":
        perf = -perf
    holes = perf.copy()
    holes.iloc[5:20, 2:9] = np.nan  # missing entries exercise the masked PMF path and kNN ranks
    starter = STARTERS[label]().fit(holes.iloc[1:], meta.iloc[1:], direction=direction)
    loaded = _roundtrip(starter, tmp_path)
    assert loaded.direction_ == direction
    pd.testing.assert_frame_equal(loaded.performance_, starter.performance_)
    pd.testing.assert_frame_equal(loaded.meta_features_, starter.meta_features_)
    for name, value in _params(starter).items():
        if isinstance(value, WarmStarter):
            assert type(getattr(loaded, name)) is type(value)
            assert _params(getattr(loaded, name)) == _params(value)
        else:
            assert getattr(loaded, name) == value, name
    _check_same_suggestions(starter, loaded, perf, meta.iloc[0], perf.iloc[0])


@pytest.mark.parametrize("label", ["portfolio", "random", "pmf"])
def test_saved_starter_without_meta_features(label, planted_data, tmp_path):
    perf, _ = planted_data
    starter = STARTERS[label]().fit(perf.iloc[1:])
    loaded = _roundtrip(starter, tmp_path)
    assert loaded.meta_features_ is None
    if isinstance(loaded, PMFWarmStarter):
        assert loaded.knn_ is None
    _check_same_suggestions(starter, loaded, perf, None, perf.iloc[0])


def test_saved_pmf_on_the_oboe_slice(oboe_slice, tmp_path):
    perf, feats = oboe_slice
    pmf = PMFWarmStarter(n_latent=5, n_iter=60).fit(perf.iloc[1:], feats.iloc[1:])
    loaded = _roundtrip(pmf, tmp_path)
    assert isinstance(loaded, PMFWarmStarter)
    for attr in ("latent_", "covariance_", "config_mean_", "lengthscale_"):
        a, b = getattr(pmf, attr), getattr(loaded, attr)
        assert b.dtype == np.float64
        np.testing.assert_array_equal(a, b)
    for attr in ("noise_", "outputscale_", "nll_"):
        assert getattr(pmf, attr) == getattr(loaded, attr)
    _check_same_suggestions(pmf, loaded, perf, feats.iloc[0], perf.iloc[0])


def test_load_on_a_subclass_checks_the_class(planted_data, tmp_path):
    perf, meta = planted_data
    path = KNNWarmStarter().fit(perf, meta).save(tmp_path / "knn.npz")
    assert isinstance(KNNWarmStarter.load(path), KNNWarmStarter)
    with pytest.raises(InputError, match=r"knn\.npz.*KNNWarmStarter.*not a PortfolioWarmStarter"):
        PortfolioWarmStarter.load(path)


def test_save_overwrites_and_accepts_str_paths(planted_data, tmp_path):
    perf, meta = planted_data
    path = str(tmp_path / "s.npz")
    PortfolioWarmStarter().fit(perf).save(path)
    KNNWarmStarter().fit(perf, meta).save(path)
    assert isinstance(WarmStarter.load(path), KNNWarmStarter)
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]  # no temporary file left


@pytest.mark.parametrize("starter", [KNNWarmStarter(), PMFWarmStarter(), RandomSearch(),
                                     PortfolioWarmStarter()])
def test_unfitted_starter_cannot_be_saved(starter, tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        starter.save(tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


# ------------------------------------------------------------------------------ damaged files
@pytest.fixture
def saved_pmf(planted_data, tmp_path):
    perf, meta = planted_data
    return PMFWarmStarter(n_latent=2, n_iter=5).fit(perf, meta).save(tmp_path / "pmf.npz")


def _rewrite(path, edit) -> None:
    """Rewrite the saved file with ``edit(meta: dict, arrays: dict)`` applied."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    edit(meta, arrays)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def test_load_missing_file(tmp_path):
    with pytest.raises(MissingDataError, match=r"nothing\.npz.*no such file"):
        WarmStarter.load(tmp_path / "nothing.npz")


def test_load_garbage_and_truncated_files(saved_pmf, tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(CorruptDatabaseError, match=r"garbage\.npz.*refit.*save"):
        WarmStarter.load(garbage)
    data = saved_pmf.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        truncated = tmp_path / f"cut{cut}.npz"
        truncated.write_bytes(data[:cut])
        with pytest.raises(CorruptDatabaseError, match=rf"cut{cut}\.npz.*refit"):
            WarmStarter.load(truncated)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(CorruptDatabaseError, match=r"other\.npz.*not a saved warm starter"):
        WarmStarter.load(other)


def test_load_flipped_bytes_are_detected(saved_pmf, tmp_path):
    data = bytearray(saved_pmf.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 8] = bytes(b ^ 0xFF for b in data[mid:mid + 8])
    flipped = tmp_path / "flipped.npz"
    flipped.write_bytes(bytes(data))
    with pytest.raises(CorruptDatabaseError, match=r"flipped\.npz"):
        WarmStarter.load(flipped)


def test_load_unknown_class(saved_pmf):
    _rewrite(saved_pmf, lambda meta, arrays: meta.update({"class": "EvalStarter"}))
    with pytest.raises(CorruptDatabaseError, match=r"pmf\.npz.*unknown warm starter class "
                                                   r"'EvalStarter'.*refit"):
        WarmStarter.load(saved_pmf)


def test_load_newer_format_version(saved_pmf):
    _rewrite(saved_pmf, lambda meta, arrays: meta.update({"format_version": 99}))
    with pytest.raises(SchemaVersionError, match=r"pmf\.npz.*format version 99.*reads 1"):
        WarmStarter.load(saved_pmf)


@pytest.mark.parametrize("key", ["performance", "pmf.covariance", "pmf.latent", "knn_.offset",
                                 "pmf.zfill", "pmf.portfolio"])
def test_load_array_of_the_wrong_shape(saved_pmf, key):
    def edit(meta, arrays):
        arrays[key] = arrays[key][:-1]

    _rewrite(saved_pmf, edit)
    with pytest.raises(CorruptDatabaseError, match=rf"pmf\.npz.*{key}.*shape.*refit"):
        WarmStarter.load(saved_pmf)


def test_load_missing_array_and_wrong_dtype(saved_pmf, tmp_path):
    _rewrite(saved_pmf, lambda meta, arrays: arrays.pop("pmf.covariance"))
    with pytest.raises(CorruptDatabaseError, match=r"pmf\.npz.*pmf\.covariance.*missing"):
        WarmStarter.load(saved_pmf)


def test_load_wrong_dtype(saved_pmf):
    def edit(meta, arrays):
        arrays["pmf.latent"] = arrays["pmf.latent"].astype(np.float32)

    _rewrite(saved_pmf, edit)
    with pytest.raises(CorruptDatabaseError, match=r"pmf\.latent.*float64"):
        WarmStarter.load(saved_pmf)


def test_load_bad_ids_and_direction(saved_pmf, tmp_path):
    def edit(meta, arrays):
        meta["state"]["config_ids"] = meta["state"]["config_ids"][:-1]

    _rewrite(saved_pmf, edit)
    with pytest.raises(CorruptDatabaseError, match=r"pmf\.npz.*performance.*shape"):
        WarmStarter.load(saved_pmf)
    _rewrite(saved_pmf, lambda meta, arrays: meta["state"].update({"direction": "sideways"}))
    with pytest.raises(CorruptDatabaseError, match=r"direction"):
        WarmStarter.load(saved_pmf)


def test_saved_file_is_a_zip_without_pickles(saved_pmf):
    with zipfile.ZipFile(saved_pmf) as zf:
        names = zf.namelist()
    assert "__meta__.npy" in names and all(n.endswith(".npy") for n in names)


@pytest.mark.parametrize("param", [("n_latent", 0), ("prior_mean", "eval"), ("lr", -1.0),
                                   ("knn", {"__starter__": "KNNWarmStarter",
                                            "params": {"strategy": "worst"}})])
def test_load_invalid_stored_parameters(saved_pmf, param):
    name, value = param
    _rewrite(saved_pmf, lambda meta, arrays: meta["params"].update({name: value}))
    with pytest.raises(CorruptDatabaseError, match=r"pmf\.npz.*stored parameter is invalid"):
        WarmStarter.load(saved_pmf)


def test_load_invalid_nested_knn_parameters(saved_pmf):
    _rewrite(saved_pmf, lambda meta, arrays: meta["state"]["knn_"]["params"].update(
        {"metric": "cosine"}))
    with pytest.raises(CorruptDatabaseError, match=r"pmf\.npz.*metric must be"):
        WarmStarter.load(saved_pmf)


def test_load_onto_another_device(planted_data, tmp_path):
    """A PMF fitted on a GPU machine (its ``device`` parameter says cuda) loads on a CPU-only
    one with ``device="cpu"``; without it, the error says so (not torch's own message)."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    perf, meta = planted_data
    pmf = PMFWarmStarter(**FAST_PMF).fit(perf.iloc[1:], meta.iloc[1:])
    path = pmf.save(tmp_path / "pmf.npz")
    _rewrite(path, lambda m, a: m["params"].__setitem__("device", "cuda"))
    with pytest.raises(InputError, match=r"pmf\.npz was saved for device 'cuda'.*"
                                         r"WarmStarter\.load\(path, device='cpu'\)"):
        WarmStarter.load(path)
    loaded = WarmStarter.load(path, device="cpu")
    assert loaded.device == "cpu"
    _check_same_suggestions(pmf, loaded, perf, meta.iloc[0], perf.iloc[0])
    # starters without a device accept the argument and ignore it
    knn = KNNWarmStarter().fit(perf, meta).save(tmp_path / "knn.npz")
    assert isinstance(WarmStarter.load(knn, device="cpu"), KNNWarmStarter)


# ------------------------------------------------------------------ user subclasses (no import)
class _BestOfNeighbours(KNNWarmStarter):
    """A user's kNN variant with one more constructor argument (stored as given)."""

    def __init__(self, n_neighbors: int = 5, boost: float = 0.5) -> None:
        super().__init__(n_neighbors=n_neighbors)
        self.boost = boost


class _Median(WarmStarter):
    """A user's starter with fitted state of its own, saved by its _get_state/_set_state."""

    name = "median"

    def __init__(self, quantile: float = 0.5) -> None:
        self.quantile = quantile

    def _fit(self) -> None:
        self.order_ = np.argsort(np.nanquantile(self._Y, self.quantile, axis=0), kind="stable")

    def _next(self, ctx, observed, values, pending, available, rng) -> int:
        return int(next(p for p in self.order_ if available[p]))

    def _get_state(self):
        return {"n": len(self.order_)}, {"order": self.order_.astype(np.int64)}

    def _set_state(self, reader) -> None:
        self.order_ = reader.permutation("order", int(reader.value("n", int)))


class _Forgetful(_Median):
    """Keeps fitted state that its _get_state does not save."""

    def _fit(self) -> None:
        super()._fit()
        self.cache_ = np.ones(3)


def test_a_user_subclass_is_saved_and_loaded_by_naming_its_class(planted_data, tmp_path):
    perf, meta = planted_data
    for starter, query in ((_BestOfNeighbours(n_neighbors=3, boost=2.0).fit(perf, meta),
                            meta.iloc[0]),
                           (_Median(quantile=0.25).fit(perf), None)):
        path = starter.save(tmp_path / f"{starter.name}.npz")
        loaded = type(starter).load(path)
        assert type(loaded) is type(starter)
        assert {k: v for k, v in vars(loaded).items() if not k.endswith("_")
                and not k.startswith("_")} == {k: v for k, v in vars(starter).items()
                                               if not k.endswith("_") and not k.startswith("_")}
        _check_same_suggestions(starter, loaded, perf, query, perf.iloc[0])
        # warmnas never imports a class named in a file: the caller names it
        with pytest.raises(InputError, match=rf"holds the user warm starter "
                           rf"'[\w.]*{type(starter).__name__}'.*"
                           rf"{type(starter).__name__}\.load\(path\)"):
            WarmStarter.load(path)
    with pytest.raises(InputError, match=r"holds a _Median, not a _BestOfNeighbours"):
        _BestOfNeighbours.load(tmp_path / "median.npz")
    with pytest.raises(InputError, match=r"holds a KNNWarmStarter, not a _Median"):
        _Median.load(KNNWarmStarter().fit(perf, meta).save(tmp_path / "knn.npz"))


def test_a_user_subclass_with_unsaved_fitted_state_is_refused_before_writing(planted_data,
                                                                             tmp_path):
    perf, _ = planted_data
    with pytest.raises(NotImplementedError,
                       match=r"_Forgetful.*\['cache_'\].*_get_state.*_set_state"):
        _Forgetful().fit(perf).save(tmp_path / "f.npz")
    assert not (tmp_path / "f.npz").exists()

    class _Clobbering(_Median):  # its state would overwrite what every starter stores
        def _get_state(self):
            state, arrays = super()._get_state()
            return {**state, "direction": "up"}, {**arrays, "performance": np.zeros(1)}

    with pytest.raises(NotImplementedError, match=r"_Clobbering._get_state\(\) uses the "
                       r"names \['direction', 'performance'\], which every starter's file "
                       r"stores"):
        _Clobbering().fit(perf).save(tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()
