"""The one random-state helper of warmnas.

Every stochastic entry point takes ``random_state`` (``None``, an ``int`` or a
``numpy.random.Generator``) and turns it into generators here. The library never seeds numpy or
torch globally: same ``random_state``, same output, whatever else the process does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

import numpy as np

from warmnas.errors import InputTypeError

if TYPE_CHECKING:
    import torch

RandomState = Union[None, int, np.integer, np.random.Generator]  # noqa: UP007 (runtime alias)

__all__ = ["RandomState", "check_random_state", "derive_seed", "torch_generator"]


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``random_state``.

    Args:
        random_state: ``None`` (fresh OS entropy), a non-negative ``int`` seed, or an existing
            ``Generator`` (returned as is, so callers share its stream).

    Returns:
        A ``numpy.random.Generator``.

    Raises:
        InputTypeError: for any other type (``numpy.random.RandomState`` included).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InputTypeError(
                f"random_state must be a non-negative int, got {random_state}; pass e.g. 0."
            )
        return np.random.default_rng(int(random_state))
    raise InputTypeError(
        "random_state must be None, a non-negative int or a numpy.random.Generator, got "
        f"{type(random_state).__name__}; pass e.g. random_state=0."
    )


def derive_seed(random_state: RandomState) -> int:
    """Draw a 63-bit integer seed from ``random_state`` (for libraries that take an int)."""
    return int(check_random_state(random_state).integers(0, 2**63 - 1))


def torch_generator(random_state: RandomState, device: str | torch.device = "cpu") -> torch.Generator:
    """Return a ``torch.Generator`` on ``device`` seeded from ``random_state``."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(derive_seed(random_state))
    return gen
