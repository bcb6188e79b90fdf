"""Reading the TOML data files fupin ships (plans, questionnaires): typed keys, clear errors.

A data file is parsed with :mod:`tomllib`, then walked by a reader that checks
each key's type and refuses unknown keys, raising :class:`~fupin.errors.PlanError`
with the file, the dotted path of the key and the reason, on the first problem.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from fupin.errors import PlanError


def toml_reason(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """tomllib's message, plus the offending line's text when it names one."""
    reason = str(exc)
    m = re.search(r"at line (\d+)", reason)
    lines = text.splitlines()
    if m and 0 < int(m[1]) <= len(lines):
        reason += f": {lines[int(m[1]) - 1].strip()}"
    return reason


def is_int(v: object) -> bool:
    """An integer, not a boolean (TOML's true is an int to Python)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_date(v: object) -> bool:
    """A date; TOML datetimes parse to datetime, a subclass of date: refused here."""
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


#: Kind of value -> (check, what it should be, for messages).
KINDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (is_int, "an integer"),
    "number": (lambda v: is_int(v) or isinstance(v, float), "a number"),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "date": (is_date, "a date (YYYY-MM-DD, not quoted)"),
    "table": (lambda v: isinstance(v, dict), "a table"),
    "strings": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "an array of strings"),
    "tables": (lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v), "an array of tables"),
}

_MISSING = object()


def join(prefix: str, key: str) -> str:
    """The dotted path of ``key`` below ``prefix``."""
    return f"{prefix}.{key}" if prefix else key


def describe(value: object) -> str:
    """A value as an error message shows it: ``table``, ``array``, ``str 'x'``."""
    kind = {dict: "table", list: "array"}.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if not isinstance(value, dict | list) else kind


class TomlReader:
    """The base of a data file's reader: typed keys, unknown keys refused, errors naming the file and key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, reason: str) -> NoReturn:
        """Raise PlanError for the key at ``path``."""
        raise PlanError(f"{self.source}: {path}: {reason}")

    def get(self, table: Mapping[str, Any], key: str, prefix: str, kind: str, *, required: bool = True, default: Any = None) -> Any:
        """``table[key]``, checked to be of ``kind`` (see :data:`KINDS`); ``default`` when absent and not required."""
        path = join(prefix, key)
        value = table.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.fail(path, "missing required key")
            return default
        check, expected = KINDS[kind]
        if not check(value):
            self.fail(path, f"expected {expected}, got {describe(value)}")
        return value

    def only(self, table: Mapping[str, Any], allowed: Iterable[str], prefix: str) -> None:
        """Refuse any key of ``table`` not in ``allowed``, suggesting the nearest."""
        allowed = list(allowed)
        for key in table:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f' (did you mean "{near[0]}"?)' if near else ""
                self.fail(join(prefix, key), f"unknown key{hint}")
