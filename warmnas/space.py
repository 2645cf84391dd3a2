"""Configuration spaces: typed hyperparameters, validation, numeric encoding, stable config ids.

A *configuration* is a plain ``dict`` mapping hyperparameter names to JSON values (str, int, float,
bool, None, and lists/dicts of those). A *space* says which configurations are valid:

- :class:`ConfigSpace`: typed hyperparameters (:class:`Categorical`, :class:`Integer`,
  :class:`Float` with optional log scale), optional ones (omitted = the library's default) and
  conditional ones (active only when a parent takes given values).
- :class:`NB201Space`: NAS-Bench-201 cells, ``{"arch": "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"}``.
- :class:`GenericSpace`: any JSON object (no numeric encoding); for sources without a typed space.

Canonical JSON and config ids
-----------------------------
:func:`canonical_json` writes a value as JSON with sorted keys, no whitespace, ASCII only, ints as
ints, floats by Python's shortest round-trip ``repr`` (``0.1``, ``1e-05``, ``2.0``; ``-0.0`` is
written ``0.0``), NumPy scalars converted to Python ones, tuples as lists; NaN and infinity are
refused. The id of a configuration within a space is::

    sha256(canonical_json({"space": space_name, "config": config})).hexdigest()[:16]

(:func:`config_id`). The space name is part of the id so that the same dict in two spaces (say
``{}`` = "all defaults" for LightGBM and for XGBoost) stays two configurations. A space's
:meth:`Space.validate` first normalises a config (``1`` becomes ``1.0`` for a float
hyperparameter, a grid value matches its declared type), so equal configurations get equal ids on
every machine and Python version.

Example::

    >>> space = ConfigSpace("demo", [Float("lr", 1e-4, 1.0, log=True), Integer("depth", 1, 8)])
    >>> space.validate({"lr": 1, "depth": 3})
    {'depth': 3, 'lr': 1.0}
    >>> space.config_id({"lr": 1, "depth": 3}) == space.config_id({"depth": 3, "lr": 1.0})
    True
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from warmnas._random import check_random_state
from warmnas.errors import ConfigSpaceError, InputError, InputTypeError

__all__ = [
    "canonical_json",
    "config_id",
    "Hyperparameter",
    "Categorical",
    "Integer",
    "Float",
    "Space",
    "ConfigSpace",
    "NB201Space",
    "GenericSpace",
    "NB201_OPS",
    "nb201_space",
    "oboe_space",
    "oboe_config",
    "oboe_pipeline",
    "tabrepo_lightgbm_space",
    "generic_space",
    "space_from_json",
]

CONFIG_ID_LENGTH = 16
#: the NAS-Bench-201 operations, in the order of the ``NB201_PRIMITIVES`` contract
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
_NB201_EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))


# --------------------------------------------------------------------------------------------
# canonical JSON and stable ids
# --------------------------------------------------------------------------------------------


def _normalize(value: Any, path: str) -> Any:
    """Turn ``value`` into plain JSON types (raising on what JSON cannot hold exactly)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            raise InputError(
                f"{path} is {x!r}; configurations must hold finite numbers "
                "(replace NaN/inf by a finite value or leave the hyperparameter out)"
            )
        return 0.0 if x == 0.0 else x
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InputTypeError(
                    f"{path} has a key {k!r} of type {type(k).__name__}; configuration keys "
                    "must be strings"
                )
            out[k] = _normalize(v, f"{path}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_normalize(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        return [_normalize(v, f"{path}[{i}]") for i, v in enumerate(value.tolist())]
    raise InputTypeError(
        f"{path} has a value of type {type(value).__name__} ({value!r}); configurations hold "
        "only str, int, float, bool, None, lists and dicts"
    )


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (sorted keys, no spaces, shortest float repr).

    Args:
        value: a JSON-like value (dicts with str keys, lists, tuples, str, int, float, bool, None,
            NumPy scalars/arrays).

    Returns:
        The JSON text; equal values give equal text on every machine and Python version.

    Raises:
        InputError: a float is NaN or infinite.
        InputTypeError: a key is not a string or a value has no JSON form.
    """
    return json.dumps(
        _normalize(value, "value"), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
        allow_nan=False,
    )


def config_id(config: Mapping[str, Any], space: str) -> str:
    """The stable id of ``config`` in the space named ``space`` (16 hex digits).

    ``sha256(canonical_json({"space": space, "config": config}))`` truncated to 16 hex digits.
    No validation happens here: use :meth:`Space.config_id` to normalise first.

    Raises:
        InputTypeError: ``config`` is not a mapping or ``space`` not a non-empty string.
    """
    if not isinstance(config, Mapping):
        raise InputTypeError(
            f"config must be a dict of hyperparameter values, got {type(config).__name__}"
        )
    if not isinstance(space, str) or not space:
        raise InputTypeError(f"space must be a non-empty space name, got {space!r}")
    text = canonical_json({"space": space, "config": config})
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:CONFIG_ID_LENGTH]


def _num_equal(a: Any, b: Any) -> bool:
    """Equal as grid values: same JSON kind, numbers compared by value (1 == 1.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


# --------------------------------------------------------------------------------------------
# hyperparameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hyperparameter:
    """Base of the typed hyperparameters.

    Attributes:
        name: the key in a configuration dict.
        condition: ``(parent_name, allowed_values)``: the hyperparameter is active only when the
            parent is active and takes one of ``allowed_values``; ``None`` = always active.
        optional: an active optional hyperparameter may be left out (meaning "the library's
            default"); a required one must be present.
        default: the value used to encode an omitted optional hyperparameter (and by
            :meth:`ConfigSpace.default_config`); ``None`` = no default declared.
    """

    name: str
    condition: tuple[str, tuple[Any, ...]] | None = field(default=None, kw_only=True)
    optional: bool = field(default=False, kw_only=True)
    default: Any = field(default=None, kw_only=True)

    kind: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputTypeError(f"a hyperparameter name must be a non-empty string, got {self.name!r}")
        if self.condition is not None:
            parent, values = self.condition
            if not isinstance(parent, str) or not isinstance(values, (tuple, list)) or not values:
                raise InputError(
                    f"hyperparameter {self.name!r}: condition must be (parent_name, "
                    f"[allowed values...]), got {self.condition!r}"
                )
            object.__setattr__(self, "condition", (parent, tuple(values)))

    # -- per-kind behaviour --
    def check(self, value: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def n_dims(self) -> int:
        return 1

    def encode_value(self, value: Any) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def decode_value(self, x: np.ndarray) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "name": self.name}
        if self.condition is not None:
            out["condition"] = [self.condition[0], list(self.condition[1])]
        if self.optional:
            out["optional"] = True
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Categorical(Hyperparameter):
    """A choice among listed values (strings, numbers, booleans, None; types may mix).

    A number matches a choice of equal value (``1`` matches ``1.0``) and is stored as the choice.
    Encoded one-hot (``len(choices)`` dimensions; all zero when inactive).
    """

    choices: tuple[Any, ...] = ()
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        super().__post_init__()
        choices = tuple(_normalize(c, f"{self.name}.choices") for c in self.choices)
        if not choices:
            raise InputError(f"categorical hyperparameter {self.name!r} needs at least one choice")
        for i, a in enumerate(choices):
            if isinstance(a, (dict, list)):
                raise InputTypeError(f"{self.name!r}: choices must be scalars, got {a!r}")
            for b in choices[i + 1:]:
                if _num_equal(a, b):
                    raise InputError(f"{self.name!r}: duplicate choice {a!r}")
        object.__setattr__(self, "choices", choices)
        if self.default is not None:
            object.__setattr__(self, "default", self.check(self.default))

    def index(self, value: Any) -> int:
        for i, c in enumerate(self.choices):
            if _num_equal(value, c):
                return i
        raise ConfigSpaceError(
            f"hyperparameter {self.name!r} is {value!r}; expected one of {list(self.choices)}"
        )

    def check(self, value: Any) -> Any:
        return self.choices[self.index(value)]

    @property
    def n_dims(self) -> int:
        return len(self.choices)

    def encode_value(self, value: Any) -> np.ndarray:
        out = np.zeros(len(self.choices))
        out[self.index(value)] = 1.0
        return out

    def decode_value(self, x: np.ndarray) -> Any:
        return self.choices[int(np.argmax(x))]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.choices[int(rng.integers(len(self.choices)))]

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class _Numeric(Hyperparameter):
    low: float = 0.0
    high: float = 1.0
    log: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for bound in (self.low, self.high):
            if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or not math.isfinite(bound):
                raise InputError(f"{self.name!r}: bounds must be finite numbers, got {bound!r}")
        if not self.low < self.high:
            raise InputError(f"{self.name!r}: need low < high, got low={self.low}, high={self.high}")
        if self.log and self.low <= 0:
            raise InputError(f"{self.name!r}: a log-scale range needs low > 0, got low={self.low}")
        if self.default is not None:
            object.__setattr__(self, "default", self.check(self.default))

    def _unit(self, value: float) -> float:
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def _from_unit(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def _range_error(self, value: Any) -> ConfigSpaceError:
        scale = ", log scale" if self.log else ""
        return ConfigSpaceError(
            f"hyperparameter {self.name!r} is {value!r}; expected a {self.kind} in "
            f"[{self.low}, {self.high}]{scale}"
        )

    def encode_value(self, value: Any) -> np.ndarray:
        return np.array([self._unit(float(value))])

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out.update(low=self.low, high=self.high)
        if self.log:
            out["log"] = True
        return out


@dataclass(frozen=True)
class Integer(_Numeric):
    """An integer in ``[low, high]`` (inclusive), optionally log-scaled for encoding and sampling."""

    kind: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        for bound in (self.low, self.high):
            if isinstance(bound, float) and not bound.is_integer():
                raise InputError(f"{self.name!r}: integer bounds must be whole numbers, got {bound!r}")
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))
        super().__post_init__()

    def check(self, value: Any) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
            raise self._range_error(value)
        x = float(value)
        if not math.isfinite(x) or not x.is_integer() or not self.low <= x <= self.high:
            raise self._range_error(value)
        return int(x)

    def decode_value(self, x: np.ndarray) -> int:
        return int(min(max(round(self._from_unit(float(x[0]))), self.low), self.high))

    def sample(self, rng: np.random.Generator) -> int:
        return self.decode_value(np.array([rng.random()]))


@dataclass(frozen=True)
class Float(_Numeric):
    """A real number in ``[low, high]``, optionally log-scaled for encoding and sampling."""

    kind: ClassVar[str] = "float"

    def check(self, value: Any) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
            raise self._range_error(value)
        x = float(value)
        if not math.isfinite(x) or not self.low <= x <= self.high:
            raise self._range_error(value)
        return 0.0 if x == 0.0 else x

    def decode_value(self, x: np.ndarray) -> float:
        return float(min(max(self._from_unit(float(x[0])), self.low), self.high))

    def sample(self, rng: np.random.Generator) -> float:
        return self.decode_value(np.array([rng.random()]))


_HP_TYPES: dict[str, type[Hyperparameter]] = {
    "categorical": Categorical, "int": Integer, "float": Float,
}


def _hp_from_json(d: Mapping[str, Any]) -> Hyperparameter:
    kind = d.get("type")
    if kind not in _HP_TYPES:
        raise InputError(f"unknown hyperparameter type {kind!r}; expected one of {sorted(_HP_TYPES)}")
    kwargs: dict[str, Any] = {"optional": bool(d.get("optional", False)), "default": d.get("default")}
    if "condition" in d:
        parent, values = d["condition"]
        kwargs["condition"] = (parent, tuple(values))
    if kind == "categorical":
        return Categorical(d["name"], choices=tuple(d["choices"]), **kwargs)
    cls = Integer if kind == "int" else Float
    return cls(d["name"], low=d["low"], high=d["high"], log=bool(d.get("log", False)), **kwargs)


# --------------------------------------------------------------------------------------------
# spaces
# --------------------------------------------------------------------------------------------


def _check_mapping(config: Any, space: str) -> Mapping[str, Any]:
    if not isinstance(config, Mapping):
        raise InputTypeError(
            f"a configuration of space {space!r} must be a dict, got {type(config).__name__}"
        )
    return config


class Space(ABC):
    """A configuration space: validation, stable ids, numeric encoding, JSON form."""

    kind: ClassVar[str] = ""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,199}", name):
            raise InputError(
                f"space name must be 1-200 characters of letters, digits and _.:/+- "
                f"(starting with a letter or digit), got {name!r}"
            )
        self.name = name

    @abstractmethod
    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``config`` and return its normalised form (the form that is stored and hashed).

        Raises:
            ConfigSpaceError: the configuration lies outside the space (the message names the
                hyperparameter, the value and what was expected).
            InputTypeError: ``config`` is not a dict.
        """

    def config_id(self, config: Mapping[str, Any]) -> str:
        """The stable id of ``config`` after :meth:`validate` (see the module docstring)."""
        return config_id(self.validate(config), self.name)

    def contains(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` is valid in this space."""
        try:
            self.validate(config)
        except (ConfigSpaceError, InputTypeError, InputError):
            return False
        return True

    @property
    def encoded_names(self) -> list[str]:
        """Names of the columns of :meth:`encode` (``n_dims`` entries)."""
        raise InputError(f"space {self.name!r} ({self.kind}) has no numeric encoding")

    def encode(self, configs: Iterable[Mapping[str, Any]]) -> np.ndarray:
        """Encode configurations as a float64 array ``(n_configs, n_dims)`` with values in [0, 1].

        Raises:
            InputError: the space has no numeric encoding (:class:`GenericSpace`).
            ConfigSpaceError: a configuration lies outside the space.
        """
        raise InputError(f"space {self.name!r} ({self.kind}) has no numeric encoding")

    def decode(self, X: np.ndarray) -> list[dict[str, Any]]:
        """Inverse of :meth:`encode`: an array ``(n, n_dims)`` to ``n`` valid configurations."""
        raise InputError(f"space {self.name!r} ({self.kind}) has no numeric encoding")

    def sample(self, n: int, random_state: Any = None) -> list[dict[str, Any]]:
        """``n`` random valid configurations (uniform per hyperparameter, log where declared)."""
        raise InputError(f"space {self.name!r} ({self.kind}) cannot be sampled")

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """A JSON-able description; :func:`space_from_json` rebuilds the space from it."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and canonical_json(self.to_json()) == canonical_json(other.to_json())

    def __hash__(self) -> int:
        return hash(canonical_json(self.to_json()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class ConfigSpace(Space):
    """Typed hyperparameters with optional and conditional ones.

    Args:
        name: the space name (part of every config id).
        hyperparameters: the hyperparameters; a conditional one must come after its parent.

    Raises:
        InputError: duplicate names, or a condition naming an unknown/later parent.
    """

    kind: ClassVar[str] = "typed"

    def __init__(self, name: str, hyperparameters: Sequence[Hyperparameter]) -> None:
        super().__init__(name)
        self.hyperparameters: tuple[Hyperparameter, ...] = tuple(hyperparameters)
        self._by_name: dict[str, Hyperparameter] = {}
        for hp in self.hyperparameters:
            if not isinstance(hp, Hyperparameter):
                raise InputTypeError(f"space {name!r}: expected Hyperparameter objects, got {hp!r}")
            if hp.name in self._by_name:
                raise InputError(f"space {name!r}: duplicate hyperparameter {hp.name!r}")
            if hp.condition is not None and hp.condition[0] not in self._by_name:
                raise InputError(
                    f"space {name!r}: {hp.name!r} is conditioned on {hp.condition[0]!r}, which "
                    "must be declared before it"
                )
            self._by_name[hp.name] = hp

    def __getitem__(self, name: str) -> Hyperparameter:
        return self._by_name[name]

    def _is_active(self, hp: Hyperparameter, config: Mapping[str, Any]) -> bool:
        if hp.condition is None:
            return True
        parent, values = hp.condition
        if parent not in config:
            return False
        return any(_num_equal(config[parent], v) for v in values)

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        config = _check_mapping(config, self.name)
        unknown = sorted(set(config) - set(self._by_name))
        if unknown:
            raise ConfigSpaceError(
                f"configuration has hyperparameters {unknown} that space {self.name!r} does not "
                f"define; known: {list(self._by_name)}"
            )
        out: dict[str, Any] = {}
        for hp in self.hyperparameters:
            active = self._is_active(hp, out)
            if hp.name in config:
                if not active:
                    parent = hp.condition[0] if hp.condition else ""
                    raise ConfigSpaceError(
                        f"hyperparameter {hp.name!r} is set but inactive: it needs {parent!r} in "
                        f"{list(hp.condition[1]) if hp.condition else []}, got "
                        f"{out.get(parent, '<unset>')!r}; leave it out"
                    )
                out[hp.name] = hp.check(config[hp.name])
            elif active and not hp.optional:
                raise ConfigSpaceError(
                    f"configuration of space {self.name!r} lacks the required hyperparameter "
                    f"{hp.name!r}"
                )
        return out

    @property
    def encoded_names(self) -> list[str]:
        names: list[str] = []
        for hp in self.hyperparameters:
            if isinstance(hp, Categorical):
                names.extend(f"{hp.name}={c}" for c in hp.choices)
            else:
                names.append(hp.name)
        return names

    @property
    def n_dims(self) -> int:
        return sum(hp.n_dims for hp in self.hyperparameters)

    def encode(self, configs: Iterable[Mapping[str, Any]]) -> np.ndarray:
        rows = []
        for config in configs:
            valid = self.validate(config)
            parts = []
            for hp in self.hyperparameters:
                if hp.name in valid:
                    parts.append(hp.encode_value(valid[hp.name]))
                elif self._is_active(hp, valid) and hp.default is not None:
                    parts.append(hp.encode_value(hp.default))
                elif self._is_active(hp, valid) and not isinstance(hp, Categorical):
                    parts.append(np.array([0.5]))
                else:
                    parts.append(np.zeros(hp.n_dims))
            rows.append(np.concatenate(parts) if parts else np.zeros(0))
        if not rows:
            return np.zeros((0, self.n_dims))
        return np.vstack(rows).astype(np.float64)

    def decode(self, X: np.ndarray) -> list[dict[str, Any]]:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_dims:
            raise InputError(
                f"decode expects an array of shape (n, {self.n_dims}) for space {self.name!r}, "
                f"got shape {X.shape}"
            )
        out = []
        for row in X:
            config: dict[str, Any] = {}
            pos = 0
            for hp in self.hyperparameters:
                chunk = row[pos:pos + hp.n_dims]
                pos += hp.n_dims
                if self._is_active(hp, config):
                    config[hp.name] = hp.decode_value(chunk)
            out.append(self.validate(config))
        return out

    def sample(self, n: int, random_state: Any = None) -> list[dict[str, Any]]:
        rng = check_random_state(random_state)
        out = []
        for _ in range(int(n)):
            config: dict[str, Any] = {}
            for hp in self.hyperparameters:
                if self._is_active(hp, config):
                    config[hp.name] = hp.sample(rng)
            out.append(config)
        return out

    def default_config(self) -> dict[str, Any]:
        """The configuration made of the declared defaults (first choice where none)."""
        config: dict[str, Any] = {}
        for hp in self.hyperparameters:
            if not self._is_active(hp, config):
                continue
            if hp.default is not None:
                config[hp.name] = hp.default
            elif isinstance(hp, Categorical):
                config[hp.name] = hp.choices[0]
            elif not hp.optional:
                config[hp.name] = hp.decode_value(np.array([0.5]))
        return self.validate(config)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind, "name": self.name,
            "hyperparameters": [hp.to_json() for hp in self.hyperparameters],
        }


class NB201Space(Space):
    """NAS-Bench-201 cells: ``{"arch": "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"}``.

    The six edges follow the arch string: (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2); the
    operations are :data:`NB201_OPS`. Encoded one-hot per edge (30 dimensions).
    """

    kind: ClassVar[str] = "nb201"
    _PATTERN = re.compile(
        r"\|([a-z0-9_]+)~0\|\+\|([a-z0-9_]+)~0\|([a-z0-9_]+)~1\|\+"
        r"\|([a-z0-9_]+)~0\|([a-z0-9_]+)~1\|([a-z0-9_]+)~2\|"
    )

    def __init__(self, name: str = "nb201") -> None:
        super().__init__(name)

    @staticmethod
    def parse(arch: str) -> tuple[str, ...]:
        """The six operations of an arch string, in edge order.

        Raises:
            ConfigSpaceError: not an NB201 arch string, or an unknown operation.
        """
        if not isinstance(arch, str):
            raise ConfigSpaceError(f"an NB201 arch must be a string, got {type(arch).__name__}")
        m = NB201Space._PATTERN.fullmatch(arch)
        if m is None:
            raise ConfigSpaceError(
                f"{arch!r} is not an NB201 arch string; expected the form "
                "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'"
            )
        ops = m.groups()
        bad = [op for op in ops if op not in NB201_OPS]
        if bad:
            raise ConfigSpaceError(f"unknown NB201 operation(s) {bad} in {arch!r}; expected {list(NB201_OPS)}")
        return ops

    @staticmethod
    def arch_string(ops: Sequence[str]) -> str:
        """Build the arch string from six operations in edge order."""
        if len(ops) != 6:
            raise ConfigSpaceError(f"an NB201 cell has 6 edges, got {len(ops)} operations")
        a, b, c, d, e, f = ops
        arch = f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"
        NB201Space.parse(arch)
        return arch

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        config = _check_mapping(config, self.name)
        if set(config) != {"arch"}:
            raise ConfigSpaceError(
                f"an NB201 configuration is {{'arch': '<arch string>'}}, got keys {sorted(config)}"
            )
        self.parse(config["arch"])
        return {"arch": config["arch"]}

    @property
    def encoded_names(self) -> list[str]:
        return [f"edge{t}<-{s}={op}" for t, s in _NB201_EDGES for op in NB201_OPS]

    def encode(self, configs: Iterable[Mapping[str, Any]]) -> np.ndarray:
        rows = []
        for config in configs:
            ops = self.parse(self.validate(config)["arch"])
            row = np.zeros((6, len(NB201_OPS)))
            row[np.arange(6), [NB201_OPS.index(op) for op in ops]] = 1.0
            rows.append(row.ravel())
        return np.vstack(rows) if rows else np.zeros((0, 6 * len(NB201_OPS)))

    def decode(self, X: np.ndarray) -> list[dict[str, Any]]:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != 6 * len(NB201_OPS):
            raise InputError(f"decode expects shape (n, 30) for an NB201 space, got {X.shape}")
        out = []
        for row in X:
            idx = row.reshape(6, len(NB201_OPS)).argmax(axis=1)
            out.append({"arch": self.arch_string([NB201_OPS[i] for i in idx])})
        return out

    def sample(self, n: int, random_state: Any = None) -> list[dict[str, Any]]:
        rng = check_random_state(random_state)
        return [
            {"arch": self.arch_string([NB201_OPS[i] for i in rng.integers(len(NB201_OPS), size=6)])}
            for _ in range(int(n))
        ]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "name": self.name}


class GenericSpace(Space):
    """Any JSON object is a valid configuration (no numeric encoding).

    Args:
        name: the space name.
        required: keys every configuration must have (e.g. ``("algorithm",)``).
    """

    kind: ClassVar[str] = "generic"

    def __init__(self, name: str = "generic", required: Sequence[str] = ()) -> None:
        super().__init__(name)
        self.required = tuple(required)

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        config = _check_mapping(config, self.name)
        missing = [k for k in self.required if k not in config]
        if missing:
            raise ConfigSpaceError(
                f"configuration of space {self.name!r} lacks the required key(s) {missing}"
            )
        try:
            return json.loads(canonical_json(config))
        except InputError as exc:
            raise ConfigSpaceError(f"configuration of space {self.name!r}: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "name": self.name}
        if self.required:
            out["required"] = list(self.required)
        return out


def space_from_json(d: Mapping[str, Any]) -> Space:
    """Rebuild a space from :meth:`Space.to_json` output.

    Raises:
        InputError: unknown space type or malformed description.
    """
    if not isinstance(d, Mapping):
        raise InputTypeError(f"a space description must be a dict, got {type(d).__name__}")
    kind = d.get("type")
    try:
        if kind == ConfigSpace.kind:
            return ConfigSpace(d["name"], [_hp_from_json(h) for h in d["hyperparameters"]])
        if kind == NB201Space.kind:
            return NB201Space(d["name"])
        if kind == GenericSpace.kind:
            return GenericSpace(d["name"], required=tuple(d.get("required", ())))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"malformed space description {dict(d)!r}: {exc}") from exc
    raise InputError(f"unknown space type {kind!r}; expected 'typed', 'nb201' or 'generic'")


# --------------------------------------------------------------------------------------------
# the spaces of the shipped data
# --------------------------------------------------------------------------------------------

#: Oboe's classification grid (``oboe/defaults/Oboe/classification.json``, BSD-3), as shipped
#: with the Oboe error matrix; :func:`oboe_space` uses it unless given another grid.
OBOE_GRID: dict[str, Any] = {
    "algorithms": ["KNN", "DT", "RF", "GBT", "AB", "lSVM", "kSVM", "Logit", "Perceptron", "GNB",
                   "MLP", "ExtraTrees"],
    "hyperparameters": {
        "KNN": {"n_neighbors": [1, 3, 5, 7, 9, 11, 13, 15], "p": [1, 2]},
        "DT": {"min_samples_split": [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 0.01, 0.001,
                                     0.0001, 1e-05]},
        "RF": {"min_samples_split": [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 0.1, 0.01, 0.001,
                                     0.0001, 1e-05],
               "criterion": ["gini", "entropy"]},
        "GBT": {"learning_rate": [0.001, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5], "max_depth": [3, 6],
                "max_features": [None, "log2"]},
        "AB": {"n_estimators": [50, 100], "learning_rate": [1.0, 1.5, 2.0, 2.5, 3.0]},
        "lSVM": {"C": [0.125, 0.25, 0.5, 0.75, 1, 2, 4, 8, 16]},
        "kSVM": {"C": [0.125, 0.25, 0.5, 0.75, 1, 2, 4, 8, 16], "kernel": ["rbf", "poly"],
                 "coef0": [0, 10]},
        "Logit": {"C": [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4], "solver": ["liblinear", "saga"],
                  "penalty": ["l1", "l2"]},
        "Perceptron": {},
        "GNB": {},
        "MLP": {"learning_rate_init": [0.0001, 0.001, 0.01], "learning_rate": ["adaptive"],
                "solver": ["sgd", "adam"], "alpha": [0.0001, 0.01]},
        "ExtraTrees": {"min_samples_split": [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 0.1, 0.01,
                                             0.001, 0.0001, 1e-05],
                       "criterion": ["gini", "entropy"]},
    },
}


def oboe_space(grid: Mapping[str, Any] | None = None, name: str = "oboe") -> ConfigSpace:
    """The Oboe pipeline grid as a flat conditional space.

    Configurations look like ``{"algorithm": "KNN", "KNN:n_neighbors": 3, "KNN:p": 1}``: the
    algorithm plus its grid hyperparameters prefixed ``"<algorithm>:"`` (auto-sklearn's naming),
    each a :class:`Categorical` over the grid values, active only for its algorithm.
    :func:`oboe_config` and :func:`oboe_pipeline` convert from and to Oboe's nested form.

    Args:
        grid: the content of Oboe's ``classification.json``; default :data:`OBOE_GRID`.
        name: the space name.
    """
    grid = OBOE_GRID if grid is None else grid
    try:
        algorithms = list(grid["algorithms"])
        hps_by_alg = grid["hyperparameters"]
    except (KeyError, TypeError) as exc:
        raise InputError(
            "an Oboe grid is {'algorithms': [...], 'hyperparameters': {alg: {name: [values]}}}, "
            f"got keys {sorted(grid) if isinstance(grid, Mapping) else type(grid).__name__}"
        ) from exc
    hps: list[Hyperparameter] = [Categorical("algorithm", choices=tuple(algorithms))]
    for alg in algorithms:
        for hp_name, values in dict(hps_by_alg.get(alg, {})).items():
            hps.append(Categorical(f"{alg}:{hp_name}", choices=tuple(values),
                                   condition=("algorithm", (alg,))))
    return ConfigSpace(name, hps)


def oboe_config(pipeline: Mapping[str, Any]) -> dict[str, Any]:
    """Oboe's nested ``{'algorithm': A, 'hyperparameters': {...}}`` to the flat form of :func:`oboe_space`."""
    if not isinstance(pipeline, Mapping) or "algorithm" not in pipeline:
        raise InputError(
            f"an Oboe pipeline is {{'algorithm': ..., 'hyperparameters': {{...}}}}, got {pipeline!r}"
        )
    alg = pipeline["algorithm"]
    out: dict[str, Any] = {"algorithm": alg}
    for k, v in dict(pipeline.get("hyperparameters", {})).items():
        out[f"{alg}:{k}"] = v
    return out


def oboe_pipeline(config: Mapping[str, Any]) -> dict[str, Any]:
    """The flat form of :func:`oboe_space` back to Oboe's nested ``{'algorithm', 'hyperparameters'}``."""
    alg = config["algorithm"]
    prefix = f"{alg}:"
    return {
        "algorithm": alg,
        "hyperparameters": {k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)},
    }


