"""The private cattrs converter: structures plain mappings into attrs classes.

Used for the ``details`` of support actions (each kind names an attrs class) and
for records read from files. We never touch ``cattrs.global_converter``: plugins
may customise this one through ``fupin_configure_converter`` (later), without
side effects on other libraries.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from fupin.errors import Problem, ValidationError

if TYPE_CHECKING:
    from fupin.vocab import Vocabulary


def _structure_date(value: Any, _type: type) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"不是 ISO 8601 日期 / not an ISO 8601 date (YYYY-MM-DD): {value!r}")


def _structure_int(value: Any, _type: type) -> int:
    # Money and counts are integers; a float or "12.5" would silently lose fen.
    if isinstance(value, bool):
        raise ValueError(f"应为整数 / expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"应为整数 / expected an integer, got {value!r}")


_TRUE = {"true", "yes", "y", "1", "是", "有", "√"}
_FALSE = {"false", "no", "n", "0", "否", "无", "×"}


def _structure_bool(value: Any, _type: type) -> bool:
    # bool("否") is True: registers write 是/否, so spell out what counts.
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"应为 是/否 / expected yes/no, got {value!r}")


def _structure_str(value: Any, _type: type) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"应为文本 / expected text, got {value!r}")


def make_converter() -> cattrs.Converter:
    """Build a fresh converter with fupin's strict rules (ISO dates, integer money)."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(Decimal, lambda v, _t: Decimal(str(v)))
    conv.register_unstructure_hook(Decimal, str)
    # One text for a tuple of texts is a cell or an option written "王教授、李老师": split it,
    # never into single characters.
    conv.register_structure_hook_func(_is_str_tuple, _structure_str_tuple)
    return conv


def _is_str_tuple(tp: Any) -> bool:
    return getattr(tp, "__origin__", None) is tuple and getattr(tp, "__args__", ())[:1] == (str,)


_SEPARATORS = re.compile(r"[、,，;；]")


def _structure_str_tuple(value: Any, _type: type) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(p.strip() for p in _SEPARATORS.split(value) if p.strip())
    return tuple(_structure_str(v, str) for v in value)


converter = make_converter()


def structure(data: Any, cls: type, *, field: str = "", vocab: Vocabulary | None = None) -> Any:
    """Structure ``data`` into ``cls`` or raise ValidationError naming each bad field.

    Args:
        data: a mapping (from JSON, a CLI option or a file row).
        cls: the attrs class to build.
        field: a prefix for field names in problems, e.g. ``"details"``.
        vocab: the store's vocabulary, which the class's converters and validators
            see as :func:`fupin.vocab.current_vocabulary` while it is built.
    """
    from fupin.vocab import using_vocabulary

    try:
        with using_vocabulary(vocab):
            return converter.structure(data, cls)
    except ValidationError:
        raise
    except (ClassValidationError, ForbiddenExtraKeysError) as exc:
        raise ValidationError(_problems(exc, field)) from None
    except (TypeError, ValueError) as exc:
        raise ValidationError(Problem(field or cls.__name__, str(exc), data)) from None


def unstructure(obj: Any) -> Any:
    """The plain (JSON-ready) form of an attrs instance."""
    return converter.unstructure(obj)


def _problems(exc: BaseException, prefix: str, root: str | None = None) -> list[Problem]:
    """Flatten a cattrs exception group into Problems with dotted field paths.

    ``root`` is the prefix of the whole structure call (``"details"``): a problem a
    validator already names under it (``details.patients``) is not prefixed again.
    """
    root = prefix if root is None else root
    if isinstance(exc, ForbiddenExtraKeysError):
        return [
            Problem(_join(prefix, key), "未知字段 / unknown field") for key in sorted(exc.extra_fields)
        ]
    problems: list[Problem] = []
    with_notes, without_notes = exc.group_exceptions()
    items = [(sub, getattr(note, "name", "")) for sub, note in with_notes]
    items += [(sub, "") for sub in without_notes]
    for sub, name in items:
        path = _join(prefix, name)
        if isinstance(sub, (ClassValidationError, ForbiddenExtraKeysError)):
            problems.extend(_problems(sub, path, root))
        elif isinstance(sub, ValidationError):
            problems.extend(Problem(_under(path, p.field, root), p.reason, p.value) for p in sub.problems)
        elif isinstance(sub, KeyError):
            problems.append(Problem(path, "必填 / required"))
        else:
            problems.append(_attrs_validator_problem(path, sub))
    return problems or [Problem(prefix or "record", str(exc))]


#: attrs' own validators say "'field' must be > 0: -3"; the field name is in the text.
_ATTRS_MESSAGE = re.compile(r"^'(?P<field>\w+)' (?P<reason>.*?)(?:: (?P<value>.*))?$", re.S)


def _attrs_validator_problem(path: str, exc: BaseException) -> Problem:
    match = _ATTRS_MESSAGE.match(str(exc.args[0]) if exc.args else "")
    if match is None:
        return Problem(path, str(exc))
    return Problem(_join(path, match["field"]), match["reason"], match["value"])


def _under(path: str, field: str, root: str) -> str:
    """The full name of ``field``, a problem's field raised at ``path``: as given when it already starts with ``root``."""
    if not field or field == path:
        return path
    if root and (field == root or field.startswith(root + ".")):
        return field
    return _join(path, field)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name
