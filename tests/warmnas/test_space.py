"""Configuration spaces: validation, canonical JSON, stable ids, encoding."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from warmnas.errors import ConfigSpaceError, InputError, InputTypeError
from warmnas.space import (
    NB201_OPS,
    Categorical,
    ConfigSpace,
    Float,
    GenericSpace,
    Integer,
    NB201Space,
    canonical_json,
    config_id,
    generic_space,
    nb201_space,
    oboe_config,
    oboe_pipeline,
    oboe_space,
    space_from_json,
    tabrepo_lightgbm_space,
)


def _space() -> ConfigSpace:
    return ConfigSpace("demo", [
        Categorical("model", choices=("svm", "tree")),
        Float("C", 1e-3, 1e3, log=True, condition=("model", ("svm",))),
        Integer("depth", 1, 32, condition=("model", ("tree",))),
        Categorical("bootstrap", choices=(True, False), optional=True, default=True,
                    condition=("model", ("tree",))),
    ])


def test_canonical_json_rules():
    text = canonical_json({"b": [1, 2.0, -0.0, np.float32(0.5), np.int64(3)], "a": None, "c": (True, "é")})
    assert text == '{"a":null,"b":[1,2.0,0.0,0.5,3],"c":[true,"\\u00e9"]}'
    assert canonical_json({"x": 1e-5, "y": 0.1}) == '{"x":1e-05,"y":0.1}'
    with pytest.raises(InputError, match=r"value\['x'\] is nan"):
        canonical_json({"x": float("nan")})
    with pytest.raises(InputTypeError, match="key 1 of type int"):
        canonical_json({1: "a"})
    with pytest.raises(InputTypeError, match="type set"):
        canonical_json({"x": {1, 2}})


def test_config_id_is_a_documented_sha256():
    cfg = {"lr": 0.1, "depth": 3}
    text = '{"config":{"depth":3,"lr":0.1},"space":"demo"}'
    assert config_id(cfg, "demo") == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert config_id(cfg, "demo") != config_id(cfg, "other")


def test_config_id_identical_in_a_fresh_interpreter():
    """Same config, other process (other hash seed, other dict order): same id."""
    code = ("from warmnas.space import oboe_space; "
            "print(oboe_space().config_id({'KNN:p': 2, 'algorithm': 'KNN', 'KNN:n_neighbors': 5}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123", "PATH": ""})
    here = oboe_space().config_id({"algorithm": "KNN", "KNN:n_neighbors": 5.0, "KNN:p": 2})
    assert out.stdout.strip() == here


def test_validate_normalises_and_checks_conditions():
    sp = _space()
    assert sp.validate({"model": "svm", "C": 1}) == {"model": "svm", "C": 1.0}
    assert isinstance(sp.validate({"model": "svm", "C": 1})["C"], float)
    assert sp.validate({"model": "tree", "depth": 4.0}) == {"model": "tree", "depth": 4}
    assert sp.config_id({"model": "svm", "C": 1}) == sp.config_id({"C": 1.0, "model": "svm"})
    with pytest.raises(ConfigSpaceError, match=r"'C' is 1e-05; expected a float in \[0.001, 1000.0\], log scale"):
        sp.validate({"model": "svm", "C": 1e-5})
    with pytest.raises(ConfigSpaceError, match="'depth' is 2.5; expected a int"):
        sp.validate({"model": "tree", "depth": 2.5})
    with pytest.raises(ConfigSpaceError, match="'depth' is set but inactive"):
        sp.validate({"model": "svm", "C": 1.0, "depth": 3})
    with pytest.raises(ConfigSpaceError, match="lacks the required hyperparameter 'C'"):
        sp.validate({"model": "svm"})
    with pytest.raises(ConfigSpaceError, match=r"'model' is 'knn'; expected one of \['svm', 'tree'\]"):
        sp.validate({"model": "knn"})
    with pytest.raises(ConfigSpaceError, match=r"does not define; known"):
        sp.validate({"model": "svm", "C": 1.0, "gamma": 2})
    with pytest.raises(InputTypeError, match="must be a dict"):
        sp.validate([("model", "svm")])
    with pytest.raises(ConfigSpaceError, match="'depth' is True"):
        sp.validate({"model": "tree", "depth": True})
    assert sp.contains({"model": "tree", "depth": 1}) and not sp.contains({"model": "x"})


def test_space_definition_errors():
    with pytest.raises(InputError, match="duplicate hyperparameter 'a'"):
        ConfigSpace("s", [Integer("a", 0, 1), Integer("a", 0, 2)])
    with pytest.raises(InputError, match="must be declared before it"):
        ConfigSpace("s", [Integer("a", 0, 1, condition=("b", (1,))), Integer("b", 0, 2)])
    with pytest.raises(InputError, match="need low < high"):
        Float("x", 1.0, 1.0)
    with pytest.raises(InputError, match="log-scale range needs low > 0"):
        Float("x", 0.0, 1.0, log=True)
    with pytest.raises(InputError, match="duplicate choice 1"):
        Categorical("c", choices=(1, 1.0))
    with pytest.raises(InputError, match="space name must be"):
        GenericSpace("bad name")


def test_encode_decode_round_trip():
    sp = _space()
    configs = [{"model": "svm", "C": 10.0}, {"model": "tree", "depth": 32, "bootstrap": False}]
    X = sp.encode(configs)
    assert X.shape == (2, sp.n_dims) == (2, 2 + 1 + 1 + 2)
    assert X.dtype == np.float64 and X.min() >= 0 and X.max() <= 1
    assert sp.encoded_names[:2] == ["model=svm", "model=tree"]
    np.testing.assert_allclose(X[0, 2], (np.log(10) - np.log(1e-3)) / (np.log(1e3) - np.log(1e-3)))
    back = sp.decode(X)
    assert back[1] == configs[1]
    assert back[0]["model"] == "svm" and back[0]["C"] == pytest.approx(10.0, rel=1e-12)
    # an omitted optional hyperparameter is encoded with its default
    np.testing.assert_array_equal(sp.encode([{"model": "tree", "depth": 1}])[0, 4:], [1.0, 0.0])
    with pytest.raises(InputError, match=r"shape \(n, 6\)"):
        sp.decode(np.zeros((1, 3)))


def test_sampling_is_valid_and_seeded():
    sp = _space()
    a, b = sp.sample(20, random_state=3), sp.sample(20, random_state=3)
    assert a == b and all(sp.contains(c) for c in a)
    assert a != sp.sample(20, random_state=4)
    nb = nb201_space().sample(5, random_state=0)
    assert nb == nb201_space().sample(5, random_state=0) and all(nb201_space().contains(c) for c in nb)


def test_json_round_trip_of_every_space():
    for sp in (_space(), oboe_space(), tabrepo_lightgbm_space(), nb201_space(), generic_space("g", ("a",))):
        again = space_from_json(json.loads(canonical_json(sp.to_json())))
        assert again == sp and again.to_json() == sp.to_json()
    with pytest.raises(InputError, match="unknown space type 'weird'"):
        space_from_json({"type": "weird", "name": "x"})


def test_nb201_space():
    sp = nb201_space()
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    assert sp.validate({"arch": arch}) == {"arch": arch}
    assert NB201Space.parse(arch)[2] == "avg_pool_3x3"
    X = sp.encode([{"arch": arch}])
    assert X.shape == (1, 30) and X.sum() == 6 and X[0, 5 * 2 + NB201_OPS.index("avg_pool_3x3")] == 1
    assert sp.decode(X) == [{"arch": arch}]
    with pytest.raises(ConfigSpaceError, match="unknown NB201 operation"):
        sp.validate({"arch": arch.replace("avg_pool_3x3", "max_pool_3x3")})
    with pytest.raises(ConfigSpaceError, match="not an NB201 arch string"):
        sp.validate({"arch": "|a~0|"})
    with pytest.raises(ConfigSpaceError, match="got keys"):
        sp.validate({"arch": arch, "x": 1})


def test_oboe_space_matches_the_oboe_grid(shared_data):
    grid = json.loads((shared_data / "oboe" / "classification.json").read_text())
    sp = oboe_space(grid)
    assert sp == oboe_space()  # the built-in grid is the shipped one
    header = (shared_data / "oboe" / "error_matrix.csv").open().readline()
    import csv

    pipelines = [ast.literal_eval(h) for h in next(csv.reader([header]))[1:]]
    ids = {sp.config_id(oboe_config(p)) for p in pipelines}
    assert len(ids) == len(pipelines) == 219
    for p in pipelines:
        back = oboe_pipeline(sp.validate(oboe_config(p)))
        assert back["algorithm"] == p["algorithm"]
        assert back["hyperparameters"] == p["hyperparameters"]  # 1 == 1.0 for AdaBoost's rate
    with pytest.raises(ConfigSpaceError, match="'KNN:n_neighbors' is 4"):
        sp.validate({"algorithm": "KNN", "KNN:n_neighbors": 4, "KNN:p": 1})
    assert sp.validate({"algorithm": "GNB"}) == {"algorithm": "GNB"}
    assert sp.encode([{"algorithm": "GNB"}]).shape == (1, sp.n_dims)


def test_tabrepo_space_holds_every_tabrepo_config(shared_data):
    raw = json.loads((shared_data / "tabrepo-lightgbm" / "configs_lightgbm.json").read_text())
    sp = tabrepo_lightgbm_space()
    ids = set()
    for entry in raw.values():
        hps = {k: v for k, v in entry["hyperparameters"].items() if k != "ag_args"}
        ids.add(sp.config_id(hps))
    assert len(ids) == len(raw) == 104
    assert sp.validate({}) == {}  # all defaults
    np.testing.assert_allclose(sp.encode([{}])[0, 1], 1.0)  # feature_fraction default 1.0
    with pytest.raises(ConfigSpaceError, match="'num_leaves' is 4"):
        sp.validate({"num_leaves": 4})


def test_generic_space():
    sp = generic_space("aslib/x", required=("algorithm",))
    assert sp.validate({"algorithm": "J48", "opts": [1, 2.0]}) == {"algorithm": "J48", "opts": [1, 2.0]}
    with pytest.raises(ConfigSpaceError, match=r"lacks the required key\(s\) \['algorithm'\]"):
        sp.validate({"x": 1})
    with pytest.raises(ConfigSpaceError, match="is nan"):
        sp.validate({"algorithm": "a", "x": float("nan")})
    with pytest.raises(InputError, match="no numeric encoding"):
        sp.encode([{"algorithm": "a"}])
