"""One serialisation for every public result: ``to_dict()`` gives JSON-ready plain values.

Dates and times become ISO 8601 text, ``Decimal`` text (no float rounding), enums their
value, tuples and lists lists, sets sorted lists, mappings dicts with text keys, and
nested attrs instances their own ``to_dict()``. Money stays integer fen as stored.

A result class inherits :class:`Serialisable`; its ``to_dict()`` is every attrs field by
name (but those with ``metadata={"export": False}``). A class may rename fields (``__dict_names__``), leave some out (``__dict_omit__``)
or add properties (``__dict_extra__``); the values always go through :func:`plain`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any, ClassVar

import attrs

__all__ = ["Serialisable", "plain", "to_dict"]

_SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:  # noqa: ANN401 (any value in, its JSON-ready form out)
    """The JSON-ready form of ``value`` (see the module docstring); anything else raises ``TypeError``."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, dt.date | dt.time):  # datetime too
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, PurePath):
        return str(value)
    if attrs.has(type(value)):
        method = getattr(value, "to_dict", None)
        return method() if callable(method) else to_dict(value)
    raise TypeError(f"cannot serialise {type(value).__name__}: {value!r}")


def to_dict(obj: Any) -> dict[str, Any]:  # noqa: ANN401 (any attrs instance)
    """``obj``'s attrs fields (renamed, omitted and extended as its class says), each through :func:`plain`."""
    cls = type(obj)
    names: Mapping[str, str] = getattr(cls, "__dict_names__", {})
    omit: tuple[str, ...] = getattr(cls, "__dict_omit__", ())
    extra: tuple[str, ...] = getattr(cls, "__dict_extra__", ())
    out: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name not in omit and field.metadata.get("export", True):
            out[names.get(field.name, field.name)] = plain(getattr(obj, field.name))
    for name in extra:
        out[names.get(name, name)] = plain(getattr(obj, name))
    return out


class Serialisable:
    """Base of the public result classes: gives them :meth:`to_dict`."""

    __slots__ = ()

    #: Output names of fields that are named otherwise in the class (``{"commitment": "id"}``).
    __dict_names__: ClassVar[Mapping[str, str]] = {}
    #: Fields left out.
    __dict_omit__: ClassVar[tuple[str, ...]] = ()
    #: Properties added after the fields.
    __dict_extra__: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the fields as plain values (dates ISO, money integer fen, tuples as lists)."""
        return to_dict(self)