def tabrepo_lightgbm_space(name: str = "tabrepo-lightgbm") -> ConfigSpace:
    """TabRepo's LightGBM search space (AutoGluon's ``GBM``; TabRepo, 2022 version).

    Ranges as in TabRepo's random search: ``learning_rate`` log-uniform in [5e-3, 0.2],
    ``feature_fraction`` in [0.4, 1], ``min_data_in_leaf`` in [2, 60], ``num_leaves`` in
    [16, 255], ``extra_trees`` in {False, True}. Every hyperparameter is optional: a left-out one
    means AutoGluon's default (``learning_rate=0.05``) or LightGBM's (``num_leaves=31``,
    ``feature_fraction=1.0``, ``min_data_in_leaf=20``, ``extra_trees=False``); these defaults
    are used for encoding only, never written into stored configurations.
    """
    return ConfigSpace(name, [
        Float("learning_rate", 5e-3, 0.2, log=True, optional=True, default=0.05),
        Float("feature_fraction", 0.4, 1.0, optional=True, default=1.0),
        Integer("min_data_in_leaf", 2, 60, optional=True, default=20),
        Integer("num_leaves", 16, 255, optional=True, default=31),
        Categorical("extra_trees", choices=(False, True), optional=True, default=False),
    ])


def nb201_space(name: str = "nb201") -> NB201Space:
    """The NAS-Bench-201 cell space (15,625 cells)."""
    return NB201Space(name)


def generic_space(name: str = "generic", required: Sequence[str] = ()) -> GenericSpace:
    """A space accepting any JSON object (see :class:`GenericSpace`)."""
    return GenericSpace(name, required=required)
