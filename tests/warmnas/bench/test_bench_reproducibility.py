"""Reproducibility of benchmark studies: the seed is validated, the global RNGs are untouched."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from warmnas import MetaDatabase
from warmnas.bench import surrogate_tasks
from warmnas.bench.evaluators import OpenMLCVEvaluator
from warmnas.bench.study import surrogate_study
from warmnas.errors import InputError, InputTypeError


def _global_states():
    return np.random.get_state()[1].copy(), random.getstate(), torch.random.get_rng_state()  # noqa: NPY002


def _study(tmp_path, name, random_state, **kw):
    db = MetaDatabase(f"sqlite:///{tmp_path / name}")
    return surrogate_study("oboe", "knn,random", db=db, budget=3, tasks=4,
                           random_state=random_state, show_progress=False, **kw)


def test_surrogate_study_same_seed_same_curves_global_rngs_untouched(tmp_path):
    before = _global_states()
    a = _study(tmp_path, "a.db", 5, folds=2)
    after = _global_states()
    assert np.array_equal(before[0], after[0]) and before[1] == after[1]
    assert torch.equal(before[2], after[2])
    b = _study(tmp_path, "b.db", 5, folds=2)
    cols = ["task", "method", "step", "config_id", "value"]
    assert a.curves[cols].equals(b.curves[cols])
    c = _study(tmp_path, "c.db", 6, folds=2)
    rand = a.curves[a.curves.method == "random"]
    assert not rand.config_id.tolist() == c.curves[c.curves.method == "random"].config_id.tolist()


@pytest.mark.parametrize("bad", ["abc", 1.5, True, None, np.random.default_rng(0)])
def test_study_seed_must_be_an_int(tmp_path, bad):
    # a Generator or None used to be turned into a seed through str(): a Generator's repr holds
    # its memory address (a different study each run), None a fixed seed
    with pytest.raises(InputTypeError, match=r"random_state must be a non-negative int seed.*got"):
        _study(tmp_path, "x.db", bad)


def test_study_seed_must_not_be_negative(tmp_path, oboe):
    with pytest.raises(InputError, match=r"random_state must be a non-negative int seed, got -1"):
        _study(tmp_path, "x.db", -1, folds=2)
    prior, ev = oboe
    with pytest.raises(InputError, match="random_state must be a non-negative int seed"):
        surrogate_tasks(prior, ev, 4, folds=2, random_state=-3)
    with pytest.raises(InputTypeError, match="random_state must be a non-negative int seed"):
        OpenMLCVEvaluator(random_state=1.5)  # used to be truncated to 1 silently


def test_study_seed_accepts_numpy_ints(tmp_path):
    a = _study(tmp_path, "a.db", np.int64(2))
    b = _study(tmp_path, "b.db", 2)
    cols = ["task", "method", "step", "config_id", "value"]
    assert a.curves[cols].equals(b.curves[cols])
    assert a.info["random_state"] == 2 and type(a.info["random_state"]) is int


def test_surrogate_study_in_a_process_pool_equals_the_serial_one(tmp_path):
    from warmnas.bench import PoolExecutor

    serial = _study(tmp_path, "serial.db", 4, folds=2)
    with PoolExecutor(2) as pool:
        pooled = _study(tmp_path, "pool.db", 4, folds=2, executor=pool)
    assert pooled.executor != serial.executor
    cols = ["task", "method", "step", "config_id", "value", "best"]
    assert pooled.curves[cols].equals(serial.curves[cols])
