"""Exceptions of the standalone ``metafeatures`` package (it never imports warmnas).

Each class also subclasses the built-in a caller expects (``ValueError``/``TypeError``).
"""

from __future__ import annotations

__all__ = [
    "MetaFeatureError",
    "DataError",
    "DataTypeError",
    "MeasureError",
    "ArgumentError",
    "MetaFeatureWarning",
]


class MetaFeatureError(Exception):
    """Base class of every error ``metafeatures`` raises on purpose."""


class DataError(MetaFeatureError, ValueError):
    """The data given to the extractor is invalid (empty, NaN/inf, length mismatch, one class...)."""


class DataTypeError(MetaFeatureError, TypeError):
    """The data has a type the extractor cannot use (undeclared string columns, ...)."""


class MeasureError(MetaFeatureError, ValueError):
    """A named meta-feature could not be computed (raised under ``on_error="raise"``)."""


class ArgumentError(MetaFeatureError, ValueError):
    """An option passed to the extractor is invalid (unknown group, view, summary or policy)."""


class NotFittedError(MetaFeatureError, AttributeError):
    """A fitted object (:class:`metafeatures.MFE`) was used before ``fit``."""


class MetaFeatureWarning(UserWarning):
    """A meta-feature could not be computed and was set to NaN (``on_error="warn"``)."""
